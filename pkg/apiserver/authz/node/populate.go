package node

import (
	"context"
	"sync"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// The resources the graph is filled from; PVs and volume attachments only
// when the server serves them.
var (
	gvrPods              = corev1.SchemeGroupVersion.WithResource("pods")
	gvrPersistentVolumes = corev1.SchemeGroupVersion.WithResource("persistentvolumes")
	gvrVolumeAttachments = storagev1.SchemeGroupVersion.WithResource("volumeattachments")
)

// Stores finds the store of a served resource, nil when it is not served
// (registry.Deps.Stores).
type Stores func(schema.GroupVersionResource) registry.Store

// New returns the Node authorizer of a server whose stores are found
// through stores. It answers NoOpinion to a node's reads of related objects
// until Start was called and the graph synced. stores is called only by
// Start.
func New(stores Stores) *Authorizer {
	z := NewForGraph(NewGraph())
	z.populate = &populator{stores: stores, graph: z.graph}
	return z
}

// Start fills the graph from the stores in the background until ctx ends:
// informers over the pods (and the PVs and volume attachments when served)
// through the stores' List and Watch. Call it once, after the server
// assembled its stores.
func (z *Authorizer) Start(ctx context.Context) {
	if z.populate != nil {
		z.populate.start(ctx)
	}
}

// HasSynced reports whether the graph holds every object the stores had
// when Start began (true for NewForGraph).
func (z *Authorizer) HasSynced() bool {
	if z.populate == nil {
		return true
	}
	return z.populate.hasSynced()
}

type populator struct {
	stores Stores
	graph  *Graph
	mu     sync.Mutex
	synced []cache.InformerSynced
}

func (p *populator) hasSynced() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.synced == nil {
		return false
	}
	for _, s := range p.synced {
		if !s() {
			return false
		}
	}
	return true
}

func (p *populator) start(ctx context.Context) {
	var synced []cache.InformerSynced
	run := func(gvr schema.GroupVersionResource, obj runtime.Object, h cache.ResourceEventHandler) {
		st := p.stores(gvr)
		if st == nil {
			return
		}
		_, c := cache.NewInformerWithOptions(cache.InformerOptions{
			ListerWatcher: storeListWatch{st},
			ObjectType:    obj,
			Handler:       h,
		})
		synced = append(synced, c.HasSynced)
		go c.RunWithContext(ctx)
	}
	g := p.graph
	run(gvrPods, &corev1.Pod{}, cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { setPod(g, obj) },
		UpdateFunc: func(_, obj any) { setPod(g, obj) },
		DeleteFunc: func(obj any) {
			if pod, ok := unwrap(obj).(*corev1.Pod); ok {
				g.DeletePod(pod.Namespace, pod.Name)
			}
		},
	})
	run(gvrPersistentVolumes, &corev1.PersistentVolume{}, cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { setPV(g, obj) },
		UpdateFunc: func(_, obj any) { setPV(g, obj) },
		DeleteFunc: func(obj any) {
			if pv, ok := unwrap(obj).(*corev1.PersistentVolume); ok {
				g.DeletePV(pv.Name)
			}
		},
	})
	run(gvrVolumeAttachments, &storagev1.VolumeAttachment{}, cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { setVA(g, obj) },
		UpdateFunc: func(_, obj any) { setVA(g, obj) },
		DeleteFunc: func(obj any) {
			if va, ok := unwrap(obj).(*storagev1.VolumeAttachment); ok {
				g.SetVolumeAttachment(va.Name, "")
			}
		},
	})
	p.mu.Lock()
	p.synced = synced
	p.mu.Unlock()
}

func setPod(g *Graph, obj any) {
	if pod, ok := obj.(*corev1.Pod); ok {
		g.SetPod(pod)
	}
}

func setPV(g *Graph, obj any) {
	pv, ok := obj.(*corev1.PersistentVolume)
	if !ok {
		return
	}
	if c := pv.Spec.ClaimRef; c != nil {
		g.SetPV(pv.Name, c.Namespace, c.Name)
	} else {
		g.DeletePV(pv.Name)
	}
}

func setVA(g *Graph, obj any) {
	if va, ok := obj.(*storagev1.VolumeAttachment); ok {
		g.SetVolumeAttachment(va.Name, va.Spec.NodeName)
	}
}

func unwrap(obj any) any {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		return t.Obj
	}
	return obj
}

// storeListWatch lists and watches a store for an informer, every
// namespace. It is a plain list then watch: kinc's stores serve watch-list
// (sendInitialEvents) too, but the in-process informer need not.
type storeListWatch struct{ st registry.Store }

func (l storeListWatch) List(opts metav1.ListOptions) (runtime.Object, error) {
	return l.ListWithContext(context.Background(), opts)
}

func (l storeListWatch) Watch(opts metav1.ListOptions) (watch.Interface, error) {
	return l.WatchWithContext(context.Background(), opts)
}

func (l storeListWatch) ListWithContext(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
	return l.st.List(ctx, "", &opts)
}

func (l storeListWatch) WatchWithContext(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
	return l.st.Watch(ctx, "", &opts)
}

// IsWatchListSemanticsUnSupported tells client-go's reflector to list then
// watch.
func (storeListWatch) IsWatchListSemanticsUnSupported() bool { return true }
