package etcd3

import (
	"context"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/kinc-dev/kinc/pkg/apiserver/storage"
	"github.com/kinc-dev/kinc/pkg/apiserver/storage/storagetest"
)

// TestIntegrationRequestWatchProgress checks that RequestWatchProgress makes an
// idle ProgressNotify watch send a BOOKMARK at the current revision, without
// waiting for etcd's periodic notification (an hour here).
func TestIntegrationRequestWatchProgress(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := storagetest.RunEtcd(t, func(c *embed.Config) { c.WatchProgressNotifyInterval = time.Hour })
	s := newTestStore(t, client, "")
	cur, err := s.GetCurrentResourceVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.Watch(ctx, "/pods", storage.ListOptions{
		ResourceVersion: storage.FormatResourceVersion(cur), Recursive: true, ProgressNotify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	// Writes elsewhere advance the revision without events for this watch.
	resp, err := client.Put(ctx, "/elsewhere", "x")
	if err != nil {
		t.Fatal(err)
	}
	// A request only gets an answer once the watch is synced: ask until it does.
	ticker := time.NewTicker(100 * time.Millisecond)
	defer ticker.Stop()
	for {
		if err := s.(storage.ProgressRequester).RequestWatchProgress(ctx); err != nil {
			t.Fatal(err)
		}
		select {
		case ev := <-w.ResultChan():
			pod, ok := ev.Object.(*corev1.Pod)
			if ev.Type != watch.Bookmark || !ok || pod.ResourceVersion != storage.FormatResourceVersion(uint64(resp.Header.Revision)) {
				t.Fatalf("got %s %+v, want a BOOKMARK at %d", ev.Type, ev.Object, resp.Header.Revision)
			}
			return
		case <-ticker.C:
		case <-ctx.Done():
			t.Fatal("no bookmark")
		}
	}
}
