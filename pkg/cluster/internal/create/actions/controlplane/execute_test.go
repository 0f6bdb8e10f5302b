package controlplane

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kinc-dev/kinc/pkg/cluster/config"
	"github.com/kinc-dev/kinc/pkg/cluster/internal/create/actions"
	"github.com/kinc-dev/kinc/pkg/cluster/internal/nodeconfig"
	"github.com/kinc-dev/kinc/pkg/cluster/internal/providers/fake"
	"github.com/kinc-dev/kinc/pkg/cluster/nodes"
	"github.com/kinc-dev/kinc/pkg/internal/cli"
	"github.com/kinc-dev/kinc/pkg/log"
	"github.com/kinc-dev/kinc/pkg/pki"
)

// TestExecute runs the step against fake nodes and an apiserver stand-in
// serving a certificate of the cluster CA, as the real one does.
func TestExecute(t *testing.T) {
	t.Parallel()
	cfg := &config.Cluster{Nodes: []config.Node{{Role: config.ControlPlaneRole}, {Role: config.WorkerRole}}}
	config.SetDefaults(cfg, "img")
	cfg.Name = "cp"
	tree, err := pki.GenerateClusterPKI(pki.ClusterOptions{ClusterName: "cp",
		ControlPlanes: []pki.NodeInfo{{Name: "cp-control-plane"}}, Workers: []pki.NodeInfo{{Name: "cp-worker"}}})
	if err != nil {
		t.Fatal(err)
	}
	serving, err := tree.CA.Issue(pki.ServerSpec("kube-apiserver", nil, []net.IP{net.IPv4(127, 0, 0, 1)}))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) == 0 || r.TLS.PeerCertificates[0].Subject.CommonName != pki.AdminUser {
			http.Error(w, "who are you", http.StatusUnauthorized)
			return
		}
		w.Write([]byte("ok"))
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{serving.TLSCertificate()}, ClientAuth: tls.RequestClientCert}
	srv.StartTLS()
	defer srv.Close()

	p := &fake.Provider{Endpoint: strings.TrimPrefix(srv.URL, "https://")}
	list := []nodes.Node{p.AddNode("cp", "cp-control-plane", "control-plane"), p.AddNode("cp", "cp-worker", "worker")}
	ncs, err := nodeconfig.Nodes(cfg, []string{"cp-control-plane", "cp-worker"})
	if err != nil {
		t.Fatal(err)
	}
	ncs[0].IP, ncs[1].IP = "172.18.0.2", "172.18.0.3"
	actx := &actions.ActionContext{Logger: log.NoopLogger{}, Status: cli.StatusForLogger(log.NoopLogger{}), Config: cfg, Provider: p,
		Nodes: list, NodeConfigs: ncs, PKI: tree, PollInterval: time.Millisecond, ReadyTimeout: 5 * time.Second}
	if err := NewAction().Execute(context.Background(), actx); err != nil {
		t.Fatal(err)
	}
	cp, w := list[0].(*fake.Node), list[1].(*fake.Node)
	for _, f := range []string{"etcd.yaml", "kube-apiserver.yaml", "kube-scheduler.yaml"} {
		if _, ok := cp.File("/etc/kubernetes/manifests/" + f); !ok {
			t.Errorf("control plane lacks %s", f)
		}
		if _, ok := w.File("/etc/kubernetes/manifests/" + f); ok {
			t.Errorf("worker got %s", f)
		}
	}
	for _, n := range []*fake.Node{cp, w} {
		if !strings.Contains(strings.Join(n.Cmds(), ";"), "systemctl restart kubelet") {
			t.Errorf("%s: kubelet not started: %v", n, n.Cmds())
		}
	}
}
