package garbagecollector

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/cache"

	"github.com/kinc-dev/kinc/pkg/controller"
)

// ignoredResources are never watched, as upstream's defaults: events are
// many, short-lived and never owners.
var ignoredResources = map[schema.GroupResource]bool{
	{Group: "", Resource: "events"}:              true,
	{Group: "events.k8s.io", Resource: "events"}: true,
}

// deletableResources returns the preferred version of every served
// resource that supports delete, list and watch (subresources and ignored
// resources left out), with its kind. A discovery error is returned with
// what could be found.
func deletableResources(ctx context.Context, d discovery.DiscoveryInterface) (map[schema.GroupVersionResource]schema.GroupVersionKind, error) {
	lists, err := discovery.ToDiscoveryInterfaceWithContext(d).ServerPreferredResourcesWithContext(ctx)
	out := map[schema.GroupVersionResource]schema.GroupVersionKind{}
	for _, list := range discovery.FilteredBy(discovery.SupportsAllVerbs{Verbs: []string{"delete", "list", "watch"}}, lists) {
		gv, perr := schema.ParseGroupVersion(list.GroupVersion)
		if perr != nil {
			continue
		}
		for _, r := range list.APIResources {
			gvr := gv.WithResource(r.Name)
			if strings.Contains(r.Name, "/") || ignoredResources[gvr.GroupResource()] {
				continue
			}
			out[gvr] = gv.WithKind(r.Kind)
		}
	}
	return out, err
}

// monitor is the metadata informer of one resource.
type monitor struct {
	gvk      schema.GroupVersionKind
	informer cache.SharedIndexInformer
	stop     context.CancelFunc // nil until started
}

// monitors are the informers of every deletable resource, and the REST
// mapper of every served kind, both refreshed by sync.
type monitors struct {
	metadata  metadata.Interface
	discovery discovery.DiscoveryInterface
	logger    *slog.Logger
	// push receives every informer event.
	push func(*event)

	mu       sync.Mutex
	byGVR    map[schema.GroupVersionResource]*monitor
	mapper   meta.RESTMapper
	runCtx   context.Context // set by start: monitors added later start at once
	running  sync.WaitGroup
	stopping bool
}

// resource returns the resource and scope of apiVersion/kind, as the
// last discovery saw them.
func (m *monitors) resource(apiVersion, kind string) (schema.GroupVersionResource, bool, error) {
	m.mu.Lock()
	mapper := m.mapper
	m.mu.Unlock()
	gvk := schema.FromAPIVersionAndKind(apiVersion, kind)
	if mapper == nil {
		return schema.GroupVersionResource{}, false, &restMappingError{gvk: gvk}
	}
	mapping, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return schema.GroupVersionResource{}, false, &restMappingError{gvk: gvk}
	}
	return mapping.Resource, mapping.Scope.Name() == meta.RESTScopeNameNamespace, nil
}

// restMappingError: discovery does not know a kind (yet): retried.
type restMappingError struct{ gvk schema.GroupVersionKind }

func (e *restMappingError) Error() string {
	return fmt.Sprintf("unable to get REST mapping for %s", e.gvk)
}

// sync asks discovery for the served resources: it refreshes the REST
// mapper, adds a monitor for each new deletable resource (started at once
// when the monitors run) and, when discovery answered completely, stops
// those of resources no longer served. Discovery errors are returned
// after whatever could be done. A cached discovery client is invalidated
// first, so that the mapper and the resources come from one round of
// requests.
func (m *monitors) sync(ctx context.Context) error {
	if cached, ok := m.discovery.(discovery.CachedDiscoveryInterface); ok {
		cached.Invalidate() // each sync asks the server afresh, once
	}
	groups, mapErr := restmapper.GetAPIGroupResourcesWithContext(ctx, discovery.ToDiscoveryInterfaceWithContext(m.discovery))
	resources, err := deletableResources(ctx, m.discovery)
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(groups) > 0 {
		m.mapper = restmapper.NewDiscoveryRESTMapper(groups)
	}
	if m.byGVR == nil {
		m.byGVR = map[schema.GroupVersionResource]*monitor{}
	}
	var added, removed []string
	for _, gvr := range slices.SortedFunc(maps.Keys(resources), compareGVR) {
		if _, ok := m.byGVR[gvr]; ok {
			continue
		}
		m.byGVR[gvr] = m.newMonitor(gvr, resources[gvr])
		added = append(added, gvr.String())
		if m.runCtx != nil && !m.stopping {
			m.startLocked(m.byGVR[gvr])
		}
	}
	if err == nil && mapErr == nil {
		for gvr, mon := range m.byGVR {
			if _, ok := resources[gvr]; !ok {
				if mon.stop != nil {
					mon.stop()
				}
				delete(m.byGVR, gvr)
				removed = append(removed, gvr.String())
			}
		}
	}
	if len(added) > 0 || len(removed) > 0 {
		m.logger.Info("monitors synced", "added", len(added), "removed", removed, "total", len(m.byGVR))
		m.logger.Debug("resources monitored", "added", added)
	}
	if err != nil {
		return fmt.Errorf("discovering deletable resources: %w", err)
	}
	if mapErr != nil {
		return fmt.Errorf("discovering kinds: %w", mapErr)
	}
	return nil
}

func compareGVR(a, b schema.GroupVersionResource) int { return strings.Compare(a.String(), b.String()) }

// newMonitor returns the (not started) informer of gvr, whose events are
// pushed to the graph builder. Objects are stored without managedFields,
// labels and annotations (last-applied-configuration can be most of an
// object): the graph needs none of them.
func (m *monitors) newMonitor(gvr schema.GroupVersionResource, gvk schema.GroupVersionKind) *monitor {
	inf := metadatainformer.NewFilteredMetadataInformer(m.metadata, gvr, metav1.NamespaceAll, 0, cache.Indexers{}, nil).Informer()
	_ = inf.SetTransform(func(obj any) (any, error) {
		if pm, ok := obj.(*metav1.PartialObjectMetadata); ok {
			// Only identity, owners, finalizers and deletion matter here.
			pm.ManagedFields, pm.Annotations, pm.Labels = nil, nil, nil
		}
		return obj, nil
	})
	push := func(typ eventType, obj, old any) {
		pm, ok := controller.Object[*metav1.PartialObjectMetadata](obj)
		if !ok {
			m.logger.Error("unexpected object from a metadata informer", "resource", gvr, "type", fmt.Sprintf("%T", obj))
			return
		}
		oldPM, _ := controller.Object[*metav1.PartialObjectMetadata](old)
		m.push(&event{typ: typ, obj: pm, old: oldPM, gvk: gvk})
	}
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { push(addEvent, obj, nil) },
		UpdateFunc: func(old, obj any) { push(updateEvent, obj, old) },
		DeleteFunc: func(obj any) { push(deleteEvent, obj, nil) },
	})
	return &monitor{gvk: gvk, informer: inf}
}

// start runs the informers, now and those added later, until ctx ends;
// wait waits for them to return.
func (m *monitors) start(ctx context.Context) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.runCtx = ctx
	for _, mon := range m.byGVR {
		m.startLocked(mon)
	}
}

func (m *monitors) startLocked(mon *monitor) {
	if mon.stop != nil {
		return
	}
	ctx, cancel := context.WithCancel(m.runCtx)
	mon.stop = cancel
	m.running.Go(func() { mon.informer.Run(ctx.Done()) })
}

// wait stops the monitors from starting and waits for the running ones,
// whose context must have ended.
func (m *monitors) wait() {
	m.mu.Lock()
	m.stopping = true
	m.mu.Unlock()
	m.running.Wait()
}

// synced reports whether every started informer has synced.
func (m *monitors) synced() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, mon := range m.byGVR {
		if mon.stop == nil || !mon.informer.HasSynced() {
			return false
		}
	}
	return true
}

// count returns the number of monitored resources.
func (m *monitors) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.byGVR)
}
