package readdress

import (
	"bytes"
	"crypto/x509"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kinc-dev/kinc/pkg/pki"
)

const (
	oldIP = "172.20.0.2"
	newIP = "172.20.0.5"
	// neighbour starts with oldIP but is another address: it must survive.
	neighbour = "172.20.0.23"
)

const manifest = `metadata:
  annotations:
    kubeadm.kubernetes.io/etcd.advertise-client-urls: https://172.20.0.2:2379
spec:
  containers:
  - command:
    - etcd
    - --initial-cluster=n=https://172.20.0.2:2380
    - --listen-client-urls=https://127.0.0.1:2379,https://172.20.0.2:2379
    - --some-peer=https://172.20.0.23:2380
`

// node lays out the files of a configured node named name under a new
// root, as kinc create writes them.
func node(t *testing.T, tree *pki.ClusterPKI, name string) string {
	t.Helper()
	root := t.TempDir()
	k8s, err := tree.KubernetesFiles(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := pki.WriteFiles(filepath.Join(root, KubernetesDir), k8s); err != nil {
		t.Fatal(err)
	}
	kubelet, err := tree.KubeletFiles(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := pki.WriteFiles(filepath.Join(root, KubeletDir), kubelet); err != nil {
		t.Fatal(err)
	}
	write(t, root, KubeletFlagsPath, `KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///run/containerd/containerd.sock --node-ip=`+oldIP+`"`+"\n", 0o644)
	write(t, root, filepath.Join(ManifestsDir, "etcd.yaml"), manifest, 0o600)
	return root
}

func write(t *testing.T, root, rel, data string, mode os.FileMode) {
	t.Helper()
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, root, rel string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func cluster(t *testing.T) *pki.ClusterPKI {
	t.Helper()
	tree, err := pki.GenerateClusterPKI(pki.ClusterOptions{
		ClusterName:   "c",
		ControlPlanes: []pki.NodeInfo{{Name: "c-control-plane", IPs: []net.IP{net.ParseIP(oldIP)}}},
		Workers:       []pki.NodeInfo{{Name: "c-worker", IPs: []net.IP{net.ParseIP(oldIP)}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

func at(ip string) func() (net.IP, error) {
	return func() (net.IP, error) { return net.ParseIP(ip), nil }
}

func TestControlPlaneMoves(t *testing.T) {
	tree := cluster(t)
	root := node(t, tree, "c-control-plane")
	keysBefore := read(t, root, filepath.Join(KubernetesDir, pki.APIServerKey))

	res, err := Run(Options{Root: root, CurrentIP: at(newIP)})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed() || res.Old != oldIP || res.New != newIP {
		t.Fatalf("result %+v", res)
	}
	wantRenewed := []string{
		filepath.Join(KubernetesDir, pki.APIServerCert),
		filepath.Join(KubernetesDir, pki.EtcdServerCert),
		filepath.Join(KubernetesDir, pki.EtcdPeerCert),
		filepath.Join(KubeletDir, pki.KubeletServingCert),
	}
	if !slices.Equal(res.Renewed, wantRenewed) {
		t.Errorf("renewed %v, want %v", res.Renewed, wantRenewed)
	}
	for i, rel := range wantRenewed {
		c, err := pki.ParseCertPEM([]byte(read(t, root, rel)))
		if err != nil {
			t.Fatal(err)
		}
		var ips []string
		for _, ip := range c.IPAddresses {
			ips = append(ips, ip.String())
		}
		if !slices.Contains(ips, newIP) || slices.Contains(ips, oldIP) {
			t.Errorf("%s IP SANs %v: want %s instead of %s", rel, ips, newIP, oldIP)
		}
		ca := tree.CA
		if i == 1 || i == 2 {
			ca = tree.EtcdCA
		}
		if err := ca.Verify(c, x509.ExtKeyUsageServerAuth); err != nil {
			t.Errorf("%s: %v", rel, err)
		}
	}
	if read(t, root, filepath.Join(KubernetesDir, pki.APIServerKey)) != keysBefore {
		t.Error("the apiserver key changed")
	}

	etcd := read(t, root, filepath.Join(ManifestsDir, "etcd.yaml"))
	if strings.Contains(etcd, oldIP+":") || strings.Count(etcd, newIP) != 3 || !strings.Contains(etcd, neighbour) {
		t.Errorf("etcd.yaml not moved right:\n%s", etcd)
	}
	if fi, err := os.Stat(filepath.Join(root, ManifestsDir, "etcd.yaml")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("etcd.yaml mode changed: %v %v", fi.Mode(), err)
	}
	if flags := read(t, root, KubeletFlagsPath); !strings.Contains(flags, "--node-ip="+newIP+`"`) {
		t.Errorf("flags not moved: %s", flags)
	}
	if last := res.Files[len(res.Files)-1]; last != KubeletFlagsPath {
		t.Errorf("the flags file, which records the address, must be written last; order %v", res.Files)
	}

	// A second boot at the same address changes nothing.
	again, err := Run(Options{Root: root, CurrentIP: at(newIP)})
	if err != nil || again.Changed() || len(again.Files)+len(again.Renewed) != 0 {
		t.Errorf("second run: %+v, %v", again, err)
	}
}

func TestWorkerWithoutCAKeyKeepsItsServingCertificate(t *testing.T) {
	root := node(t, cluster(t), "c-worker")
	if _, err := os.Stat(filepath.Join(root, KubernetesDir, pki.CAKey)); err == nil {
		t.Fatal("a worker must not hold the CA key")
	}
	before := read(t, root, filepath.Join(KubeletDir, pki.KubeletServingCert))
	var logs bytes.Buffer
	res, err := Run(Options{Root: root, CurrentIP: at(newIP), Logger: testLogger(&logs)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Renewed) != 0 || read(t, root, filepath.Join(KubeletDir, pki.KubeletServingCert)) != before {
		t.Errorf("renewed %v without a CA key", res.Renewed)
	}
	if !strings.Contains(logs.String(), "no CA key") {
		t.Errorf("no warning logged:\n%s", logs.String())
	}
	if flags := read(t, root, KubeletFlagsPath); !strings.Contains(flags, "--node-ip="+newIP) {
		t.Errorf("flags not moved: %s", flags)
	}
}

func TestNothingToDo(t *testing.T) {
	empty := t.TempDir()
	if res, err := Run(Options{Root: empty, CurrentIP: at(newIP)}); err != nil || res.Changed() {
		t.Errorf("unconfigured node: %+v, %v", res, err)
	}
	noFlag := t.TempDir()
	write(t, noFlag, KubeletFlagsPath, `KUBELET_KUBEADM_ARGS=""`, 0o644)
	if res, err := Run(Options{Root: noFlag, CurrentIP: at(newIP)}); err != nil || res.Changed() {
		t.Errorf("no --node-ip: %+v, %v", res, err)
	}
	bad := t.TempDir()
	write(t, bad, KubeletFlagsPath, `KUBELET_KUBEADM_ARGS="--node-ip=1.2.3"`, 0o644)
	if _, err := Run(Options{Root: bad, CurrentIP: at(newIP)}); err == nil || !strings.Contains(err.Error(), "not an IP address") {
		t.Errorf("bad --node-ip: %v", err)
	}
	same := node(t, cluster(t), "c-control-plane")
	if res, err := Run(Options{Root: same, CurrentIP: at(oldIP)}); err != nil || res.Changed() || len(res.Files) != 0 {
		t.Errorf("same address: %+v, %v", res, err)
	}
}

func TestReplaceAddress(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.2":                  "10.9.9.9",
		"https://10.0.0.2:2379":     "https://10.9.9.9:2379",
		"a=10.0.0.2,b=10.0.0.2":     "a=10.9.9.9,b=10.9.9.9",
		"10.0.0.23 110.0.0.2":       "10.0.0.23 110.0.0.2",
		"ends a sentence 10.0.0.2.": "ends a sentence 10.9.9.9.",
		"10.0.0.2.5 x10.0.0.2":      "10.0.0.2.5 x10.0.0.2",
		"--node-ip=10.0.0.2\"":      "--node-ip=10.9.9.9\"",
	} {
		if got := string(ReplaceAddress([]byte(in), "10.0.0.2", "10.9.9.9")); got != want {
			t.Errorf("ReplaceAddress(%q) = %q, want %q", in, got, want)
		}
	}
}

func testLogger(w *bytes.Buffer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
