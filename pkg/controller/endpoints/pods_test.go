package endpoints

import (
	"fmt"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/tools/cache"

	"github.com/kinc-dev/kinc/pkg/controller/controllertest"
)

// TestServicesForPodChange: which Services a pod's change concerns, as
// upstream decides.
func TestServicesForPodChange(t *testing.T) {
	web := service("web", map[string]string{"app": "web"})
	all := service("all", map[string]string{})
	db := service("db", map[string]string{"app": "db"})
	manual := service("manual", nil)
	f := controllertest.New(t, web, all, db, manual)
	lister := f.Informers.Core().V1().Services().Lister()

	base := pod("a", "10.244.1.2", true)
	with := func(change func(p *corev1.Pod)) *corev1.Pod {
		p := base.DeepCopy()
		p.ResourceVersion = "2"
		change(p)
		return p
	}
	for _, tc := range []struct {
		name     string
		old, new *corev1.Pod
		want     []string
	}{
		{"added", nil, base, []string{"default/all", "default/web"}},
		{"deleted", base, nil, []string{"default/all", "default/web"}},
		{"resync", base, base.DeepCopy(), nil},
		{"annotation only", base, with(func(p *corev1.Pod) { p.Annotations = map[string]string{"x": "y"} }), nil},
		{"not ready", base, with(func(p *corev1.Pod) { p.Status.Conditions[0].Status = corev1.ConditionFalse }), []string{"default/all", "default/web"}},
		{"new IP", base, with(func(p *corev1.Pod) { p.Status.PodIPs = []corev1.PodIP{{IP: "10.244.1.9"}} }), []string{"default/all", "default/web"}},
		{"terminating", base, with(func(p *corev1.Pod) { p.DeletionTimestamp = &metav1.Time{Time: controllertest.Epoch()} }), []string{"default/all", "default/web"}},
		{"relabelled", base, with(func(p *corev1.Pod) { p.Labels = map[string]string{"app": "db"} }), []string{"default/db", "default/web"}},
		{"relabelled and not ready", base, with(func(p *corev1.Pod) {
			p.Labels = map[string]string{"app": "db"}
			p.Status.Conditions[0].Status = corev1.ConditionFalse
		}), []string{"default/all", "default/db", "default/web"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ServicesForPodChange(lister, tc.old, tc.new)
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// TestPodEventsAreBatched: a pod change enqueues its Services after the
// batch period, on the loop's clock.
func TestPodEventsAreBatched(t *testing.T) {
	f := controllertest.New(t, service("web", map[string]string{"app": "web"}))
	ctl := newController(f, Options{BatchPeriod: 5 * time.Second})
	h := PodHandler(f.Informers.Core().V1().Services().Lister(), func(k string) { ctl.EnqueueKeyAfter(k, 5*time.Second) }, f.Logger)
	h.OnAdd(pod("a", "10.244.1.2", true), false)
	h.OnDelete(cache.DeletedFinalStateUnknown{Key: "default/b", Obj: pod("b", "10.244.1.3", true)})
	if d := ctl.Stats().Depth; d != 0 {
		t.Fatalf("depth %d before the batch period", d)
	}
	f.Clock.Step(5 * time.Second)
	for range 100 {
		if ctl.Stats().Depth == 1 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("depth %d after the batch period, want the service once", ctl.Stats().Depth)
}

// TestFindPort: numbers as they are, names among containers and sidecars
// with the Service port's protocol.
func TestFindPort(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	p := pod("a", "10.244.1.2", true)
	p.Spec.InitContainers = []corev1.Container{
		{Name: "init", Ports: []corev1.ContainerPort{{Name: "init", ContainerPort: 1, Protocol: corev1.ProtocolTCP}}},
		{Name: "sidecar", RestartPolicy: &always, Ports: []corev1.ContainerPort{{Name: "proxy", ContainerPort: 15001, Protocol: corev1.ProtocolTCP}}},
	}
	for _, tc := range []struct {
		port corev1.ServicePort
		want int32
		ok   bool
	}{
		{tcpPort("", 80, intstr.FromInt32(9376)), 9376, true},
		{tcpPort("", 80, intstr.FromString("http")), 8080, true},
		{tcpPort("", 80, intstr.FromString("proxy")), 15001, true},
		{tcpPort("", 80, intstr.FromString("init")), 0, false},
		{corev1.ServicePort{TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolUDP}, 0, false},
	} {
		got, err := FindPort(p, &tc.port)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("%v: %d, %v", tc.port.TargetPort, got, err)
		}
	}
}

// TestRepackSubsets: addresses offering the same ports share a subset; an
// address not ready anywhere on a port is not ready on it.
func TestRepackSubsets(t *testing.T) {
	a, b := addr(pod("a", "10.0.0.1", true)), addr(pod("b", "10.0.0.2", true))
	p80 := corev1.EndpointPort{Name: "a", Port: 80, Protocol: corev1.ProtocolTCP}
	p81 := corev1.EndpointPort{Name: "b", Port: 81, Protocol: corev1.ProtocolTCP}
	got := RepackSubsets([]corev1.EndpointSubset{
		{Addresses: []corev1.EndpointAddress{b}, Ports: []corev1.EndpointPort{p81}},
		{Addresses: []corev1.EndpointAddress{a}, Ports: []corev1.EndpointPort{p80}},
		{Addresses: []corev1.EndpointAddress{a}, Ports: []corev1.EndpointPort{p81}},
		{Addresses: []corev1.EndpointAddress{b}, Ports: []corev1.EndpointPort{p80}},
		{NotReadyAddresses: []corev1.EndpointAddress{a}, Ports: []corev1.EndpointPort{p81}},
	})
	want := []corev1.EndpointSubset{
		{Addresses: []corev1.EndpointAddress{a, b}, Ports: []corev1.EndpointPort{p80}},
		{Addresses: []corev1.EndpointAddress{b}, NotReadyAddresses: []corev1.EndpointAddress{a}, Ports: []corev1.EndpointPort{p81}},
	}
	if !subsetsEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

// TestTruncate: not ready addresses are cut first, shared in proportion
// among subsets.
func TestTruncate(t *testing.T) {
	addrs := func(n int, prefix string) []corev1.EndpointAddress {
		out := make([]corev1.EndpointAddress, n)
		for i := range out {
			out[i] = corev1.EndpointAddress{IP: fmt.Sprintf("%s.%d.%d", prefix, i/250, i%250)}
		}
		return out
	}
	subsets := []corev1.EndpointSubset{
		{Addresses: addrs(600, "10.1"), NotReadyAddresses: addrs(300, "10.2")},
		{Addresses: addrs(200, "10.3"), NotReadyAddresses: addrs(100, "10.4")},
	}
	got, cut := truncate(subsets)
	if !cut {
		t.Fatal("not truncated")
	}
	// 200 not ready addresses fit, 3/4 of them in the first subset.
	if len(got[0].Addresses) != 600 || len(got[0].NotReadyAddresses) != 150 || len(got[1].Addresses) != 200 || len(got[1].NotReadyAddresses) != 50 {
		t.Errorf("kept %d+%d and %d+%d", len(got[0].Addresses), len(got[0].NotReadyAddresses), len(got[1].Addresses), len(got[1].NotReadyAddresses))
	}
}

// TestPodIPs: one family at a time, canonical forms, podIP when podIPs is
// empty.
func TestPodIPs(t *testing.T) {
	p := pod("a", "", true)
	p.Status.PodIPs = []corev1.PodIP{{IP: "010.244.001.002"}, {IP: "FD00::0002"}}
	if v4, v6 := PodIPs(p, false), PodIPs(p, true); !slices.Equal(v4, []string{"10.244.1.2"}) || !slices.Equal(v6, []string{"fd00::2"}) {
		t.Errorf("v4 %v v6 %v", v4, v6)
	}
	p.Status.PodIPs, p.Status.PodIP = nil, "10.244.1.3"
	if v4 := PodIPs(p, false); !slices.Equal(v4, []string{"10.244.1.3"}) {
		t.Errorf("from podIP: %v", v4)
	}
}
