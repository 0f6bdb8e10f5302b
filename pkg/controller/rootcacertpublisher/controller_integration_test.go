package rootcacertpublisher_test

import (
	"context"
	"log/slog"
	"maps"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"

	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
	"github.com/kinc-dev/kinc/pkg/controller/rootcacertpublisher"
)

// TestIntegrationPublisher runs the controller against a real
// kube-apiserver on etcd: every active namespace gets kube-root-ca.crt with
// the cluster CA, an edited copy is restored, a deleted one recreated, and
// a terminating namespace gets none.
func TestIntegrationPublisher(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts etcd and kube-apiserver")
	}
	inst := apiservertest.Start(t, apiservertest.Options{})
	client := inst.Client(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cms := client.CoreV1().ConfigMaps

	for _, name := range []string{"before", "doomed"} {
		createNamespace(ctx, t, client, name)
	}
	if err := client.CoreV1().Namespaces().Delete(ctx, "doomed", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	factory := informers.NewSharedInformerFactory(client, 0)
	p := rootcacertpublisher.New(client, factory.Core().V1().Namespaces(), factory.Core().V1().ConfigMaps(), inst.CA.CertPEM,
		rootcacertpublisher.Options{Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	factory.Start(ctx.Done())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, 1) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		factory.Shutdown()
	}()

	want := map[string]string{rootcacertpublisher.CAKey: string(inst.CA.CertPEM)}
	published := func(ns string) func(ctx context.Context) (bool, error) {
		return func(ctx context.Context) (bool, error) {
			cm, err := cms(ns).Get(ctx, rootcacertpublisher.ConfigMapName, metav1.GetOptions{})
			return err == nil && maps.Equal(cm.Data, want) &&
				cm.Annotations[rootcacertpublisher.DescriptionAnnotation] == rootcacertpublisher.Description, nil
		}
	}
	createNamespace(ctx, t, client, "after")
	for _, ns := range []string{"default", "kube-system", "kube-public", "kube-node-lease", "before", "after"} {
		poll(ctx, t, "kube-root-ca.crt published in "+ns, published(ns))
	}

	// Edited: restored, keeping the user's label.
	cm, err := cms("after").Get(ctx, rootcacertpublisher.ConfigMapName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm.Data[rootcacertpublisher.CAKey] = "tampered"
	cm.Labels = map[string]string{"team": "web"}
	if _, err := cms("after").Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	poll(ctx, t, "the edited ConfigMap restored", func(ctx context.Context) (bool, error) {
		got, err := cms("after").Get(ctx, rootcacertpublisher.ConfigMapName, metav1.GetOptions{})
		return err == nil && maps.Equal(got.Data, want) && got.Labels["team"] == "web", nil
	})

	// Deleted: recreated (a new object).
	if err := cms("after").Delete(ctx, rootcacertpublisher.ConfigMapName, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	poll(ctx, t, "the deleted ConfigMap recreated", func(ctx context.Context) (bool, error) {
		got, err := cms("after").Get(ctx, rootcacertpublisher.ConfigMapName, metav1.GetOptions{})
		return err == nil && got.UID != cm.UID && maps.Equal(got.Data, want), nil
	})

	if _, err := cms("doomed").Get(ctx, rootcacertpublisher.ConfigMapName, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("terminating namespace: get kube-root-ca.crt: %v, want NotFound", err)
	}
	if st := p.Stats(); st.Errors != 0 {
		t.Errorf("sync errors: %+v", st)
	}
}

func createNamespace(ctx context.Context, t *testing.T, client kubernetes.Interface, name string) {
	t.Helper()
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func poll(ctx context.Context, t *testing.T, what string, cond func(context.Context) (bool, error)) {
	t.Helper()
	if err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 20*time.Second, true, cond); err != nil {
		t.Fatalf("%s: not within 20s", what)
	}
}
