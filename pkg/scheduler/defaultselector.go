package scheduler

import (
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
)

// defaultSelector computes, as upstream's helper.DefaultSelector, the
// selector of "the pods like this one" for default topology spreading: the
// union of the selectors of the services that select the pod and of its
// controlling ReplicaSet or StatefulSet. (ReplicationControllers are not
// served by kinc's apiserver yet.)
type defaultSelector struct {
	services     corelisters.ServiceLister
	replicaSets  appslisters.ReplicaSetLister
	statefulSets appslisters.StatefulSetLister
}

// forPod returns the selector; an empty selector when nothing owns or
// selects the pod.
func (d defaultSelector) forPod(pod *v1.Pod) labels.Selector {
	set := labels.Set{}
	if svcs, err := d.services.Services(pod.Namespace).List(labels.Everything()); err == nil {
		for _, svc := range svcs {
			if len(svc.Spec.Selector) > 0 && labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(pod.Labels)) {
				set = labels.Merge(set, svc.Spec.Selector)
			}
		}
	}
	selector := set.AsSelector()
	owner := metav1.GetControllerOfNoCopy(pod)
	if owner == nil {
		return selector
	}
	gv, err := schema.ParseGroupVersion(owner.APIVersion)
	if err != nil || gv.Group != "apps" {
		return selector
	}
	var ls *metav1.LabelSelector
	switch owner.Kind {
	case "ReplicaSet":
		if rs, err := d.replicaSets.ReplicaSets(pod.Namespace).Get(owner.Name); err == nil {
			ls = rs.Spec.Selector
		}
	case "StatefulSet":
		if ss, err := d.statefulSets.StatefulSets(pod.Namespace).Get(owner.Name); err == nil {
			ls = ss.Spec.Selector
		}
	}
	if ls == nil {
		return selector
	}
	if other, err := metav1.LabelSelectorAsSelector(ls); err == nil {
		if reqs, ok := other.Requirements(); ok {
			selector = selector.Add(reqs...)
		}
	}
	return selector
}
