package scheduler

import (
	"fmt"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	"github.com/kinc-dev/kinc/pkg/scheduler/framework/plugins/interpodaffinity"
	"github.com/kinc-dev/kinc/pkg/scheduler/framework/plugins/podtopologyspread"
	"github.com/kinc-dev/kinc/pkg/scheduler/queue"
)

// addEventHandlers wires the informers: unbound pods of our profiles go to
// the queue, bound pods to the cache, nodes to the cache; changes that can
// make a waiting pod fit move unschedulable pods back (a node added or
// updated, a pod deleted or finished, a bound pod added for pods waiting on
// pod affinity or topology spread). Terminal pods count as deleted; pods
// with scheduling gates wait outside the queue until the gates are removed
// (upstream's SchedulingGates plugin).
func (s *Scheduler) addEventHandlers(f informers.SharedInformerFactory) error {
	pods := f.Core().V1().Pods().Informer()
	nodes := f.Core().V1().Nodes().Informer()
	namespaces := f.Core().V1().Namespaces().Informer()
	s.synced = []cache.InformerSynced{pods.HasSynced, nodes.HasSynced, namespaces.HasSynced,
		f.Core().V1().Services().Informer().HasSynced, f.Apps().V1().ReplicaSets().Informer().HasSynced,
		f.Apps().V1().StatefulSets().Informer().HasSynced}
	if _, err := pods.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { s.onPodAdd(obj.(*v1.Pod)) },
		UpdateFunc: func(o, n any) { s.onPodUpdate(o.(*v1.Pod), n.(*v1.Pod)) },
		DeleteFunc: func(obj any) {
			if pod := podOf(obj); pod != nil {
				s.onPodDelete(pod)
			}
		},
	}); err != nil {
		return fmt.Errorf("adding pod handlers: %w", err)
	}
	if _, err := nodes.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			s.cache.AddNode(obj.(*v1.Node))
			s.queue.MoveAllToActiveOrBackoffQueue(nil)
		},
		UpdateFunc: func(o, n any) {
			oldNode, newNode := o.(*v1.Node), n.(*v1.Node)
			s.cache.UpdateNode(oldNode, newNode)
			if nodeSchedulingChanged(oldNode, newNode) {
				s.queue.MoveAllToActiveOrBackoffQueue(nil)
			}
		},
		DeleteFunc: func(obj any) {
			if node := nodeOf(obj); node != nil {
				s.cache.RemoveNode(node)
			}
		},
	}); err != nil {
		return fmt.Errorf("adding node handlers: %w", err)
	}
	return nil
}

func podOf(obj any) *v1.Pod {
	switch t := obj.(type) {
	case *v1.Pod:
		return t
	case cache.DeletedFinalStateUnknown:
		p, _ := t.Obj.(*v1.Pod)
		return p
	}
	return nil
}

func nodeOf(obj any) *v1.Node {
	switch t := obj.(type) {
	case *v1.Node:
		return t
	case cache.DeletedFinalStateUnknown:
		n, _ := t.Obj.(*v1.Node)
		return n
	}
	return nil
}

func terminal(pod *v1.Pod) bool {
	return pod.Status.Phase == v1.PodSucceeded || pod.Status.Phase == v1.PodFailed
}

// responsible reports whether one of our profiles schedules the pod.
func (s *Scheduler) responsible(pod *v1.Pod) bool {
	_, ok := s.profiles[pod.Spec.SchedulerName]
	return ok
}

func (s *Scheduler) onPodAdd(pod *v1.Pod) {
	switch {
	case terminal(pod):
	case pod.Spec.NodeName != "":
		if err := s.cache.AddPod(pod); err != nil {
			s.logger.Error("adding pod to the cache", "pod", queue.Key(pod), "err", err)
		}
		s.queue.MoveAllToActiveOrBackoffQueue(waitsOnOtherPods)
	case s.responsible(pod) && pod.DeletionTimestamp == nil && len(pod.Spec.SchedulingGates) == 0:
		s.queue.Add(pod)
	}
}

func (s *Scheduler) onPodUpdate(oldPod, newPod *v1.Pod) {
	if newPod.Spec.NodeName != "" {
		if oldPod.Spec.NodeName == "" {
			s.queue.Delete(newPod)
		}
		if terminal(newPod) {
			s.onPodDelete(newPod)
			return
		}
		var err error
		if oldPod.Spec.NodeName == "" || s.cache.IsAssumedPod(newPod) || !s.cache.Has(newPod) {
			err = s.cache.AddPod(newPod)
			s.queue.MoveAllToActiveOrBackoffQueue(waitsOnOtherPods)
		} else {
			err = s.cache.UpdatePod(oldPod, newPod)
		}
		if err != nil {
			s.logger.Error("updating pod in the cache", "pod", queue.Key(newPod), "err", err)
		}
		return
	}
	if !s.responsible(newPod) {
		return
	}
	if newPod.DeletionTimestamp != nil || terminal(newPod) || len(newPod.Spec.SchedulingGates) > 0 {
		s.queue.Delete(newPod)
		return
	}
	s.queue.Update(oldPod, newPod)
}

func (s *Scheduler) onPodDelete(pod *v1.Pod) {
	s.queue.Delete(pod)
	if s.cache.Has(pod) {
		if err := s.cache.RemovePod(pod); err != nil {
			s.logger.Error("removing pod from the cache", "pod", queue.Key(pod), "err", err)
		}
		s.queue.MoveAllToActiveOrBackoffQueue(nil)
	}
}

// waitsOnOtherPods selects unschedulable pods that a newly placed pod can
// help: those rejected by pod affinity or topology spread.
func waitsOnOtherPods(p *queue.QueuedPodInfo) bool {
	return p.UnschedulablePlugins.Has(interpodaffinity.Name) || p.UnschedulablePlugins.Has(podtopologyspread.Name)
}

// nodeSchedulingChanged reports whether a node update can change a
// decision: labels, spec (taints, unschedulable) or allocatable, not
// heartbeats.
func nodeSchedulingChanged(oldNode, newNode *v1.Node) bool {
	return !equality.Semantic.DeepEqual(oldNode.Labels, newNode.Labels) ||
		!equality.Semantic.DeepEqual(oldNode.Spec, newNode.Spec) ||
		!equality.Semantic.DeepEqual(oldNode.Status.Allocatable, newNode.Status.Allocatable)
}
