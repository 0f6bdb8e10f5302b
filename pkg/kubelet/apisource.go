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
	"k8s.io/client-go/util/workqueue"

	"github.com/kinc-dev/kinc/pkg/kubelet/config"
)

// startAPISource starts an informer on the pods bound to this node. Its
// handlers enqueue pod keys; runAPIWorker syncs them (sample-controller shape).
func (k *Kubelet) startAPISource(ctx context.Context) {
	factory := informers.NewSharedInformerFactoryWithOptions(k.client, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", k.nodeName).String()
	}))
	inf := factory.Core().V1().Pods()
	k.podLister = inf.Lister()
	k.podSynced = inf.Informer().HasSynced
	k.queue = workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: "kubelet-pods"})
	enqueue := func(obj any) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			k.queue.Add(key)
		}
	}
	_, _ = inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
		DeleteFunc: enqueue,
	})
	factory.Start(ctx.Done())
	go func() {
		<-ctx.Done()
		k.queue.ShutDown()
	}()
}

// runAPIWorker processes pod keys until the queue shuts down.
func (k *Kubelet) runAPIWorker(ctx context.Context) {
	for {
		key, quit := k.queue.Get()
		if quit {
			return
		}
		if err := k.syncAPIPod(key); err != nil {
			k.queue.AddRateLimited(key)
		} else {
			k.queue.Forget(key)
		}
		k.queue.Done(key)
	}
}

// syncAPIPod records the current object of pod key (or its absence) and
// relists. Mirror pods are not run; they only reflect static pods.
func (k *Kubelet) syncAPIPod(key string) error {
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
