package controllerrevision_test

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
)

// TestIntegrationControllerRevisions creates, reads, lists and updates a
// ControllerRevision through client-go against the real apiserver on
// etcd: labels and revision change, data cannot (422 with upstream's
// message), and data that is not a JSON object is refused on create.
func TestIntegrationControllerRevisions(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts etcd and kube-apiserver")
	}
	inst := apiservertest.Start(t, apiservertest.Options{})
	crs := inst.Client(t).AppsV1().ControllerRevisions("default")
	ctx := context.Background()

	cr := &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{Name: "web-5d4f8", Labels: map[string]string{"app": "web"}},
		Data:       runtime.RawExtension{Raw: []byte(`{"spec":{"template":{"$patch":"replace"}}}`)},
		Revision:   1,
	}
	if _, err := crs.Create(ctx, cr, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create: %v", err)
	}
	got, err := crs.Get(ctx, cr.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if got.Revision != 1 || string(got.Data.Raw) != string(cr.Data.Raw) {
		t.Errorf("stored revision %d, data %s", got.Revision, got.Data.Raw)
	}
	list, err := crs.List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("list: %v, %d items", err, len(list.Items))
	}

	got.Revision = 3
	got.Labels["controller-revision-hash"] = "5d4f8"
	updated, err := crs.Update(ctx, got, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update of revision and labels: %v", err)
	}
	if updated.Revision != 3 {
		t.Errorf("revision %d after update", updated.Revision)
	}

	updated.Data = runtime.RawExtension{Raw: []byte(`{"spec":{}}`)}
	_, err = crs.Update(ctx, updated, metav1.UpdateOptions{})
	expectInvalid(t, err, "data: Invalid value: {\"spec\":{}}: field is immutable")

	bad := &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: "bad"}, Data: runtime.RawExtension{Raw: []byte(`[1,2]`)}}
	_, err = crs.Create(ctx, bad, metav1.CreateOptions{})
	expectInvalid(t, err, `ControllerRevision.apps "bad" is invalid: data: Required value: data must be a valid JSON object`)
}

func expectInvalid(t *testing.T, err error, want string) {
	t.Helper()
	if !apierrors.IsInvalid(err) {
		t.Fatalf("got %v, want 422 Invalid", err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("message %q lacks %q", err.Error(), want)
	}
}
