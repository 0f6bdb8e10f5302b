package cluster

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kinc-dev/kinc/pkg/cluster/internal/providers/fake"
	"github.com/kinc-dev/kinc/pkg/pki/kubeconfig"
)

func newTestProvider(t *testing.T, fp *fake.Provider, kubeconfigPath string) *Provider {
	t.Helper()
	getenv := func(k string) string {
		if k == "KUBECONFIG" {
			return kubeconfigPath
		}
		return ""
	}
	p, err := NewProvider(providerWithInternal(fp), ProviderWithEnv(getenv, func() (string, error) { return t.TempDir(), nil }))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func adminConf(t *testing.T) []byte {
	t.Helper()
	cfg, err := kubeconfig.Build(kubeconfig.Params{Server: "https://x-control-plane:6443", CAData: []byte("CA"),
		ClientCertData: []byte("C"), ClientKeyData: []byte("K"), ClusterName: "x", UserName: "kubernetes-admin"})
	if err != nil {
		t.Fatal(err)
	}
	data, err := kubeconfig.Serialize(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestKubeconfigExportAndDelete(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "config")
	admin := adminConf(t)
	fp := &fake.Provider{Endpoint: "127.0.0.1:41000", Handler: func(_ string, argv []string, _ []byte) (string, error) {
		if strings.Join(argv, " ") == "cat /etc/kubernetes/admin.conf" {
			return string(admin), nil
		}
		return "", errors.New("unexpected")
	}}
	fp.AddNode("x", "x-control-plane", "control-plane")
	fp.AddNode("x", "x-worker", "worker")
	p := newTestProvider(t, fp, path)
	ctx := context.Background()

	internal, err := p.KubeConfig(ctx, "x", true)
	if err != nil || !strings.Contains(internal, "server: https://x-control-plane:6443") || !strings.Contains(internal, "current-context: kinc-x") {
		t.Fatalf("internal kubeconfig %v:\n%s", err, internal)
	}
	// Another cluster's entry must survive the delete.
	other, _ := kubeconfig.Build(kubeconfig.Params{Server: "https://o", ClusterName: "other", UserName: "other", ContextName: "other"})
	if err := kubeconfig.Merge(path, other, true); err != nil {
		t.Fatal(err)
	}
	if err := p.ExportKubeConfig(ctx, "x", "", false); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	cfg, _ := kubeconfig.Parse(data)
	if cfg.CurrentContext != "kinc-x" || cfg.Clusters["kinc-x"].Server != "https://127.0.0.1:41000" || cfg.Clusters["other"] == nil {
		t.Fatalf("exported kubeconfig:\n%s", data)
	}

	if err := p.Delete(ctx, "x", ""); err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile(path)
	cfg, _ = kubeconfig.Parse(data)
	if cfg.Clusters["kinc-x"] != nil || cfg.Contexts["kinc-x"] != nil || cfg.AuthInfos["kinc-x"] != nil || cfg.CurrentContext != "" || cfg.Clusters["other"] == nil {
		t.Fatalf("after delete:\n%s", data)
	}
	if names, _ := p.List(ctx); len(names) != 0 {
		t.Fatalf("clusters left: %v", names)
	}
	// Deleting again, or a cluster that never existed, succeeds.
	if err := p.Delete(ctx, "x", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := p.KubeConfig(ctx, "x", false); err == nil || !strings.Contains(err.Error(), `unknown cluster "x"`) {
		t.Fatalf("kubeconfig of a deleted cluster: %v", err)
	}
}

func TestLoadImages(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	imported := map[string]string{}
	fp := &fake.Provider{Images: map[string]string{"app:1": "sha256:a"}, Handler: func(node string, argv []string, stdin []byte) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		imported[node] = strings.Join(argv, " ") + " <" + string(stdin)
		return "", nil
	}}
	fp.AddNode("c", "c-control-plane", "control-plane")
	fp.AddNode("c", "c-worker", "worker")
	p := newTestProvider(t, fp, filepath.Join(t.TempDir(), "config"))
	ctx := context.Background()
	if err := p.LoadImages(ctx, "c", []string{"app:1"}, []string{"c-worker"}); err != nil {
		t.Fatal(err)
	}
	if len(imported) != 1 || imported["c-worker"] != "ctr --namespace=k8s.io images import --digests --snapshotter=overlayfs - <archive:app:1" {
		t.Fatalf("imported %q", imported)
	}
	if err := p.LoadImages(ctx, "c", []string{"missing:1"}, nil); !errors.Is(err, ErrImageNotFound) {
		t.Fatalf("missing image: %v", err)
	}
	if err := p.LoadImages(ctx, "c", []string{"app:1"}, []string{"c-nope"}); err == nil || !strings.Contains(err.Error(), `unknown node "c-nope"`) {
		t.Fatalf("unknown node: %v", err)
	}
	if err := p.LoadImages(ctx, "none", []string{"app:1"}, nil); err == nil || !strings.Contains(err.Error(), `unknown cluster "none"`) {
		t.Fatalf("unknown cluster: %v", err)
	}
}
