// Package cache is the scheduler's view of the cluster: nodes, the pods
// bound to them and the pods the scheduler has assumed onto them but whose
// binding the apiserver has not confirmed yet. Each scheduling cycle reads
// a Snapshot of it, brought up to date incrementally by generation.
package cache

import (
	"fmt"
	"slices"
	"sync"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kinc-dev/kinc/pkg/scheduler/framework"
)

// Cache is safe for concurrent use. Pods are identified by UID; a pod
// passed in must not be modified afterwards (the cache keeps it).
//
// Assumed pods: AssumePod counts a pod on its node before the binding is
// confirmed, so the next decision sees it. ForgetPod undoes that when the
// binding fails. When the informer delivers the bound pod (AddPod), the
// assumption is confirmed and replaced by the real pod, on the node the
// apiserver says. Assumed pods do not expire (upstream's default).
type Cache struct {
	mu sync.RWMutex // guards every field below
	// nodes holds a NodeInfo per node name, including names known only
	// from pods whose Node object has not arrived (Node() == nil).
	nodes map[string]*framework.NodeInfo
	// names lists the nodes with a Node object, sorted; ordered holds
	// their NodeInfos in the same order.
	names   []string
	ordered []*framework.NodeInfo
	pods    map[types.UID]*podState
	// generation increases with every change to any NodeInfo.
	generation int64
	// membership increases when nodes are added or removed.
	membership int64
}

type podState struct {
	pod      *v1.Pod
	assumed  bool
	bindDone bool
}

// New returns an empty cache.
func New() *Cache {
	return &Cache{nodes: map[string]*framework.NodeInfo{}, pods: map[types.UID]*podState{}}
}

func key(pod *v1.Pod) types.UID { return pod.UID }

// nodeInfo returns (creating) the NodeInfo of a node name and bumps its
// generation. Callers hold mu.
func (c *Cache) touch(name string) *framework.NodeInfo {
	ni, ok := c.nodes[name]
	if !ok {
		ni = framework.NewNodeInfo()
		c.nodes[name] = ni
	}
	c.generation++
	ni.Generation = c.generation
	return ni
}

func (c *Cache) addPodLocked(pod *v1.Pod, assumed bool) {
	c.touch(pod.Spec.NodeName).AddPodInfo(framework.NewPodInfo(pod))
	c.pods[key(pod)] = &podState{pod: pod, assumed: assumed}
}

func (c *Cache) removePodLocked(pod *v1.Pod) error {
	ni, ok := c.nodes[pod.Spec.NodeName]
	if !ok {
		return fmt.Errorf("cache: node %q of pod %s/%s not found", pod.Spec.NodeName, pod.Namespace, pod.Name)
	}
	c.touch(pod.Spec.NodeName)
	if err := ni.RemovePod(pod); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	if ni.Node() == nil && len(ni.Pods) == 0 {
		delete(c.nodes, pod.Spec.NodeName)
	}
	delete(c.pods, key(pod))
	return nil
}

// AssumePod counts pod (spec.nodeName set) on its node. It errors when
// the pod is already in the cache.
func (c *Cache) AssumePod(pod *v1.Pod) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.pods[key(pod)]; ok {
		return fmt.Errorf("cache: pod %s/%s is already in the cache", pod.Namespace, pod.Name)
	}
	c.addPodLocked(pod, true)
	return nil
}

// FinishBinding records that the binding of an assumed pod succeeded.
func (c *Cache) FinishBinding(pod *v1.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ps, ok := c.pods[key(pod)]; ok && ps.assumed {
		ps.bindDone = true
	}
}

// ForgetPod removes an assumed pod; it errors when the pod is not assumed
// (e.g. the informer already confirmed it).
func (c *Cache) ForgetPod(pod *v1.Pod) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps, ok := c.pods[key(pod)]
	if !ok || !ps.assumed {
		return fmt.Errorf("cache: pod %s/%s is not assumed", pod.Namespace, pod.Name)
	}
	return c.removePodLocked(ps.pod)
}

// AddPod adds a bound pod seen by the informer, confirming it if assumed.
func (c *Cache) AddPod(pod *v1.Pod) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ps, ok := c.pods[key(pod)]; ok {
		if !ps.assumed {
			return fmt.Errorf("cache: pod %s/%s was already added", pod.Namespace, pod.Name)
		}
		if err := c.removePodLocked(ps.pod); err != nil {
			return err
		}
	}
	c.addPodLocked(pod, false)
	return nil
}

// UpdatePod replaces a bound pod (for example its requests or labels changed).
func (c *Cache) UpdatePod(oldPod, newPod *v1.Pod) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ps, ok := c.pods[key(oldPod)]; ok {
		if err := c.removePodLocked(ps.pod); err != nil {
			return err
		}
	}
	c.addPodLocked(newPod, false)
	return nil
}

// RemovePod removes a pod (assumed or bound); unknown pods are ignored.
func (c *Cache) RemovePod(pod *v1.Pod) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps, ok := c.pods[key(pod)]
	if !ok {
		return nil
	}
	return c.removePodLocked(ps.pod)
}

// IsAssumedPod reports whether the pod is assumed and not yet confirmed.
func (c *Cache) IsAssumedPod(pod *v1.Pod) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	ps, ok := c.pods[key(pod)]
	return ok && ps.assumed
}

// Has reports whether the pod is in the cache, assumed or bound.
func (c *Cache) Has(pod *v1.Pod) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	_, ok := c.pods[key(pod)]
	return ok
}

// AddNode adds or replaces a node.
func (c *Cache) AddNode(node *v1.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ni := c.touch(node.Name)
	if ni.Node() == nil {
		i, _ := slices.BinarySearch(c.names, node.Name)
		c.names = slices.Insert(c.names, i, node.Name)
		c.ordered = slices.Insert(c.ordered, i, ni)
		c.membership++
	}
	ni.SetNode(node)
}

// UpdateNode replaces a node.
func (c *Cache) UpdateNode(_, newNode *v1.Node) { c.AddNode(newNode) }

// RemoveNode removes a node; its pods stay counted until they are deleted.
func (c *Cache) RemoveNode(node *v1.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ni, ok := c.nodes[node.Name]
	if !ok || ni.Node() == nil {
		return
	}
	if i, found := slices.BinarySearch(c.names, node.Name); found {
		c.names = slices.Delete(c.names, i, i+1)
		c.ordered = slices.Delete(c.ordered, i, i+1)
	}
	c.membership++
	c.touch(node.Name)
	ni.RemoveNode()
	if len(ni.Pods) == 0 {
		delete(c.nodes, node.Name)
	}
}

// Counts returns the number of nodes (with a Node object) and of pods.
func (c *Cache) Counts() (nodes, pods int) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.names), len(c.pods)
}
