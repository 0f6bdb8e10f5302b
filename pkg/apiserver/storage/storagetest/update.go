package storagetest

import (
	"errors"
	"strconv"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/storage"
)

// RunTestGuaranteedUpdate checks GuaranteedUpdate: updates, no-ops, creation on
// ignoreNotFound, errors from tryUpdate, preconditions, and concurrent writers.
func RunTestGuaranteedUpdate(t *testing.T, factory Factory) {
	t.Run("updates and advances resourceVersion", func(t *testing.T) {
		ctx, s := testContext(t), factory(t).Store
		stored := create(ctx, t, s, newPod("ns", "a", nil))
		var seenRV string
		out := &corev1.Pod{}
		err := s.GuaranteedUpdate(ctx, PodKey("ns", "a"), out, false, nil, func(existing runtime.Object) (runtime.Object, error) {
			pod := existing.(*corev1.Pod)
			seenRV = pod.ResourceVersion
			pod.Labels = map[string]string{"updated": "yes"}
			return pod, nil
		})
		if err != nil {
			t.Fatalf("update: %v", err)
		}
		if seenRV != stored.ResourceVersion {
			t.Errorf("tryUpdate saw resourceVersion %q, want %q", seenRV, stored.ResourceVersion)
		}
		if rv(t, out) <= rv(t, stored) || out.Labels["updated"] != "yes" {
			t.Errorf("dest = %+v, want the update at a later revision", out.ObjectMeta)
		}
		got := &corev1.Pod{}
		if err := s.Get(ctx, PodKey("ns", "a"), storage.GetOptions{}, got); err != nil || got.ResourceVersion != out.ResourceVersion {
			t.Errorf("get after update: rv %q err %v, want rv %q", got.ResourceVersion, err, out.ResourceVersion)
		}
	})
	t.Run("no-op keeps resourceVersion", func(t *testing.T) {
		ctx, s := testContext(t), factory(t).Store
		stored := create(ctx, t, s, newPod("ns", "a", nil))
		out := update(ctx, t, s, "ns", "a", func(*corev1.Pod) {})
		if out.ResourceVersion != stored.ResourceVersion {
			t.Errorf("no-op update moved resourceVersion from %s to %s", stored.ResourceVersion, out.ResourceVersion)
		}
	})
	t.Run("missing key", func(t *testing.T) {
		ctx, s := testContext(t), factory(t).Store
		fail := func(runtime.Object) (runtime.Object, error) { return nil, errors.New("must not be called") }
		if err := s.GuaranteedUpdate(ctx, PodKey("ns", "a"), &corev1.Pod{}, false, nil, fail); !storage.IsNotFound(err) {
			t.Fatalf("update of missing key: %v, want NotFound", err)
		}
		out := &corev1.Pod{}
		err := s.GuaranteedUpdate(ctx, PodKey("ns", "a"), out, true, nil, func(existing runtime.Object) (runtime.Object, error) {
			if existing.(*corev1.Pod).ResourceVersion != "" {
				t.Errorf("tryUpdate got a non-zero object for a missing key")
			}
			return newPod("ns", "a", nil), nil
		})
		if err != nil || out.Name != "a" || out.ResourceVersion == "" {
			t.Fatalf("update creating the key: %v, %+v", err, out.ObjectMeta)
		}
	})
	t.Run("tryUpdate error is returned unchanged", func(t *testing.T) {
		ctx, s := testContext(t), factory(t).Store
		stored := create(ctx, t, s, newPod("ns", "a", nil))
		boom := errors.New("boom")
		err := s.GuaranteedUpdate(ctx, PodKey("ns", "a"), &corev1.Pod{}, false, nil,
			func(runtime.Object) (runtime.Object, error) { return nil, boom })
		if err != boom {
			t.Fatalf("update: %v, want boom", err)
		}
		if cur := getPod(ctx, t, s, "ns", "a"); cur.ResourceVersion != stored.ResourceVersion {
			t.Errorf("aborted update wrote: rv %s, want %s", cur.ResourceVersion, stored.ResourceVersion)
		}
	})
	t.Run("preconditions", func(t *testing.T) {
		ctx, s := testContext(t), factory(t).Store
		stored := create(ctx, t, s, newPod("ns", "a", nil))
		staleRV := stored.ResourceVersion
		update(ctx, t, s, "ns", "a", func(p *corev1.Pod) { p.Labels = map[string]string{"x": "1"} })
		wrongUID := stored.UID + "x"
		relabel := func(existing runtime.Object) (runtime.Object, error) {
			pod := existing.(*corev1.Pod)
			pod.Labels = map[string]string{"x": "2"}
			return pod, nil
		}
		for _, p := range []*storage.Preconditions{{UID: &wrongUID}, {ResourceVersion: &staleRV}} {
			err := s.GuaranteedUpdate(ctx, PodKey("ns", "a"), &corev1.Pod{}, false, p, relabel)
			if !storage.IsConflict(err) {
				t.Errorf("update with failing precondition: %v, want Conflict", err)
			}
		}
		curRV := getPod(ctx, t, s, "ns", "a").ResourceVersion
		p := &storage.Preconditions{UID: &stored.UID, ResourceVersion: &curRV}
		if err := s.GuaranteedUpdate(ctx, PodKey("ns", "a"), &corev1.Pod{}, false, p, relabel); err != nil {
			t.Errorf("update with holding preconditions: %v", err)
		}
	})
	t.Run("concurrent writers lose no update", func(t *testing.T) {
		ctx, s := testContext(t), factory(t).Store
		create(ctx, t, s, newPod("ns", "counter", nil))
		const writers, increments = 8, 5
		var wg sync.WaitGroup
		errs := make(chan error, writers*increments)
		for range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range increments {
					errs <- s.GuaranteedUpdate(ctx, PodKey("ns", "counter"), &corev1.Pod{}, false, nil,
						func(existing runtime.Object) (runtime.Object, error) {
							pod := existing.(*corev1.Pod)
							n, _ := strconv.Atoi(pod.Annotations["count"])
							pod.Annotations = map[string]string{"count": strconv.Itoa(n + 1)}
							return pod, nil
						})
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("concurrent update: %v", err)
			}
		}
		if got := getPod(ctx, t, s, "ns", "counter").Annotations["count"]; got != strconv.Itoa(writers*increments) {
			t.Errorf("count = %s, want %d", got, writers*increments)
		}
	})
}
