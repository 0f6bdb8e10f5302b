package service

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// memStore is an in-memory registry.Store serving Get and, for
// EndpointSlices, List with a label selector.
type memStore struct {
	registry.Store
	resource string
	objects  []runtime.Object
}

func (m memStore) Get(_ context.Context, ns, name string, _ *metav1.GetOptions) (runtime.Object, error) {
	for _, o := range m.objects {
		if meta := o.(metav1.Object); meta.GetNamespace() == ns && meta.GetName() == name {
			return o.DeepCopyObject(), nil
		}
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: m.resource}, name)
}

func (m memStore) List(_ context.Context, ns string, opts *metav1.ListOptions) (runtime.Object, error) {
	sel, err := labels.Parse(opts.LabelSelector)
	if err != nil {
		return nil, err
	}
	list := &discoveryv1.EndpointSliceList{}
	for _, o := range m.objects {
		s := o.(*discoveryv1.EndpointSlice)
		if s.Namespace == ns && sel.Matches(labels.Set(s.Labels)) {
			list.Items = append(list.Items, *s.DeepCopy())
		}
	}
	return list, nil
}

func slice(name, svc string, ports map[string]int32, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: discoveryv1.AddressTypeIPv4, Endpoints: eps}
	for n, p := range ports {
		s.Ports = append(s.Ports, discoveryv1.EndpointPort{Name: ptr.To(n), Port: ptr.To(p)})
	}
	return s
}

func endpoint(ip, pod string, ready *bool) discoveryv1.Endpoint {
	ep := discoveryv1.Endpoint{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: ready}}
	if pod != "" {
		ep.TargetRef = &corev1.ObjectReference{Kind: "Pod", Namespace: "ns", Name: pod}
	}
	return ep
}

func TestProxyEndpointsLocation(t *testing.T) {
	t.Parallel()
	pod := func(name, ip string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"}, Status: corev1.PodStatus{PodIPs: []corev1.PodIP{{IP: ip}}}}
	}
	services := memStore{resource: "services", objects: []runtime.Object{
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{
			{Name: "http", Port: 80}, {Name: "https", Port: 443}}}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "single", Namespace: "ns"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}},
	}}
	e := Endpoints{
		Slices: func() registry.Store {
			return memStore{resource: "endpointslices", objects: []runtime.Object{
				slice("web-1", "web", map[string]int32{"http": 8080, "https": 8443}, endpoint("10.0.0.1", "a", ptr.To(false)), endpoint("10.0.0.2", "b", nil)),
				slice("single-1", "single", map[string]int32{"": 9000}, endpoint("10.0.0.3", "c", ptr.To(true))),
				slice("notpods-1", "notpods", map[string]int32{"": 80}, endpoint("10.0.0.9", "", ptr.To(true)), endpoint("10.0.0.8", "gone", ptr.To(true))),
				slice("stale-1", "stale", map[string]int32{"": 80}, endpoint("10.0.0.7", "b", ptr.To(true))),
			}}
		},
		Pods: func() registry.Store {
			return memStore{resource: "pods", objects: []runtime.Object{pod("a", "10.0.0.1"), pod("b", "10.0.0.2"), pod("c", "10.0.0.3")}}
		},
	}
	for _, tc := range []struct {
		id, want string
		code     int32
	}{
		{"web:http", "//10.0.0.2:8080", 0},
		{"web:80", "//10.0.0.2:8080", 0},
		{"https:web:443", "https://10.0.0.2:8443", 0},
		{"https:web:https", "https://10.0.0.2:8443", 0},
		{"single", "//10.0.0.3:9000", 0},
		{"single:80", "//10.0.0.3:9000", 0},
		{"web", `no endpoints available for service "web"`, 503},
		{"web:8080", `no service port 8080 found for service "web"`, 503},
		{"missing:80", `services "missing" not found`, 404},
		{"missing", `no endpoints available for service "missing"`, 503},
		{"notpods", `no endpoints available for service "notpods"`, 503},
		{"stale", `no endpoints available for service "stale"`, 503},
		{"ftp:web:21", `invalid service request "ftp:web:21"`, 400},
	} {
		loc, err := e.Location(context.Background(), services, "ns", tc.id)
		if tc.code == 0 {
			if err != nil || loc.String() != tc.want {
				t.Errorf("%s: %v, %v; want %s", tc.id, loc, err, tc.want)
			}
			continue
		}
		status, ok := err.(apierrors.APIStatus)
		if !ok || status.Status().Code != tc.code || err.Error() != tc.want {
			t.Errorf("%s: %v, %v; want %d %q", tc.id, loc, err, tc.code, tc.want)
		}
	}
}
