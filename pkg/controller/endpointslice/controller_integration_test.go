package endpointslice_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/controller/controllertest/integration"
	"github.com/kinc-dev/kinc/pkg/controller/endpointslice"
)

// TestIntegrationEndpointSlices runs the controller against a real
// kube-apiserver on etcd, with the test playing the kubelet (pod IPs and
// Ready conditions set through the status subresource): a Service gets
// one slice "web-…" owned by it, whose endpoints follow the pods'
// readiness, show a pod being deleted as terminating, and that goes with
// the Service.
func TestIntegrationEndpointSlices(t *testing.T) {
	_, client := integration.Start(t) // protobuf, as the controller manager's clients
	ctx := t.Context()

	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1", Labels: map[string]string{corev1.LabelTopologyZone: "zone-a"}}}
	if _, err := client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web", Labels: map[string]string{"tier": "front"}},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}}},
	}
	svc, err := client.CoreV1().Services("default").Create(ctx, svc, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	runPod(ctx, t, client, "a", "10.244.1.2", true)
	runPod(ctx, t, client, "b", "10.244.1.3", false)

	factory := informers.NewSharedInformerFactory(client, 0)
	core := factory.Core().V1()
	c := endpointslice.New(client, core.Pods(), core.Services(), core.Nodes(), factory.Discovery().V1().EndpointSlices(),
		endpointslice.Options{Logger: integration.Logger(t)})
	integration.Run(ctx, t, factory, func(ctx context.Context) error { return c.Run(ctx, endpointslice.DefaultConcurrentSyncs) })

	// ready, serving, terminating per pod.
	s := waitSlice(ctx, t, client, "a ready, b not", map[string][3]bool{"a": {true, true, false}, "b": {false, false, false}})
	if !strings.HasPrefix(s.Name, "web-") || s.AddressType != discoveryv1.AddressTypeIPv4 ||
		s.Labels["tier"] != "front" || s.Labels[discoveryv1.LabelManagedBy] != endpointslice.ControllerName {
		t.Errorf("slice %s: address type %s, labels %v", s.Name, s.AddressType, s.Labels)
	}
	if len(s.OwnerReferences) != 1 || s.OwnerReferences[0].UID != svc.UID || !ptr.Deref(s.OwnerReferences[0].Controller, false) {
		t.Errorf("owners %+v", s.OwnerReferences)
	}
	if len(s.Ports) != 1 || ptr.Deref(s.Ports[0].Port, 0) != 8080 || ptr.Deref(s.Ports[0].Name, "") != "http" {
		t.Errorf("ports %+v", s.Ports)
	}
	for _, ep := range s.Endpoints {
		if ptr.Deref(ep.NodeName, "") != "node-1" || ptr.Deref(ep.Zone, "") != "zone-a" {
			t.Errorf("endpoint %s: node %v zone %v", ep.TargetRef.Name, ep.NodeName, ep.Zone)
		}
	}
	if s.Annotations[corev1.EndpointsLastChangeTriggerTime] == "" {
		t.Errorf("annotations %v", s.Annotations)
	}

	setReady(ctx, t, client, "b", true)
	waitSlice(ctx, t, client, "both ready", map[string][3]bool{"a": {true, true, false}, "b": {true, true, false}})

	// Deleted with a grace period: terminating (no kubelet finishes it).
	if err := client.CoreV1().Pods("default").Delete(ctx, "a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitSlice(ctx, t, client, "a terminating", map[string][3]bool{"a": {false, true, true}, "b": {true, true, false}})
	// Gone for good.
	if err := client.CoreV1().Pods("default").Delete(ctx, "a", metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err != nil {
		t.Fatal(err)
	}
	waitSlice(ctx, t, client, "a gone", map[string][3]bool{"b": {true, true, false}})

	if err := client.CoreV1().Services("default").Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 20*time.Second, true, func(ctx context.Context) (bool, error) {
		list, err := client.DiscoveryV1().EndpointSlices("default").List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=web"})
		return err == nil && len(list.Items) == 0, nil
	}); err != nil {
		t.Fatal("the slices of the deleted Service remain")
	}
	if st := c.Stats(); st.Drops != 0 {
		t.Errorf("stats %+v", st)
	}
}

// waitSlice waits until the Service "web" has exactly one slice whose
// endpoints are want (pod → ready, serving, terminating), and returns it.
func waitSlice(ctx context.Context, t *testing.T, client kubernetes.Interface, what string, want map[string][3]bool) *discoveryv1.EndpointSlice {
	t.Helper()
	var last []discoveryv1.EndpointSlice
	if err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 20*time.Second, true, func(ctx context.Context) (bool, error) {
		list, err := client.DiscoveryV1().EndpointSlices("default").List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=web"})
		if err != nil {
			return false, nil
		}
		last = list.Items
		if len(list.Items) != 1 || len(list.Items[0].Endpoints) != len(want) {
			return false, nil
		}
		for _, ep := range list.Items[0].Endpoints {
			w, ok := want[ep.TargetRef.Name]
			got := [3]bool{ptr.Deref(ep.Conditions.Ready, false), ptr.Deref(ep.Conditions.Serving, false), ptr.Deref(ep.Conditions.Terminating, false)}
			if !ok || got != w {
				return false, nil
			}
		}
		return true, nil
	}); err != nil {
		t.Fatalf("slices of web never got %s; last: %s", what, describe(last))
	}
	return &last[0]
}

func describe(list []discoveryv1.EndpointSlice) string {
	var parts []string
	for _, s := range list {
		var eps []string
		for _, ep := range s.Endpoints {
			eps = append(eps, fmt.Sprintf("%s%v r=%v s=%v t=%v", ep.TargetRef.Name, ep.Addresses,
				ptr.Deref(ep.Conditions.Ready, false), ptr.Deref(ep.Conditions.Serving, false), ptr.Deref(ep.Conditions.Terminating, false)))
		}
		slices.Sort(eps)
		parts = append(parts, s.Name+": "+strings.Join(eps, ", "))
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

// runPod creates a pod of app=web bound to node-1 with a container port
// "http" 8080, then sets its status as the kubelet would: Running, ip,
// Ready as ready.
func runPod(ctx context.Context, t *testing.T, client kubernetes.Interface, name, ip string, ready bool) {
	t.Helper()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: "c", Image: "pause",
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}}},
	}
	pod, err := client.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	integration.MarkRunning(ctx, t, client, pod, ip, ready)
}

func setReady(ctx context.Context, t *testing.T, client kubernetes.Interface, name string, ready bool) {
	t.Helper()
	pod, err := client.CoreV1().Pods("default").Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	integration.MarkRunning(ctx, t, client, pod, "", ready)
}
