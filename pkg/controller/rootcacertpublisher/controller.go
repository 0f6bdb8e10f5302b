// Package rootcacertpublisher is kinc's "root-ca-cert-publisher"
// controller (upstream's root-ca-certificate-publisher-controller, whose
// older name --controllers also accepts): it keeps a ConfigMap
// kube-root-ca.crt in every namespace whose "ca.crt" is the cluster's root
// CA bundle (--root-ca-file), so that pods can verify the apiserver at
// kubernetes.default.svc. A copy that is deleted is created again, one
// whose data is edited is restored; a terminating namespace gets no new
// one. As upstream's Publisher it records no events.
package rootcacertpublisher

import (
	"context"
	"fmt"
	"log/slog"
	"maps"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/controller"
)

// Name is the controller's short name, as --controllers spells it too
// (upstream's canonical name is "root-ca-certificate-publisher-controller").
const Name = "root-ca-cert-publisher"

// The ConfigMap the controller keeps, as upstream names and describes it.
const (
	// ConfigMapName is the ConfigMap kept in every namespace.
	ConfigMapName = "kube-root-ca.crt"
	// CAKey is its data key holding the PEM bundle.
	CAKey = "ca.crt"
	// DescriptionAnnotation and Description are upstream's annotation.
	DescriptionAnnotation = "kubernetes.io/description"
	Description           = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. " +
		"No other usage is guaranteed across distributions of Kubernetes clusters."
)

// Options configure a Publisher.
type Options struct {
	// Logger receives the loop's lines; nil discards them.
	Logger *slog.Logger
	// Clock drives retries; nil means the real clock.
	Clock clock.WithTicker
}

// Publisher keeps kube-root-ca.crt in every namespace. Its queue keys are
// namespace names. Run (from the embedded Loop) runs it.
type Publisher struct {
	*controller.Loop
	client     kubernetes.Interface
	namespaces corelisters.NamespaceLister
	configMaps corelisters.ConfigMapLister
	rootCA     []byte
}

// New returns a Publisher of rootCA (PEM) reading namespaces and
// ConfigMaps through the given informers (whose factory the caller
// starts) and writing through client.
func New(client kubernetes.Interface, namespaces coreinformers.NamespaceInformer, configMaps coreinformers.ConfigMapInformer, rootCA []byte, opts Options) *Publisher {
	p := &Publisher{client: client, namespaces: namespaces.Lister(), configMaps: configMaps.Lister(), rootCA: rootCA}
	p.Loop = controller.New(controller.Config{Name: Name, Sync: p.sync, Logger: opts.Logger, Clock: opts.Clock,
		Synced: []cache.InformerSynced{namespaces.Informer().HasSynced, configMaps.Informer().HasSynced}})
	// As upstream: a new namespace, an active one updated or relisted.
	_, _ = namespaces.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: p.Enqueue,
		UpdateFunc: func(_, obj any) {
			if ns, ok := obj.(*corev1.Namespace); ok && ns.Status.Phase == corev1.NamespaceActive {
				p.Enqueue(obj)
			}
		},
	})
	// Our ConfigMap edited or deleted: its namespace.
	enqueueNamespace := func(obj any) {
		if cm, ok := controller.Object[*corev1.ConfigMap](obj); ok && cm.Name == ConfigMapName {
			p.EnqueueKey(cm.Namespace)
		}
	}
	_, _ = configMaps.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(_, obj any) { enqueueNamespace(obj) },
		DeleteFunc: enqueueNamespace,
	})
	return p
}

// sync makes the namespace named key hold kube-root-ca.crt with the root
// CA and upstream's description. A namespace that is gone gets nothing;
// one that is terminating gets no new ConfigMap (an existing one is still
// kept right, as upstream).
//
// A create that finds the ConfigMap there (409 AlreadyExists: the cache is
// behind) and an update refused for a stale resourceVersion (409 Conflict)
// are retried once from a fresh read of the API; a second conflict is
// returned, and the loop retries with backoff.
func (p *Publisher) sync(ctx context.Context, key string) error {
	ns, err := p.namespaces.Get(key)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	cm, err := p.configMaps.ConfigMaps(key).Get(ConfigMapName)
	switch {
	case apierrors.IsNotFound(err):
		if ns.Status.Phase != corev1.NamespaceActive || ns.DeletionTimestamp != nil {
			return nil
		}
		return p.create(ctx, key)
	case err != nil:
		return err
	}
	return p.restore(ctx, cm)
}

// create creates the ConfigMap in namespace ns.
func (p *Publisher) create(ctx context.Context, ns string) error {
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: ConfigMapName,
			Annotations: map[string]string{DescriptionAnnotation: Description}},
		Data: p.data(),
	}
	_, err := p.client.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{})
	switch {
	case err == nil:
		return nil
	case apierrors.IsAlreadyExists(err):
		// The cache is behind: retry from it, as upstream (RBAC lets the
		// publisher create and update ConfigMaps, not read them directly).
		return fmt.Errorf("creating %s/%s: %w", ns, ConfigMapName, err)
	case apierrors.IsNotFound(err), apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
		return nil // the namespace is gone or going: its next event decides
	default:
		return fmt.Errorf("creating %s/%s: %w", ns, ConfigMapName, err)
	}
}

// restore updates cm (never mutated: it may be the cache's) when its data
// or description differ from what is published. A conflict is returned, so
// the key is retried from the cache once it caught up, as upstream.
func (p *Publisher) restore(ctx context.Context, cm *corev1.ConfigMap) error {
	// As upstream: any description is kept; the data must be exactly ours.
	if maps.Equal(cm.Data, p.data()) && cm.Annotations[DescriptionAnnotation] != "" {
		return nil
	}
	want := cm.DeepCopy()
	want.Data = p.data()
	if want.Annotations == nil {
		want.Annotations = map[string]string{}
	}
	want.Annotations[DescriptionAnnotation] = Description
	_, err := p.client.CoreV1().ConfigMaps(cm.Namespace).Update(ctx, want, metav1.UpdateOptions{})
	switch {
	case err == nil:
		return nil
	case apierrors.IsNotFound(err):
		return p.create(ctx, cm.Namespace) // deleted since the cache saw it
	default:
		return fmt.Errorf("updating %s/%s: %w", cm.Namespace, ConfigMapName, err)
	}
}

// data is the ConfigMap's data: the root CA under ca.crt.
func (p *Publisher) data() map[string]string {
	return map[string]string{CAKey: string(p.rootCA)}
}
