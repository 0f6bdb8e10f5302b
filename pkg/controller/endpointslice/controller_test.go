package endpointslice

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/controller/controllertest"
)

var svcCreated = controllertest.Epoch().Add(-time.Hour)

func service(name string, ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: types.UID("svc-" + name),
			Labels: map[string]string{"tier": "front"}, CreationTimestamp: metav1.NewTime(svcCreated)},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: ports, ClusterIP: "10.96.0.10",
			IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol}, Type: corev1.ServiceTypeClusterIP},
	}
}

var httpPort = corev1.ServicePort{Name: "http", Port: 80, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP}

func pod(name, ip string, ready bool) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: types.UID("uid-" + name),
			Labels: map[string]string{"app": "web"}, ResourceVersion: "1"},
		Spec: corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: "c",
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}}},
	}
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: status}}
	return p
}

func node(name, zone string) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if zone != "" {
		n.Labels = map[string]string{corev1.LabelTopologyZone: zone}
	}
	return n
}

func newController(f *controllertest.Fixture, opts Options) *Controller {
	opts.Logger, opts.Clock = f.Logger, f.Clock
	core := f.Informers.Core().V1()
	return New(f.Client, core.Pods(), core.Services(), core.Nodes(), f.Informers.Discovery().V1().EndpointSlices(), opts)
}

var sliceGVR = schema.GroupVersionResource{Group: "discovery.k8s.io", Version: "v1", Resource: "endpointslices"}

// stored returns the slices in the fake API, by name.
func stored(t *testing.T, f *controllertest.Fixture) []*discoveryv1.EndpointSlice {
	t.Helper()
	list, err := f.Client.Tracker().List(sliceGVR, discoveryv1.SchemeGroupVersion.WithKind("EndpointSlice"), "default")
	if err != nil {
		t.Fatal(err)
	}
	var out []*discoveryv1.EndpointSlice
	for _, s := range list.(*discoveryv1.EndpointSliceList).Items {
		out = append(out, s.DeepCopy())
	}
	slices.SortFunc(out, func(a, b *discoveryv1.EndpointSlice) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// catchUp puts what the fake API holds into the slice cache, as the
// informer would.
func catchUp(t *testing.T, f *controllertest.Fixture) {
	t.Helper()
	idx := f.Informers.Discovery().V1().EndpointSlices().Informer().GetIndexer()
	for _, obj := range idx.List() {
		_ = idx.Delete(obj)
	}
	for _, s := range stored(t, f) {
		f.SeedCache(s)
	}
}

func podNames(s *discoveryv1.EndpointSlice) []string {
	var out []string
	for _, ep := range s.Endpoints {
		out = append(out, ep.TargetRef.Name)
	}
	slices.Sort(out)
	return out
}

func act(verb, name string) controllertest.Action {
	return controllertest.Action{Verb: verb, Resource: "endpointslices", Namespace: "default", Name: name}
}

// TestSyncCreatesSlice: one slice "web-…" with the Service's labels,
// upstream's labels and owner, ports resolved, and each pod's conditions,
// node, zone and target; terminal pods and pods without an IP are out,
// terminating ones in (not ready).
func TestSyncCreatesSlice(t *testing.T) {
	a, b, c := pod("a", "10.244.1.2", true), pod("b", "10.244.1.3", false), pod("c", "10.244.1.4", true)
	c.DeletionTimestamp = &metav1.Time{Time: controllertest.Epoch()}
	done := pod("done", "10.244.1.5", true)
	done.Status.Phase = corev1.PodFailed
	noIP := pod("noip", "", false)
	noIP.Status.PodIPs = nil
	f := controllertest.New(t, service("web", httpPort), node("node-1", "zone-a"), a, b, c, done, noIP)
	ctl := newController(f, Options{})
	f.MustSync(ctl.sync, "default/web")
	f.ExpectActions(act("create", "web-"))
	s := controllertest.Find[*discoveryv1.EndpointSlice](f, act("create", "web-"))
	wantLabels := map[string]string{"tier": "front", discoveryv1.LabelServiceName: "web", discoveryv1.LabelManagedBy: ControllerName}
	if !maps.Equal(s.Labels, wantLabels) {
		t.Errorf("labels %v, want %v", s.Labels, wantLabels)
	}
	if len(s.OwnerReferences) != 1 || s.OwnerReferences[0].Kind != "Service" || s.OwnerReferences[0].UID != "svc-web" ||
		!ptr.Deref(s.OwnerReferences[0].Controller, false) || !ptr.Deref(s.OwnerReferences[0].BlockOwnerDeletion, false) {
		t.Errorf("owners %+v", s.OwnerReferences)
	}
	if s.AddressType != discoveryv1.AddressTypeIPv4 || len(s.Ports) != 1 || *s.Ports[0].Port != 8080 || *s.Ports[0].Name != "http" || *s.Ports[0].Protocol != corev1.ProtocolTCP {
		t.Errorf("address type %s, ports %+v", s.AddressType, s.Ports)
	}
	if s.Annotations[corev1.EndpointsLastChangeTriggerTime] != svcCreated.Format(time.RFC3339Nano) {
		t.Errorf("annotations %v", s.Annotations)
	}
	if got := podNames(s); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("endpoints of %v", got)
	}
	want := map[string][3]bool{"a": {true, true, false}, "b": {false, false, false}, "c": {false, true, true}} // ready, serving, terminating
	for _, ep := range s.Endpoints {
		w := want[ep.TargetRef.Name]
		got := [3]bool{*ep.Conditions.Ready, *ep.Conditions.Serving, *ep.Conditions.Terminating}
		if got != w {
			t.Errorf("%s: conditions %v, want %v", ep.TargetRef.Name, got, w)
		}
		if ptr.Deref(ep.NodeName, "") != "node-1" || ptr.Deref(ep.Zone, "") != "zone-a" || ep.TargetRef.Kind != "Pod" || ep.TargetRef.UID == "" {
			t.Errorf("%s: node %v zone %v target %+v", ep.TargetRef.Name, ep.NodeName, ep.Zone, ep.TargetRef)
		}
	}
}

// TestSyncIsIdempotent: once the cache has the slices written, a sync
// writes nothing; without pods one placeholder slice is kept.
func TestSyncIsIdempotent(t *testing.T) {
	for name, pods := range map[string][]runtime.Object{"pods": {pod("a", "10.244.1.2", true)}, "placeholder": nil} {
		t.Run(name, func(t *testing.T) {
			f := controllertest.New(t, append(pods, service("web", httpPort), node("node-1", ""))...)
			ctl := newController(f, Options{})
			f.MustSync(ctl.sync, "default/web")
			f.ExpectActions(act("create", "web-"))
			catchUp(t, f)
			f.ClearActions()
			f.MustSync(ctl.sync, "default/web")
			f.ExpectActions()
			if s := stored(t, f); len(s) != 1 || len(s[0].Endpoints) != len(pods) || (pods == nil && len(s[0].Ports) != 0) {
				t.Errorf("slices %+v", s)
			}
		})
	}
}

// TestSyncMaxEndpointsPerSlice: 5 endpoints at 2 per slice make 3 slices;
// replacing one pod updates only the slice that held it.
func TestSyncMaxEndpointsPerSlice(t *testing.T) {
	objs := []runtime.Object{service("web", httpPort), node("node-1", "")}
	for i := range 5 {
		objs = append(objs, pod(fmt.Sprintf("p%d", i), fmt.Sprintf("10.244.1.%d", i+2), true))
	}
	f := controllertest.New(t, objs...)
	ctl := newController(f, Options{MaxEndpointsPerSlice: 2})
	f.MustSync(ctl.sync, "default/web")
	f.ExpectActions(act("create", "web-"), act("create", "web-"), act("create", "web-"))
	catchUp(t, f)
	var holder string
	for _, s := range stored(t, f) {
		if len(s.Endpoints) > 2 {
			t.Errorf("%s has %d endpoints", s.Name, len(s.Endpoints))
		}
		if slices.Contains(podNames(s), "p3") {
			holder = s.Name
		}
	}

	// p3 goes, p9 comes: one update, of p3's slice.
	if err := f.Informers.Core().V1().Pods().Informer().GetIndexer().Delete(objs[5]); err != nil { // p3
		t.Fatal(err)
	}
	f.SeedCache(pod("p9", "10.244.1.20", true))
	f.ClearActions()
	f.MustSync(ctl.sync, "default/web")
	f.ExpectActions(act("update", holder))
	catchUp(t, f)
	total := 0
	for _, s := range stored(t, f) {
		total += len(s.Endpoints)
		if slices.Contains(podNames(s), "p3") {
			t.Errorf("p3 still in %s", s.Name)
		}
	}
	if total != 5 {
		t.Errorf("%d endpoints, want 5", total)
	}
}

// TestSyncFillsBestSlice: a new endpoint goes into the unchanged slice it
// fills best rather than a new one.
func TestSyncFillsBestSlice(t *testing.T) {
	objs := []runtime.Object{service("web", httpPort), node("node-1", "")}
	for i := range 3 {
		objs = append(objs, pod(fmt.Sprintf("p%d", i), fmt.Sprintf("10.244.1.%d", i+2), true))
	}
	f := controllertest.New(t, objs...)
	ctl := newController(f, Options{MaxEndpointsPerSlice: 2})
	f.MustSync(ctl.sync, "default/web") // [p0 p1] [p2]
	catchUp(t, f)
	var half string
	for _, s := range stored(t, f) {
		if len(s.Endpoints) == 1 {
			half = s.Name
		}
	}
	f.SeedCache(pod("p3", "10.244.1.9", true))
	f.ClearActions()
	f.MustSync(ctl.sync, "default/web")
	f.ExpectActions(act("update", half))
}

// TestSyncPortsChangeUpdatesInPlace: a targetPort change moves every
// endpoint to a new port set; the create of the new slice becomes an
// update of the old one (same name).
func TestSyncPortsChangeUpdatesInPlace(t *testing.T) {
	f := controllertest.New(t, service("web", httpPort), node("node-1", ""), pod("a", "10.244.1.2", true))
	ctl := newController(f, Options{})
	f.MustSync(ctl.sync, "default/web")
	catchUp(t, f)
	name := stored(t, f)[0].Name
	svc := service("web", corev1.ServicePort{Name: "http", Port: 80, TargetPort: intstr.FromInt32(9090), Protocol: corev1.ProtocolTCP})
	f.SeedCache(svc)
	f.ClearActions()
	f.MustSync(ctl.sync, "default/web")
	f.ExpectActions(act("update", name))
	if s := stored(t, f); len(s) != 1 || *s[0].Ports[0].Port != 9090 || len(s[0].Endpoints) != 1 {
		t.Errorf("slices %+v", s)
	}
}

// TestSyncSliceOfOldService: a slice owned by an older Service of the
// same name is deleted and a new one created.
func TestSyncSliceOfOldService(t *testing.T) {
	f := controllertest.New(t, service("web", httpPort), node("node-1", ""), pod("a", "10.244.1.2", true))
	ctl := newController(f, Options{})
	f.MustSync(ctl.sync, "default/web")
	catchUp(t, f)
	old := stored(t, f)[0]
	renewed := service("web", httpPort)
	renewed.UID = "svc-web-2"
	f.SeedCache(renewed)
	f.ClearActions()
	f.MustSync(ctl.sync, "default/web")
	f.ExpectActions(act("create", "web-"), act("delete", old.Name))
}

// TestSyncDualStack: one slice per IP family, each with the pod's address
// of that family.
func TestSyncDualStack(t *testing.T) {
	svc := service("web", httpPort)
	svc.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv6Protocol, corev1.IPv4Protocol}
	a := pod("a", "10.244.1.2", true)
	a.Status.PodIPs = append(a.Status.PodIPs, corev1.PodIP{IP: "fd00::2"})
	f := controllertest.New(t, svc, node("node-1", ""), a)
	ctl := newController(f, Options{})
	f.MustSync(ctl.sync, "default/web")
	got := map[discoveryv1.AddressType][]string{}
	for _, s := range stored(t, f) {
		for _, ep := range s.Endpoints {
			got[s.AddressType] = append(got[s.AddressType], ep.Addresses...)
		}
	}
	if !slices.Equal(got[discoveryv1.AddressTypeIPv4], []string{"10.244.1.2"}) || !slices.Equal(got[discoveryv1.AddressTypeIPv6], []string{"fd00::2"}) {
		t.Errorf("addresses %v", got)
	}
}

// TestSyncHeadless: the headless label, hostnames of pods in the Service's
// subdomain, and no ports.
func TestSyncHeadless(t *testing.T) {
	svc := service("web")
	svc.Spec.ClusterIP = corev1.ClusterIPNone
	a := pod("a", "10.244.1.2", true)
	a.Spec.Hostname, a.Spec.Subdomain = "web-0", "web"
	f := controllertest.New(t, svc, node("node-1", ""), a)
	ctl := newController(f, Options{})
	f.MustSync(ctl.sync, "default/web")
	s := stored(t, f)[0]
	if _, ok := s.Labels[corev1.IsHeadlessService]; !ok || len(s.Ports) != 0 || len(s.Endpoints) != 1 || ptr.Deref(s.Endpoints[0].Hostname, "") != "web-0" {
		t.Errorf("slice %+v", s)
	}
}

// TestSyncServiceGone: the slices a deleted Service owned are deleted;
// orphaned ones (no owner) stay; ExternalName Services and Services
// without a selector get nothing.
func TestSyncServiceGone(t *testing.T) {
	f := controllertest.New(t, service("web", httpPort), node("node-1", ""), pod("a", "10.244.1.2", true))
	ctl := newController(f, Options{})
	f.MustSync(ctl.sync, "default/web")
	catchUp(t, f)
	owned := stored(t, f)[0]
	orphan := owned.DeepCopy()
	orphan.Name, orphan.UID, orphan.OwnerReferences = "web-orphan", "orphan", nil
	f.Seed(orphan)
	if err := f.Informers.Core().V1().Services().Informer().GetIndexer().Delete(service("web")); err != nil {
		t.Fatal(err)
	}
	ext := service("ext")
	ext.Spec.Type = corev1.ServiceTypeExternalName
	manual := service("manual")
	manual.Spec.Selector = nil
	f.SeedCache(ext, manual)
	f.ClearActions()
	f.MustSync(ctl.sync, "default/web")
	f.MustSync(ctl.sync, "default/ext")
	f.MustSync(ctl.sync, "default/manual")
	f.ExpectActions(act("delete", owned.Name))
}

// TestSyncUnknownNode: a pod on a node the cache does not know is left out
// and the sync fails (to be retried), after writing the rest; upstream's
// warning event names the Service.
func TestSyncUnknownNode(t *testing.T) {
	lost := pod("lost", "10.244.2.2", true)
	lost.Spec.NodeName = "node-9"
	f := controllertest.New(t, service("web", httpPort), node("node-1", ""), pod("a", "10.244.1.2", true), lost)
	rec := record.NewFakeRecorder(10)
	ctl := newController(f, Options{Recorder: rec})
	err := f.Sync(ctl.sync, "default/web")
	if err == nil || !strings.Contains(err.Error(), "Node node-9 Not Found") {
		t.Errorf("sync: %v", err)
	}
	f.ExpectActions(act("create", "web-"))
	if s := stored(t, f); len(s) != 1 || !slices.Equal(podNames(s[0]), []string{"a"}) {
		t.Errorf("slices %+v", s)
	}
	if ev := <-rec.Events; !strings.HasPrefix(ev, "Warning FailedToUpdateEndpointSlices Error updating Endpoint Slices for Service default/web:") {
		t.Errorf("event %q", ev)
	}
}

// TestSyncStaleCache: a slice the controller created that the cache has
// not seen yet makes the next sync fail instead of creating another.
func TestSyncStaleCache(t *testing.T) {
	f := controllertest.New(t, service("web", httpPort), node("node-1", ""), pod("a", "10.244.1.2", true))
	ctl := newController(f, Options{})
	f.MustSync(ctl.sync, "default/web")
	if err := f.Sync(ctl.sync, "default/web"); !errors.Is(err, ErrStaleCache) {
		t.Errorf("second sync: %v, want ErrStaleCache", err)
	}
	f.ExpectActions(act("create", "web-"))
}

// TestSyncTerminatingNamespace: a create refused because the namespace is
// terminating ends the sync without an error.
func TestSyncTerminatingNamespace(t *testing.T) {
	f := controllertest.New(t, service("web", httpPort), node("node-1", ""), pod("a", "10.244.1.2", true))
	f.Client.PrependReactor("create", "endpointslices", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: 403, Reason: metav1.StatusReasonForbidden,
			Details: &metav1.StatusDetails{Causes: []metav1.StatusCause{{Type: corev1.NamespaceTerminatingCause}}}}}
	})
	ctl := newController(f, Options{})
	f.MustSync(ctl.sync, "default/web")
}

// TestSliceEvents: the controller's own writes coming back do not enqueue
// the Service; someone else's changes and deletions do, after a second.
func TestSliceEvents(t *testing.T) {
	f := controllertest.New(t, service("web", httpPort), node("node-1", ""), pod("a", "10.244.1.2", true))
	ctl := newController(f, Options{})
	f.MustSync(ctl.sync, "default/web")
	mine := stored(t, f)[0]
	ctl.onSliceAdd(mine)
	if st := ctl.Stats(); st.Adds != 0 {
		t.Fatalf("own create enqueued: %+v", st)
	}
	edited := mine.DeepCopy()
	edited.Generation = 1
	ctl.onSliceUpdate(mine, edited)
	ctl.onSliceDelete(mine)
	foreign := mine.DeepCopy()
	foreign.Labels[discoveryv1.LabelManagedBy] = "someone-else"
	ctl.onSliceAdd(foreign)
	if st := ctl.Stats(); st.Adds != 2 || st.Depth != 0 {
		t.Fatalf("stats %+v, want 2 delayed adds", st)
	}
	f.Clock.Step(time.Second)
	for range 100 {
		if ctl.Stats().Depth == 1 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("depth %d after a second", ctl.Stats().Depth)
}

// TestSyncServiceLabelsFollowed: a change of the Service's own labels
// rewrites each slice's labels (reserved ones kept); a reserved label on
// the Service is not copied.
func TestSyncServiceLabelsFollowed(t *testing.T) {
	f := controllertest.New(t, service("web", httpPort), node("node-1", ""), pod("a", "10.244.1.2", true))
	ctl := newController(f, Options{})
	f.MustSync(ctl.sync, "default/web")
	catchUp(t, f)
	name := stored(t, f)[0].Name
	relabelled := service("web", httpPort)
	relabelled.Labels = map[string]string{"tier": "back", discoveryv1.LabelManagedBy: "me"}
	f.SeedCache(relabelled)
	f.ClearActions()
	f.MustSync(ctl.sync, "default/web")
	f.ExpectActions(act("update", name))
	want := map[string]string{"tier": "back", discoveryv1.LabelServiceName: "web", discoveryv1.LabelManagedBy: ControllerName}
	if got := stored(t, f)[0].Labels; !maps.Equal(got, want) {
		t.Errorf("labels %v, want %v", got, want)
	}
}
