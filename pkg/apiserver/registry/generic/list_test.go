package generic

import (
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// seedPods creates default/a (app=web, on n1), default/b (app=db),
// default/c (app=web), other/d (app=web, on n1).
func seedPods(t *testing.T, s *Store) {
	t.Helper()
	a := newPod("default", "a", map[string]string{"app": "web"})
	a.Spec.NodeName = "n1"
	d := newPod("other", "d", map[string]string{"app": "web"})
	d.Spec.NodeName = "n1"
	for _, p := range []*corev1.Pod{a, newPod("default", "b", map[string]string{"app": "db"}),
		newPod("default", "c", map[string]string{"app": "web"}), d} {
		mustCreate(t, s, p)
	}
}

func TestListSelectors(t *testing.T) {
	s, _ := newStore(t)
	seedPods(t, s)
	tests := []struct {
		name      string
		namespace string
		opts      *metav1.ListOptions
		want      []string
	}{
		{name: "all namespaces", opts: nil, want: []string{"default/a", "default/b", "default/c", "other/d"}},
		{name: "one namespace", namespace: "default", want: []string{"default/a", "default/b", "default/c"}},
		{name: "label equality", opts: &metav1.ListOptions{LabelSelector: "app=web"}, want: []string{"default/a", "default/c", "other/d"}},
		{name: "label set", namespace: "default", opts: &metav1.ListOptions{LabelSelector: "app in (db),app!=web"}, want: []string{"default/b"}},
		{name: "field metadata.name", opts: &metav1.ListOptions{FieldSelector: "metadata.name=c"}, want: []string{"default/c"}},
		{name: "field metadata.namespace", opts: &metav1.ListOptions{FieldSelector: "metadata.namespace=other"}, want: []string{"other/d"}},
		{name: "kind field", opts: &metav1.ListOptions{FieldSelector: "spec.nodeName=n1"}, want: []string{"default/a", "other/d"}},
		{name: "both", opts: &metav1.ListOptions{LabelSelector: "app=web", FieldSelector: "spec.nodeName!=n1"}, want: []string{"default/c"}},
		{name: "empty namespace", namespace: "nowhere", want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := s.List(ctxT(t), tt.namespace, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			list := out.(*corev1.PodList)
			if got := names(list.Items); !slices.Equal(got, tt.want) {
				t.Errorf("items %v, want %v", got, tt.want)
			}
			if list.ResourceVersion == "" {
				t.Error("list without resourceVersion")
			}
		})
	}
	for _, opts := range []*metav1.ListOptions{
		{FieldSelector: "spec.restartPolicy=Always"}, // not a selectable field of this store
		{FieldSelector: "metadata.name"},             // not a selector
		{LabelSelector: "app in ("},
		{LabelSelector: "app=web,,"},
	} {
		if _, err := s.List(ctxT(t), "", opts); !apierrors.IsBadRequest(err) {
			t.Errorf("list with %+v: %v, want BadRequest", opts, err)
		}
	}
	_, err := s.List(ctxT(t), "", &metav1.ListOptions{FieldSelector: "spec.restartPolicy=Always"})
	if err == nil || !strings.Contains(err.Error(), "field label not supported: spec.restartPolicy") {
		t.Errorf("unsupported field selector error %v, want upstream's message", err)
	}
}

func TestListPages(t *testing.T) {
	s, _ := newStore(t)
	seedPods(t, s)
	var all []string
	opts := &metav1.ListOptions{Limit: 3}
	first, err := s.List(ctxT(t), "", opts)
	if err != nil {
		t.Fatal(err)
	}
	page := first.(*corev1.PodList)
	all = append(all, names(page.Items)...)
	if len(page.Items) != 3 || page.Continue == "" || page.RemainingItemCount == nil || *page.RemainingItemCount != 1 {
		t.Fatalf("first page %v continue %q remaining %v", names(page.Items), page.Continue, page.RemainingItemCount)
	}
	mustCreate(t, s, newPod("other", "zz", nil)) // after the first page: not in the next
	out, err := s.List(ctxT(t), "", &metav1.ListOptions{Limit: 3, Continue: page.Continue})
	if err != nil {
		t.Fatal(err)
	}
	next := out.(*corev1.PodList)
	all = append(all, names(next.Items)...)
	if next.Continue != "" || next.ResourceVersion != page.ResourceVersion {
		t.Errorf("last page continue %q rv %s, want none at %s", next.Continue, next.ResourceVersion, page.ResourceVersion)
	}
	if want := []string{"default/a", "default/b", "default/c", "other/d"}; !slices.Equal(all, want) {
		t.Errorf("pages %v, want %v", all, want)
	}
	if _, err := s.List(ctxT(t), "", &metav1.ListOptions{Limit: 3, Continue: "garbage"}); !apierrors.IsBadRequest(err) {
		t.Errorf("bad continue token: %v, want BadRequest", err)
	}
}

func TestWatchWithSelector(t *testing.T) {
	s, _ := newStore(t)
	seedPods(t, s)
	w, err := s.Watch(ctxT(t), "default", &metav1.ListOptions{LabelSelector: "app=web", ResourceVersion: "0"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	var got []string
	expect := func(n int) {
		t.Helper()
		for range n {
			select {
			case ev := <-w.ResultChan():
				got = append(got, string(ev.Type)+" "+ev.Object.(*corev1.Pod).Name)
			case <-time.After(10 * time.Second):
				t.Fatalf("no event; got %v", got)
			}
		}
	}
	expect(2) // the current state: a and c
	mustCreate(t, s, newPod("default", "e", map[string]string{"app": "web"}))
	mustCreate(t, s, newPod("default", "f", map[string]string{"app": "db"})) // not selected
	if _, _, err := s.Update(ctxT(t), "default", "c", mutate(func(p *corev1.Pod) { p.Labels["app"] = "db" }), UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	expect(2)
	want := []string{"ADDED a", "ADDED c", "ADDED e", "DELETED c"}
	if !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
	if _, err := s.Watch(ctxT(t), "", &metav1.ListOptions{FieldSelector: "status.phase=Running"}); !apierrors.IsBadRequest(err) {
		t.Errorf("watch with an unsupported field: %v, want BadRequest", err)
	}
	if _, err := s.Watch(ctxT(t), "", &metav1.ListOptions{ResourceVersion: "x"}); !apierrors.IsBadRequest(err) {
		t.Errorf("watch from resourceVersion x: %v, want BadRequest", err)
	}
}
