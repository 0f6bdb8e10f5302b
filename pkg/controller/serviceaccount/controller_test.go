package serviceaccount

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kinc-dev/kinc/pkg/controller/controllertest"
)

func namespace(name string, phase corev1.NamespacePhase) *corev1.Namespace {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NamespaceStatus{Phase: phase}}
	if phase == corev1.NamespaceTerminating {
		ns.DeletionTimestamp = &metav1.Time{Time: controllertest.Epoch()}
	}
	return ns
}

func account(ns, name string) *corev1.ServiceAccount {
	return &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
}

func newController(f *controllertest.Fixture, opts Options) *Controller {
	opts.Logger, opts.Clock = f.Logger, f.Clock
	return New(f.Client, f.Informers.Core().V1().Namespaces(), f.Informers.Core().V1().ServiceAccounts(), opts)
}

var createDefault = controllertest.Action{Verb: "create", Resource: "serviceaccounts", Namespace: "web", Name: "default"}

// TestSyncCreatesDefault: an active namespace without the account gets it,
// with nothing but its name and namespace set.
func TestSyncCreatesDefault(t *testing.T) {
	f := controllertest.New(t, namespace("web", corev1.NamespaceActive))
	c := newController(f, Options{})
	f.MustSync(c.sync, "web")
	f.ExpectActions(createDefault)
	sa := controllertest.Find[*corev1.ServiceAccount](f, createDefault)
	if sa.Namespace != "web" || sa.Name != "default" || len(sa.Labels)+len(sa.Annotations) != 0 || sa.Secrets != nil {
		t.Errorf("created %+v", sa)
	}
}

// TestSyncIsIdempotent: an account that exists (in the cache) is left
// alone, whatever it holds.
func TestSyncIsIdempotent(t *testing.T) {
	existing := account("web", "default")
	existing.Labels = map[string]string{"edited": "by-user"}
	f := controllertest.New(t, namespace("web", corev1.NamespaceActive), existing)
	c := newController(f, Options{})
	f.MustSync(c.sync, "web")
	f.MustSync(c.sync, "web")
	f.ExpectActions()
}

// TestSyncSkipsInactiveAndMissingNamespaces: nothing is created in a
// terminating namespace or one the cache no longer has.
func TestSyncSkipsInactiveAndMissingNamespaces(t *testing.T) {
	f := controllertest.New(t, namespace("going", corev1.NamespaceTerminating))
	c := newController(f, Options{})
	f.MustSync(c.sync, "going")
	f.MustSync(c.sync, "gone")
	f.ExpectActions()
}

// TestSyncAlreadyExistsIsDone: the API has the account the cache has not
// seen yet; the create's 409 AlreadyExists is the desired state.
func TestSyncAlreadyExistsIsDone(t *testing.T) {
	f := controllertest.New(t, namespace("web", corev1.NamespaceActive))
	f.SeedAPI(account("web", "default"))
	c := newController(f, Options{})
	f.MustSync(c.sync, "web")
	f.ExpectActions(createDefault)
}

// TestSyncTerminatingRaceIsNotAnError: the namespace started terminating
// after the cache saw it; the apiserver refuses the create with the
// NamespaceTerminating cause, or NotFound once the namespace is gone.
func TestSyncTerminatingRaceIsNotAnError(t *testing.T) {
	for name, refusal := range map[string]error{
		"terminating": &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: 403,
			Reason:  metav1.StatusReasonForbidden,
			Details: &metav1.StatusDetails{Causes: []metav1.StatusCause{{Type: corev1.NamespaceTerminatingCause}}}}},
		"gone": apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, "web"),
	} {
		t.Run(name, func(t *testing.T) {
			f := controllertest.New(t, namespace("web", corev1.NamespaceActive))
			f.Client.PrependReactor("create", "serviceaccounts", func(k8stesting.Action) (bool, runtime.Object, error) {
				return true, nil, refusal
			})
			c := newController(f, Options{})
			f.MustSync(c.sync, "web")
		})
	}
}

// TestSyncOtherErrorsRetry: any other failure is returned (the loop
// retries the namespace with backoff), naming the account.
func TestSyncOtherErrorsRetry(t *testing.T) {
	f := controllertest.New(t, namespace("web", corev1.NamespaceActive))
	f.Client.PrependReactor("create", "serviceaccounts", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewServiceUnavailable("etcd is down")
	})
	c := newController(f, Options{})
	err := f.Sync(c.sync, "web")
	if !apierrors.IsServiceUnavailable(err) || err.Error() != "creating service account web/default: etcd is down" {
		t.Errorf("sync error %v", err)
	}
}

// TestSyncSeveralAccounts: every configured account is ensured; one that
// exists is not created again.
func TestSyncSeveralAccounts(t *testing.T) {
	f := controllertest.New(t, namespace("web", corev1.NamespaceActive), account("web", "builder"))
	c := newController(f, Options{ServiceAccounts: []string{"default", "builder", "deployer"}})
	f.MustSync(c.sync, "web")
	f.ExpectActions(createDefault,
		controllertest.Action{Verb: "create", Resource: "serviceaccounts", Namespace: "web", Name: "deployer"})
}

// TestEventsEnqueueNamespaces: a namespace added or updated enqueues its
// name; deleting one of our accounts enqueues its namespace, deleting
// another account does not.
func TestEventsEnqueueNamespaces(t *testing.T) {
	f := controllertest.New(t)
	c := newController(f, Options{})
	f.Start()
	ctx := f.Ctx
	if _, err := f.Client.CoreV1().Namespaces().Create(ctx, namespace("a", corev1.NamespaceActive), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, sa := range []string{"default", "other"} {
		if _, err := f.Client.CoreV1().ServiceAccounts("b").Create(ctx, account("b", sa), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	waitAdds(t, c, 1)
	for _, sa := range []string{"other", "default"} {
		if err := f.Client.CoreV1().ServiceAccounts("b").Delete(ctx, sa, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	waitAdds(t, c, 2)
	if got := c.Stats(); got.Adds != 2 || got.Depth != 2 {
		t.Errorf("after a namespace add and two account deletes: %+v, want 2 adds, both waiting", got)
	}
}

// waitAdds waits until the loop counted n enqueued keys.
func waitAdds(t *testing.T, c *Controller, n uint64) {
	t.Helper()
	for range 500 {
		if c.Stats().Adds >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%d keys enqueued, want %d", c.Stats().Adds, n)
}
