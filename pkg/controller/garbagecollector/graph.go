package garbagecollector

import (
	"fmt"
	"slices"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// objectRef identifies an object of the graph: the coordinates of an
// ownerReference (apiVersion, kind, name, uid) and a namespace ("" for a
// cluster-scoped object, or for an owner believed cluster-scoped).
type objectRef struct {
	APIVersion, Kind, Name string
	UID                    types.UID
	Namespace              string
}

// String reads like upstream's: "[v1/ConfigMap, namespace: default, name: a, uid: …]".
func (r objectRef) String() string {
	return fmt.Sprintf("[%s/%s, namespace: %s, name: %s, uid: %s]", r.APIVersion, r.Kind, r.Namespace, r.Name, r.UID)
}

// ownerRef returns the identity an ownerReference gives its owner, seen
// from a dependent in namespace.
func ownerRef(ref metav1.OwnerReference, namespace string) objectRef {
	return objectRef{APIVersion: ref.APIVersion, Kind: ref.Kind, Name: ref.Name, UID: ref.UID, Namespace: namespace}
}

// matches reports whether ref has the coordinates of r (the namespace is
// not part of an ownerReference).
func (r objectRef) matches(ref metav1.OwnerReference) bool {
	return ref.APIVersion == r.APIVersion && ref.Kind == r.Kind && ref.Name == r.Name && ref.UID == r.UID
}

// node is one object of the graph. Its fields are guarded by the graph's
// lock; workers get copies (nodeView).
type node struct {
	identity objectRef
	// owners are the object's ownerReferences as last observed.
	owners []metav1.OwnerReference
	// dependents are the uids of the nodes whose owners name this one.
	dependents map[types.UID]struct{}
	// observed is set once an informer delivered the object; a node only
	// referenced as an owner is virtual until then.
	observed bool
	// beingDeleted: the object has a deletionTimestamp.
	beingDeleted bool
	// deletingDependents: being deleted with the foregroundDeletion
	// finalizer.
	deletingDependents bool
}

// nodeView is a copy of a node's fields, safe to read without the lock.
type nodeView struct {
	identity                                   objectRef
	owners                                     []metav1.OwnerReference
	observed, beingDeleted, deletingDependents bool
	// dependents is the number of the node's dependents.
	dependents int
}

func (n *node) view() nodeView {
	return nodeView{identity: n.identity, owners: slices.Clone(n.owners), observed: n.observed,
		beingDeleted: n.beingDeleted, deletingDependents: n.deletingDependents, dependents: len(n.dependents)}
}

// graph is the dependency graph: nodes by uid. The graph builder is its
// only writer; workers read it through the methods below. Safe for
// concurrent use.
type graph struct {
	mu    sync.RWMutex
	nodes map[types.UID]*node
}

func newGraph() *graph { return &graph{nodes: map[types.UID]*node{}} }

// get returns a copy of the node with uid.
func (g *graph) get(uid types.UID) (nodeView, bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	n, ok := g.nodes[uid]
	if !ok {
		return nodeView{}, false
	}
	return n.view(), true
}

// has reports whether a node with uid is in the graph.
func (g *graph) has(uid types.UID) bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	_, ok := g.nodes[uid]
	return ok
}

// dependents returns copies of the dependents of the node with uid.
func (g *graph) dependents(uid types.UID) []nodeView {
	g.mu.RLock()
	defer g.mu.RUnlock()
	n, ok := g.nodes[uid]
	if !ok {
		return nil
	}
	out := make([]nodeView, 0, len(n.dependents))
	for d := range n.dependents {
		if dn, ok := g.nodes[d]; ok {
			out = append(out, dn.view())
		}
	}
	slices.SortFunc(out, func(a, b nodeView) int { return compareRefs(a.identity, b.identity) })
	return out
}

// blockingDependents returns the dependents of the node with uid whose
// ownerReference to it has blockOwnerDeletion=true.
func (g *graph) blockingDependents(uid types.UID) []nodeView {
	var out []nodeView
	for _, d := range g.dependents(uid) {
		for _, ref := range d.owners {
			if ref.UID == uid && ref.BlockOwnerDeletion != nil && *ref.BlockOwnerDeletion {
				out = append(out, d)
				break
			}
		}
	}
	return out
}

func compareRefs(a, b objectRef) int {
	for _, c := range [][2]string{{a.Namespace, b.Namespace}, {a.Name, b.Name}, {string(a.UID), string(b.UID)}} {
		if c[0] != c[1] {
			if c[0] < c[1] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// The writers, called by the graph builder with mu held.

// removeFromOwners forgets n as a dependent of owners.
func (g *graph) removeFromOwners(n *node, owners []metav1.OwnerReference) {
	for _, ref := range owners {
		if owner, ok := g.nodes[ref.UID]; ok {
			delete(owner.dependents, n.identity.UID)
		}
	}
}

// remove deletes n from the graph and from its owners' dependents.
func (g *graph) remove(n *node) {
	delete(g.nodes, n.identity.UID)
	g.removeFromOwners(n, n.owners)
}

// dependentNodes returns n's dependents, sorted.
func (g *graph) dependentNodes(n *node) []*node {
	out := make([]*node, 0, len(n.dependents))
	for d := range n.dependents {
		if dn, ok := g.nodes[d]; ok {
			out = append(out, dn)
		}
	}
	slices.SortFunc(out, func(a, b *node) int { return compareRefs(a.identity, b.identity) })
	return out
}

// observed reports whether the node with uid was delivered by an
// informer (true for a node no longer in the graph: nothing to wait for).
func (g *graph) observed(uid types.UID) bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	n, ok := g.nodes[uid]
	return !ok || n.observed
}
