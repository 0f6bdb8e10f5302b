package endpoints_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"

	"github.com/kinc-dev/kinc/pkg/controller/controllertest/integration"
	"github.com/kinc-dev/kinc/pkg/controller/endpoints"
)

// TestIntegrationEndpoints runs the controller against a real
// kube-apiserver on etcd, with the test playing the kubelet (pod IPs and
// Ready conditions set through the status subresource): a Service's
// Endpoints list its ready pod in addresses and the other in
// notReadyAddresses, follow readiness, drop a pod being deleted, and go
// with the Service; a Service without a selector keeps its hand-written
// Endpoints.
func TestIntegrationEndpoints(t *testing.T) {
	_, client := integration.Start(t)
	ctx := t.Context()

	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web", Labels: map[string]string{"tier": "front"}},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}}},
	}
	if _, err := client.CoreV1().Services("default").Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	manual := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "manual"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}
	if _, err := client.CoreV1().Services("default").Create(ctx, manual, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	manualEP := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "manual"},
		Subsets: []corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{{IP: "192.0.2.10"}}, Ports: []corev1.EndpointPort{{Port: 80}}}}}
	if _, err := client.CoreV1().Endpoints("default").Create(ctx, manualEP, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	runPod(ctx, t, client, "a", "10.244.1.2", true)
	runPod(ctx, t, client, "b", "10.244.1.3", false)

	factory := informers.NewSharedInformerFactory(client, 0)
	core := factory.Core().V1()
	c := endpoints.New(client, core.Pods(), core.Services(), core.Endpoints(),
		endpoints.Options{Logger: integration.Logger(t)})
	integration.Run(ctx, t, factory, func(ctx context.Context) error { return c.Run(ctx, endpoints.DefaultConcurrentSyncs) })

	ep := waitEndpoints(ctx, t, client, "a ready, b not ready", func(ep *corev1.Endpoints) bool {
		return sameIPs(ep, []string{"10.244.1.2"}, []string{"10.244.1.3"})
	})
	if ep.Labels["tier"] != "front" || ep.Labels[endpoints.LabelManagedBy] != endpoints.ControllerName ||
		ep.Annotations[corev1.EndpointsLastChangeTriggerTime] == "" {
		t.Errorf("labels %v annotations %v", ep.Labels, ep.Annotations)
	}
	if p := ep.Subsets[0].Ports; len(p) != 1 || p[0].Port != 8080 || p[0].Name != "http" || p[0].Protocol != corev1.ProtocolTCP {
		t.Errorf("ports %+v", p)
	}
	if a := ep.Subsets[0].Addresses[0]; a.NodeName == nil || *a.NodeName != "node-1" || a.TargetRef == nil || a.TargetRef.Name != "a" {
		t.Errorf("address %+v", a)
	}

	setReady(ctx, t, client, "b", true)
	waitEndpoints(ctx, t, client, "both ready", func(ep *corev1.Endpoints) bool {
		return sameIPs(ep, []string{"10.244.1.2", "10.244.1.3"}, nil)
	})

	// Deleted with a grace period: terminating (no kubelet finishes it),
	// so out of the Endpoints.
	if err := client.CoreV1().Pods("default").Delete(ctx, "a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitEndpoints(ctx, t, client, "a gone", func(ep *corev1.Endpoints) bool {
		return sameIPs(ep, []string{"10.244.1.3"}, nil)
	})

	if err := client.CoreV1().Services("default").Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 20*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := client.CoreV1().Endpoints("default").Get(ctx, "web", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	}); err != nil {
		t.Fatal("the Endpoints of the deleted Service remain")
	}
	got, err := client.CoreV1().Endpoints("default").Get(ctx, "manual", metav1.GetOptions{})
	if err != nil || len(got.Subsets) != 1 || got.Subsets[0].Addresses[0].IP != "192.0.2.10" || got.Labels[endpoints.LabelManagedBy] != "" {
		t.Errorf("hand-written endpoints: %+v, %v", got, err)
	}
	if st := c.Stats(); st.Drops != 0 {
		t.Errorf("stats %+v", st)
	}
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

// sameIPs reports whether ep lists exactly ready and notReady (sorted).
func sameIPs(ep *corev1.Endpoints, ready, notReady []string) bool {
	var r, n []string
	for _, ss := range ep.Subsets {
		for _, a := range ss.Addresses {
			r = append(r, a.IP)
		}
		for _, a := range ss.NotReadyAddresses {
			n = append(n, a.IP)
		}
	}
	slices.Sort(r)
	slices.Sort(n)
	return slices.Equal(r, ready) && slices.Equal(n, notReady)
}

// waitEndpoints waits until the Endpoints "web" satisfy ok and returns
// them.
func waitEndpoints(ctx context.Context, t *testing.T, client kubernetes.Interface, what string, ok func(*corev1.Endpoints) bool) *corev1.Endpoints {
	t.Helper()
	var last *corev1.Endpoints
	if err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 20*time.Second, true, func(ctx context.Context) (bool, error) {
		ep, err := client.CoreV1().Endpoints("default").Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		last = ep
		return ok(ep), nil
	}); err != nil {
		t.Fatalf("endpoints web never got %s; last: %s", what, describe(last))
	}
	return last
}

func describe(ep *corev1.Endpoints) string {
	if ep == nil {
		return "none"
	}
	return fmt.Sprintf("%+v", ep.Subsets)
}
