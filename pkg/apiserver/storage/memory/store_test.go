package memory

import (
	"context"
	"testing"
	"time"

	"github.com/kinc-dev/kinc/pkg/apiserver/storage/storagetest"
)

// testHistorySize is small enough that the suite's too-old watch test also
// crosses the automatic compaction.
const testHistorySize = 32

func newTestStore(t testing.TB, cfg Config) *Store {
	t.Helper()
	if cfg.Codec == nil {
		cfg.Codec = storagetest.Codec()
	}
	if cfg.NewFunc == nil {
		cfg.NewFunc = storagetest.NewPod
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("new store: %v", err)
	}
	return s
}

// factory returns the suite's fixtures: a fresh store each, with progress
// notifications as fast as the etcd of the integration tests sends them.
func factory(t *testing.T) storagetest.Fixture {
	s := newTestStore(t, Config{HistorySize: testHistorySize, ProgressNotifyInterval: storagetest.ProgressNotifyInterval})
	return storagetest.Fixture{Store: s, Compact: s.Compact, WatchHistory: testHistorySize}
}

// TestConformance runs the storage conformance suite that etcd3 and the
// cacher pass.
func TestConformance(t *testing.T) {
	t.Run("Create", func(t *testing.T) { storagetest.RunTestCreate(t, factory) })
	t.Run("Get", func(t *testing.T) { storagetest.RunTestGet(t, factory) })
	t.Run("List", func(t *testing.T) { storagetest.RunTestList(t, factory) })
	t.Run("GuaranteedUpdate", func(t *testing.T) { storagetest.RunTestGuaranteedUpdate(t, factory) })
	t.Run("Delete", func(t *testing.T) { storagetest.RunTestDelete(t, factory) })
	t.Run("Watch", func(t *testing.T) { storagetest.RunTestWatch(t, factory) })
	t.Run("WatchWithoutBookmarks", func(t *testing.T) {
		storagetest.RunTestWatchWithoutBookmarks(t, factory, 3*storagetest.ProgressNotifyInterval)
	})
}

func TestNewRequiresCodecAndNewFunc(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Fatal("New without Codec and NewFunc succeeded")
	}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}
