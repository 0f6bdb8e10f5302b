package rootcacertpublisher

import (
	"maps"
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

const rootCA = "-----BEGIN CERTIFICATE-----\nroot\n-----END CERTIFICATE-----\n"

func namespace(name string, phase corev1.NamespacePhase) *corev1.Namespace {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NamespaceStatus{Phase: phase}}
	if phase == corev1.NamespaceTerminating {
		ns.DeletionTimestamp = &metav1.Time{Time: controllertest.Epoch()}
	}
	return ns
}

// published is the ConfigMap as the controller keeps it.
func published(ns string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: ConfigMapName, ResourceVersion: "1",
			Annotations: map[string]string{DescriptionAnnotation: Description}},
		Data: map[string]string{CAKey: rootCA},
	}
}

func newPublisher(f *controllertest.Fixture) *Publisher {
	return New(f.Client, f.Informers.Core().V1().Namespaces(), f.Informers.Core().V1().ConfigMaps(), []byte(rootCA),
		Options{Logger: f.Logger, Clock: f.Clock})
}

func action(verb string) controllertest.Action {
	return controllertest.Action{Verb: verb, Resource: "configmaps", Namespace: "web", Name: ConfigMapName}
}

// expectPublished fails unless cm is what the controller publishes.
func expectPublished(t *testing.T, cm *corev1.ConfigMap) {
	t.Helper()
	if cm.Namespace != "web" || cm.Name != ConfigMapName || !maps.Equal(cm.Data, map[string]string{CAKey: rootCA}) ||
		cm.Annotations[DescriptionAnnotation] != Description {
		t.Errorf("sent %s/%s data %q annotations %q", cm.Namespace, cm.Name, cm.Data, cm.Annotations)
	}
}

// TestSyncCreates: an active namespace without the ConfigMap gets it, with
// upstream's name, key and description.
func TestSyncCreates(t *testing.T) {
	f := controllertest.New(t, namespace("web", corev1.NamespaceActive))
	p := newPublisher(f)
	f.MustSync(p.sync, "web")
	f.ExpectActions(action("create"))
	expectPublished(t, controllertest.Find[*corev1.ConfigMap](f, action("create")))
}

// TestSyncIsIdempotent: the published ConfigMap (with any description and
// other annotations or labels) is left alone.
func TestSyncIsIdempotent(t *testing.T) {
	cm := published("web")
	cm.Annotations[DescriptionAnnotation] = "rewritten by a user"
	cm.Labels = map[string]string{"team": "web"}
	f := controllertest.New(t, namespace("web", corev1.NamespaceActive), cm)
	p := newPublisher(f)
	f.MustSync(p.sync, "web")
	f.MustSync(p.sync, "web")
	f.ExpectActions()
}

// TestSyncRestoresEdits: edited data (changed, added or removed keys) or a
// removed description are put back, keeping what else the object holds;
// the cached object is not mutated.
func TestSyncRestoresEdits(t *testing.T) {
	for name, edit := range map[string]func(*corev1.ConfigMap){
		"changed":        func(cm *corev1.ConfigMap) { cm.Data[CAKey] = "tampered" },
		"added key":      func(cm *corev1.ConfigMap) { cm.Data["extra"] = "x" },
		"emptied":        func(cm *corev1.ConfigMap) { cm.Data = nil },
		"no description": func(cm *corev1.ConfigMap) { cm.Annotations = nil },
	} {
		t.Run(name, func(t *testing.T) {
			cm := published("web")
			cm.Labels = map[string]string{"keep": "me"}
			edit(cm)
			f := controllertest.New(t, namespace("web", corev1.NamespaceActive), cm)
			p := newPublisher(f)
			f.MustSync(p.sync, "web")
			f.ExpectActions(action("update"))
			sent := controllertest.Find[*corev1.ConfigMap](f, action("update"))
			expectPublished(t, sent)
			if sent.Labels["keep"] != "me" || sent.ResourceVersion != "1" {
				t.Errorf("update lost the labels or resourceVersion: %+v", sent.ObjectMeta)
			}
			cached, _ := p.configMaps.ConfigMaps("web").Get(ConfigMapName)
			if maps.Equal(cached.Data, sent.Data) && maps.Equal(cached.Annotations, sent.Annotations) {
				t.Error("the informer's cached object was mutated")
			}
		})
	}
}

// TestSyncNamespaces: nothing is created in a terminating namespace or
// one the cache no longer has; an edited copy in a terminating namespace
// is still restored, as upstream does.
func TestSyncNamespaces(t *testing.T) {
	edited := published("web")
	edited.Data[CAKey] = "tampered"
	f := controllertest.New(t, namespace("going", corev1.NamespaceTerminating), namespace("web", corev1.NamespaceTerminating), edited)
	p := newPublisher(f)
	f.MustSync(p.sync, "going")
	f.MustSync(p.sync, "gone")
	f.ExpectActions()
	f.MustSync(p.sync, "web")
	f.ExpectActions(action("update"))
}

// TestSyncAlreadyExists: the API has a ConfigMap the cache has not seen;
// the create's 409 is returned, so the loop retries once the cache caught
// up, never reading the API (RBAC does not let the publisher get
// ConfigMaps; upstream retries the same way).
func TestSyncAlreadyExists(t *testing.T) {
	f := controllertest.New(t, namespace("web", corev1.NamespaceActive))
	stale := published("web")
	stale.Data[CAKey] = "old CA"
	f.SeedAPI(stale)
	p := newPublisher(f)
	if err := f.Sync(p.sync, "web"); !apierrors.IsAlreadyExists(err) {
		t.Errorf("sync error %v, want AlreadyExists", err)
	}
	f.ExpectActions(action("create"))
}

// TestSyncConflict: an update refused for a stale resourceVersion is
// returned for the loop's backoff, without reading the API.
func TestSyncConflict(t *testing.T) {
	conflict := apierrors.NewConflict(schema.GroupResource{Resource: "configmaps"}, ConfigMapName, nil)
	edited := published("web")
	edited.Data[CAKey] = "tampered"
	f := controllertest.New(t, namespace("web", corev1.NamespaceActive), edited)
	f.Client.PrependReactor("update", "configmaps", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, conflict
	})
	p := newPublisher(f)
	if err := f.Sync(p.sync, "web"); !apierrors.IsConflict(err) {
		t.Errorf("sync error %v, want a conflict", err)
	}
	f.ExpectActions(action("update"))
}

// TestSyncDeletedMeanwhile: the cache still has the ConfigMap the API no
// longer has; the update's NotFound leads to a create.
func TestSyncDeletedMeanwhile(t *testing.T) {
	edited := published("web")
	edited.Data[CAKey] = "tampered"
	f := controllertest.New(t, namespace("web", corev1.NamespaceActive))
	f.SeedCache(edited)
	p := newPublisher(f)
	f.MustSync(p.sync, "web")
	f.ExpectActions(action("update"), action("create"))
}

// TestSyncTerminatingRace: a create refused because the namespace started
// terminating (or is gone) since the cache saw it is not an error.
func TestSyncTerminatingRace(t *testing.T) {
	for name, refusal := range map[string]error{
		"terminating": &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: 403,
			Reason:  metav1.StatusReasonForbidden,
			Details: &metav1.StatusDetails{Causes: []metav1.StatusCause{{Type: corev1.NamespaceTerminatingCause}}}}},
		"gone": apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, "web"),
	} {
		t.Run(name, func(t *testing.T) {
			f := controllertest.New(t, namespace("web", corev1.NamespaceActive))
			f.Client.PrependReactor("create", "configmaps", func(k8stesting.Action) (bool, runtime.Object, error) {
				return true, nil, refusal
			})
			p := newPublisher(f)
			f.MustSync(p.sync, "web")
		})
	}
}

// TestEventsEnqueueNamespaces: namespaces added enqueue their name; our
// ConfigMap updated or deleted enqueues its namespace; other ConfigMaps
// and a namespace update to Terminating enqueue nothing.
func TestEventsEnqueueNamespaces(t *testing.T) {
	f := controllertest.New(t)
	p := newPublisher(f)
	f.Start()
	ctx, core := f.Ctx, f.Client.CoreV1()
	if _, err := core.Namespaces().Create(ctx, namespace("a", corev1.NamespaceActive), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitAdds(t, p, 1)
	if _, err := core.Namespaces().Update(ctx, namespace("a", corev1.NamespaceTerminating), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	other := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "b", Name: "other"}}
	for _, cm := range []*corev1.ConfigMap{other, published("b")} {
		if _, err := core.ConfigMaps("b").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := core.ConfigMaps("b").Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := core.ConfigMaps("b").Delete(ctx, cm.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	waitAdds(t, p, 3)
	if got := p.Stats(); got.Adds != 3 || got.Depth != 2 {
		t.Errorf("%+v, want 3 adds (namespace a, b's ConfigMap updated and deleted), 2 keys waiting", got)
	}
}

// waitAdds waits until the loop counted n enqueued keys.
func waitAdds(t *testing.T, p *Publisher, n uint64) {
	t.Helper()
	for range 500 {
		if p.Stats().Adds >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%d keys enqueued, want %d", p.Stats().Adds, n)
}
