package storagetest

import (
	"context"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kinc-dev/kinc/pkg/apiserver/storage"
)

// list lists pods under key and fails the test on error.
func list(ctx context.Context, t *testing.T, s storage.Interface, key string, opts storage.ListOptions) *corev1.PodList {
	t.Helper()
	out := &corev1.PodList{}
	if err := s.GetList(ctx, key, opts, out); err != nil {
		t.Fatalf("list %s %+v: %v", key, opts, err)
	}
	return out
}

// seed creates pods ns "a": a1..a3 (app=web for a1, a3), ns "ab": b1 (app=web),
// ns "c": c1 (app=db); it returns the revision after the last create.
func seed(ctx context.Context, t *testing.T, s storage.Interface) int64 {
	t.Helper()
	web, db := map[string]string{"app": "web"}, map[string]string{"app": "db"}
	var last *corev1.Pod
	for _, p := range []*corev1.Pod{
		newPod("a", "a1", web), newPod("a", "a2", nil), newPod("a", "a3", web),
		newPod("ab", "b1", web), newPod("c", "c1", db),
	} {
		last = create(ctx, t, s, p)
	}
	return rv(t, last)
}

// RunTestList checks GetList: prefixes, selectors, resourceVersion semantics,
// pagination with continue tokens (also with selectors), and compaction.
func RunTestList(t *testing.T, factory Factory) {
	t.Run("prefixes and selectors", func(t *testing.T) {
		ctx, s := testContext(t), factory(t).Store
		lastRV := seed(ctx, t, s)
		tests := []struct {
			name string
			key  string
			opts storage.ListOptions
			want []string
		}{
			{"all", "/pods", storage.ListOptions{Recursive: true}, []string{"a/a1", "a/a2", "a/a3", "ab/b1", "c/c1"}},
			{"namespace is not a string prefix", "/pods/a", storage.ListOptions{Recursive: true}, []string{"a/a1", "a/a2", "a/a3"}},
			{"single key", PodKey("a", "a2"), storage.ListOptions{}, []string{"a/a2"}},
			{"missing single key", PodKey("a", "zz"), storage.ListOptions{}, []string{}},
			{"label selector", "/pods", storage.ListOptions{Recursive: true, Predicate: storage.SelectionPredicate{
				Label: labels.SelectorFromSet(labels.Set{"app": "web"})}}, []string{"a/a1", "a/a3", "ab/b1"}},
			{"field selector", "/pods", storage.ListOptions{Recursive: true, Predicate: storage.SelectionPredicate{
				Field: fields.OneTermEqualSelector("metadata.name", "c1"), GetAttrs: PodAttrs}}, []string{"c/c1"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got := list(ctx, t, s, tt.key, tt.opts)
				if !slices.Equal(names(got.Items), tt.want) {
					t.Errorf("items %v, want %v", names(got.Items), tt.want)
				}
				if rv(t, got) < lastRV || got.Continue != "" {
					t.Errorf("list resourceVersion %s continue %q, want >= %d and none", got.ResourceVersion, got.Continue, lastRV)
				}
			})
		}
	})
	t.Run("resourceVersion semantics", func(t *testing.T) {
		ctx, s := testContext(t), factory(t).Store
		seeded := seed(ctx, t, s)
		del(ctx, t, s, "a", "a1")
		cur := currentRV(ctx, t, s)
		tests := []struct {
			name    string
			opts    storage.ListOptions
			want    int // items; -1 for an error
			wantErr func(error) bool
			wantRV  int64
		}{
			{name: "most recent", opts: storage.ListOptions{}, want: 4, wantRV: cur},
			{name: "any", opts: storage.ListOptions{ResourceVersion: "0"}, want: 4},
			{name: "not older than", opts: storage.ListOptions{ResourceVersion: rvString(seeded)}, want: 4, wantRV: cur},
			{name: "paged at N is exact", opts: storage.ListOptions{ResourceVersion: rvString(seeded), Limit: 10}, want: 5, wantRV: seeded},
			{name: "match exact", opts: storage.ListOptions{ResourceVersion: rvString(seeded),
				ResourceVersionMatch: metav1.ResourceVersionMatchExact}, want: 5, wantRV: seeded},
			{name: "match not older than", opts: storage.ListOptions{ResourceVersion: rvString(seeded),
				ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan}, want: 4, wantRV: cur},
			{name: "future not older than", opts: storage.ListOptions{ResourceVersion: rvString(cur + 100)},
				want: -1, wantErr: storage.IsTooLargeResourceVersion},
			{name: "future exact", opts: storage.ListOptions{ResourceVersion: rvString(cur + 100),
				ResourceVersionMatch: metav1.ResourceVersionMatchExact}, want: -1, wantErr: storage.IsTooLargeResourceVersion},
			{name: "unparsable", opts: storage.ListOptions{ResourceVersion: "x1"}, want: -1, wantErr: storage.IsBadRequest},
			{name: "bad continue", opts: storage.ListOptions{Continue: "!!!"}, want: -1, wantErr: storage.IsInvalidContinue},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				tt.opts.Recursive = true
				out := &corev1.PodList{}
				err := s.GetList(ctx, "/pods", tt.opts, out)
				// "Any" state may be a slightly stale one (a watch cache that
				// has not seen the latest writes yet): it must converge.
				for deadline := time.Now().Add(5 * time.Second); tt.opts.ResourceVersion == "0" && err == nil &&
					len(out.Items) != tt.want && time.Now().Before(deadline); {
					time.Sleep(20 * time.Millisecond)
					out = &corev1.PodList{}
					err = s.GetList(ctx, "/pods", tt.opts, out)
				}
				if tt.wantErr != nil {
					if !tt.wantErr(err) {
						t.Fatalf("list: %v, want a different error", err)
					}
					return
				}
				if err != nil {
					t.Fatalf("list: %v", err)
				}
				if len(out.Items) != tt.want {
					t.Errorf("%d items %v, want %d", len(out.Items), names(out.Items), tt.want)
				}
				if tt.wantRV != 0 && rv(t, out) != tt.wantRV {
					t.Errorf("list resourceVersion %s, want %d", out.ResourceVersion, tt.wantRV)
				}
			})
		}
	})
	t.Run("pagination", func(t *testing.T) { testPagination(t, factory) })
	t.Run("pagination with a selector fills pages", func(t *testing.T) { testFilteredPagination(t, factory) })
	t.Run("compaction expires revisions and tokens", func(t *testing.T) { testListCompaction(t, factory) })
}

func testPagination(t *testing.T, factory Factory) {
	ctx, s := testContext(t), factory(t).Store
	seed(ctx, t, s)
	first := list(ctx, t, s, "/pods", storage.ListOptions{Recursive: true, Limit: 2})
	if !slices.Equal(names(first.Items), []string{"a/a1", "a/a2"}) || first.Continue == "" {
		t.Fatalf("first page %v continue %q, want a1 a2 and a token", names(first.Items), first.Continue)
	}
	if first.RemainingItemCount == nil || *first.RemainingItemCount != 3 {
		t.Errorf("remainingItemCount %v, want 3", first.RemainingItemCount)
	}
	// Changes after the first page must not show in the next ones.
	create(ctx, t, s, newPod("a", "a0", nil))
	del(ctx, t, s, "c", "c1")

	bad := storage.ListOptions{Recursive: true, Limit: 2, Continue: first.Continue, ResourceVersion: first.ResourceVersion}
	if err := s.GetList(ctx, "/pods", bad, &corev1.PodList{}); !storage.IsBadRequest(err) {
		t.Errorf("continue with resourceVersion: %v, want BadRequest", err)
	}
	all := names(first.Items)
	token := first.Continue
	for token != "" {
		page := list(ctx, t, s, "/pods", storage.ListOptions{Recursive: true, Limit: 2, Continue: token, ResourceVersion: "0"})
		if page.ResourceVersion != first.ResourceVersion {
			t.Errorf("page resourceVersion %s, want the first page's %s", page.ResourceVersion, first.ResourceVersion)
		}
		all = append(all, names(page.Items)...)
		token = page.Continue
	}
	if want := []string{"a/a1", "a/a2", "a/a3", "ab/b1", "c/c1"}; !slices.Equal(all, want) {
		t.Errorf("pages %v, want %v", all, want)
	}
	// A token for one prefix cannot read outside another.
	other := list(ctx, t, s, "/pods/a", storage.ListOptions{Recursive: true, Limit: 1})
	page := list(ctx, t, s, "/pods/a", storage.ListOptions{Recursive: true, Limit: 10, Continue: other.Continue})
	for _, p := range page.Items {
		if p.Namespace != "a" {
			t.Errorf("continue of /pods/a returned %s/%s", p.Namespace, p.Name)
		}
	}
}

func testFilteredPagination(t *testing.T, factory Factory) {
	ctx, s := testContext(t), factory(t).Store
	seed(ctx, t, s)
	for i := range 20 {
		create(ctx, t, s, newPod("b", "filler"+string(rune('a'+i)), nil))
	}
	web := storage.SelectionPredicate{Label: labels.SelectorFromSet(labels.Set{"app": "web"})}
	var all []string
	token, pages := "", 0
	for {
		page := list(ctx, t, s, "/pods", storage.ListOptions{Recursive: true, Limit: 2, Continue: token, Predicate: web})
		pages++
		if page.RemainingItemCount != nil {
			t.Errorf("remainingItemCount %d set on a filtered list", *page.RemainingItemCount)
		}
		all = append(all, names(page.Items)...)
		if page.Continue == "" {
			break
		}
		if len(page.Items) != 2 {
			t.Errorf("page %d has %d items and a continue token, want 2", pages, len(page.Items))
		}
		token = page.Continue
	}
	if want := []string{"a/a1", "a/a3", "ab/b1"}; !slices.Equal(all, want) {
		t.Errorf("filtered pages %v, want %v", all, want)
	}
}

func testListCompaction(t *testing.T, factory Factory) {
	f := factory(t)
	ctx, s := testContext(t), f.Store
	seeded := seed(ctx, t, s)
	first := list(ctx, t, s, "/pods", storage.ListOptions{Recursive: true, Limit: 2})
	update(ctx, t, s, "a", "a3", func(p *corev1.Pod) { p.Labels = nil })
	if err := f.Compact(ctx, currentRV(ctx, t, s)); err != nil {
		t.Fatalf("compact: %v", err)
	}
	out := &corev1.PodList{}
	err := s.GetList(ctx, "/pods", storage.ListOptions{Recursive: true, Limit: 2, Continue: first.Continue}, out)
	if !storage.IsExpired(err) {
		t.Fatalf("continue after compaction: %v, want Expired", err)
	}
	next := err.(*storage.StorageError).Continue
	if next == "" {
		t.Fatalf("expired continue error carries no fresh token")
	}
	page := list(ctx, t, s, "/pods", storage.ListOptions{Recursive: true, Limit: 10, Continue: next})
	if !slices.Equal(names(page.Items), []string{"a/a3", "ab/b1", "c/c1"}) || rv(t, page) <= seeded {
		t.Errorf("inconsistent continue: %v at %s, want the rest at the latest revision", names(page.Items), page.ResourceVersion)
	}
	exact := storage.ListOptions{Recursive: true, ResourceVersion: rvString(seeded), ResourceVersionMatch: metav1.ResourceVersionMatchExact}
	if err := s.GetList(ctx, "/pods", exact, &corev1.PodList{}); !storage.IsExpired(err) {
		t.Errorf("exact list at a compacted revision: %v, want Expired", err)
	}
}
