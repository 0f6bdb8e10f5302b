package cacher

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kinc-dev/kinc/pkg/apiserver/storage/etcd3"
	"github.com/kinc-dev/kinc/pkg/apiserver/storage/storagetest"
)

// testWindowSize is below the suite's 50 writes, so that its too-old watch
// falls out of the window.
const testWindowSize = 16

func TestIntegrationCacher(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd")
	}
	client := storagetest.RunEtcd(t)
	n := 0
	factory := func(t *testing.T) storagetest.Fixture {
		n++
		underlying, err := etcd3.New(etcd3.Config{
			Client: client, Codec: storagetest.Codec(), NewFunc: storagetest.NewPod,
			Prefix: fmt.Sprintf("/registry-%d", n),
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
		// A cache can replay only what happened after its first list; the
		// suite's stores start empty, so wait for that list before use.
		select {
		case <-c.ready:
		case <-time.After(10 * time.Second):
			t.Fatal("cacher not ready after 10s")
		}
		return storagetest.Fixture{
			Store: c,
			Compact: func(ctx context.Context, rev int64) error {
				// Let the cache catch up first: etcd cancels lagging watches whose
				// next revision gets compacted, and the cacher would relist.
				if err := c.waitFresh(ctx, "", rev); err != nil {
					return err
				}
				_, err := client.Compact(ctx, rev)
				return err
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
