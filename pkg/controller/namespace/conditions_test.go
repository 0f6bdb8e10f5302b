package namespace

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestDeletableResources(t *testing.T) {
	lists := append(apiResources(), &metav1.APIResourceList{GroupVersion: "a/b/c",
		APIResources: []metav1.APIResource{{Name: "broken", Namespaced: true, Verbs: []string{"list", "delete"}}}},
		&metav1.APIResourceList{GroupVersion: "example.com/v1", APIResources: []metav1.APIResource{
			{Name: "deleteonly", Namespaced: true, Verbs: []string{"list", "delete"}},
			{Name: "nolist", Namespaced: true, Verbs: []string{"delete", "deletecollection"}},
		}})
	got, err := deletableResources(lists)
	if err == nil || err.Error() != `unexpected GroupVersion string: a/b/c` {
		t.Errorf("error %v, want the group-version that does not parse", err)
	}
	// (namespaces is cluster-scoped, but ServerPreferredNamespacedResources
	// filters those: deletableResources looks only at verbs.)
	want := "[{{ v1 configmaps} true true} {{ v1 namespaces} true true} {{ v1 pods} true true} {{ v1 secrets} true true} " +
		"{{apps v1 deployments} true true} {{example.com v1 deleteonly} false true} {{rbac.authorization.k8s.io v1 roles} true true}]"
	if fmt.Sprint(got) != want {
		t.Errorf("deletable\n  %v\nwant\n  %s", got, want)
	}
}

func TestConditionsApply(t *testing.T) {
	t0 := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	t1 := metav1.NewTime(t0.Add(time.Minute))
	var status corev1.NamespaceStatus
	first := conditions{now: t0}
	first.contentRemaining(remaining{byResource: map[schema.GroupVersionResource]int{podsGVR: 2}, byFinalizer: map[string]int{}})
	if !first.apply(&status) || len(status.Conditions) != 5 {
		t.Fatalf("first apply: %+v", status.Conditions)
	}
	if second := (conditions{now: t1, failing: first.failing}); second.apply(&status) {
		t.Error("the same conditions again changed the status")
	}
	third := conditions{now: t1}
	third.contentRemaining(remaining{byResource: map[schema.GroupVersionResource]int{podsGVR: 1}})
	if !third.apply(&status) {
		t.Fatal("a new message did not change the status")
	}
	c := findCondition(status.Conditions, corev1.NamespaceContentRemaining)
	if c.Message != "Some resources are remaining: pods. has 1 resource instances" || !c.LastTransitionTime.Equal(&t0) {
		t.Errorf("message change: %+v, want the first transition time kept", c)
	}
	fourth := conditions{now: t1}
	if !fourth.apply(&status) {
		t.Fatal("content gone did not change the status")
	}
	c = findCondition(status.Conditions, corev1.NamespaceContentRemaining)
	if c.Status != corev1.ConditionFalse || c.Reason != "ContentRemoved" || !c.LastTransitionTime.Equal(&t1) {
		t.Errorf("status change: %+v, want False since t1", c)
	}
}
