package cache

import (
	"fmt"

	v1 "k8s.io/api/core/v1"

	"github.com/kinc-dev/kinc/pkg/scheduler/framework"
)

// Snapshot is a point-in-time copy of the cache's nodes for one scheduling
// cycle. It is read-only while a cycle runs and is refreshed in place by
// Cache.UpdateSnapshot between cycles.
type Snapshot struct {
	nodeInfoMap                      map[string]*framework.NodeInfo
	nodeInfoList                     []*framework.NodeInfo
	havePodsWithAffinity             []*framework.NodeInfo
	havePodsWithRequiredAntiAffinity []*framework.NodeInfo
	generation, membership           int64
}

var _ framework.NodeInfoLister = (*Snapshot)(nil)

// NewEmptySnapshot returns a snapshot with no nodes.
func NewEmptySnapshot() *Snapshot {
	return &Snapshot{nodeInfoMap: map[string]*framework.NodeInfo{}, membership: -1}
}

// NewSnapshot builds a snapshot from objects, for tests.
func NewSnapshot(pods []*v1.Pod, nodes []*v1.Node) *Snapshot {
	c := New()
	for _, n := range nodes {
		c.AddNode(n)
	}
	for _, p := range pods {
		_ = c.AddPod(p)
	}
	s := NewEmptySnapshot()
	c.UpdateSnapshot(s)
	return s
}

// List returns every node, sorted by name.
func (s *Snapshot) List() []*framework.NodeInfo { return s.nodeInfoList }

// HavePodsWithAffinityList returns nodes with pods that have pod (anti-)affinity.
func (s *Snapshot) HavePodsWithAffinityList() []*framework.NodeInfo { return s.havePodsWithAffinity }

// HavePodsWithRequiredAntiAffinityList returns nodes with pods that have
// required anti-affinity.
func (s *Snapshot) HavePodsWithRequiredAntiAffinityList() []*framework.NodeInfo {
	return s.havePodsWithRequiredAntiAffinity
}

// Get returns a node by name.
func (s *Snapshot) Get(name string) (*framework.NodeInfo, error) {
	if ni, ok := s.nodeInfoMap[name]; ok {
		return ni, nil
	}
	return nil, fmt.Errorf("node %q not found in the snapshot", name)
}

// NumNodes returns the number of nodes.
func (s *Snapshot) NumNodes() int { return len(s.nodeInfoList) }

// UpdateSnapshot brings s up to date: only NodeInfos that changed since the
// last update are cloned again.
func (c *Cache) UpdateSnapshot(s *Snapshot) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if s.generation == c.generation && s.membership == c.membership {
		return
	}
	if s.membership == c.membership {
		// Same nodes in the same order: refresh only what changed.
		changed := false
		for i, ni := range c.ordered {
			if ni.Generation > s.generation {
				cl := ni.Clone()
				s.nodeInfoList[i] = cl
				s.nodeInfoMap[c.names[i]] = cl
				changed = true
			}
		}
		if changed {
			s.rebuildAffinityLists()
		}
		s.generation = c.generation
		return
	}
	// Nodes were added or removed: rebuild the list.
	for name := range s.nodeInfoMap {
		if ni, ok := c.nodes[name]; !ok || ni.Node() == nil {
			delete(s.nodeInfoMap, name)
		}
	}
	for _, name := range c.names {
		ni := c.nodes[name]
		if cur, ok := s.nodeInfoMap[name]; !ok || cur.Generation < ni.Generation {
			s.nodeInfoMap[name] = ni.Clone()
		}
	}
	s.nodeInfoList = s.nodeInfoList[:0]
	for _, name := range c.names {
		s.nodeInfoList = append(s.nodeInfoList, s.nodeInfoMap[name])
	}
	s.rebuildAffinityLists()
	s.generation, s.membership = c.generation, c.membership
}

// rebuildAffinityLists recomputes the affinity lists from nodeInfoList.
func (s *Snapshot) rebuildAffinityLists() {
	s.havePodsWithAffinity = s.havePodsWithAffinity[:0]
	s.havePodsWithRequiredAntiAffinity = s.havePodsWithRequiredAntiAffinity[:0]
	for _, ni := range s.nodeInfoList {
		if len(ni.PodsWithAffinity) > 0 {
			s.havePodsWithAffinity = append(s.havePodsWithAffinity, ni)
		}
		if len(ni.PodsWithRequiredAntiAffinity) > 0 {
			s.havePodsWithRequiredAntiAffinity = append(s.havePodsWithRequiredAntiAffinity, ni)
		}
	}
}
