package cacher

import (
	"context"
	"testing"
	"time"

	"github.com/kinc-dev/kinc/pkg/apiserver/storage/memory"
	"github.com/kinc-dev/kinc/pkg/apiserver/storage/storagetest"
)

// TestCacherOnMemoryStore runs the conformance suite against a cacher over the
// in-memory store: the cacher's whole behaviour, hermetically (the same suite
// runs over etcd in TestIntegrationCacher).
func TestCacherOnMemoryStore(t *testing.T) {
	factory := func(t *testing.T) storagetest.Fixture {
		underlying, err := memory.New(memory.Config{
			Codec: storagetest.Codec(), NewFunc: storagetest.NewPod,
			ProgressNotifyInterval: storagetest.ProgressNotifyInterval,
		})
		if err != nil {
			t.Fatal(err)
		}
		c, err := New(Config{
			Storage:          underlying,
			ResourcePrefix:   "/pods",
			NewFunc:          storagetest.NewPod,
			NewListFunc:      storagetest.NewPodList,
			GetAttrs:         storagetest.PodAttrs,
			WindowSize:       testWindowSize,
			BookmarkInterval: 100 * time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Stop)
		select {
		case <-c.ready:
		case <-time.After(10 * time.Second):
			t.Fatal("cacher not ready after 10s")
		}
		return storagetest.Fixture{
			Store: c,
			Compact: func(ctx context.Context, rev int64) error {
				if err := c.waitFresh(ctx, "", rev); err != nil {
					return err
				}
				return underlying.Compact(ctx, rev)
			},
			WatchHistory: testWindowSize,
		}
	}
	t.Run("Create", func(t *testing.T) { storagetest.RunTestCreate(t, factory) })
	t.Run("Get", func(t *testing.T) { storagetest.RunTestGet(t, factory) })
	t.Run("List", func(t *testing.T) { storagetest.RunTestList(t, factory) })
	t.Run("GuaranteedUpdate", func(t *testing.T) { storagetest.RunTestGuaranteedUpdate(t, factory) })
	t.Run("Delete", func(t *testing.T) { storagetest.RunTestDelete(t, factory) })
	t.Run("Watch", func(t *testing.T) { storagetest.RunTestWatch(t, factory) })
	t.Run("WatchWithoutBookmarks", func(t *testing.T) {
		storagetest.RunTestWatchWithoutBookmarks(t, factory, time.Second)
	})
}
