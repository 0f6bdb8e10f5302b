package namespace_test

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"

	"github.com/kinc-dev/kinc/pkg/controller/controllertest/integration"
	"github.com/kinc-dev/kinc/pkg/controller/namespace"
)

// TestIntegrationNamespaceDeletion runs the controller, with upstream's
// defaults, against a real kube-apiserver on etcd: a deleted namespace
// holding configmaps, secrets, unscheduled pods, a deployment and a role
// is emptied and goes; one holding a configmap with a finalizer of its own
// stays Terminating with NamespaceFinalizersRemaining until the finalizer
// is removed, then goes too.
func TestIntegrationNamespaceDeletion(t *testing.T) {
	inst, client := integration.Start(t)
	meta, err := metadata.NewForConfig(inst.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	fill(ctx, t, client, "doomed")
	integration.CreateNamespace(ctx, t, client, "held")
	held := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "held", Name: "held", Finalizers: []string{"example.com/hold"}}}
	if _, err := client.CoreV1().ConfigMaps("held").Create(ctx, held, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "held", Name: "plain"}}
	if _, err := client.CoreV1().Secrets("held").Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	factory := informers.NewSharedInformerFactory(client, 0)
	c := namespace.New(client, meta, client.Discovery(), factory.Core().V1().Namespaces(),
		integration.Logger(t), nil, namespace.Options{})
	integration.Run(ctx, t, factory, func(ctx context.Context) error { return c.Run(ctx, namespace.DefaultConcurrentSyncs) })

	start := time.Now()
	for _, name := range []string{"doomed", "held"} {
		if err := client.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// A terminating namespace takes no new content.
	_, err = client.CoreV1().ConfigMaps("doomed").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "late"}}, metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("create in a terminating namespace: %v, want Forbidden", err)
	}

	waitGone(ctx, t, client, "doomed", 60*time.Second)
	t.Logf("namespace with content gone %v after its deletion", time.Since(start).Round(time.Millisecond))

	// "held" waits for its configmap's finalizer, the rest of its content
	// gone.
	var ns *corev1.Namespace
	if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		ns, err = client.CoreV1().Namespaces().Get(ctx, "held", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, c := range ns.Status.Conditions {
			if c.Type == corev1.NamespaceFinalizersRemaining && c.Status == corev1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	}); err != nil {
		t.Fatalf("no NamespaceFinalizersRemaining on the held namespace: %v (%+v)", err, ns)
	}
	t.Logf("NamespaceFinalizersRemaining set %v after the deletion", time.Since(start).Round(time.Millisecond))
	want := map[corev1.NamespaceConditionType]string{
		corev1.NamespaceFinalizersRemaining: "Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances",
		corev1.NamespaceContentRemaining:    "Some resources are remaining: configmaps. has 1 resource instances",
	}
	for _, c := range ns.Status.Conditions {
		if msg, ok := want[c.Type]; ok && c.Message != msg {
			t.Errorf("%s: %q, want %q", c.Type, c.Message, msg)
		}
	}
	if ns.Status.Phase != corev1.NamespaceTerminating || len(ns.Status.Conditions) != 5 {
		t.Errorf("held namespace: phase %s, conditions %+v", ns.Status.Phase, ns.Status.Conditions)
	}
	if _, err := client.CoreV1().Secrets("held").Get(ctx, "plain", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the held namespace's secret: %v, want NotFound", err)
	}
	cm, err := client.CoreV1().ConfigMaps("held").Get(ctx, "held", metav1.GetOptions{})
	if err != nil || cm.DeletionTimestamp == nil {
		t.Fatalf("the configmap with a finalizer: %v %+v, want it marked for deletion", err, cm)
	}
	// Still there a while later.
	time.Sleep(2 * time.Second)
	if _, err := client.CoreV1().Namespaces().Get(ctx, "held", metav1.GetOptions{}); err != nil {
		t.Fatalf("held namespace went while its configmap had a finalizer: %v", err)
	}

	released := time.Now()
	if _, err := client.CoreV1().ConfigMaps("held").Patch(ctx, "held", types.MergePatchType,
		[]byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	waitGone(ctx, t, client, "held", 60*time.Second)
	t.Logf("held namespace gone %v after its finalizer was removed", time.Since(released).Round(time.Millisecond))
	if s := c.Stats(); s.Drops != 0 {
		t.Errorf("stats %+v", s)
	}
}

// fill creates namespace name with configmaps, secrets, two unscheduled
// pods, a deployment and a role.
func fill(ctx context.Context, t *testing.T, client kubernetes.Interface, name string) {
	t.Helper()
	integration.CreateNamespace(ctx, t, client, name)
	om := func(n string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: name, Name: n} }
	spec := corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}
	labels := map[string]string{"app": "web"}
	var errs []error
	add := func(_ any, err error) { errs = append(errs, err) }
	add(client.CoreV1().ConfigMaps(name).Create(ctx, &corev1.ConfigMap{ObjectMeta: om("a"), Data: map[string]string{"k": "v"}}, metav1.CreateOptions{}))
	add(client.CoreV1().ConfigMaps(name).Create(ctx, &corev1.ConfigMap{ObjectMeta: om("b")}, metav1.CreateOptions{}))
	add(client.CoreV1().Secrets(name).Create(ctx, &corev1.Secret{ObjectMeta: om("s"), StringData: map[string]string{"k": "v"}}, metav1.CreateOptions{}))
	add(client.CoreV1().Pods(name).Create(ctx, &corev1.Pod{ObjectMeta: om("p1"), Spec: spec}, metav1.CreateOptions{}))
	add(client.CoreV1().Pods(name).Create(ctx, &corev1.Pod{ObjectMeta: om("p2"), Spec: spec}, metav1.CreateOptions{}))
	add(client.AppsV1().Deployments(name).Create(ctx, &appsv1.Deployment{ObjectMeta: om("web"), Spec: appsv1.DeploymentSpec{
		Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec},
	}}, metav1.CreateOptions{}))
	add(client.RbacV1().Roles(name).Create(ctx, &rbacv1.Role{ObjectMeta: om("reader"), Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get"}}}}, metav1.CreateOptions{}))
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// waitGone waits until namespace name is deleted.
func waitGone(ctx context.Context, t *testing.T, client kubernetes.Interface, name string, timeout time.Duration) {
	t.Helper()
	var last *corev1.Namespace
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		ns, err := client.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		last = ns
		return false, err
	})
	if err != nil {
		t.Fatalf("namespace %s not gone after %v: %v; last seen %+v", name, timeout, err, last)
	}
}
