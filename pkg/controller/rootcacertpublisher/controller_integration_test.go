package rootcacertpublisher_test

import (
	"context"
	"maps"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"

	"github.com/kinc-dev/kinc/pkg/controller/controllertest/integration"
	"github.com/kinc-dev/kinc/pkg/controller/rootcacertpublisher"
)

// TestIntegrationPublisher runs the controller against a real
// kube-apiserver on etcd: every active namespace gets kube-root-ca.crt with
// the cluster CA, an edited copy is restored, a deleted one recreated, and
// a terminating namespace gets none.
func TestIntegrationPublisher(t *testing.T) {
	inst, client := integration.Start(t)
	ctx := t.Context()
	cms := client.CoreV1().ConfigMaps

	for _, name := range []string{"before", "doomed"} {
		integration.CreateNamespace(ctx, t, client, name)
	}
	if err := client.CoreV1().Namespaces().Delete(ctx, "doomed", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	factory := informers.NewSharedInformerFactory(client, 0)
	p := rootcacertpublisher.New(client, factory.Core().V1().Namespaces(), factory.Core().V1().ConfigMaps(), inst.CA.CertPEM,
		rootcacertpublisher.Options{Logger: integration.Logger(t)})
	integration.Run(ctx, t, factory, func(ctx context.Context) error { return p.Run(ctx, 1) })

	want := map[string]string{rootcacertpublisher.CAKey: string(inst.CA.CertPEM)}
	published := func(ns string) func(ctx context.Context) (bool, error) {
		return func(ctx context.Context) (bool, error) {
			cm, err := cms(ns).Get(ctx, rootcacertpublisher.ConfigMapName, metav1.GetOptions{})
			return err == nil && maps.Equal(cm.Data, want) &&
				cm.Annotations[rootcacertpublisher.DescriptionAnnotation] == rootcacertpublisher.Description, nil
		}
	}
	integration.CreateNamespace(ctx, t, client, "after")
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

func poll(ctx context.Context, t *testing.T, what string, cond func(context.Context) (bool, error)) {
	t.Helper()
	if err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 20*time.Second, true, cond); err != nil {
		t.Fatalf("%s: not within 20s", what)
	}
}
