package create

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kinc-dev/kinc/pkg/cluster/config"
	"github.com/kinc-dev/kinc/pkg/cluster/internal/create/actions"
	configaction "github.com/kinc-dev/kinc/pkg/cluster/internal/create/actions/config"
	pkiaction "github.com/kinc-dev/kinc/pkg/cluster/internal/create/actions/pki"
	"github.com/kinc-dev/kinc/pkg/cluster/internal/create/actions/provision"
	"github.com/kinc-dev/kinc/pkg/cluster/internal/providers"
	"github.com/kinc-dev/kinc/pkg/cluster/internal/providers/fake"
	"github.com/kinc-dev/kinc/pkg/log"
	"github.com/kinc-dev/kinc/pkg/pki"
	"github.com/kinc-dev/kinc/pkg/pki/kubeconfig"
)

const image = "kinc/node:test"

func mustConfig(t *testing.T, doc string) *config.Cluster {
	t.Helper()
	c, err := config.Load([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// nodeHandler answers the commands the steps run in a healthy node.
func nodeHandler(node string, argv []string, _ []byte) (string, error) {
	switch strings.Join(argv, " ") {
	case "systemctl is-system-running":
		return "running\n", nil
	case "cat /run/kinc/cgroup-driver":
		return "systemd\n", nil
	case "/usr/local/bin/kinc-node routes --help":
		return "      --cni-config string   the CNI configuration file\n", nil
	case "cat /etc/containerd/config.toml":
		return "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\"]\nsandbox_image = \"p\"\n", nil
	}
	if argv[0] == "cat" {
		return "", errors.New("no such file")
	}
	return "", nil
}

func TestPrepareRejectsBeforeCreating(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		setup   func(p *fake.Provider)
		opts    Options
		wantErr string
		is      error
	}{
		{name: "bad config", opts: Options{Config: mustConfig(t, "kind: Cluster\napiVersion: kinc.dev/v1alpha4\nnodes:\n- role: worker\n")},
			wantErr: "at least one node must have role"},
		{name: "kubelet rejects patched field", opts: Options{Config: mustConfig(t, `kind: Cluster
apiVersion: kinc.dev/v1alpha4
kubeadmConfigPatches:
- |
  kind: KubeletConfiguration
  evictionSoft:
    memory.available: 100Mi
`)}, wantErr: `unknown field "evictionSoft"`},
		{name: "unknown apiserver flag", opts: Options{Config: mustConfig(t, `kind: Cluster
apiVersion: kinc.dev/v1alpha4
kubeadmConfigPatches:
- |
  kind: ClusterConfiguration
  apiServer:
    extraArgs:
      egress-selector-config-file: /etc/kubernetes/egress.yaml
`)}, wantErr: "--egress-selector-config-file not implemented by kinc's kube-apiserver"},
		{name: "engine missing", setup: func(p *fake.Provider) { p.InfoErr = providers.ErrEngineUnavailable },
			is: providers.ErrEngineUnavailable},
		{name: "name in use", setup: func(p *fake.Provider) { p.AddNode("taken", "taken-control-plane", "control-plane") },
			opts: Options{NameOverride: "taken"}, is: ErrClusterExists, wantErr: `a cluster with the name "taken"`},
		{name: "default image missing", setup: func(p *fake.Provider) { p.Images = nil }, is: ErrNodeImageMissing, wantErr: "make node-image"},
		{name: "custom image missing", opts: Options{NodeImage: "mine:1"}, is: ErrNodeImageMissing, wantErr: `"mine:1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &fake.Provider{Images: map[string]string{image: "sha256:1"}, Handler: nodeHandler}
			if tt.setup != nil {
				tt.setup(p)
			}
			tt.opts.DefaultNodeImage = image
			err := Cluster(context.Background(), log.NoopLogger{}, p, tt.opts)
			if err == nil {
				t.Fatal("want an error")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error lacks %q: %v", tt.wantErr, err)
			}
			for _, c := range p.Calls() {
				if strings.HasPrefix(c, "Provision") || strings.HasPrefix(c, "DeleteNodes") {
					t.Errorf("%s called before the checks passed", c)
				}
			}
		})
	}
}

func TestCreateWritesNodesAndKubeconfig(t *testing.T) {
	t.Parallel()
	p := &fake.Provider{Images: map[string]string{image: "sha256:1"}, Handler: nodeHandler, Endpoint: "127.0.0.1:40000"}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	cfg := mustConfig(t, `kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
- role: control-plane
- role: worker
  labels: {tier: backend}
containerdConfigPatches:
- |
  [plugins."io.containerd.grpc.v1.cri".registry]
  config_path = "/etc/containerd/certs.d"
kubeadmConfigPatches:
- |
  kind: ClusterConfiguration
  apiServer:
    certSANs: [api.example.com, 192.0.2.7]
`)
	err := Cluster(context.Background(), log.NoopLogger{}, p, Options{
		Config: cfg, NameOverride: "unit", DefaultNodeImage: image, KubeconfigPath: path,
		PollInterval: time.Millisecond,
		Actions:      []Step{{"prepare nodes", provision.NewAction()}, {"generate certificates", pkiaction.NewAction()}, {"write configuration", configaction.NewAction()}},
	})
	if err != nil {
		t.Fatal(err)
	}
	list, _ := p.ListNodes(context.Background(), "unit")
	if len(list) != 2 || list[0].String() != "unit-control-plane" || list[1].String() != "unit-worker" {
		t.Fatalf("nodes %v", list)
	}
	cp, worker := list[0].(*fake.Node), list[1].(*fake.Node)
	for _, f := range []string{"/etc/kubernetes/pki/ca.key", "/etc/kubernetes/admin.conf", "/etc/kubernetes/pki/etcd/server.crt",
		"/var/lib/kubelet/config.yaml", "/var/lib/kubelet/kubeadm-flags.env", "/var/lib/kubelet/pki/kubelet.crt"} {
		if _, ok := cp.File(f); !ok {
			t.Errorf("control plane lacks %s", f)
		}
	}
	if env, _ := worker.File("/etc/default/kinc-routes"); string(env) != `KINC_ROUTES_ARGS="--pod-subnet=10.244.0.0/16"`+"\n" {
		t.Errorf("kinc-routes environment %q", env)
	}
	// The CNI config is kinc-node's, once the node-ipam-controller gave
	// the Node its range (pkg/nodeagent/cniconfig).
	if cni, ok := worker.File("/etc/cni/net.d/10-kinc.conflist"); ok {
		t.Errorf("create wrote the CNI config:\n%s", cni)
	}
	certPEM, _ := cp.File("/etc/kubernetes/pki/apiserver.crt")
	cert, err := pki.ParseCertPEM(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(cert.DNSNames, "api.example.com") || !slices.ContainsFunc(cert.IPAddresses, func(ip net.IP) bool { return ip.String() == "192.0.2.7" }) ||
		!slices.Contains(cert.DNSNames, "unit-control-plane") {
		t.Errorf("apiserver SANs %v %v", cert.DNSNames, cert.IPAddresses)
	}
	if _, ok := worker.File("/etc/kubernetes/pki/ca.key"); ok {
		t.Error("worker got the CA key")
	}
	kc, _ := worker.File("/var/lib/kubelet/config.yaml")
	for _, want := range []string{"cgroupDriver: systemd", "clusterDNS:\n- 10.96.0.10", "staticPodPath: /etc/kubernetes/manifests"} {
		if !strings.Contains(string(kc), want) {
			t.Errorf("worker kubelet config lacks %q:\n%s", want, kc)
		}
	}
	if strings.Contains(string(kc), "podCIDR") {
		t.Errorf("worker kubelet config sets a podCIDR (the node-ipam-controller's job):\n%s", kc)
	}
	flags, _ := worker.File("/var/lib/kubelet/kubeadm-flags.env")
	if !strings.Contains(string(flags), "--node-labels=tier=backend") || !strings.Contains(string(flags), "--node-ip=10.0.0.2") {
		t.Errorf("worker flags %s", flags)
	}
	ctd, _ := cp.File("/etc/containerd/config.toml")
	if !strings.Contains(string(ctd), `config_path = "/etc/containerd/certs.d"`) || !strings.Contains(string(ctd), `sandbox_image = "p"`) {
		t.Errorf("containerd config not patched:\n%s", ctd)
	}
	if cmds := strings.Join(cp.Cmds(), "\n"); !strings.Contains(cmds, "systemctl restart containerd") || !strings.Contains(cmds, "systemctl enable --now --quiet kinc-routes.service") {
		t.Errorf("commands on the control plane:\n%s", cmds)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := kubeconfig.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if got.CurrentContext != "kinc-unit" || got.Clusters["kinc-unit"].Server != "https://127.0.0.1:40000" {
		t.Fatalf("kubeconfig %+v", got)
	}
}

type failing struct{}

func (failing) Execute(context.Context, *actions.ActionContext) error {
	return errors.New("boom")
}

func TestFailedStepCleansUpUnlessRetained(t *testing.T) {
	t.Parallel()
	for _, retain := range []bool{false, true} {
		p := &fake.Provider{Images: map[string]string{image: "sha256:1"}, Handler: nodeHandler}
		err := Cluster(context.Background(), log.NoopLogger{}, p, Options{
			NameOverride: "failing", DefaultNodeImage: image, Retain: retain, PollInterval: time.Millisecond,
			Actions: []Step{{"prepare nodes", provision.NewAction()}, {"explode", failing{}}},
		})
		if err == nil || !strings.Contains(err.Error(), `step "explode" failed: boom`) {
			t.Fatalf("retain=%v: error %v", retain, err)
		}
		list, _ := p.ListNodes(context.Background(), "failing")
		if retain != (len(list) == 1) {
			t.Errorf("retain=%v: %d nodes left", retain, len(list))
		}
		if retain && !strings.Contains(err.Error(), "kinc export logs --name failing") {
			t.Errorf("retain error lacks the hint: %v", err)
		}
	}
}

func TestBootTimeoutNamesTheNode(t *testing.T) {
	t.Parallel()
	p := &fake.Provider{Images: map[string]string{image: "sha256:1"}, Handler: func(string, []string, []byte) (string, error) {
		return "starting\n", errors.New("exit status 1")
	}}
	err := Cluster(context.Background(), log.NoopLogger{}, p, Options{
		NameOverride: "slow", DefaultNodeImage: image, PollInterval: time.Millisecond, BootTimeout: 20 * time.Millisecond,
		Actions: []Step{{"prepare nodes", provision.NewAction()}},
	})
	if err == nil || !strings.Contains(err.Error(), "node slow-control-plane did not finish booting") || !strings.Contains(err.Error(), `system state "starting"`) {
		t.Fatalf("error %v", err)
	}
}

func TestLatestNodeImageFallback(t *testing.T) {
	t.Parallel()
	p := &fake.Provider{Images: map[string]string{LatestNodeImage: "sha256:l"}}
	cfg, _, err := Prepare(context.Background(), p, Options{DefaultNodeImage: image, NameOverride: "latest"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Nodes[0].Image != LatestNodeImage {
		t.Fatalf("image %s", cfg.Nodes[0].Image)
	}
	// An image the user named is never replaced.
	if _, _, err := Prepare(context.Background(), p, Options{DefaultNodeImage: image, NodeImage: "mine:1"}); !errors.Is(err, ErrNodeImageMissing) {
		t.Fatalf("error %v", err)
	}
}

// TestOldNodeImageRefused: a node image whose kinc-node does not write the
// CNI configuration (it predates the node-ipam-controller) would never run
// a pod: the configuration step says to rebuild it.
func TestOldNodeImageRefused(t *testing.T) {
	t.Parallel()
	p := &fake.Provider{Images: map[string]string{image: "sha256:1"}, Handler: func(node string, argv []string, stdin []byte) (string, error) {
		if strings.Join(argv, " ") == "/usr/local/bin/kinc-node routes --help" {
			return "      --pod-subnet string   the cluster's pod network\n", nil
		}
		return nodeHandler(node, argv, stdin)
	}}
	err := Cluster(context.Background(), log.NoopLogger{}, p, Options{
		NameOverride: "old", DefaultNodeImage: image, PollInterval: time.Millisecond,
		Actions: []Step{{"prepare nodes", provision.NewAction()}, {"generate certificates", pkiaction.NewAction()}, {"write configuration", configaction.NewAction()}},
	})
	if err == nil || !strings.Contains(err.Error(), "rebuild it with `kinc build node-image`") {
		t.Fatalf("error %v", err)
	}
}
