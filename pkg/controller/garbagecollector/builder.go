package garbagecollector

import (
	"context"
	"log/slog"
	"reflect"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/lru"
)

// Finalizers the garbage collector acts on (metav1's names).
const (
	finalizerOrphan     = metav1.FinalizerOrphanDependents
	finalizerForeground = metav1.FinalizerDeleteDependents
)

type eventType int

const (
	addEvent eventType = iota
	updateEvent
	deleteEvent
)

// event is a change of one object: from an informer, or virtual (a
// deletion the workers found out through the API).
type event struct {
	typ     eventType
	virtual bool
	obj     *metav1.PartialObjectMetadata
	old     *metav1.PartialObjectMetadata // updates only
	gvk     schema.GroupVersionKind
}

// identity returns the object's reference.
func (e *event) identity() objectRef {
	return objectRef{APIVersion: e.gvk.GroupVersion().String(), Kind: e.gvk.Kind, Name: e.obj.Name, UID: e.obj.UID, Namespace: e.obj.Namespace}
}

// builder keeps the graph up to date from the events, one at a time, and
// queues the work the changes call for.
type builder struct {
	graph    *graph
	changes  workqueue.TypedInterface[*event]
	absent   *lru.Cache // objectRef → struct{}: owners verified absent
	recorder record.EventRecorder
	logger   *slog.Logger
	// enqueue queues "delete/<uid>" or "orphan/<uid>" for the workers;
	// enqueueLater the same after a short delay.
	enqueue, enqueueLater func(kind string, uid types.UID)
}

// absentOwnerCacheSize is upstream's.
const absentOwnerCacheSize = 500

// push queues an event.
func (b *builder) push(e *event) { b.changes.Add(e) }

// virtualDelete queues the deletion of ref, which the API does not have.
func (b *builder) virtualDelete(ref objectRef) {
	gv, _ := schema.ParseGroupVersion(ref.APIVersion)
	obj := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: ref.Name, Namespace: ref.Namespace, UID: ref.UID}}
	b.push(&event{typ: deleteEvent, virtual: true, obj: obj, gvk: gv.WithKind(ref.Kind)})
}

// run processes events until ctx ends.
func (b *builder) run(ctx context.Context) {
	go func() {
		<-ctx.Done()
		b.changes.ShutDown()
	}()
	for {
		e, quit := b.changes.Get()
		if quit {
			return
		}
		b.process(e)
		b.changes.Done(e)
	}
}

// process applies one event to the graph, as upstream's
// processGraphChanges.
func (b *builder) process(e *event) {
	b.graph.mu.Lock()
	defer b.graph.mu.Unlock()
	g := b.graph
	obj := e.obj
	existing, found := g.nodes[obj.UID]
	if found && !e.virtual && !existing.observed {
		observed := e.identity()
		if observed != existing.identity {
			// Dependents that named this owner with other coordinates
			// are checked again; one in another namespace than a
			// namespaced owner is wrong for sure.
			_, invalid := partitionDependents(g.dependentNodes(existing), observed)
			for _, dep := range invalid {
				if observed.Namespace != "" && dep.identity.Namespace != observed.Namespace {
					b.reportInvalidNamespace(dep, observed.UID)
				}
				b.enqueue(keyDelete, dep.identity.UID)
			}
			b.logger.Debug("virtual owner observed", "virtual", existing.identity, "observed", observed)
			existing.identity = observed
		}
		existing.observed = true
	}
	switch {
	case e.typ != deleteEvent && !found:
		n := &node{identity: e.identity(), owners: slices.Clone(obj.OwnerReferences), dependents: map[types.UID]struct{}{},
			observed: !e.virtual, beingDeleted: obj.DeletionTimestamp != nil,
			deletingDependents: obj.DeletionTimestamp != nil && slices.Contains(obj.Finalizers, finalizerForeground)}
		g.nodes[n.identity.UID] = n
		b.addToOwners(n, n.owners)
		b.processTransitions(e, n)
	case e.typ != deleteEvent:
		added, removed, changed := referencesDiffs(existing.owners, obj.OwnerReferences)
		if len(added)+len(removed)+len(changed) > 0 {
			b.unblockOwners(removed, changed)
			existing.owners = slices.Clone(obj.OwnerReferences)
			b.addToOwners(existing, added)
			g.removeFromOwners(existing, removed)
		}
		if obj.DeletionTimestamp != nil {
			existing.beingDeleted = true
		}
		b.processTransitions(e, existing)
	case !found:
		b.logger.Debug("deleted object not in the graph", "uid", obj.UID)
	default:
		b.processDelete(e, existing)
	}
}

// processDelete removes a deleted object from the graph and queues its
// dependents (and owners deleting theirs in the foreground). A virtual
// deletion whose coordinates some dependents disagree with keeps the node.
func (b *builder) processDelete(e *event, existing *node) {
	g := b.graph
	deleted := e.identity()
	remove := true
	if e.virtual {
		matching, nonmatching := partitionDependents(g.dependentNodes(existing), deleted)
		switch {
		case !existing.observed && len(nonmatching) > 0:
			remove = false
			if len(matching) > 0 {
				b.absent.Add(deleted, struct{}{})
				for _, dep := range matching {
					b.enqueue(keyDelete, dep.identity.UID)
				}
			}
			if existing.identity == deleted {
				if alt := alternateOwnerIdentity(nonmatching, deleted); alt != nil {
					existing.identity = *alt
					b.enqueueLater(keyDelete, existing.identity.UID)
				}
			}
		case existing.observed && existing.identity != deleted:
			remove = false
			if len(matching) > 0 {
				b.absent.Add(deleted, struct{}{})
				for _, dep := range matching {
					b.enqueue(keyDelete, dep.identity.UID)
				}
			}
		}
	}
	if !remove {
		return
	}
	g.remove(existing)
	deps := g.dependentNodes(existing)
	if len(deps) > 0 {
		b.absent.Add(deleted, struct{}{})
	}
	for _, dep := range deps {
		b.enqueue(keyDelete, dep.identity.UID)
	}
	for _, ref := range existing.owners {
		if owner, ok := g.nodes[ref.UID]; ok && owner.deletingDependents {
			b.enqueue(keyDelete, owner.identity.UID)
		}
	}
}

// addToOwners links n to owners (creating virtual owners, queued for a
// check against the API) and queues n when one of its references may be
// wrong: an observed namespaced owner in another namespace (reported with
// an event), or coordinates that differ from the observed owner's.
func (b *builder) addToOwners(n *node, owners []metav1.OwnerReference) {
	g := b.graph
	suspect := false
	for _, ref := range owners {
		owner, known := g.nodes[ref.UID]
		if !known {
			owner = &node{identity: ownerRef(ref, n.identity.Namespace), dependents: map[types.UID]struct{}{}}
			g.nodes[ref.UID] = owner
		}
		owner.dependents[n.identity.UID] = struct{}{}
		if !known {
			b.enqueue(keyDelete, ref.UID)
			continue
		}
		if suspect {
			continue
		}
		ownerNamespaced := owner.identity.Namespace != ""
		switch {
		case ownerNamespaced && owner.identity.Namespace != n.identity.Namespace:
			if owner.observed {
				b.logger.Info("item references an owner but does not match namespaces", "item", n.identity, "owner", owner.identity)
				b.reportInvalidNamespace(n, ref.UID)
			}
			suspect = true
		case !owner.identity.matches(ref):
			suspect = true
		case !ownerNamespaced && owner.identity.Namespace != n.identity.Namespace && !owner.observed:
			suspect = true
		}
	}
	if suspect {
		b.enqueue(keyDelete, n.identity.UID)
	}
}

// reportInvalidNamespace records upstream's OwnerRefInvalidNamespace
// warning on n for its reference to ownerUID.
func (b *builder) reportInvalidNamespace(n *node, ownerUID types.UID) {
	i := slices.IndexFunc(n.owners, func(r metav1.OwnerReference) bool { return r.UID == ownerUID })
	if i < 0 || b.recorder == nil {
		return
	}
	invalid := ownerRef(n.owners[i], n.identity.Namespace)
	ref := &corev1.ObjectReference{Kind: n.identity.Kind, APIVersion: n.identity.APIVersion,
		Namespace: n.identity.Namespace, Name: n.identity.Name, UID: n.identity.UID}
	b.recorder.Eventf(ref, corev1.EventTypeWarning, "OwnerRefInvalidNamespace",
		"ownerRef %s does not exist in namespace %q", invalid, n.identity.Namespace)
}

// unblockOwners queues the owners of removed references that were
// blocking, and of references that stopped blocking: an owner deleting
// its dependents in the foreground may be done.
func (b *builder) unblockOwners(removed []metav1.OwnerReference, changed [][2]metav1.OwnerReference) {
	blocking := func(r metav1.OwnerReference) bool { return r.BlockOwnerDeletion != nil && *r.BlockOwnerDeletion }
	for _, ref := range removed {
		if blocking(ref) && b.graph.nodes[ref.UID] != nil {
			b.enqueue(keyDelete, ref.UID)
		}
	}
	for _, c := range changed {
		if blocking(c[0]) && !blocking(c[1]) && b.graph.nodes[c[1].UID] != nil {
			b.enqueue(keyDelete, c[1].UID)
		}
	}
}

// processTransitions queues an object whose deletion just started with
// the orphan finalizer (orphan its dependents) or the foregroundDeletion
// finalizer (delete its dependents, then it).
func (b *builder) processTransitions(e *event, n *node) {
	if startsDeletionWith(e, finalizerOrphan) {
		b.logger.Debug("orphaning dependents", "item", n.identity)
		b.enqueue(keyOrphan, n.identity.UID)
		return
	}
	if startsDeletionWith(e, finalizerForeground) {
		b.logger.Debug("deleting dependents in the foreground", "item", n.identity)
		n.deletingDependents = true
		for _, dep := range b.graph.dependentNodes(n) {
			b.enqueue(keyDelete, dep.identity.UID)
		}
		b.enqueue(keyDelete, n.identity.UID)
	}
}

// startsDeletionWith reports whether e's object is being deleted with
// finalizer and its previous state (if any) was not.
func startsDeletionWith(e *event, finalizer string) bool {
	deleting := func(m *metav1.PartialObjectMetadata) bool {
		return m.DeletionTimestamp != nil && slices.Contains(m.Finalizers, finalizer)
	}
	if !deleting(e.obj) {
		return false
	}
	return e.old == nil || !deleting(e.old)
}

// referencesDiffs compares two lists of ownerReferences by uid.
func referencesDiffs(old, cur []metav1.OwnerReference) (added, removed []metav1.OwnerReference, changed [][2]metav1.OwnerReference) {
	oldByUID := map[types.UID]metav1.OwnerReference{}
	for _, r := range old {
		oldByUID[r.UID] = r
	}
	for _, r := range cur {
		o, ok := oldByUID[r.UID]
		switch {
		case !ok:
			added = append(added, r)
		case !reflect.DeepEqual(o, r):
			changed = append(changed, [2]metav1.OwnerReference{o, r})
		}
		delete(oldByUID, r.UID)
	}
	for _, r := range old {
		if _, ok := oldByUID[r.UID]; ok {
			removed = append(removed, r)
		}
	}
	return added, removed, changed
}

// partitionDependents splits deps into those with a reference matching
// owner (coordinates, and namespace for a namespaced owner) and those
// referring to owner's uid otherwise. A dependent may be in both.
func partitionDependents(deps []*node, owner objectRef) (matching, nonmatching []*node) {
	for _, dep := range deps {
		match, mismatch := false, false
		if owner.Namespace != "" && owner.Namespace != dep.identity.Namespace {
			mismatch = true
		} else {
			for _, ref := range dep.owners {
				if ref.UID == owner.UID {
					if owner.matches(ref) {
						match = true
					} else {
						mismatch = true
					}
				}
			}
		}
		if match {
			matching = append(matching, dep)
		}
		if mismatch {
			nonmatching = append(nonmatching, dep)
		}
	}
	return matching, nonmatching
}

// alternateOwnerIdentity returns another identity deps give the owner
// whose identity absent was verified absent: the first following absent
// in upstream's order, else the first; nil when there is none.
func alternateOwnerIdentity(deps []*node, absent objectRef) *objectRef {
	clusterScoped := absent.Namespace == ""
	seen := map[objectRef]bool{absent: true}
	var first, following *objectRef
	for _, dep := range deps {
		for _, ref := range dep.owners {
			if ref.UID != absent.UID {
				continue
			}
			if absent.matches(ref) && (clusterScoped || absent.Namespace == dep.identity.Namespace) {
				continue
			}
			alt := ownerRef(ref, dep.identity.Namespace)
			if clusterScoped && alt.APIVersion == absent.APIVersion && alt.Kind == absent.Kind {
				alt.Namespace = ""
			}
			if seen[alt] {
				continue
			}
			seen[alt] = true
			if first == nil || referenceLess(alt, *first) {
				first = &alt
			}
			if referenceLess(absent, alt) && (following == nil || referenceLess(alt, *following)) {
				following = &alt
			}
		}
	}
	if following != nil {
		return following
	}
	return first
}

// referenceLess orders references by kind, apiVersion, namespace, name
// and uid, as upstream.
func referenceLess(a, b objectRef) bool {
	for _, c := range [][2]string{{a.Kind, b.Kind}, {a.APIVersion, b.APIVersion}, {a.Namespace, b.Namespace}, {a.Name, b.Name}, {string(a.UID), string(b.UID)}} {
		if c[0] != c[1] {
			return c[0] < c[1]
		}
	}
	return false
}
