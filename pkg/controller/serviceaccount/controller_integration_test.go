package serviceaccount_test

import (
	"context"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"

	"github.com/kinc-dev/kinc/pkg/controller/controllertest/integration"
	"github.com/kinc-dev/kinc/pkg/controller/serviceaccount"
)

// TestIntegrationServiceAccounts runs the controller against a real
// kube-apiserver on etcd: every active namespace (the system ones, one
// created before the controller started and one after) gets "default",
// a deleted one comes back, and a terminating namespace gets none.
func TestIntegrationServiceAccounts(t *testing.T) {
	_, client := integration.Start(t)
	ctx := t.Context()

	// Before the controller runs: one namespace that stays, one deleted
	// (Terminating: no namespace controller removes its finalizer).
	for _, name := range []string{"before", "doomed"} {
		integration.CreateNamespace(ctx, t, client, name)
	}
	if err := client.CoreV1().Namespaces().Delete(ctx, "doomed", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	factory := informers.NewSharedInformerFactory(client, 0)
	c := serviceaccount.New(client, factory.Core().V1().Namespaces(), factory.Core().V1().ServiceAccounts(),
		serviceaccount.Options{Logger: integration.Logger(t)})
	integration.Run(ctx, t, factory, func(ctx context.Context) error { return c.Run(ctx, 1) })

	integration.CreateNamespace(ctx, t, client, "after")
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

func waitAccount(ctx context.Context, t *testing.T, client kubernetes.Interface, ns string) {
	t.Helper()
	if err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 20*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := client.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	}); err != nil {
		t.Fatalf("no default service account in %s", ns)
	}
}
