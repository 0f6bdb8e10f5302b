package pki

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
)

// walkFiles maps every regular file under dir (slash paths) to its mode.
func walkFiles(t *testing.T, dir string) map[string]fs.FileMode {
	t.Helper()
	got := map[string]fs.FileMode{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		got[filepath.ToSlash(rel)] = fi.Mode()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestWriteToLayout(t *testing.T) {
	p := mustGenerate(t, testCluster())
	const key, cert = fs.FileMode(0o600), fs.FileMode(0o644)
	controlPlane := map[string]fs.FileMode{
		"admin.conf": key, "super-admin.conf": key, "controller-manager.conf": key,
		"scheduler.conf": key, "kubelet.conf": key, "kinc-node.conf": key,
		"pki/ca.crt": cert, "pki/ca.key": key,
		"pki/apiserver.crt": cert, "pki/apiserver.key": key,
		"pki/apiserver-kubelet-client.crt": cert, "pki/apiserver-kubelet-client.key": key,
		"pki/apiserver-etcd-client.crt": cert, "pki/apiserver-etcd-client.key": key,
		"pki/front-proxy-ca.crt": cert, "pki/front-proxy-ca.key": key,
		"pki/front-proxy-client.crt": cert, "pki/front-proxy-client.key": key,
		"pki/sa.key": key, "pki/sa.pub": key,
		"pki/etcd/ca.crt": cert, "pki/etcd/ca.key": key,
		"pki/etcd/server.crt": cert, "pki/etcd/server.key": key,
		"pki/etcd/peer.crt": cert, "pki/etcd/peer.key": key,
		"pki/etcd/healthcheck-client.crt": cert, "pki/etcd/healthcheck-client.key": key,
	}
	worker := map[string]fs.FileMode{"bootstrap-kubelet.conf": key, "kinc-node.conf": key, "pki/ca.crt": cert}

	tests := []struct {
		name  string
		write func(dir string) error
		want  map[string]fs.FileMode
	}{
		{"WriteTo (init control plane)", p.WriteTo, controlPlane},
		{"worker", func(dir string) error { return p.WriteNodeTo(dir, "kind-worker") }, worker},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := tt.write(dir); err != nil {
				t.Fatal(err)
			}
			got := walkFiles(t, dir)
			for name, mode := range tt.want {
				if gm, ok := got[name]; !ok {
					t.Errorf("missing %s", name)
				} else if gm.Perm() != mode {
					t.Errorf("%s mode %v, want %v", name, gm.Perm(), mode)
				}
			}
			for name := range got {
				if _, ok := tt.want[name]; !ok {
					t.Errorf("unexpected file %s", name)
				}
			}
		})
	}

	// Rewriting over files with other modes restores kubeadm's modes.
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "pki"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pki/ca.key"), []byte("old"), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := p.WriteTo(dir); err != nil {
		t.Fatal(err)
	}
	if m := walkFiles(t, dir)["pki/ca.key"]; m.Perm() != 0o600 {
		t.Errorf("overwritten ca.key mode %v", m.Perm())
	}
	if _, err := p.KubernetesFiles("nope"); err == nil {
		t.Error("want error for unknown node")
	}
}

func TestSecondControlPlaneHasNoSuperAdmin(t *testing.T) {
	opts := testCluster()
	opts.ControlPlanes = append(opts.ControlPlanes, NodeInfo{Name: "kind-control-plane2"})
	p := mustGenerate(t, opts)
	files, err := p.KubernetesFiles("kind-control-plane2")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.Path == SuperAdminConf {
			t.Fatal("second control plane got super-admin.conf")
		}
		if f.Path == APIServerCert && !bytes.Equal(f.Data, p.Nodes["kind-control-plane2"].APIServer.CertPEM) {
			t.Fatal("second control plane got another node's apiserver cert")
		}
	}
}

func TestKubeletFiles(t *testing.T) {
	p := mustGenerate(t, testCluster())
	files, err := p.KubeletFiles("kind-worker")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := WriteFiles(dir, files); err != nil {
		t.Fatal(err)
	}
	got := walkFiles(t, dir)
	want := map[string]fs.FileMode{"pki/kubelet.crt": 0o644, "pki/kubelet.key": 0o600}
	if len(got) != len(want) || got["pki/kubelet.crt"].Perm() != 0o644 || got["pki/kubelet.key"].Perm() != 0o600 {
		t.Fatalf("kubelet files %v, want %v", got, want)
	}
	kp, err := ParseKeyPair(files[0].Data, files[1].Data)
	if err != nil {
		t.Fatal(err)
	}
	if err := kp.Cert.VerifyHostname("172.18.0.3"); err != nil {
		t.Fatal(err)
	}
}

// TestNodeKubeconfigs loads each written kubeconfig with clientcmd and
// checks the rest.Config it produces.
func TestNodeKubeconfigs(t *testing.T) {
	p := mustGenerate(t, testCluster())
	dir := t.TempDir()
	if err := p.WriteTo(dir); err != nil {
		t.Fatal(err)
	}
	workerDir := t.TempDir()
	if err := p.WriteNodeTo(workerDir, "kind-worker2"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path, server, context, cn string
		groups                    []string
	}{
		{filepath.Join(dir, "admin.conf"), "https://kind-control-plane:6443", "kubernetes-admin@kind", "kubernetes-admin", []string{"kubeadm:cluster-admins"}},
		{filepath.Join(dir, "super-admin.conf"), "https://kind-control-plane:6443", "kubernetes-super-admin@kind", "kubernetes-super-admin", []string{"system:masters"}},
		{filepath.Join(dir, "controller-manager.conf"), "https://kind-control-plane:6443", "system:kube-controller-manager@kind", "system:kube-controller-manager", nil},
		{filepath.Join(dir, "scheduler.conf"), "https://kind-control-plane:6443", "system:kube-scheduler@kind", "system:kube-scheduler", nil},
		{filepath.Join(dir, "kubelet.conf"), "https://kind-control-plane:6443", "system:node:kind-control-plane@kind", "system:node:kind-control-plane", []string{"system:nodes"}},
		{filepath.Join(workerDir, "kinc-node.conf"), "https://kind-control-plane:6443", "kinc:node-agent:kind-worker2@kind", "kinc:node-agent:kind-worker2", []string{"kinc:node-agents"}},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(filepath.Dir(tt.path))+"/"+filepath.Base(tt.path), func(t *testing.T) {
			cfg, err := clientcmd.LoadFromFile(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.CurrentContext != tt.context {
				t.Errorf("current-context %q, want %q", cfg.CurrentContext, tt.context)
			}
			if _, ok := cfg.Clusters["kind"]; !ok {
				t.Errorf("no cluster named kind: %v", cfg.Clusters)
			}
			rc, err := clientcmd.BuildConfigFromFlags("", tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if rc.Host != tt.server {
				t.Errorf("server %q, want %q", rc.Host, tt.server)
			}
			if !bytes.Equal(rc.TLSClientConfig.CAData, p.CA.CertPEM) {
				t.Error("CA data is not the cluster CA")
			}
			kp, err := ParseKeyPair(rc.TLSClientConfig.CertData, rc.TLSClientConfig.KeyData)
			if err != nil {
				t.Fatal(err)
			}
			if kp.Cert.Subject.CommonName != tt.cn || !slices.Equal(kp.Cert.Subject.Organization, tt.groups) {
				t.Errorf("client cert CN=%q O=%v, want %q %v", kp.Cert.Subject.CommonName, kp.Cert.Subject.Organization, tt.cn, tt.groups)
			}
		})
	}
}

// TestWorkerBootstrapKubeconfig: a worker joins as after kubeadm join, with
// the cluster's bootstrap token and no client certificate.
func TestWorkerBootstrapKubeconfig(t *testing.T) {
	p := mustGenerate(t, testCluster())
	dir := t.TempDir()
	if err := p.WriteNodeTo(dir, "kind-worker2"); err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.LoadFromFile(filepath.Join(dir, "bootstrap-kubelet.conf"))
	if err != nil {
		t.Fatal(err)
	}
	user := cfg.AuthInfos[cfg.Contexts[cfg.CurrentContext].AuthInfo]
	tok := p.BootstrapToken
	if user == nil || user.Token != tok.ID+"."+tok.Secret || len(user.ClientCertificateData) != 0 {
		t.Errorf("bootstrap-kubelet.conf user %+v, want the token %s and no certificate", user, tok)
	}
	if len(tok.ID) != 6 || len(tok.Secret) != 16 || strings.Trim(tok.String(), "abcdefghijklmnopqrstuvwxyz0123456789.") != "" {
		t.Errorf("token %q is not [a-z0-9]{6}.[a-z0-9]{16}", tok)
	}
	if !strings.Contains(BootstrapTokenSecret(tok, time.Unix(0, 0)), "name: bootstrap-token-"+tok.ID) {
		t.Error("the token's Secret is not named bootstrap-token-<id>")
	}
}
