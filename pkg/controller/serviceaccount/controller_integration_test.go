package serviceaccount_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"

	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
	"github.com/kinc-dev/kinc/pkg/controller/serviceaccount"
)

// TestIntegrationServiceAccounts runs the controller against a real
// kube-apiserver on etcd: every active namespace (the system ones, one
// created before the controller started and one after) gets "default",
// a deleted one comes back, and a terminating namespace gets none.
func TestIntegrationServiceAccounts(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts etcd and kube-apiserver")
	}
	inst := apiservertest.Start(t, apiservertest.Options{})
	client := inst.Client(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// Before the controller runs: one namespace that stays, one deleted
	// (Terminating: no namespace controller removes its finalizer).
	for _, name := range []string{"before", "doomed"} {
		createNamespace(ctx, t, client, name)
	}
	if err := client.CoreV1().Namespaces().Delete(ctx, "doomed", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	factory := informers.NewSharedInformerFactory(client, 0)
	c := serviceaccount.New(client, factory.Core().V1().Namespaces(), factory.Core().V1().ServiceAccounts(),
		serviceaccount.Options{Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	factory.Start(ctx.Done())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, 1) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		factory.Shutdown()
	}()

	createNamespace(ctx, t, client, "after")
	for _, ns := range []string{"default", "kube-system", "kube-public", "kube-node-lease", "before", "after"} {
		waitAccount(ctx, t, client, ns)
	}
	// Deleted: recreated (a new object).
	old, err := client.CoreV1().ServiceAccounts("after").Get(ctx, "default", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.CoreV1().ServiceAccounts("after").Delete(ctx, "default", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 20*time.Second, true, func(ctx context.Context) (bool, error) {
		sa, err := client.CoreV1().ServiceAccounts("after").Get(ctx, "default", metav1.GetOptions{})
		return err == nil && sa.UID != old.UID, nil
	}); err != nil {
		t.Fatal("the deleted default service account was not recreated")
	}
	// Everything above was synced; the terminating namespace has none.
	if _, err := client.CoreV1().ServiceAccounts("doomed").Get(ctx, "default", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("terminating namespace: get default service account: %v, want NotFound", err)
	}
	if st := c.Stats(); st.Errors != 0 {
		t.Errorf("sync errors: %+v", st)
	}
}

func createNamespace(ctx context.Context, t *testing.T, client kubernetes.Interface, name string) {
	t.Helper()
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func waitAccount(ctx context.Context, t *testing.T, client kubernetes.Interface, ns string) {
	t.Helper()
	if err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 20*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := client.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	}); err != nil {
		t.Fatalf("no default service account in %s", ns)
	}
}
