package node

import (
	"slices"
	"sync"

	corev1 "k8s.io/api/core/v1"
)

// ref names one object of the graph; ns is "" for cluster-scoped kinds.
type ref struct {
	kind     Kind
	ns, name string
}

// podEntry is what the graph keeps of a pod bound to a node: the node and
// the objects the node may read because of it (the pod first).
type podEntry struct {
	node string
	refs []ref
}

// Graph records which objects each node may reach through the pods bound
// to it: node ← pod ← secret, configmap, service account, PVC, resource
// claim; node ← pod ← PVC ← PV; node ← volume attachment. Upstream keeps a
// general graph and walks it; kinc keeps, per node, a count of the pods
// that reference each object, so a check is two map lookups under a read
// lock. The zero Graph is not usable; use NewGraph. Safe for concurrent use.
type Graph struct {
	mu    sync.RWMutex
	pods  map[ref]podEntry       // by pod (kind Pod)
	nodes map[string]map[ref]int // node → object → number of its pods referencing it
	pvs   map[string]ref         // PV name → the PVC it is bound to
	vas   map[string]string      // volume attachment name → node
}

// NewGraph returns an empty Graph.
func NewGraph() *Graph {
	return &Graph{
		pods:  map[ref]podEntry{},
		nodes: map[string]map[ref]int{},
		pvs:   map[string]ref{},
		vas:   map[string]string{},
	}
}

// SetPod records pod (added or changed). A pod not bound to a node is
// forgotten. A mirror pod (kubernetes.io/config.mirror) gives its node the
// pod only, never what it references, as upstream: a node must not be able
// to grant itself access to other objects by creating a pod.
func (g *Graph) SetPod(pod *corev1.Pod) {
	key := ref{Pod, pod.Namespace, pod.Name}
	if pod.Spec.NodeName == "" {
		g.DeletePod(pod.Namespace, pod.Name)
		return
	}
	e := podEntry{node: pod.Spec.NodeName, refs: []ref{key}}
	if _, mirror := pod.Annotations[corev1.MirrorPodAnnotationKey]; !mirror {
		PodReferences(pod, func(k Kind, name string) {
			r := ref{k, pod.Namespace, name}
			if !slices.Contains(e.refs, r) {
				e.refs = append(e.refs, r)
			}
		})
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if old, ok := g.pods[key]; ok {
		if old.node == e.node && slices.Equal(old.refs, e.refs) {
			return
		}
		g.dropLocked(old)
	}
	g.pods[key] = e
	refs := g.nodes[e.node]
	if refs == nil {
		refs = map[ref]int{}
		g.nodes[e.node] = refs
	}
	for _, r := range e.refs {
		refs[r]++
	}
}

// DeletePod forgets a pod.
func (g *Graph) DeletePod(namespace, name string) {
	key := ref{Pod, namespace, name}
	g.mu.Lock()
	defer g.mu.Unlock()
	if old, ok := g.pods[key]; ok {
		g.dropLocked(old)
		delete(g.pods, key)
	}
}

func (g *Graph) dropLocked(e podEntry) {
	refs := g.nodes[e.node]
	for _, r := range e.refs {
		if refs[r]--; refs[r] <= 0 {
			delete(refs, r)
		}
	}
	if len(refs) == 0 {
		delete(g.nodes, e.node)
	}
}

// SetPV records that PV name is bound to the PVC claimNamespace/claimName;
// an empty claimName forgets the PV.
func (g *Graph) SetPV(name, claimNamespace, claimName string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if claimName == "" {
		delete(g.pvs, name)
		return
	}
	g.pvs[name] = ref{PersistentVolumeClaim, claimNamespace, claimName}
}

// DeletePV forgets a PV.
func (g *Graph) DeletePV(name string) { g.SetPV(name, "", "") }

// SetVolumeAttachment records that a volume attachment is for node; an
// empty node forgets it.
func (g *Graph) SetVolumeAttachment(name, node string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if node == "" {
		delete(g.vas, name)
		return
	}
	g.vas[name] = node
}

// Has reports whether node may reach the object of kind k named
// namespace/name (namespace "" for PVs and volume attachments).
func (g *Graph) Has(node string, k Kind, namespace, name string) bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	switch k {
	case PersistentVolume:
		claim, ok := g.pvs[name]
		return ok && g.nodes[node][claim] > 0
	case VolumeAttachment:
		return g.vas[name] == node
	}
	return g.nodes[node][ref{k, namespace, name}] > 0
}
