package namespace

import (
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/controller/controllertest"
)

// emptyPass is the metadata deletes of one pass over the fake discovery's
// resources: pods first, then the others in order.
func emptyPass(ns string) []controllertest.Action {
	return []controllertest.Action{
		act("delete-collection", "pods", "", ns, ""),
		act("delete-collection", "configmaps", "", ns, ""),
		act("delete-collection", "secrets", "", ns, ""),
		act("delete-collection", "deployments", "", ns, ""),
		act("delete-collection", "roles", "", ns, ""),
	}
}

func TestEmptyNamespaceIsFinalized(t *testing.T) {
	e := newEnv(t, terminating("team-a"))
	e.f.MustSync(e.c.sync, "team-a")

	e.f.ExpectActions(
		act("get", "namespaces", "", "", "team-a"),
		act("update", "namespaces", "status", "", "team-a"),
		act("create", "namespaces", "finalize", "", "team-a"),
	)
	e.expectDeletes(emptyPass("team-a")...)
	status := controllertest.Find[*corev1.Namespace](e.f, act("update", "namespaces", "status", "", "team-a")).Status
	if len(status.Conditions) != 5 {
		t.Fatalf("conditions %+v, want the five", status.Conditions)
	}
	for _, c := range status.Conditions {
		if c.Status != corev1.ConditionFalse || !c.LastTransitionTime.Time.Equal(controllertest.Epoch()) {
			t.Errorf("condition %+v, want False since the clock's start", c)
		}
	}
	if c := condition(t, &corev1.Namespace{Status: status}, corev1.NamespaceContentRemaining); c.Reason != "ContentRemoved" || c.Message != "All content successfully removed" {
		t.Errorf("NamespaceContentRemaining %+v", c)
	}
	finalized := controllertest.Find[*corev1.Namespace](e.f, act("create", "namespaces", "finalize", "", "team-a"))
	if len(finalized.Spec.Finalizers) != 0 {
		t.Errorf("finalize sent spec.finalizers %v, want none", finalized.Spec.Finalizers)
	}
	if n := e.c.Stats().Depth; n != 0 {
		t.Errorf("queue depth %d after finalizing, want 0", n)
	}
}

func TestPhaseSetToTerminatingAndOtherFinalizersKept(t *testing.T) {
	ns := terminating("team-a")
	ns.Status.Phase = corev1.NamespaceActive
	ns.Spec.Finalizers = []corev1.FinalizerName{"example.com/b", corev1.FinalizerKubernetes, "example.com/a"}
	e := newEnv(t, ns)
	e.f.MustSync(e.c.sync, "team-a")

	e.f.ExpectActions(
		act("get", "namespaces", "", "", "team-a"),
		act("update", "namespaces", "status", "", "team-a"), // phase
		act("update", "namespaces", "status", "", "team-a"), // conditions
		act("create", "namespaces", "finalize", "", "team-a"),
	)
	if phase := controllertest.ObjectOf[*corev1.Namespace](t, e.f.Actions()[1]).Status.Phase; phase != corev1.NamespaceTerminating {
		t.Errorf("first status update sets phase %q", phase)
	}
	finalized := controllertest.Find[*corev1.Namespace](e.f, act("create", "namespaces", "finalize", "", "team-a"))
	if got := finalized.Spec.Finalizers; len(got) != 2 || got[0] != "example.com/a" || got[1] != "example.com/b" {
		t.Errorf("finalize sent spec.finalizers %v, want the others, sorted", got)
	}

	// Finalized already ("kubernetes" gone): nothing to do but wait for
	// the other finalizers' owners.
	e.f.ClearActions()
	e.deletes()
	e.f.MustSync(e.c.sync, "team-a")
	e.f.ExpectActions(act("get", "namespaces", "", "", "team-a"))
	e.expectDeletes()
}

// TestContentDeletedThenFinalized: pods go first and are waited for while
// they terminate gracefully; then the rest of the content is deleted and
// the namespace finalized, on a later sync.
func TestContentDeletedThenFinalized(t *testing.T) {
	running := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "web"},
		Spec:   corev1.PodSpec{NodeName: "node-1", TerminationGracePeriodSeconds: ptr.To[int64](30)},
		Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	done := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "job"},
		Spec:   corev1.PodSpec{NodeName: "node-1", TerminationGracePeriodSeconds: ptr.To[int64](600)},
		Status: corev1.PodStatus{Phase: corev1.PodSucceeded}}
	e := newEnv(t, terminating("team-a"), running, done)
	e.add(podsGVR, "team-a", "web", "job")
	e.graceful["pods/web"] = true
	e.add(configmapsGVR, "team-a", "settings", "kube-root-ca.crt")
	e.add(secretsGVR, "team-a", "token")
	e.add(deploymentsGVR, "team-a", "web")
	e.add(rolesGVR, "team-a", "reader")
	e.add(configmapsGVR, "other", "untouched")

	e.f.Clock.Step(2 * time.Second) // the namespace was deleted 2s ago
	e.f.MustSync(e.c.sync, "team-a")
	// The running pod terminates gracefully: 30s from the namespace's
	// deletion, the terminated one does not count. Nothing else is deleted
	// while a pod is left.
	e.expectDeletes(act("delete-collection", "pods", "", "team-a", ""))
	e.f.ExpectActions(act("get", "namespaces", "", "", "team-a"), act("update", "namespaces", "status", "", "team-a"))
	ns := e.namespace("team-a")
	if c := condition(t, ns, corev1.NamespaceContentRemaining); c.Status != corev1.ConditionTrue || c.Reason != "SomeResourcesRemain" ||
		c.Message != "Some resources are remaining: pods. has 1 resource instances" {
		t.Errorf("NamespaceContentRemaining %+v", c)
	}
	if c := condition(t, ns, corev1.NamespaceFinalizersRemaining); c.Status != corev1.ConditionFalse {
		t.Errorf("NamespaceFinalizersRemaining %+v", c)
	}
	e.expectRequeueAfter(16 * time.Second) // 30/2 + 1

	// The kubelet removes the pod; the next sync deletes the rest.
	if err := e.meta.Tracker().Delete(podsGVR, "team-a", "web"); err != nil {
		t.Fatal(err)
	}
	e.f.ClearActions()
	e.f.MustSync(e.c.sync, "team-a")
	e.expectDeletes(emptyPass("team-a")...)
	e.f.ExpectActions(
		act("get", "namespaces", "", "", "team-a"),
		act("update", "namespaces", "status", "", "team-a"),
		act("create", "namespaces", "finalize", "", "team-a"),
	)
	for _, gvr := range []schema.GroupVersionResource{podsGVR, configmapsGVR, secretsGVR, deploymentsGVR, rolesGVR} {
		if left := e.content(gvr, "team-a"); len(left) != 0 {
			t.Errorf("%s left: %v", gvr.Resource, left)
		}
	}
	if left := e.content(configmapsGVR, "other"); len(left) != 1 {
		t.Errorf("another namespace's content was deleted")
	}
	if c := condition(t, e.namespace("team-a"), corev1.NamespaceContentRemaining); c.Status != corev1.ConditionFalse ||
		!c.LastTransitionTime.Time.Equal(e.f.Clock.Now()) {
		t.Errorf("NamespaceContentRemaining %+v, want False since now", c)
	}
}

// TestContentWithFinalizers: objects waiting for their finalizers keep the
// namespace Terminating with NamespaceFinalizersRemaining; a sync that
// finds the same writes nothing; once they go, the namespace is finalized.
func TestContentWithFinalizers(t *testing.T) {
	e := newEnv(t, terminating("team-a"))
	e.add(configmapsGVR, "team-a", "held", "held-too", "plain")
	e.setFinalizers(configmapsGVR, "team-a", "held", "example.com/hold")
	e.setFinalizers(configmapsGVR, "team-a", "held-too", "example.com/hold", "example.com/other")
	e.add(secretsGVR, "team-a", "held")
	e.setFinalizers(secretsGVR, "team-a", "held", "example.com/hold")

	e.f.MustSync(e.c.sync, "team-a")
	e.expectDeletes(emptyPass("team-a")...)
	e.f.ExpectActions(act("get", "namespaces", "", "", "team-a"), act("update", "namespaces", "status", "", "team-a"))
	ns := e.namespace("team-a")
	if c := condition(t, ns, corev1.NamespaceContentRemaining); c.Status != corev1.ConditionTrue ||
		c.Message != "Some resources are remaining: configmaps. has 2 resource instances, secrets. has 1 resource instances" {
		t.Errorf("NamespaceContentRemaining %+v", c)
	}
	if c := condition(t, ns, corev1.NamespaceFinalizersRemaining); c.Status != corev1.ConditionTrue || c.Reason != "SomeFinalizersRemain" ||
		c.Message != "Some content in the namespace has finalizers remaining: example.com/hold in 3 resource instances, example.com/other in 1 resource instances" {
		t.Errorf("NamespaceFinalizersRemaining %+v", c)
	}
	if c := condition(t, ns, corev1.NamespaceDeletionContentFailure); c.Status != corev1.ConditionFalse {
		t.Errorf("NamespaceDeletionContentFailure %+v", c)
	}
	if got := e.content(configmapsGVR, "team-a"); len(got) != 2 || got[0].DeletionTimestamp == nil {
		t.Errorf("configmaps left %v, want the two held, marked", got)
	}
	e.expectRequeueAfter(8 * time.Second) // 15/2 + 1

	// Nothing changed: no status write.
	e.f.ClearActions()
	e.f.MustSync(e.c.sync, "team-a")
	e.f.ExpectActions(act("get", "namespaces", "", "", "team-a"))

	// One finalizer done: the messages change, the status stays True.
	e.setFinalizers(configmapsGVR, "team-a", "held-too", "example.com/hold")
	e.f.ClearActions()
	e.f.MustSync(e.c.sync, "team-a")
	e.f.ExpectActions(act("get", "namespaces", "", "", "team-a"), act("update", "namespaces", "status", "", "team-a"))
	if c := condition(t, e.namespace("team-a"), corev1.NamespaceFinalizersRemaining); c.Message !=
		"Some content in the namespace has finalizers remaining: example.com/hold in 3 resource instances" {
		t.Errorf("NamespaceFinalizersRemaining %+v", c)
	}

	for _, gvr := range []schema.GroupVersionResource{configmapsGVR, secretsGVR} {
		for _, obj := range e.content(gvr, "team-a") {
			e.setFinalizers(gvr, "team-a", obj.Name)
		}
	}
	e.f.ClearActions()
	e.f.MustSync(e.c.sync, "team-a")
	e.f.ExpectActions(
		act("get", "namespaces", "", "", "team-a"),
		act("update", "namespaces", "status", "", "team-a"),
		act("create", "namespaces", "finalize", "", "team-a"),
	)
	if c := condition(t, e.namespace("team-a"), corev1.NamespaceFinalizersRemaining); c.Status != corev1.ConditionFalse ||
		c.Reason != "ContentHasNoFinalizers" {
		t.Errorf("NamespaceFinalizersRemaining %+v", c)
	}
}

func TestDiscoveryPartialFailure(t *testing.T) {
	e := newEnv(t, terminating("team-a"))
	e.c.discovery = failingDiscovery{FakeDiscovery: e.disc, gv: "apps/v1"}
	e.add(configmapsGVR, "team-a", "settings")
	e.add(deploymentsGVR, "team-a", "web")

	err := e.f.Sync(e.c.sync, "team-a")
	if err == nil || !strings.Contains(err.Error(), "unable to retrieve the complete list of server APIs: apps/v1") {
		t.Fatalf("sync = %v, want the discovery error (retried with backoff)", err)
	}
	// What was discovered is deleted; the namespace is not finalized.
	e.expectDeletes(
		act("delete-collection", "pods", "", "team-a", ""),
		act("delete-collection", "configmaps", "", "team-a", ""),
		act("delete-collection", "secrets", "", "team-a", ""),
		act("delete-collection", "roles", "", "team-a", ""),
	)
	e.f.ExpectActions(act("get", "namespaces", "", "", "team-a"), act("update", "namespaces", "status", "", "team-a"))
	c := condition(t, e.namespace("team-a"), corev1.NamespaceDeletionDiscoveryFailure)
	if c.Status != corev1.ConditionTrue || c.Reason != "DiscoveryFailed" || !strings.HasPrefix(c.Message,
		"Discovery failed for some groups, 1 failing: unable to retrieve the complete list of server APIs: apps/v1: ") {
		t.Errorf("NamespaceDeletionDiscoveryFailure %+v", c)
	}

	// Discovery recovers: the deployment goes, the condition clears.
	e.c.discovery = e.disc
	e.f.ClearActions()
	e.f.MustSync(e.c.sync, "team-a")
	e.f.ExpectActions(
		act("get", "namespaces", "", "", "team-a"),
		act("update", "namespaces", "status", "", "team-a"),
		act("create", "namespaces", "finalize", "", "team-a"),
	)
	if c := condition(t, e.namespace("team-a"), corev1.NamespaceDeletionDiscoveryFailure); c.Status != corev1.ConditionFalse ||
		c.Message != "All resources successfully discovered" {
		t.Errorf("NamespaceDeletionDiscoveryFailure %+v", c)
	}
}

func TestContentDeletionFailure(t *testing.T) {
	e := newEnv(t, terminating("team-a"))
	e.add(secretsGVR, "team-a", "token")
	e.meta.PrependReactor("delete-collection", "secrets", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "", errors.New("refused"))
	})
	if err := e.f.Sync(e.c.sync, "team-a"); err == nil {
		t.Fatal("sync succeeded, want the deletion's error")
	}
	e.f.ExpectActions(act("get", "namespaces", "", "", "team-a"), act("update", "namespaces", "status", "", "team-a"))
	c := condition(t, e.namespace("team-a"), corev1.NamespaceDeletionContentFailure)
	if c.Status != corev1.ConditionTrue || c.Reason != "ContentDeletionFailed" ||
		!strings.HasPrefix(c.Message, "Failed to delete all resource types, 1 remaining: deleting /v1, Resource=secrets in namespace team-a: ") {
		t.Errorf("NamespaceDeletionContentFailure %+v", c)
	}
}

// TestDeleteCollectionNotServed: when the server refuses deletecollection
// the content is deleted item by item.
func TestDeleteCollectionNotServed(t *testing.T) {
	e := newEnv(t, terminating("team-a"))
	e.add(secretsGVR, "team-a", "a", "b")
	e.meta.PrependReactor("delete-collection", "secrets", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewMethodNotSupported(schema.GroupResource{Resource: "secrets"}, "deletecollection")
	})
	e.f.MustSync(e.c.sync, "team-a")
	want := emptyPass("team-a")
	want = append(want[:3], append([]controllertest.Action{
		act("delete", "secrets", "", "team-a", "a"), act("delete", "secrets", "", "team-a", "b")}, want[3:]...)...)
	e.expectDeletes(want...)
	if left := e.content(secretsGVR, "team-a"); len(left) != 0 {
		t.Errorf("secrets left: %v", left)
	}
	e.f.ExpectActions(
		act("get", "namespaces", "", "", "team-a"),
		act("update", "namespaces", "status", "", "team-a"),
		act("create", "namespaces", "finalize", "", "team-a"),
	)
}

// TestConflictRereads: a conflicting write is retried on a fresh read.
func TestConflictRereads(t *testing.T) {
	e := newEnv(t, terminating("team-a"))
	conflicts := 1
	e.f.Client.PrependReactor("create", "namespaces", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() == "finalize" && conflicts > 0 {
			conflicts--
			return true, nil, apierrors.NewConflict(schema.GroupResource{Resource: "namespaces"}, "team-a", errors.New("refused"))
		}
		return false, nil, nil
	})
	e.f.MustSync(e.c.sync, "team-a")
	e.f.ExpectActions(
		act("get", "namespaces", "", "", "team-a"),
		act("update", "namespaces", "status", "", "team-a"),
		act("create", "namespaces", "finalize", "", "team-a"),
		act("get", "namespaces", "", "", "team-a"),
		act("create", "namespaces", "finalize", "", "team-a"),
	)
}

func TestNamespaceNotTerminatingOrGone(t *testing.T) {
	active := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"},
		Spec:   corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{corev1.FinalizerKubernetes}},
		Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}}
	e := newEnv(t, active)
	e.add(configmapsGVR, "default", "settings")
	e.f.MustSync(e.c.sync, "default")
	e.f.MustSync(e.c.sync, "gone")
	e.f.ExpectActions()
	if a := e.meta.Actions(); len(a) != 0 {
		t.Errorf("metadata actions %v, want none", a)
	}
	// Its events queue nothing either.
	e.c.enqueue(active)
	e.c.resync(e.f.Ctx)
	e.f.Clock.Step(time.Minute)
	time.Sleep(20 * time.Millisecond)
	if n := e.c.Stats().Depth; n != 0 {
		t.Errorf("queue depth %d, want 0", n)
	}

	// Gone from the API but not from the cache: done.
	e.f.SeedCache(terminating("stale"))
	e.f.MustSync(e.c.sync, "stale")
	e.f.ExpectActions(act("get", "namespaces", "", "", "stale"))
}

// TestEventsQueueAfterTheGracePeriod: namespace events and the resync
// queue a namespace being deleted after upstream's 5s.
func TestEventsQueueAfterTheGracePeriod(t *testing.T) {
	e := newEnv(t, terminating("team-a"))
	e.c.enqueue(terminating("team-a"))
	e.expectRequeueAfter(DefaultDeletionGracePeriod)
}
