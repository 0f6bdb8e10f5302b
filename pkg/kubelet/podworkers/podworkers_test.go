package podworkers

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func pod(uid, version string) *v1.Pod {
	return &v1.Pod{ObjectMeta: metav1.ObjectMeta{UID: types.UID(uid), Name: uid, ResourceVersion: version}}
}

func TestCoalescing(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	release := make(chan struct{})
	var mu sync.Mutex
	var seen []string
	sync := func(_ context.Context, u Update) error {
		mu.Lock()
		seen = append(seen, u.Pod.ResourceVersion)
		first := len(seen) == 1
		mu.Unlock()
		if first {
			<-release
		}
		return nil
	}
	w, wait := New(ctx, sync, slog.New(slog.NewTextHandler(io.Discard, nil)))
	w.UpdatePod(Update{Pod: pod("a", "1")})
	for !func() bool { mu.Lock(); defer mu.Unlock(); return len(seen) == 1 }() {
		time.Sleep(time.Millisecond)
	}
	w.UpdatePod(Update{Pod: pod("a", "2")})
	w.UpdatePod(Update{Pod: pod("a", "3"), Type: KillPod})
	w.UpdatePod(Update{Pod: pod("a", "4")}) // a SyncPod never replaces a pending KillPod
	close(release)
	for !func() bool { mu.Lock(); defer mu.Unlock(); return len(seen) == 2 }() {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	w.ForgetNonExistingPodWorkers(map[types.UID]bool{})
	if w.IsWorking("a") {
		t.Error("worker not forgotten")
	}
	cancel()
	wait()
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 || seen[0] != "1" || seen[1] != "3" {
		t.Errorf("synced versions %v, want [1 3]", seen)
	}
}

func TestPerPodConcurrency(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := make(chan string, 2)
	block := make(chan struct{})
	w, _ := New(ctx, func(_ context.Context, u Update) error { started <- string(u.Pod.UID); <-block; return nil },
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	w.UpdatePod(Update{Pod: pod("a", "1")})
	w.UpdatePod(Update{Pod: pod("b", "1")})
	got := map[string]bool{<-started: true, <-started: true}
	if !got["a"] || !got["b"] {
		t.Errorf("pods did not sync concurrently: %v", got)
	}
	close(block)
}
