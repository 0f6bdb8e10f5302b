package endpointslice

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kinc-dev/kinc/pkg/controller/endpoints"
)

// plan is what one reconcile writes.
type plan struct {
	create, update, delete []*discoveryv1.EndpointSlice
}

// reconcile brings the slices of svc (existing: those the controller
// manages, not being deleted) to what pods say, as upstream's Reconciler:
// per address type of svc, the endpoints are grouped by their set of
// ports, each group filling slices of at most maxPerSlice endpoints;
// changing as few slices as it can (endpoints stay in their slice, new
// ones fill the slices being written anyway first, then the unchanged
// slice they fit best, and only then new slices; a create next to a
// delete becomes an update of the slice to delete). An address type
// without endpoints keeps one empty placeholder slice; slices of address
// types svc no longer has, and slices another Service (an older one of
// the same name) owns, are deleted.
func (c *Controller) reconcile(ctx context.Context, svc *corev1.Service, pods []*corev1.Pod, existing []*discoveryv1.EndpointSlice, trigger time.Time) error {
	types := addressTypes(svc)
	byType := map[discoveryv1.AddressType][]*discoveryv1.EndpointSlice{}
	var unsupported []*discoveryv1.EndpointSlice
	for _, s := range existing {
		if slices.Contains(types, s.AddressType) {
			byType[s.AddressType] = append(byType[s.AddressType], s)
		} else {
			unsupported = append(unsupported, s)
		}
	}
	var errs []error
	for _, t := range types {
		p, err := c.planAddressType(svc, pods, byType[t], t)
		if err != nil {
			errs = append(errs, err) // pods skipped: retry, but write the rest
		}
		if err := c.apply(ctx, svc, p, trigger); err != nil {
			errs = append(errs, err)
		}
	}
	for _, s := range unsupported {
		if err := c.deleteSlice(ctx, s); err != nil {
			errs = append(errs, fmt.Errorf("deleting %s EndpointSlice %s for Service %s/%s: %w", s.AddressType, s.Name, svc.Namespace, svc.Name, err))
		}
	}
	return errors.Join(errs...)
}

// planAddressType plans the slices of one address type. Its error names
// pods left out because their node is unknown (the plan is still good).
func (c *Controller) planAddressType(svc *corev1.Service, pods []*corev1.Pod, existing []*discoveryv1.EndpointSlice, addressType discoveryv1.AddressType) (plan, error) {
	var p plan
	var errs []error
	existingByPorts := map[portsKey][]*discoveryv1.EndpointSlice{}
	for _, s := range existing {
		if ownedBy(s, svc) {
			k := keyOfPorts(s.Ports)
			existingByPorts[k] = append(existingByPorts[k], s)
		} else {
			p.delete = append(p.delete, s)
		}
	}

	desired := map[portsKey]endpointSet{}
	desiredPorts := map[portsKey][]discoveryv1.EndpointPort{}
	for _, pod := range pods {
		if !endpoints.PodIncluded(pod, true) {
			continue
		}
		ports := podPorts(svc, pod)
		k := keyOfPorts(ports)
		if desired[k] == nil {
			desired[k] = endpointSet{}
			desiredPorts[k] = ports
		}
		node, err := c.nodes.Get(pod.Spec.NodeName)
		if err != nil {
			if !apierrors.IsNotFound(err) {
				return plan{}, err
			}
			// As upstream: a pod on an unknown node is left out (and the
			// Service retried) unless not ready addresses are published.
			if !svc.Spec.PublishNotReadyAddresses {
				errs = append(errs, fmt.Errorf("skipping Pod %s for Service %s/%s: Node %s Not Found", pod.Name, svc.Namespace, svc.Name, pod.Spec.NodeName))
				continue
			}
			node = nil
		}
		ep := podEndpoint(pod, node, svc, addressType)
		if len(ep.Addresses) > 0 {
			desired[k][keyOfEndpoint(&ep)] = &ep
		}
	}

	for _, k := range slices.Sorted(maps.Keys(desired)) {
		create, update, del := c.planPorts(svc, existingByPorts[k], desired[k], desiredPorts[k], addressType)
		p.create = append(p.create, create...)
		p.update = append(p.update, update...)
		p.delete = append(p.delete, del...)
	}
	for _, k := range slices.Sorted(maps.Keys(existingByPorts)) {
		if _, ok := desired[k]; !ok {
			p.delete = append(p.delete, existingByPorts[k]...)
		}
	}

	// Nothing would remain: keep (or create) one empty placeholder.
	if len(existing) == len(p.delete) && len(p.create) == 0 {
		placeholder := newSlice(svc, []discoveryv1.EndpointPort{}, addressType)
		if len(p.delete) == 1 && samePlaceholder(p.delete[0], placeholder) {
			p.delete = nil
		} else {
			p.create = append(p.create, placeholder)
		}
	}
	return p, errors.Join(errs...)
}

// planPorts plans the slices of one set of ports: existing are the
// Service's slices with those ports, desired the endpoints they should
// hold (emptied on return).
func (c *Controller) planPorts(svc *corev1.Service, existing []*discoveryv1.EndpointSlice, desired endpointSet,
	ports []discoveryv1.EndpointPort, addressType discoveryv1.AddressType) (create, update, del []*discoveryv1.EndpointSlice) {
	var toUpdate, unchanged []*discoveryv1.EndpointSlice

	// 1. Keep the desired endpoints where they are (updated when they
	// changed), drop the others; a slice left empty goes.
	for _, s := range existing {
		kept := []discoveryv1.Endpoint{}
		changed := false
		for i := range s.Endpoints {
			k := keyOfEndpoint(&s.Endpoints[i])
			want := desired[k]
			if want == nil {
				continue
			}
			kept = append(kept, *want)
			if !endpointEqual(want, &s.Endpoints[i]) {
				changed = true
			}
			delete(desired, k)
		}
		labels, labelsChanged := sliceLabels(s, svc)
		switch {
		case changed || len(kept) != len(s.Endpoints):
			if len(kept) == 0 {
				del = append(del, s)
				continue
			}
			u := s.DeepCopy()
			u.Endpoints, u.Labels = kept, labels
			toUpdate = append(toUpdate, u)
		case labelsChanged:
			u := s.DeepCopy()
			u.Labels = labels
			toUpdate = append(toUpdate, u)
		default:
			unchanged = append(unchanged, s)
		}
	}

	// 2. Fill the slices written anyway, the fullest first.
	if len(desired) > 0 && len(toUpdate) > 0 {
		slices.SortStableFunc(toUpdate, func(a, b *discoveryv1.EndpointSlice) int { return cmp.Compare(len(b.Endpoints), len(a.Endpoints)) })
		for _, s := range toUpdate {
			for len(desired) > 0 && len(s.Endpoints) < c.maxPerSlice {
				s.Endpoints = append(s.Endpoints, *desired.pop())
			}
		}
	}

	// 3. Put what is left in the unchanged slice it fits best, if it fits
	// in one, else in new slices.
	for len(desired) > 0 {
		var fill *discoveryv1.EndpointSlice
		if len(desired) < c.maxPerSlice {
			if i := bestFit(unchanged, len(desired), c.maxPerSlice); i >= 0 {
				fill = unchanged[i].DeepCopy()
				unchanged = slices.Delete(unchanged, i, i+1)
				toUpdate = append(toUpdate, fill)
			}
		}
		if fill == nil {
			fill = newSlice(svc, ports, addressType)
			create = append(create, fill)
		}
		for len(desired) > 0 && len(fill.Endpoints) < c.maxPerSlice {
			fill.Endpoints = append(fill.Endpoints, *desired.pop())
		}
	}
	return create, toUpdate, del
}

// bestFit returns the index of the slice that n more endpoints would bring
// closest to max without passing it, or -1.
func bestFit(candidates []*discoveryv1.EndpointSlice, n, max int) int {
	best, bestDiff := -1, max
	for i, s := range candidates {
		diff := max - (n + len(s.Endpoints))
		if diff >= 0 && diff < bestDiff {
			best, bestDiff = i, diff
			if diff == 0 {
				break
			}
		}
	}
	return best
}

// samePlaceholder reports whether slice is the placeholder the controller
// would create: same namespace, labels, owners, address type, and neither
// ports nor endpoints.
func samePlaceholder(slice, placeholder *discoveryv1.EndpointSlice) bool {
	if slice.Namespace != placeholder.Namespace || slice.AddressType != placeholder.AddressType ||
		len(slice.Ports) != 0 || len(slice.Endpoints) != 0 || len(slice.Labels) != len(placeholder.Labels) ||
		len(slice.OwnerReferences) != len(placeholder.OwnerReferences) {
		return false
	}
	for k, v := range placeholder.Labels {
		if w, ok := slice.Labels[k]; !ok || w != v {
			return false
		}
	}
	for i := range slice.OwnerReferences {
		if slice.OwnerReferences[i].String() != placeholder.OwnerReferences[i].String() {
			return false
		}
	}
	return true
}

// apply writes p: creates become updates of slices p deletes where it can
// (same address type, owned by svc); nothing is created for a Service
// being deleted (the garbage collector is deleting its slices).
func (c *Controller) apply(ctx context.Context, svc *corev1.Service, p plan, trigger time.Time) error {
	for i := 0; i < len(p.delete) && len(p.create) > 0; {
		old, s := p.delete[i], p.create[len(p.create)-1]
		if old.AddressType != s.AddressType || !ownedBy(old, svc) {
			i++
			continue
		}
		s.Name, s.GenerateName, s.ResourceVersion, s.UID = old.Name, "", old.ResourceVersion, old.UID
		p.create = p.create[:len(p.create)-1]
		p.update = append(p.update, s)
		p.delete = slices.Delete(p.delete, i, i+1)
	}
	client := c.client.DiscoveryV1().EndpointSlices(svc.Namespace)
	if svc.DeletionTimestamp == nil {
		for _, s := range p.create {
			setTriggerTime(s, trigger)
			created, err := client.Create(ctx, s, metav1.CreateOptions{})
			if err != nil {
				if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
					return nil // creates will keep failing: the namespace is going
				}
				return fmt.Errorf("failed to create EndpointSlice for Service %s/%s: %w", svc.Namespace, svc.Name, err)
			}
			c.tracker.update(created)
		}
	}
	for _, s := range p.update {
		setTriggerTime(s, trigger)
		updated, err := client.Update(ctx, s, metav1.UpdateOptions{})
		if err != nil {
			return fmt.Errorf("failed to update %s EndpointSlice for Service %s/%s: %w", s.Name, svc.Namespace, svc.Name, err)
		}
		c.tracker.update(updated)
	}
	for _, s := range p.delete {
		if err := c.deleteSlice(ctx, s); err != nil {
			return fmt.Errorf("failed to delete %s EndpointSlice for Service %s/%s: %w", s.Name, svc.Namespace, svc.Name, err)
		}
	}
	if n := len(p.create) + len(p.update) + len(p.delete); n > 0 {
		c.Logger().Debug("wrote endpoint slices", "service", svc.Namespace+"/"+svc.Name,
			"created", len(p.create), "updated", len(p.update), "deleted", len(p.delete))
	}
	return nil
}

// deleteSlice deletes s (already gone is fine) and expects its deletion.
func (c *Controller) deleteSlice(ctx context.Context, s *discoveryv1.EndpointSlice) error {
	err := c.client.DiscoveryV1().EndpointSlices(s.Namespace).Delete(ctx, s.Name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	if err == nil {
		c.tracker.expectDeletion(s)
	}
	return nil
}

// setTriggerTime sets (or, for the zero time, removes) the
// last-change-trigger-time annotation.
func setTriggerTime(s *discoveryv1.EndpointSlice, trigger time.Time) {
	if s.Annotations == nil {
		s.Annotations = map[string]string{}
	}
	if trigger.IsZero() {
		delete(s.Annotations, corev1.EndpointsLastChangeTriggerTime)
	} else {
		s.Annotations[corev1.EndpointsLastChangeTriggerTime] = trigger.UTC().Format(time.RFC3339Nano)
	}
}
