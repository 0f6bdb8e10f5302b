package controlplane

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kinc-dev/kinc/pkg/cluster/internal/providers/fake"
)

func TestWaitForReadyz(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			t.Errorf("path %s", r.URL.Path)
		}
		if calls.Add(1) < 3 {
			http.Error(w, "[-]etcd failed", http.StatusInternalServerError)
			return
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	if err := WaitForReadyz(context.Background(), srv.Client(), srv.URL, time.Millisecond, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	calls.Store(-1000)
	err := WaitForReadyz(context.Background(), srv.Client(), srv.URL, time.Millisecond, 30*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "timed out") || !strings.Contains(err.Error(), "[-]etcd failed") {
		t.Fatalf("error %v", err)
	}
}

func TestStartKubeletWithoutKubelet(t *testing.T) {
	t.Parallel()
	p := &fake.Provider{Handler: func(_ string, argv []string, _ []byte) (string, error) {
		if argv[0] == "test" {
			return "", errors.New("exit status 1")
		}
		return "", nil
	}}
	n := p.AddNode("c", "c-worker", "worker")
	err := StartKubelet(context.Background(), n)
	if err == nil || !strings.Contains(err.Error(), "node c-worker has no kubelet") {
		t.Fatalf("error %v", err)
	}
	p.Handler = nil
	n = p.AddNode("c", "c-worker2", "worker")
	if err := StartKubelet(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(n.Cmds(), ";"); got != "test -x /usr/bin/kubelet;systemctl reset-failed kubelet;systemctl restart kubelet" {
		t.Errorf("commands %s", got)
	}
}
