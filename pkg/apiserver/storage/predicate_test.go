package storage

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

func TestSelectionPredicate(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "a", Labels: map[string]string{"app": "web"}}}
	tests := []struct {
		name string
		pred SelectionPredicate
		want bool
	}{
		{"zero value", SelectionPredicate{}, true},
		{"everything selectors", SelectionPredicate{Label: labels.Everything(), Field: fields.Everything()}, true},
		{"label match", SelectionPredicate{Label: labels.SelectorFromSet(labels.Set{"app": "web"})}, true},
		{"label mismatch", SelectionPredicate{Label: labels.SelectorFromSet(labels.Set{"app": "db"})}, false},
		{"name", SelectionPredicate{Field: fields.OneTermEqualSelector("metadata.name", "a")}, true},
		{"namespace mismatch", SelectionPredicate{Field: fields.OneTermEqualSelector("metadata.namespace", "x")}, false},
		{"both", SelectionPredicate{Label: labels.SelectorFromSet(labels.Set{"app": "web"}),
			Field: fields.OneTermNotEqualSelector("metadata.name", "a")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.pred.Matches(pod)
			if err != nil || got != tt.want {
				t.Errorf("Matches = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestPreconditions(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "a", UID: "u1", ResourceVersion: "7"}}
	uid, otherUID := types.UID("u1"), types.UID("u2")
	rv, staleRV := "7", "6"
	var nilPre *Preconditions
	if err := nilPre.Check("/k", pod); err != nil {
		t.Errorf("nil preconditions: %v", err)
	}
	if err := (&Preconditions{UID: &uid, ResourceVersion: &rv}).Check("/k", pod); err != nil {
		t.Errorf("holding preconditions: %v", err)
	}
	for _, p := range []*Preconditions{{UID: &otherUID}, {ResourceVersion: &staleRV}} {
		err := p.Check("/k", pod)
		if !IsConflict(err) || err.(*StorageError).ResourceVersion != 7 {
			t.Errorf("failing precondition: %v, want Conflict at 7", err)
		}
	}
}

func TestVersioner(t *testing.T) {
	v := APIObjectVersioner{}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{SelfLink: "/x"}}
	if err := v.UpdateObject(pod, 12); err != nil || pod.ResourceVersion != "12" {
		t.Fatalf("UpdateObject: %v %q", err, pod.ResourceVersion)
	}
	if got, err := v.ObjectResourceVersion(pod); err != nil || got != 12 {
		t.Errorf("ObjectResourceVersion = %d, %v", got, err)
	}
	if err := v.PrepareObjectForStorage(pod); err != nil || pod.ResourceVersion != "" || pod.SelfLink != "" {
		t.Errorf("PrepareObjectForStorage left %q %q (%v)", pod.ResourceVersion, pod.SelfLink, err)
	}
	list := &corev1.PodList{}
	n := int64(3)
	if err := v.UpdateList(list, 9, "tok", &n); err != nil || list.ResourceVersion != "9" || list.Continue != "tok" ||
		*list.RemainingItemCount != 3 {
		t.Errorf("UpdateList: %v %+v", err, list.ListMeta)
	}
	for _, bad := range []string{"-1", "x", "1.5", "99999999999999999999"} {
		if _, err := ParseResourceVersion(bad); err == nil {
			t.Errorf("ParseResourceVersion(%q) succeeded", bad)
		}
	}
}
