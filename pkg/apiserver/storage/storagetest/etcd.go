package storagetest

import (
	"context"
	"net/url"
	"os"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// ProgressNotifyInterval is how often the etcd started by RunEtcd sends progress
// notifications to idle watches (etcd's default is ten minutes).
const ProgressNotifyInterval = 250 * time.Millisecond

// RunEtcd starts a single-member etcd in this process, listening on random free
// ports of 127.0.0.1 with its data in a temporary directory, and returns a client
// for it. The server and the client are closed when the test ends. Tests that use
// it are integration tests: name them TestIntegration* and skip them under
// testing.Short(). Options may adjust the server's configuration before it
// starts.
func RunEtcd(tb testing.TB, options ...func(*embed.Config)) *clientv3.Client {
	tb.Helper()
	cfg := embed.NewConfig()
	cfg.Name = "storagetest"
	cfg.Dir = tb.TempDir()
	if err := os.Chmod(cfg.Dir, 0o700); err != nil {
		tb.Fatalf("chmod etcd data dir: %v", err)
	}
	// Port 0 everywhere: the kernel picks free ports, and a one-member cluster
	// never dials its own peer URL.
	zero := url.URL{Scheme: "http", Host: "127.0.0.1:0"}
	cfg.ListenClientUrls = []url.URL{zero}
	cfg.AdvertiseClientUrls = []url.URL{zero}
	cfg.ListenPeerUrls = []url.URL{zero}
	cfg.AdvertisePeerUrls = []url.URL{zero}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.UnsafeNoFsync = true
	// Short raft timings: a one-member cluster elects itself sooner.
	cfg.TickMs = 10
	cfg.ElectionMs = 100
	cfg.WatchProgressNotifyInterval = ProgressNotifyInterval
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	cfg.LogLevel = "error"
	for _, o := range options {
		o(cfg)
	}

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		tb.Fatalf("start etcd: %v", err)
	}
	tb.Cleanup(e.Close)
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		tb.Fatalf("etcd failed: %v", err)
	case <-time.After(60 * time.Second):
		tb.Fatal("etcd did not become ready within 60s")
	}

	client, err := clientv3.New(clientv3.Config{
		Endpoints:   []string{"http://" + e.Clients[0].Addr().String()},
		DialTimeout: 10 * time.Second,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		tb.Fatalf("connect to etcd: %v", err)
	}
	tb.Cleanup(func() { _ = client.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := client.Get(ctx, "health"); err != nil {
		tb.Fatalf("etcd is not serving: %v", err)
	}
	return client
}
