package storagetest

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/storage"
)

// RunTestCreate checks Create: the stored object, resourceVersion, KeyExists and
// objects that already carry a resourceVersion.
func RunTestCreate(t *testing.T, factory Factory) {
	t.Run("stores the object with a resourceVersion", func(t *testing.T) {
		ctx, s := testContext(t), factory(t).Store
		in := newPod("ns", "a", map[string]string{"app": "x"})
		before := currentRV(ctx, t, s)
		out := create(ctx, t, s, in)
		if got := rv(t, out); got <= before {
			t.Errorf("resourceVersion %d, want > %d", got, before)
		}
		if out.Name != "a" || out.Labels["app"] != "x" || out.UID != in.UID {
			t.Errorf("out = %+v, want the created pod", out.ObjectMeta)
		}
		got := &corev1.Pod{}
		if err := s.Get(ctx, PodKey("ns", "a"), storage.GetOptions{}, got); err != nil {
			t.Fatalf("get: %v", err)
		}
		if diff := cmp.Diff(out, got); diff != "" {
			t.Errorf("get after create (-created +got):\n%s", diff)
		}
	})
	t.Run("existing key is KeyExists", func(t *testing.T) {
		ctx, s := testContext(t), factory(t).Store
		first := create(ctx, t, s, newPod("ns", "a", nil))
		err := s.Create(ctx, PodKey("ns", "a"), newPod("ns", "a", nil), &corev1.Pod{}, 0)
		if !storage.IsExists(err) {
			t.Fatalf("second create: %v, want KeyExists", err)
		}
		if se := err.(*storage.StorageError); se.ResourceVersion != rv(t, first) || se.Key != PodKey("ns", "a") {
			t.Errorf("error key %q rv %d, want %q %d", se.Key, se.ResourceVersion, PodKey("ns", "a"), rv(t, first))
		}
	})
	t.Run("resourceVersion set is InvalidObj", func(t *testing.T) {
		ctx, s := testContext(t), factory(t).Store
		in := newPod("ns", "a", nil)
		in.ResourceVersion = "5"
		if err := s.Create(ctx, PodKey("ns", "a"), in, &corev1.Pod{}, 0); !storage.IsInvalidObj(err) {
			t.Fatalf("create: %v, want InvalidObj", err)
		}
	})
	t.Run("with ttl", func(t *testing.T) {
		ctx, s := testContext(t), factory(t).Store
		out := &corev1.Pod{}
		if err := s.Create(ctx, PodKey("ns", "ttl"), newPod("ns", "ttl", nil), out, 3600); err != nil {
			t.Fatalf("create with ttl: %v", err)
		}
		updated := update(ctx, t, s, "ns", "ttl", func(p *corev1.Pod) { p.Labels = map[string]string{"a": "b"} })
		if rv(t, updated) <= rv(t, out) {
			t.Errorf("update of a key with a ttl did not advance resourceVersion")
		}
	})
}

// RunTestGet checks Get: NotFound, IgnoreNotFound and resourceVersion semantics.
func RunTestGet(t *testing.T, factory Factory) {
	ctx, s := testContext(t), factory(t).Store
	stored := create(ctx, t, s, newPod("ns", "a", nil))
	cur := currentRV(ctx, t, s)

	tests := []struct {
		name    string
		key     string
		opts    storage.GetOptions
		wantErr func(error) bool
	}{
		{name: "most recent", key: PodKey("ns", "a")},
		{name: "any", key: PodKey("ns", "a"), opts: storage.GetOptions{ResourceVersion: "0"}},
		{name: "not older than the object", key: PodKey("ns", "a"), opts: storage.GetOptions{ResourceVersion: stored.ResourceVersion}},
		{name: "not older than current", key: PodKey("ns", "a"), opts: storage.GetOptions{ResourceVersion: rvString(cur)}},
		{name: "future", key: PodKey("ns", "a"), opts: storage.GetOptions{ResourceVersion: rvString(cur + 1000)},
			wantErr: storage.IsTooLargeResourceVersion},
		{name: "unparsable", key: PodKey("ns", "a"), opts: storage.GetOptions{ResourceVersion: "abc"},
			wantErr: storage.IsBadRequest},
		{name: "missing", key: PodKey("ns", "nope"), wantErr: storage.IsNotFound},
		{name: "escaping key", key: "/pods/../secrets/x", wantErr: storage.IsBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := &corev1.Pod{}
			err := s.Get(ctx, tt.key, tt.opts, got)
			if tt.wantErr != nil {
				if !tt.wantErr(err) {
					t.Fatalf("get: %v, want a different error", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("get: %v", err)
			}
			if diff := cmp.Diff(stored, got); diff != "" {
				t.Errorf("get (-stored +got):\n%s", diff)
			}
		})
	}
	t.Run("missing with IgnoreNotFound", func(t *testing.T) {
		got := newPod("x", "leftover", nil)
		if err := s.Get(ctx, PodKey("ns", "nope"), storage.GetOptions{IgnoreNotFound: true}, got); err != nil {
			t.Fatalf("get: %v", err)
		}
		if diff := cmp.Diff(&corev1.Pod{}, got); diff != "" {
			t.Errorf("out is not the zero value:\n%s", diff)
		}
	})
}

// RunTestDelete checks Delete: the returned object, NotFound, preconditions and
// validateDeletion.
func RunTestDelete(t *testing.T, factory Factory) {
	t.Run("returns the deleted object at the deletion revision", func(t *testing.T) {
		ctx, s := testContext(t), factory(t).Store
		stored := create(ctx, t, s, newPod("ns", "a", map[string]string{"k": "v"}))
		out := del(ctx, t, s, "ns", "a")
		if rv(t, out) <= rv(t, stored) || out.Labels["k"] != "v" || out.UID != stored.UID {
			t.Errorf("deleted object %+v, want the stored one at a later revision", out.ObjectMeta)
		}
		if cur := currentRV(ctx, t, s); rv(t, out) != cur {
			t.Errorf("deleted resourceVersion %d, want the deletion revision %d", rv(t, out), cur)
		}
		if err := s.Get(ctx, PodKey("ns", "a"), storage.GetOptions{}, &corev1.Pod{}); !storage.IsNotFound(err) {
			t.Errorf("get after delete: %v, want NotFound", err)
		}
		if err := s.Delete(ctx, PodKey("ns", "a"), &corev1.Pod{}, nil, nil); !storage.IsNotFound(err) {
			t.Errorf("second delete: %v, want NotFound", err)
		}
	})
	t.Run("preconditions", func(t *testing.T) {
		ctx, s := testContext(t), factory(t).Store
		stored := create(ctx, t, s, newPod("ns", "a", nil))
		wrongUID, rightUID := stored.UID+"x", stored.UID
		staleRV, rightRV := rvString(rv(t, stored)-1), stored.ResourceVersion
		for _, p := range []*storage.Preconditions{{UID: &wrongUID}, {ResourceVersion: &staleRV}} {
			if err := s.Delete(ctx, PodKey("ns", "a"), &corev1.Pod{}, p, nil); !storage.IsConflict(err) {
				t.Errorf("delete with failing precondition: %v, want Conflict", err)
			}
		}
		p := &storage.Preconditions{UID: &rightUID, ResourceVersion: &rightRV}
		if err := s.Delete(ctx, PodKey("ns", "a"), &corev1.Pod{}, p, nil); err != nil {
			t.Errorf("delete with holding preconditions: %v", err)
		}
	})
	t.Run("validateDeletion", func(t *testing.T) {
		ctx, s := testContext(t), factory(t).Store
		create(ctx, t, s, newPod("ns", "a", nil))
		veto := storage.NewBadRequestError("x", "vetoed")
		var seen string
		err := s.Delete(ctx, PodKey("ns", "a"), &corev1.Pod{}, nil, func(_ context.Context, obj runtime.Object) error {
			seen = obj.(*corev1.Pod).Name
			return veto
		})
		if err != veto || seen != "a" {
			t.Errorf("delete: %v (saw %q), want the veto error unchanged after seeing the pod", err, seen)
		}
		if err := s.Get(ctx, PodKey("ns", "a"), storage.GetOptions{}, &corev1.Pod{}); err != nil {
			t.Errorf("vetoed delete removed the object: %v", err)
		}
	})
}
