package etcdpeer

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.etcd.io/etcd/server/v3/embed"

	"github.com/kinc-dev/kinc/pkg/apiserver/storage/storagetest"
)

const manifest = `apiVersion: v1
kind: Pod
spec:
  containers:
  - command:
    - etcd
    - --advertise-client-urls=https://172.20.0.5:2379
    - --initial-advertise-peer-urls=https://172.20.0.5:2380
    - --initial-cluster=kinc-control-plane=https://172.20.0.5:2380
    - --listen-client-urls=https://127.0.0.1:2379,https://172.20.0.5:2379
    - --name=kinc-control-plane
`

func TestFromManifest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "etcd.yaml")
	if err := os.WriteFile(path, []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := FromManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Member{Name: "kinc-control-plane", PeerURL: "https://172.20.0.5:2380", ClientURL: "https://127.0.0.1:2379"}); m != want {
		t.Errorf("member %+v, want %+v", m, want)
	}
	if err := os.WriteFile(path, []byte("spec: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := FromManifest(path); err == nil || !strings.Contains(err.Error(), "--name") {
		t.Errorf("a manifest without the flags: %v", err)
	}
}

// TestIntegrationSync updates a real etcd member's peer URL once, and then
// leaves it alone.
func TestIntegrationSync(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts etcd")
	}
	// etcd's JSON gateway dials the configured client URL: it needs a real
	// port, not the harness's :0.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	clientURL := url.URL{Scheme: "http", Host: l.Addr().String()}
	l.Close()
	etcd := storagetest.RunEtcd(t, func(c *embed.Config) {
		c.Name = "kinc-control-plane"
		c.InitialCluster = c.InitialClusterFromName(c.Name)
		c.ListenClientUrls, c.AdvertiseClientUrls = []url.URL{clientURL}, []url.URL{clientURL}
	})
	client := HTTPCluster{Endpoint: etcd.Endpoints()[0]}
	ctx := context.Background()
	m := Member{Name: "kinc-control-plane", PeerURL: "http://127.0.0.2:2380"}
	old, err := Sync(ctx, client, m)
	if err != nil {
		t.Fatal(err)
	}
	if len(old) != 1 || old[0] == m.PeerURL {
		t.Errorf("replaced %v", old)
	}
	list, err := etcd.MemberList(ctx) // etcd's own client sees the change
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Members) != 1 || !slices.Equal(list.Members[0].PeerURLs, []string{m.PeerURL}) {
		t.Errorf("members after sync: %+v", list.Members)
	}
	if again, err := Sync(ctx, client, m); err != nil || again != nil {
		t.Errorf("second sync replaced %v (%v)", again, err)
	}
	if _, err := Sync(ctx, client, Member{Name: "someone-else", PeerURL: m.PeerURL}); err == nil || !strings.Contains(err.Error(), "no member named") {
		t.Errorf("unknown member: %v", err)
	}
}

func TestHTTPClusterErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":"etcdserver: no leader"}`, http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	_, err := Sync(context.Background(), HTTPCluster{Endpoint: srv.URL}, Member{Name: "n", PeerURL: "https://10.0.0.1:2380"})
	if err == nil || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), "no leader") {
		t.Errorf("error %v", err)
	}
}
