package kubelet

import (
	"context"
	"fmt"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/kinc-dev/kinc/pkg/controller"
	"github.com/kinc-dev/kinc/pkg/kubelet/config"
)

// startAPISource runs the API pod source: an informer on the pods bound to
// this node whose events enqueue pod keys, and one worker calling
// syncAPIPod (pkg/controller's loop), until ctx ends.
func (k *Kubelet) startAPISource(ctx context.Context) {
	factory := informers.NewSharedInformerFactoryWithOptions(k.client, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", k.nodeName).String()
	}))
	loop, err := k.newAPISource(factory)
	if err != nil {
		k.logger.Error("API pod source", "err", err)
		return
	}
	factory.Start(ctx.Done())
	go func() {
		if err := loop.Run(ctx, 1); err != nil && ctx.Err() == nil {
			k.logger.Error("API pod source", "err", err)
		}
	}()
}

// newAPISource sets the pod lister from factory's pod informer and returns
// the loop that keeps apiPods in step with it; factory's informers are not
// started.
func (k *Kubelet) newAPISource(factory informers.SharedInformerFactory) (*controller.Loop, error) {
	inf := factory.Core().V1().Pods()
	k.podLister = inf.Lister()
	k.podSynced = inf.Informer().HasSynced
	loop := controller.New(controller.Config{Name: "kubelet-pods", Sync: k.syncAPIPod, Logger: k.logger,
		Synced: []cache.InformerSynced{k.podSynced}})
	if _, err := inf.Informer().AddEventHandler(loop.Handler(controller.HandlerOptions{})); err != nil {
		return nil, fmt.Errorf("pod informer handler: %w", err)
	}
	return loop, nil
}

// syncAPIPod records the current object of pod key (or its absence) and
// relists. Mirror pods are not run; they only reflect static pods.
func (k *Kubelet) syncAPIPod(_ context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	pod, err := k.podLister.Pods(ns).Get(name)
	switch {
	case apierrors.IsNotFound(err):
		k.mu.Lock()
		delete(k.apiPods, key)
		k.mu.Unlock()
	case err != nil:
		return err
	case config.IsMirrorPod(pod) || pod.Spec.NodeName != k.nodeName:
		// Mirror pods only reflect static pods; other nodes' pods are not
		// ours even if a server ignored the field selector.
		k.mu.Lock()
		delete(k.apiPods, key)
		k.mu.Unlock()
	default:
		// The cache is read-only: keep our own copy.
		k.mu.Lock()
		k.apiPods[key] = pod.DeepCopy()
		k.mu.Unlock()
	}
	k.relist()
	return nil
}

// runMirrorAndStatus syncs mirror pods and pod statuses every second.
func (k *Kubelet) runMirrorAndStatus(ctx context.Context) {
	for {
		k.syncMirrorPods(ctx)
		if k.podSynced() {
			// Forget statuses of pods the apiserver no longer has.
			keep := map[types.UID]bool{}
			if pods, err := k.podLister.List(labels.Everything()); err == nil {
				for _, p := range pods {
					keep[p.UID] = true
				}
				k.statusMgr.Forget(keep)
			}
		}
		if err := k.statusMgr.Sync(ctx); err != nil && ctx.Err() == nil {
			k.logger.Debug("pod status sync", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-k.clock.After(time.Second):
		}
	}
}

// apiObjects reads ConfigMaps, Secrets and tokens for pods through client.
type apiObjects struct{ client kubernetes.Interface }

func (a apiObjects) GetConfigMap(ctx context.Context, ns, name string) (*v1.ConfigMap, error) {
	return a.client.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
}

func (a apiObjects) GetSecret(ctx context.Context, ns, name string) (*v1.Secret, error) {
	return a.client.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
}

func (a apiObjects) ListServices(ctx context.Context, ns string) ([]v1.Service, error) {
	list, err := a.client.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	return list.Items, nil
}

func (a apiObjects) CreateToken(ctx context.Context, ns, sa string, req *authenticationv1.TokenRequest) (*authenticationv1.TokenRequest, error) {
	tr, err := a.client.CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa, req, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("token for %s/%s: %w", ns, sa, err)
	}
	return tr, nil
}
