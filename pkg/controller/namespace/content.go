package namespace

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/discovery"
)

// finalizerEstimateSeconds is upstream's guess of how long objects waiting
// for their finalizers take: the namespace is looked at again after half
// of it (plus one second).
const finalizerEstimateSeconds = 15

var podsGVR = corev1.SchemeGroupVersion.WithResource("pods")

// resourceLeft is what one resource has left after a deletion pass.
type resourceLeft struct {
	// estimate is how many seconds more the content may take to go (pods
	// terminating gracefully, objects waiting for finalizers); 0 says
	// nothing about whether content is left.
	estimate int64
	// items is how many objects are left; byFinalizer counts them by
	// finalizer.
	items       int
	byFinalizer map[string]int
}

// deletable is a served resource the controller can empty: it can be
// listed, and deleted as a collection or item by item.
type deletable struct {
	gvr                      schema.GroupVersionResource
	deleteCollection, delete bool
}

// deletableResources picks the resources of lists that support list and
// deletecollection or delete, sorted by group, version and resource. The
// error joins the group-versions that do not parse (their resources are
// left out).
func deletableResources(lists []*metav1.APIResourceList) ([]deletable, error) {
	var out []deletable
	var errs []error
	for _, list := range lists {
		gv, err := schema.ParseGroupVersion(list.GroupVersion)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, r := range list.APIResources {
			verbs := r.Verbs
			d := deletable{gvr: gv.WithResource(r.Name),
				deleteCollection: slices.Contains(verbs, "deletecollection"), delete: slices.Contains(verbs, "delete")}
			if slices.Contains(verbs, "list") && (d.deleteCollection || d.delete) {
				out = append(out, d)
			}
		}
	}
	slices.SortFunc(out, func(a, b deletable) int {
		return cmp.Or(cmp.Compare(a.gvr.Group, b.gvr.Group), cmp.Compare(a.gvr.Version, b.gvr.Version), cmp.Compare(a.gvr.Resource, b.gvr.Resource))
	})
	return out, utilerrors.NewAggregate(errs)
}

// deleteAllContent makes one deletion pass over every deletable resource
// of ns: pods first, and the others only once no pod is left. It records
// the outcome in ns's conditions (written when they change) and returns
// the namespace as last written, the largest estimate of the seconds the
// remaining content needs, and the errors met (discovery, parsing,
// deletion). Content is gone when both are zero.
func (c *Controller) deleteAllContent(ctx context.Context, ns *corev1.Namespace) (*corev1.Namespace, int64, error) {
	var errs []error
	conds := conditions{now: metav1.NewTime(c.clock.Now())}
	lists, err := discovery.ServerPreferredNamespacedResourcesWithContext(ctx, discovery.ToDiscoveryInterfaceWithContext(c.discovery))
	if err != nil {
		// Not fatal: what was discovered is deleted, but the namespace is
		// not finalized while some resource may be unknown.
		errs = append(errs, err)
		conds.discoveryFailed(err)
	}
	resources, err := deletableResources(lists)
	if err != nil {
		errs = append(errs, err)
		conds.groupVersionParsingFailed(err)
	}

	var estimate int64
	left := newRemaining()
	pass := func(d deletable) {
		l, err := c.deleteResource(ctx, d, ns)
		if err != nil {
			errs = append(errs, err)
			conds.contentFailed(err)
		}
		estimate = max(estimate, l.estimate)
		left.add(d.gvr, l)
	}
	if i := slices.IndexFunc(resources, func(d deletable) bool { return d.gvr == podsGVR }); i >= 0 {
		pass(resources[i])
		resources = slices.Delete(resources, i, i+1)
	}
	if left.byResource[podsGVR] == 0 {
		for _, d := range resources {
			pass(d)
		}
	} else {
		c.Logger().Debug("pods remain, other content waits", "namespace", ns.Name, "pods", left.byResource[podsGVR])
	}
	conds.contentRemaining(left)
	ns = c.writeConditions(ctx, ns, &conds)
	return ns, estimate, utilerrors.NewAggregate(errs)
}

// deleteResource deletes the content of one resource in ns and reports
// what is left: objects waiting for their finalizers or their graceful
// termination. Objects left for no such reason are an error.
func (c *Controller) deleteResource(ctx context.Context, d deletable, ns *corev1.Namespace) (resourceLeft, error) {
	estimate, err := c.estimateGracefulTermination(ctx, d.gvr, ns)
	if err != nil {
		return resourceLeft{}, fmt.Errorf("estimating the termination of %s in namespace %s: %w", d.gvr, ns.Name, err)
	}
	client := c.metadata.Resource(d.gvr).Namespace(ns.Name)
	// Background propagation: the garbage collector must not orphan
	// dependents (every object of the namespace goes anyway).
	background := metav1.DeletePropagationBackground
	opts := metav1.DeleteOptions{PropagationPolicy: &background}
	eachItem := !d.deleteCollection
	if d.deleteCollection {
		err := client.DeleteCollection(ctx, opts, metav1.ListOptions{})
		switch {
		case err == nil:
		case (apierrors.IsMethodNotSupported(err) || apierrors.IsNotFound(err)) && d.delete:
			eachItem = true // discovery said deletecollection, the server disagrees
		case apierrors.IsMethodNotSupported(err) || apierrors.IsNotFound(err):
		default:
			return resourceLeft{estimate: estimate}, fmt.Errorf("deleting %s in namespace %s: %w", d.gvr, ns.Name, err)
		}
	}
	if eachItem {
		list, err := client.List(ctx, metav1.ListOptions{})
		if err != nil && !apierrors.IsMethodNotSupported(err) && !apierrors.IsNotFound(err) {
			return resourceLeft{estimate: estimate}, fmt.Errorf("listing %s in namespace %s: %w", d.gvr, ns.Name, err)
		}
		for i := 0; list != nil && i < len(list.Items); i++ {
			err := client.Delete(ctx, list.Items[i].Name, opts)
			if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsMethodNotSupported(err) {
				return resourceLeft{estimate: estimate}, fmt.Errorf("deleting %s %s/%s: %w", d.gvr, ns.Name, list.Items[i].Name, err)
			}
		}
	}

	list, err := client.List(ctx, metav1.ListOptions{})
	if apierrors.IsMethodNotSupported(err) || apierrors.IsNotFound(err) {
		return resourceLeft{estimate: estimate}, nil
	}
	if err != nil {
		return resourceLeft{estimate: estimate}, fmt.Errorf("listing %s in namespace %s: %w", d.gvr, ns.Name, err)
	}
	if len(list.Items) == 0 {
		return resourceLeft{}, nil
	}
	left := resourceLeft{estimate: estimate, items: len(list.Items), byFinalizer: map[string]int{}}
	for _, item := range list.Items {
		for _, f := range item.Finalizers {
			left.byFinalizer[f]++
		}
	}
	switch {
	case estimate != 0:
		return left, nil
	case len(left.byFinalizer) > 0:
		left.estimate = finalizerEstimateSeconds
		return left, nil
	}
	return left, fmt.Errorf("unexpected items still remain in namespace: %s for gvr: %v", ns.Name, d.gvr)
}

// estimateGracefulTermination returns the seconds the content of gvr in ns
// may take to terminate gracefully, counted from the namespace's deletion:
// for pods, the longest terminationGracePeriodSeconds of those not yet
// terminal, or 0 once that much time has passed; 0 for other resources.
func (c *Controller) estimateGracefulTermination(ctx context.Context, gvr schema.GroupVersionResource, ns *corev1.Namespace) (int64, error) {
	if gvr.GroupResource() != podsGVR.GroupResource() {
		return 0, nil
	}
	pods, err := c.client.CoreV1().Pods(ns.Name).List(ctx, metav1.ListOptions{})
	if err != nil {
		return 0, err
	}
	var estimate int64
	for _, pod := range pods.Items {
		if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
			continue
		}
		if g := pod.Spec.TerminationGracePeriodSeconds; g != nil && *g > estimate {
			estimate = *g
		}
	}
	if c.clock.Since(ns.DeletionTimestamp.Time) >= time.Duration(estimate)*time.Second {
		return 0, nil
	}
	return estimate, nil
}
