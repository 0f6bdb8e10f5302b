package endpoints

import (
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"

	"github.com/kinc-dev/kinc/pkg/controller/controllertest"
)

// svcCreated is every test Service's creation time.
var svcCreated = controllertest.Epoch().Add(-time.Hour)

func service(name string, selector map[string]string, ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: types.UID("svc-" + name),
			Labels: map[string]string{"app": name}, CreationTimestamp: metav1.NewTime(svcCreated)},
		Spec: corev1.ServiceSpec{Selector: selector, Ports: ports, ClusterIP: "10.96.0.10",
			IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol}, Type: corev1.ServiceTypeClusterIP},
	}
}

func tcpPort(name string, port int32, target intstr.IntOrString) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Port: port, TargetPort: target, Protocol: corev1.ProtocolTCP}
}

// pod returns a running pod of app=web on node-1 with ip (none when
// empty), Ready as ready (condition transitioned at readyAt), and a
// container port named "http" on 8080.
func pod(name, ip string, ready bool) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: types.UID("uid-" + name),
			Labels: map[string]string{"app": "web"}, ResourceVersion: "1"},
		Spec: corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: "c",
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning},
	}
	if ip != "" {
		p.Status.PodIP = ip
		p.Status.PodIPs = []corev1.PodIP{{IP: ip}}
	}
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: status, LastTransitionTime: metav1.NewTime(readyAt)}}
	return p
}

var readyAt = controllertest.Epoch().Add(-time.Minute)

func addr(p *corev1.Pod) corev1.EndpointAddress {
	node := p.Spec.NodeName
	return corev1.EndpointAddress{IP: p.Status.PodIP, NodeName: &node,
		TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: p.Namespace, Name: p.Name, UID: p.UID}}
}

func newController(f *controllertest.Fixture, opts Options) *Controller {
	opts.Logger, opts.Clock = f.Logger, f.Clock
	core := f.Informers.Core().V1()
	return New(f.Client, core.Pods(), core.Services(), core.Endpoints(), opts)
}

var (
	createWeb = controllertest.Action{Verb: "create", Resource: "endpoints", Namespace: "default", Name: "web"}
	updateWeb = controllertest.Action{Verb: "update", Resource: "endpoints", Namespace: "default", Name: "web"}
	webSel    = map[string]string{"app": "web"}
	httpPort  = corev1.EndpointPort{Name: "http", Port: 8080, Protocol: corev1.ProtocolTCP}
)

// TestSyncCreatesEndpoints: ready pods are addresses, a not ready one a
// notReadyAddress, with the named targetPort resolved; pods terminal,
// terminating or without an IP are left out; the Endpoints carry the
// Service's labels, managed-by and the trigger time (the Service's
// creation, on the first sync).
func TestSyncCreatesEndpoints(t *testing.T) {
	a, b, c := pod("a", "10.244.1.2", true), pod("b", "10.244.1.3", true), pod("c", "10.244.1.4", false)
	done := pod("done", "10.244.1.5", true)
	done.Status.Phase = corev1.PodSucceeded
	going := pod("going", "10.244.1.6", true)
	going.DeletionTimestamp = &metav1.Time{Time: controllertest.Epoch()}
	pending := pod("pending", "", false)
	other := pod("other", "10.244.1.7", true)
	other.Labels = map[string]string{"app": "db"}
	f := controllertest.New(t, service("web", webSel, tcpPort("http", 80, intstr.FromString("http"))), a, b, c, done, going, pending, other)
	ctl := newController(f, Options{})
	f.MustSync(ctl.sync, "default/web")
	f.ExpectActions(createWeb)
	ep := controllertest.Find[*corev1.Endpoints](f, createWeb)
	want := []corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{addr(a), addr(b)},
		NotReadyAddresses: []corev1.EndpointAddress{addr(c)}, Ports: []corev1.EndpointPort{httpPort}}}
	if !equality.Semantic.DeepEqual(ep.Subsets, want) {
		t.Errorf("subsets:\n%+v\nwant\n%+v", ep.Subsets, want)
	}
	wantLabels := map[string]string{"app": "web", LabelManagedBy: ControllerName}
	if !maps.Equal(ep.Labels, wantLabels) {
		t.Errorf("labels %v, want %v", ep.Labels, wantLabels)
	}
	if got := ep.Annotations[corev1.EndpointsLastChangeTriggerTime]; got != svcCreated.Format(time.RFC3339Nano) {
		t.Errorf("trigger time %q, want the service's creation %s", got, svcCreated)
	}
	if _, ok := ep.Annotations[corev1.EndpointsOverCapacity]; ok {
		t.Error("over-capacity annotation set")
	}
}

// TestSyncIsIdempotent: the Endpoints written once are not written again
// when nothing changed, even when the pod's resourceVersion moved (the
// target's resourceVersion is ignored) and the stored subsets are laid out
// differently.
func TestSyncIsIdempotent(t *testing.T) {
	a, b := pod("a", "10.244.1.2", true), pod("b", "10.244.1.3", true)
	svc := service("web", webSel, tcpPort("http", 80, intstr.FromString("http")), tcpPort("metrics", 9090, intstr.FromInt32(9090)))
	existing := &corev1.Endpoints{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web", ResourceVersion: "7",
			Labels: map[string]string{"app": "web", LabelManagedBy: ControllerName}},
		Subsets: []corev1.EndpointSubset{ // one subset per port, b before a: the same endpoints
			{Addresses: []corev1.EndpointAddress{addr(b), addr(a)}, Ports: []corev1.EndpointPort{{Name: "metrics", Port: 9090, Protocol: corev1.ProtocolTCP}}},
			{Addresses: []corev1.EndpointAddress{addr(a), addr(b)}, Ports: []corev1.EndpointPort{httpPort}},
		},
	}
	existing.Subsets[0].Addresses[0].TargetRef.ResourceVersion = "12"
	f := controllertest.New(t, svc, a, b, existing)
	ctl := newController(f, Options{})
	f.MustSync(ctl.sync, "default/web")
	f.MustSync(ctl.sync, "default/web")
	f.ExpectActions()
}

// TestSyncUpdates: a pod that became ready moves to addresses; labels the
// Service lost are removed; the trigger time is the pod's transition.
func TestSyncUpdates(t *testing.T) {
	a := pod("a", "10.244.1.2", false)
	svc := service("web", webSel, tcpPort("http", 80, intstr.FromInt32(8080)))
	f := controllertest.New(t, svc, a)
	ctl := newController(f, Options{})
	f.MustSync(ctl.sync, "default/web")
	created := controllertest.Find[*corev1.Endpoints](f, createWeb)
	if len(created.Subsets) != 1 || len(created.Subsets[0].NotReadyAddresses) != 1 {
		t.Fatalf("created %+v", created.Subsets)
	}
	stored, err := f.Client.Tracker().Get(schema.GroupVersionResource{Version: "v1", Resource: "endpoints"}, "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	stored.(*corev1.Endpoints).Labels["stray"] = "x"
	f.SeedCache(stored)

	ready := a.DeepCopy()
	ready.ResourceVersion = "2"
	transition := controllertest.Epoch().Add(-time.Second)
	ready.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(transition)}}
	f.SeedCache(ready)
	f.ClearActions()
	f.MustSync(ctl.sync, "default/web")
	f.ExpectActions(updateWeb)
	ep := controllertest.Find[*corev1.Endpoints](f, updateWeb)
	if len(ep.Subsets) != 1 || len(ep.Subsets[0].Addresses) != 1 || len(ep.Subsets[0].NotReadyAddresses) != 0 {
		t.Errorf("subsets %+v", ep.Subsets)
	}
	if _, ok := ep.Labels["stray"]; ok {
		t.Errorf("labels %v", ep.Labels)
	}
	if got := ep.Annotations[corev1.EndpointsLastChangeTriggerTime]; got != transition.Format(time.RFC3339Nano) {
		t.Errorf("trigger time %q, want %s", got, transition)
	}
}

// TestSyncPublishNotReadyAddresses: not ready and terminating pods are
// addresses.
func TestSyncPublishNotReadyAddresses(t *testing.T) {
	a, b := pod("a", "10.244.1.2", false), pod("b", "10.244.1.3", true)
	b.DeletionTimestamp = &metav1.Time{Time: controllertest.Epoch()}
	svc := service("web", webSel, tcpPort("http", 80, intstr.FromInt32(8080)))
	svc.Spec.PublishNotReadyAddresses = true
	f := controllertest.New(t, svc, a, b)
	ctl := newController(f, Options{})
	f.MustSync(ctl.sync, "default/web")
	ep := controllertest.Find[*corev1.Endpoints](f, createWeb)
	if len(ep.Subsets) != 1 || len(ep.Subsets[0].Addresses) != 2 || len(ep.Subsets[0].NotReadyAddresses) != 0 {
		t.Errorf("subsets %+v", ep.Subsets)
	}
}

// TestSyncHeadless: a headless Service without ports lists addresses
// without ports and is labelled headless; a pod whose subdomain names the
// Service carries its hostname.
func TestSyncHeadless(t *testing.T) {
	a, b := pod("a", "10.244.1.2", true), pod("b", "10.244.1.3", true)
	a.Spec.Hostname, a.Spec.Subdomain = "web-0", "web"
	b.Spec.Hostname, b.Spec.Subdomain = "other-0", "other"
	svc := service("web", webSel)
	svc.Spec.ClusterIP = corev1.ClusterIPNone
	f := controllertest.New(t, svc, a, b)
	ctl := newController(f, Options{})
	f.MustSync(ctl.sync, "default/web")
	ep := controllertest.Find[*corev1.Endpoints](f, createWeb)
	wantA := addr(a)
	wantA.Hostname = "web-0"
	want := []corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{wantA, addr(b)}}}
	if !equality.Semantic.DeepEqual(ep.Subsets, want) {
		t.Errorf("subsets %+v, want %+v", ep.Subsets, want)
	}
	if v, ok := ep.Labels[corev1.IsHeadlessService]; !ok || v != "" {
		t.Errorf("labels %v", ep.Labels)
	}

	// A non-headless Service without ports gets no addresses.
	f = controllertest.New(t, service("web", webSel), a)
	ctl = newController(f, Options{})
	f.MustSync(ctl.sync, "default/web")
	if ep := controllertest.Find[*corev1.Endpoints](f, createWeb); len(ep.Subsets) != 0 {
		t.Errorf("subsets %+v", ep.Subsets)
	}
}

// TestSyncNamedPortMissing: a pod lacking a named port is left out of that
// port only, giving two subsets.
func TestSyncNamedPortMissing(t *testing.T) {
	a, b := pod("a", "10.244.1.2", true), pod("b", "10.244.1.3", true)
	b.Spec.Containers[0].Ports = nil
	svc := service("web", webSel, tcpPort("http", 80, intstr.FromString("http")), tcpPort("raw", 81, intstr.FromInt32(9000)))
	f := controllertest.New(t, svc, a, b)
	ctl := newController(f, Options{})
	f.MustSync(ctl.sync, "default/web")
	ep := controllertest.Find[*corev1.Endpoints](f, createWeb)
	raw := corev1.EndpointPort{Name: "raw", Port: 9000, Protocol: corev1.ProtocolTCP}
	want := []corev1.EndpointSubset{
		{Addresses: []corev1.EndpointAddress{addr(a)}, Ports: []corev1.EndpointPort{httpPort}},
		{Addresses: []corev1.EndpointAddress{addr(a), addr(b)}, Ports: []corev1.EndpointPort{raw}},
	}
	if !equality.Semantic.DeepEqual(ep.Subsets, want) {
		t.Errorf("subsets %+v\nwant %+v", ep.Subsets, want)
	}
}

// TestSyncServiceGone: the Endpoints of a deleted Service are deleted (and
// NotFound is fine); Services without a selector or of type ExternalName
// are left alone.
func TestSyncServiceGone(t *testing.T) {
	manual := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "manual"}}
	external := service("ext", webSel)
	external.Spec.Type = corev1.ServiceTypeExternalName
	f := controllertest.New(t, service("manual", nil), external, manual, pod("a", "10.244.1.2", true),
		&corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"}})
	ctl := newController(f, Options{})
	f.MustSync(ctl.sync, "default/web")
	f.MustSync(ctl.sync, "default/web")
	f.MustSync(ctl.sync, "default/manual")
	f.MustSync(ctl.sync, "default/ext")
	del := controllertest.Action{Verb: "delete", Resource: "endpoints", Namespace: "default", Name: "web"}
	f.ExpectActions(del, del)
}

// TestSyncOverCapacity: past 1000 addresses the Endpoints are truncated
// (ready addresses kept first) and annotated; a later sync of the same
// state writes nothing.
func TestSyncOverCapacity(t *testing.T) {
	objs := []runtime.Object{service("web", webSel, tcpPort("http", 80, intstr.FromInt32(8080)))}
	for i := range 1001 {
		objs = append(objs, pod(fmt.Sprintf("p%04d", i), fmt.Sprintf("10.244.%d.%d", i/250, i%250+1), i != 0))
	}
	f := controllertest.New(t, objs...)
	ctl := newController(f, Options{})
	f.MustSync(ctl.sync, "default/web")
	ep := controllertest.Find[*corev1.Endpoints](f, createWeb)
	if ready, notReady := countAddresses(ep.Subsets); ready != 1000 || notReady != 0 {
		t.Errorf("%d ready and %d not ready addresses, want 1000 and 0", ready, notReady)
	}
	if ep.Annotations[corev1.EndpointsOverCapacity] != OverCapacityTruncated {
		t.Errorf("annotations %v", ep.Annotations)
	}
	stored, err := f.Client.Tracker().Get(schema.GroupVersionResource{Version: "v1", Resource: "endpoints"}, "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	f.SeedCache(stored)
	f.ClearActions()
	f.MustSync(ctl.sync, "default/web")
	f.ExpectActions()
}

// TestSyncErrors: a create refused because the namespace is terminating is
// not an error; a failed update records upstream's warning event and
// returns the error.
func TestSyncErrors(t *testing.T) {
	f := controllertest.New(t, service("web", webSel), pod("a", "10.244.1.2", true))
	f.Client.PrependReactor("create", "endpoints", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: 403, Reason: metav1.StatusReasonForbidden,
			Details: &metav1.StatusDetails{Causes: []metav1.StatusCause{{Type: corev1.NamespaceTerminatingCause}}}}}
	})
	ctl := newController(f, Options{})
	f.MustSync(ctl.sync, "default/web")

	old := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web", ResourceVersion: "3"}}
	f = controllertest.New(t, service("web", webSel, tcpPort("http", 80, intstr.FromInt32(8080))), pod("a", "10.244.1.2", true), old)
	f.Client.PrependReactor("update", "endpoints", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewConflict(schema.GroupResource{Resource: "endpoints"}, "web", fmt.Errorf("changed"))
	})
	rec := record.NewFakeRecorder(10)
	ctl = newController(f, Options{Recorder: rec})
	if err := f.Sync(ctl.sync, "default/web"); !apierrors.IsConflict(err) {
		t.Errorf("sync: %v, want the conflict", err)
	}
	if ev := <-rec.Events; !strings.HasPrefix(ev, "Warning FailedToUpdateEndpoint Failed to update endpoint default/web:") {
		t.Errorf("event %q", ev)
	}
}

// TestSyncStaleCache: after an update, the cache still holding the version
// it replaced is an error (retried), not a second write.
func TestSyncStaleCache(t *testing.T) {
	old := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web", ResourceVersion: "5"}}
	f := controllertest.New(t, service("web", webSel, tcpPort("http", 80, intstr.FromInt32(8080))), pod("a", "10.244.1.2", true), old)
	f.Client.PrependReactor("update", "endpoints", func(a k8stesting.Action) (bool, runtime.Object, error) {
		a.(k8stesting.UpdateAction).GetObject().(*corev1.Endpoints).ResourceVersion = "6" // as the apiserver does
		return false, nil, nil
	})
	ctl := newController(f, Options{})
	f.MustSync(ctl.sync, "default/web")
	f.ExpectActions(updateWeb)
	if err := f.Sync(ctl.sync, "default/web"); err == nil || !strings.Contains(err.Error(), "out of date") {
		t.Errorf("second sync on the stale cache: %v", err)
	}
	f.ExpectActions(updateWeb)
}

// TestEnqueueLeftovers: every Endpoints but leader election records is
// enqueued once the caches synced.
func TestEnqueueLeftovers(t *testing.T) {
	lock := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "old-lock",
		Annotations: map[string]string{"control-plane.alpha.kubernetes.io/leader": "{}"}}}
	f := controllertest.New(t, lock, &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "orphan"}})
	ctl := newController(f, Options{})
	ctl.enqueueLeftovers(f.Ctx)
	if st := ctl.Stats(); st.Adds != 1 || st.Depth != 1 {
		t.Errorf("stats %+v, want one key", st)
	}
}
