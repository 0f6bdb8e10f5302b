package namespace

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
)

// conditionTypes are the namespace conditions the controller owns, in the
// order it adds them to a namespace's status.
var conditionTypes = []corev1.NamespaceConditionType{
	corev1.NamespaceDeletionDiscoveryFailure,
	corev1.NamespaceDeletionGVParsingFailure,
	corev1.NamespaceDeletionContentFailure,
	corev1.NamespaceContentRemaining,
	corev1.NamespaceFinalizersRemaining,
}

// okCondition returns the condition of type t when nothing is wrong
// (status False), with upstream's reason and message.
func okCondition(t corev1.NamespaceConditionType, now metav1.Time) corev1.NamespaceCondition {
	var reason, message string
	switch t {
	case corev1.NamespaceDeletionDiscoveryFailure:
		reason, message = "ResourcesDiscovered", "All resources successfully discovered"
	case corev1.NamespaceDeletionGVParsingFailure:
		reason, message = "ParsedGroupVersions", "All legacy kube types successfully parsed"
	case corev1.NamespaceDeletionContentFailure:
		reason, message = "ContentDeleted", "All content successfully deleted, may be waiting on finalization"
	case corev1.NamespaceContentRemaining:
		reason, message = "ContentRemoved", "All content successfully removed"
	case corev1.NamespaceFinalizersRemaining:
		reason, message = "ContentHasNoFinalizers", "All content-preserving finalizers finished"
	}
	return corev1.NamespaceCondition{Type: t, Status: corev1.ConditionFalse, LastTransitionTime: now, Reason: reason, Message: message}
}

// conditions collects what went wrong during one sync and turns it into
// the namespace's conditions. The zero value (plus now) means all is well.
type conditions struct {
	now         metav1.Time
	failing     []corev1.NamespaceCondition
	contentErrs []error
}

func (c *conditions) fail(t corev1.NamespaceConditionType, reason, message string) {
	c.failing = append(c.failing, corev1.NamespaceCondition{Type: t, Status: corev1.ConditionTrue,
		LastTransitionTime: c.now, Reason: reason, Message: message})
}

// discoveryFailed records a failed (or partly failed) discovery.
func (c *conditions) discoveryFailed(err error) {
	msg := err.Error()
	if derr := (*discovery.ErrGroupDiscoveryFailed)(nil); errors.As(err, &derr) {
		msg = fmt.Sprintf("Discovery failed for some groups, %d failing: %v", len(derr.Groups), err)
	}
	c.fail(corev1.NamespaceDeletionDiscoveryFailure, "DiscoveryFailed", msg)
}

// groupVersionParsingFailed records a group-version discovery returned
// that does not parse.
func (c *conditions) groupVersionParsingFailed(err error) {
	c.fail(corev1.NamespaceDeletionGVParsingFailure, "GroupVersionParsingFailed", err.Error())
}

// contentFailed records the failure to delete (or list) one resource's
// content.
func (c *conditions) contentFailed(err error) {
	c.contentErrs = append(c.contentErrs, err)
}

// contentRemaining records what is left: instances by resource, and by
// finalizer.
func (c *conditions) contentRemaining(left remaining) {
	if len(left.byResource) > 0 {
		var parts []string
		for gvr, n := range left.byResource {
			if n > 0 {
				parts = append(parts, fmt.Sprintf("%s.%s has %d resource instances", gvr.Resource, gvr.Group, n))
			}
		}
		sort.Strings(parts)
		c.fail(corev1.NamespaceContentRemaining, "SomeResourcesRemain", "Some resources are remaining: "+strings.Join(parts, ", "))
	}
	if len(left.byFinalizer) > 0 {
		var parts []string
		for f, n := range left.byFinalizer {
			if n > 0 {
				parts = append(parts, fmt.Sprintf("%s in %d resource instances", f, n))
			}
		}
		sort.Strings(parts)
		c.fail(corev1.NamespaceFinalizersRemaining, "SomeFinalizersRemain",
			"Some content in the namespace has finalizers remaining: "+strings.Join(parts, ", "))
	}
}

// apply sets the five conditions in status: the failing ones as recorded,
// the others to their ok variant. A condition whose status changes gets
// now as its lastTransitionTime; one whose reason or message changes keeps
// its time. It reports whether status changed.
func (c *conditions) apply(status *corev1.NamespaceStatus) bool {
	want := append([]corev1.NamespaceCondition(nil), c.failing...)
	if len(c.contentErrs) > 0 {
		msgs := make([]string, len(c.contentErrs))
		for i, err := range c.contentErrs {
			msgs[i] = err.Error()
		}
		sort.Strings(msgs)
		want = append(want, corev1.NamespaceCondition{Type: corev1.NamespaceDeletionContentFailure, Status: corev1.ConditionTrue,
			LastTransitionTime: c.now, Reason: "ContentDeletionFailed",
			Message: fmt.Sprintf("Failed to delete all resource types, %d remaining: %v", len(msgs), strings.Join(msgs, ", "))})
	}
	changed := false
	for _, t := range conditionTypes {
		next := okCondition(t, c.now)
		if f := findCondition(want, t); f != nil {
			next = *f
		}
		cur := findCondition(status.Conditions, t)
		switch {
		case cur == nil:
			status.Conditions = append(status.Conditions, next)
			changed = true
		case cur.Status != next.Status || cur.Reason != next.Reason || cur.Message != next.Message:
			if cur.Status != next.Status {
				cur.LastTransitionTime = c.now
			}
			cur.Status, cur.Reason, cur.Message = next.Status, next.Reason, next.Message
			changed = true
		}
	}
	return changed
}

func findCondition(conds []corev1.NamespaceCondition, t corev1.NamespaceConditionType) *corev1.NamespaceCondition {
	for i := range conds {
		if conds[i].Type == t {
			return &conds[i]
		}
	}
	return nil
}

// remaining counts what is left in a namespace after a deletion pass.
type remaining struct {
	byResource  map[schema.GroupVersionResource]int
	byFinalizer map[string]int
}

func newRemaining() remaining {
	return remaining{byResource: map[schema.GroupVersionResource]int{}, byFinalizer: map[string]int{}}
}

// add counts what is left of one resource.
func (r remaining) add(gvr schema.GroupVersionResource, left resourceLeft) {
	if left.items == 0 {
		return
	}
	r.byResource[gvr] = left.items
	for f, n := range left.byFinalizer {
		if n > 0 {
			r.byFinalizer[f] += n
		}
	}
}
