package controlplane

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
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
// serving a certificate of the cluster CA, as the real one does. The
// worker's kubelet starts only once the control plane's Node is
// registered, so that it gets the first pod range; before that, as soon as
// the apiserver is ready, kubeadm's RBAC objects are created as
// kubernetes-super-admin (kubeadm:cluster-admins first).
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
	var mu sync.Mutex
	var events []string
	record := func(e string) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e)
	}
	polls, posts := 0, 0
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			if len(r.TLS.PeerCertificates) == 0 || r.TLS.PeerCertificates[0].Subject.CommonName != pki.SuperAdminUser {
				http.Error(w, "only system:masters may create before kubeadm:cluster-admins exists", http.StatusForbidden)
				return
			}
			if r.URL.Path == "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings" {
				mu.Lock()
				posts++
				first := posts == 1
				mu.Unlock()
				if first {
					record("first clusterrolebinding created")
				}
			}
			w.WriteHeader(http.StatusCreated)
			return
		}
		if len(r.TLS.PeerCertificates) == 0 || r.TLS.PeerCertificates[0].Subject.CommonName != pki.AdminUser {
			http.Error(w, "who are you", http.StatusUnauthorized)
			return
		}
		if r.URL.Path == "/api/v1/nodes/cp-control-plane" && r.Method == http.MethodPatch {
			body, _ := io.ReadAll(r.Body)
			if r.Header.Get("Content-Type") != "application/merge-patch+json" || !strings.Contains(string(body), `"node-role.kubernetes.io/control-plane":""`) {
				http.Error(w, "bad patch "+string(body), http.StatusBadRequest)
				return
			}
			record("node cp-control-plane labelled")
		} else if r.URL.Path == "/api/v1/nodes/cp-control-plane" {
			mu.Lock()
			polls++
			registered := polls > 2
			mu.Unlock()
			if !registered {
				http.NotFound(w, r)
				return
			}
			record("node cp-control-plane registered")
		}
		w.Write([]byte("ok"))
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{serving.TLSCertificate()}, ClientAuth: tls.RequestClientCert}
	srv.StartTLS()
	defer srv.Close()

	p := &fake.Provider{Endpoint: strings.TrimPrefix(srv.URL, "https://"), Handler: func(node string, argv []string, _ []byte) (string, error) {
		if strings.Join(argv, " ") == "systemctl restart kubelet" {
			record("kubelet started on " + node)
		}
		return "", nil
	}}
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
	want := []string{"kubelet started on cp-control-plane", "first clusterrolebinding created", "node cp-control-plane registered",
		"node cp-control-plane labelled", "kubelet started on cp-worker"}
	if !slices.Equal(events, want) {
		t.Errorf("order %q, want %q", events, want)
	}
}
