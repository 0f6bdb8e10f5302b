package server_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
)

func newPod(ns, name string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app": "semantics"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "busybox:1.36"}}}}
}

// TestIntegrationSemantics checks the API behaviour clients rely on beyond
// CRUD: binding, status, graceful deletion, namespaces, dry run and
// deletecollection, through client-go.
func TestIntegrationSemantics(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd and kube-apiserver")
	}
	inst := apiservertest.Start(t, apiservertest.Options{})
	cs, err := kubernetes.NewForConfig(inst.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ns := "semantics"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	t.Run("defaults and generateName", func(t *testing.T) {
		p := newPod(ns, "")
		p.GenerateName = "gen-"
		got, err := cs.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Name) != len("gen-")+5 || got.UID == "" || got.CreationTimestamp.IsZero() || got.ResourceVersion == "" {
			t.Errorf("system metadata not filled: %+v", got.ObjectMeta)
		}
		if got.Spec.RestartPolicy != corev1.RestartPolicyAlways || got.Spec.SchedulerName != "default-scheduler" ||
			got.Status.Phase != corev1.PodPending || got.Status.QOSClass != corev1.PodQOSBestEffort || len(got.Spec.Tolerations) != 2 {
			t.Errorf("defaults not applied: %+v / %+v", got.Spec, got.Status)
		}
	})

	t.Run("binding", func(t *testing.T) {
		p, err := cs.CoreV1().Pods(ns).Create(ctx, newPod(ns, "bind-me"), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		b := &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: p.Name, UID: p.UID}, Target: corev1.ObjectReference{Kind: "Node", Name: "node-1"}}
		if err := cs.CoreV1().Pods(ns).Bind(ctx, b, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		got, _ := cs.CoreV1().Pods(ns).Get(ctx, p.Name, metav1.GetOptions{})
		if got.Spec.NodeName != "node-1" || !hasCondition(got, corev1.PodScheduled) {
			t.Errorf("binding not applied: node %q conditions %v", got.Spec.NodeName, got.Status.Conditions)
		}
		b.Target.Name = "node-2"
		if err := cs.CoreV1().Pods(ns).Bind(ctx, b, metav1.CreateOptions{}); !apierrors.IsConflict(err) {
			t.Errorf("second binding: want 409 Conflict, got %v", err)
		}
	})

	t.Run("status subresource keeps spec, update keeps status", func(t *testing.T) {
		p, err := cs.CoreV1().Pods(ns).Create(ctx, newPod(ns, "status"), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		p.Status.Phase = corev1.PodRunning
		p.Status.PodIP = "10.244.0.5"
		p.Spec.ActiveDeadlineSeconds = ptr.To[int64](5) // ignored by /status
		got, err := cs.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Status.Phase != corev1.PodRunning || got.Spec.ActiveDeadlineSeconds != nil {
			t.Errorf("status update: phase %s, activeDeadlineSeconds %v", got.Status.Phase, got.Spec.ActiveDeadlineSeconds)
		}
		got.Status.Phase = corev1.PodFailed // ignored by the main resource
		got.Labels["extra"] = "yes"
		got, err = cs.CoreV1().Pods(ns).Update(ctx, got, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Status.Phase != corev1.PodRunning || got.Labels["extra"] != "yes" {
			t.Errorf("update: phase %s labels %v", got.Status.Phase, got.Labels)
		}
		got.Spec.Containers[0].Name = "renamed"
		if _, err := cs.CoreV1().Pods(ns).Update(ctx, got, metav1.UpdateOptions{}); !apierrors.IsInvalid(err) {
			t.Errorf("changing an immutable pod field: want 422, got %v", err)
		}
	})

	t.Run("graceful deletion", func(t *testing.T) {
		unbound, err := cs.CoreV1().Pods(ns).Create(ctx, newPod(ns, "unbound"), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := cs.CoreV1().Pods(ns).Delete(ctx, unbound.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.CoreV1().Pods(ns).Get(ctx, unbound.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("an unscheduled pod goes at once: got %v", err)
		}

		p := newPod(ns, "graceful")
		p.Spec.NodeName = "node-1"
		p, err = cs.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := cs.CoreV1().Pods(ns).Delete(ctx, p.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		got, err := cs.CoreV1().Pods(ns).Get(ctx, p.Name, metav1.GetOptions{})
		if err != nil || got.DeletionTimestamp == nil || got.DeletionGracePeriodSeconds == nil || *got.DeletionGracePeriodSeconds != 30 {
			t.Fatalf("a bound pod is marked for deletion with grace 30: %v %+v", err, got.ObjectMeta)
		}
		// The kubelet's final delete: grace 0 with a uid precondition.
		wrong := types.UID("not-the-uid")
		err = cs.CoreV1().Pods(ns).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0),
			Preconditions: &metav1.Preconditions{UID: &wrong}})
		if !apierrors.IsConflict(err) {
			t.Errorf("delete with a wrong uid precondition: want 409, got %v", err)
		}
		err = cs.CoreV1().Pods(ns).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0),
			Preconditions: &metav1.Preconditions{UID: &p.UID}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cs.CoreV1().Pods(ns).Get(ctx, p.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("after the final delete: got %v", err)
		}
	})

	t.Run("dry run stores nothing", func(t *testing.T) {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "dry", Namespace: ns}}
		got, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil || got.UID == "" {
			t.Fatalf("dry-run create: %v %+v", err, got)
		}
		if _, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "dry", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("dry-run create stored the object: %v", err)
		}
	})

	t.Run("deletecollection by label", func(t *testing.T) {
		for _, name := range []string{"a", "b", "keep"} {
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"doomed": "true"}}}
			if name == "keep" {
				cm.Labels = nil
			}
			if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		if err := cs.CoreV1().ConfigMaps(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: "doomed=true"}); err != nil {
			t.Fatal(err)
		}
		list, err := cs.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
		if err != nil || len(list.Items) != 1 || list.Items[0].Name != "keep" {
			t.Errorf("after deletecollection: %v %v", err, list)
		}
	})

	t.Run("kubernetes service", func(t *testing.T) {
		svc, err := cs.CoreV1().Services("default").Get(ctx, "kubernetes", metav1.GetOptions{})
		if err != nil || svc.Spec.ClusterIP != "10.96.0.1" || svc.Spec.Ports[0].Port != 443 {
			t.Errorf("default/kubernetes service: %v %+v", err, svc)
		}
		ep, err := cs.CoreV1().Endpoints("default").Get(ctx, "kubernetes", metav1.GetOptions{})
		if err != nil || len(ep.Subsets) != 1 || ep.Subsets[0].Addresses[0].IP != "127.0.0.1" {
			t.Errorf("default/kubernetes endpoints: %v %+v", err, ep)
		}
		// The apiserver writes the slice too, as upstream's endpoints adapter.
		var slice *discoveryv1.EndpointSlice
		for i := 0; i < 50; i++ {
			if slice, err = cs.DiscoveryV1().EndpointSlices("default").Get(ctx, "kubernetes", metav1.GetOptions{}); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil || slice.Labels[discoveryv1.LabelServiceName] != "kubernetes" || slice.AddressType != discoveryv1.AddressTypeIPv4 ||
			len(slice.Endpoints) != 1 || slice.Endpoints[0].Addresses[0] != "127.0.0.1" || !*slice.Endpoints[0].Conditions.Ready ||
			len(slice.Ports) != 1 || *slice.Ports[0].Name != "https" || *slice.Ports[0].Port != ep.Subsets[0].Ports[0].Port {
			t.Errorf("default/kubernetes endpointslice: %v %+v", err, slice)
		}
		created, err := cs.CoreV1().Services(ns).Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}, Selector: map[string]string{"app": "web"}}}, metav1.CreateOptions{})
		if err != nil || created.Spec.ClusterIP == "" || created.Spec.ClusterIP == "10.96.0.1" {
			t.Errorf("service cluster IP allocation: %v %+v", err, created)
		}
	})

	t.Run("events in both APIs", func(t *testing.T) {
		now := metav1.NewMicroTime(time.Now())
		core := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "core-ev", Namespace: ns},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: "solo"}, Reason: "Tested",
			Message: "from core", Type: corev1.EventTypeNormal, Source: corev1.EventSource{Component: "test"},
			FirstTimestamp: metav1.Now(), LastTimestamp: metav1.Now(), Count: 1}
		if _, err := cs.CoreV1().Events(ns).Create(ctx, core, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		v1 := &eventsv1.Event{ObjectMeta: metav1.ObjectMeta{Name: "v1-ev", Namespace: ns}, EventTime: now,
			ReportingController: "kinc.dev/test", ReportingInstance: "test-1", Action: "Testing", Reason: "Tested",
			Regarding: corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: "other"}, Note: "from events.k8s.io", Type: corev1.EventTypeNormal}
		if _, err := cs.EventsV1().Events(ns).Create(ctx, v1, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		got, err := cs.EventsV1().Events(ns).Get(ctx, "core-ev", metav1.GetOptions{})
		if err != nil || got.Note != "from core" || got.Regarding.Name != "solo" {
			t.Errorf("core event through events.k8s.io: %v %+v", err, got)
		}
		list, err := cs.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=other"})
		if err != nil || len(list.Items) != 1 || list.Items[0].Message != "from events.k8s.io" {
			t.Errorf("events.k8s.io event through core, by involvedObject.name: %v %+v", err, list)
		}
		v1list, err := cs.EventsV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "regarding.name=solo"})
		if err != nil || len(v1list.Items) != 1 || v1list.Items[0].Name != "core-ev" {
			t.Errorf("events.k8s.io list by regarding.name: %v %+v", err, v1list)
		}
	})

	t.Run("namespace termination", func(t *testing.T) {
		doomed := "doomed"
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: doomed}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := cs.CoreV1().Namespaces().Delete(ctx, doomed, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		got, err := cs.CoreV1().Namespaces().Get(ctx, doomed, metav1.GetOptions{})
		if err != nil || got.Status.Phase != corev1.NamespaceTerminating || got.DeletionTimestamp == nil {
			t.Fatalf("deleted namespace: want Terminating, got %v %+v", err, got)
		}
		_, err = cs.CoreV1().ConfigMaps(doomed).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "late"}}, metav1.CreateOptions{})
		if !apierrors.IsForbidden(err) || !apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			t.Errorf("create in a terminating namespace: want 403 with cause %s, got %v", corev1.NamespaceTerminatingCause, err)
		}
		if _, err := cs.CoreV1().ConfigMaps("no-such-ns").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("create in a missing namespace: want 404, got %v", err)
		}
		// The namespace controller's last step: empty spec.finalizers.
		got.Spec.Finalizers = nil
		if _, err := cs.CoreV1().Namespaces().Finalize(ctx, got, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.CoreV1().Namespaces().Get(ctx, doomed, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("finalized namespace still there: %v", err)
		}
	})
}

func hasCondition(p *corev1.Pod, c corev1.PodConditionType) bool {
	for _, cond := range p.Status.Conditions {
		if cond.Type == c && cond.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}
