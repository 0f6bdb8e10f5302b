package endpointslice_test

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
)

// TestIntegrationEndpointSlices creates, reads, lists (by the service-name
// label, as kube-proxy does) and updates an EndpointSlice through
// client-go against the real apiserver on etcd; an addressType change and a
// loopback address get 422s with upstream's messages.
func TestIntegrationEndpointSlices(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts etcd and kube-apiserver")
	}
	inst := apiservertest.Start(t, apiservertest.Options{})
	client := inst.Client(t)
	slices := client.DiscoveryV1().EndpointSlices("default")
	ctx := context.Background()
	checkServed(t, client.Discovery())

	s := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: "web-x7k2p", Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.244.1.2"},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}, NodeName: ptr.To("kinc-worker")}},
		Ports: []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](8080)}},
	}
	created, err := slices.Create(ctx, s, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if created.Generation != 1 || ptr.Deref(created.Ports[0].Protocol, "") != corev1.ProtocolTCP {
		t.Errorf("generation %d, ports %+v", created.Generation, created.Ports)
	}
	if _, err := slices.Get(ctx, s.Name, metav1.GetOptions{}); err != nil {
		t.Fatalf("get: %v", err)
	}
	list, err := slices.List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=web"})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("list: %v, %d items", err, len(list.Items))
	}

	created.Endpoints[0].Conditions.Ready = ptr.To(false)
	updated, err := slices.Update(ctx, created, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if updated.Generation != 2 || ptr.Deref(updated.Endpoints[0].Conditions.Ready, true) {
		t.Errorf("after update: generation %d, conditions %+v", updated.Generation, updated.Endpoints[0].Conditions)
	}

	changed := updated.DeepCopy()
	changed.AddressType = discoveryv1.AddressTypeFQDN
	changed.Endpoints[0].Addresses = []string{"web.example.com"}
	_, err = slices.Update(ctx, changed, metav1.UpdateOptions{})
	expectInvalid(t, err, `addressType: Invalid value: "FQDN": field is immutable`)

	bad := s.DeepCopy()
	bad.Name = "bad"
	bad.Endpoints[0].Addresses = []string{"127.0.0.1"}
	_, err = slices.Create(ctx, bad, metav1.CreateOptions{})
	expectInvalid(t, err, `endpoints[0].addresses[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)`)
}

// checkServed checks that the discovery.k8s.io group is in discovery
// (aggregated and legacy) and in OpenAPI v2 and v3.
func checkServed(t *testing.T, d discovery.DiscoveryInterface) {
	t.Helper()
	groups, err := d.ServerGroups() // aggregated discovery
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, g := range groups.Groups {
		found = found || g.Name == discoveryv1.GroupName && g.PreferredVersion.Version == "v1"
	}
	if !found {
		t.Errorf("discovery.k8s.io/v1 not among the groups %v", groups.Groups)
	}
	legacy := discovery.NewDiscoveryClient(d.RESTClient())
	legacy.UseLegacyDiscovery = true
	rl, err := legacy.ServerResourcesForGroupVersion("discovery.k8s.io/v1")
	if err != nil || len(rl.APIResources) != 1 || rl.APIResources[0].Name != "endpointslices" {
		t.Errorf("legacy discovery of discovery.k8s.io/v1: %v, %+v", err, rl)
	}
	doc, err := d.OpenAPISchema()
	if err != nil {
		t.Fatal(err)
	}
	found = false
	for _, def := range doc.GetDefinitions().GetAdditionalProperties() {
		found = found || def.GetName() == "io.k8s.api.discovery.v1.EndpointSlice"
	}
	if !found {
		t.Error("OpenAPI v2 lacks io.k8s.api.discovery.v1.EndpointSlice")
	}
	paths, err := d.OpenAPIV3().Paths()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := paths["apis/discovery.k8s.io/v1"]; !ok {
		t.Errorf("OpenAPI v3 lacks apis/discovery.k8s.io/v1: %v", paths)
	}
}

func expectInvalid(t *testing.T, err error, want string) {
	t.Helper()
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want 422 with %q", err, want)
	}
}
