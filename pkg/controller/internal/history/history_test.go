package history

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"
)

func parent() *appsv1.StatefulSet {
	return &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "uid"}}
}

func TestNewNamesAndLabels(t *testing.T) {
	p := parent()
	r := New(p, appsv1.SchemeGroupVersion.WithKind("StatefulSet"), map[string]string{"app": "web"}, []byte(`{"a":1}`), 3, nil)
	h := r.Labels[ControllerRevisionHashLabel]
	if h == "" || r.Name != "web-"+h || r.Labels["app"] != "web" || r.Revision != 3 || r.Namespace != "default" {
		t.Errorf("revision %+v", r.ObjectMeta)
	}
	if ref := metav1.GetControllerOf(r); ref == nil || ref.UID != "uid" {
		t.Errorf("owner %v", ref)
	}
	if Hash(r, ptr.To[int32](1)) == h {
		t.Error("the collision count does not change the hash")
	}
	if n := Name(strings.Repeat("x", 300), "h"); len(n) != 225 {
		t.Errorf("long name %d characters, want 223 + 2", len(n))
	}
}

func TestCreateProbesPastCollisions(t *testing.T) {
	ctx := context.Background()
	p := parent()
	client := fake.NewClientset()
	kind := appsv1.SchemeGroupVersion.WithKind("StatefulSet")
	r := New(p, kind, nil, []byte(`{"a":1}`), 1, ptr.To[int32](0))
	// Another template already holds the name of r.
	squatter := r.DeepCopy()
	squatter.Data.Raw = []byte(`{"b":2}`)
	if _, err := client.AppsV1().ControllerRevisions("default").Create(ctx, squatter, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	count := int32(0)
	got, err := Create(ctx, client, p, r, &count)
	if err != nil || count != 1 || got.Name == squatter.Name || got.Name != Name("web", Hash(r, &count)) {
		t.Fatalf("Create = %v, %v; count %d", got, err, count)
	}
	// The same data again: the existing revision, no new probe.
	again, err := Create(ctx, client, p, r, &count)
	if err != nil || again.Name != got.Name || count != 1 {
		t.Errorf("second Create = %v, %v; count %d", again, err, count)
	}
}

func TestSortAndMax(t *testing.T) {
	revs := []*appsv1.ControllerRevision{{Revision: 3}, {Revision: 1}, {Revision: 2}}
	Sort(revs)
	if revs[0].Revision != 1 || revs[2].Revision != 3 || MaxRevision(revs) != 3 || MaxRevision(nil) != 0 {
		t.Errorf("sorted %d %d %d", revs[0].Revision, revs[1].Revision, revs[2].Revision)
	}
}
