package kubeconfig

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

func testParams(name string) Params {
	return Params{
		Server: "https://127.0.0.1:6443", CAData: []byte("ca-" + name),
		ClientCertData: []byte("cert-" + name), ClientKeyData: []byte("key-" + name),
		ClusterName: name, UserName: name, ContextName: name,
	}
}

func mustBuild(t *testing.T, p Params) *clientcmdapi.Config {
	t.Helper()
	cfg, err := Build(p)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestBuildSerializeParse(t *testing.T) {
	cfg := mustBuild(t, Params{
		Server: "https://kind-control-plane:6443", CAData: []byte("CA"),
		ClientCertData: []byte("CERT"), ClientKeyData: []byte("KEY"),
		ClusterName: "kind", UserName: "kubernetes-admin",
	})
	data, err := Serialize(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"certificate-authority-data:", "client-certificate-data:", "client-key-data:",
		"current-context: kubernetes-admin@kind", "server: https://kind-control-plane:6443"} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("serialized kubeconfig lacks %q:\n%s", want, data)
		}
	}
	back, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := RESTConfig(back, "")
	if err != nil {
		t.Fatal(err)
	}
	if rc.Host != "https://kind-control-plane:6443" || string(rc.CAData) != "CA" ||
		string(rc.CertData) != "CERT" || string(rc.KeyData) != "KEY" {
		t.Fatalf("rest config %+v", rc.TLSClientConfig)
	}
}

func TestBuildErrors(t *testing.T) {
	for name, p := range map[string]Params{
		"no server":  {ClusterName: "c", UserName: "u"},
		"no cluster": {Server: "https://x", UserName: "u"},
		"no user":    {Server: "https://x", ClusterName: "c"},
	} {
		if _, err := Build(p); err == nil {
			t.Errorf("%s: want error", name)
		}
	}
}

func TestRetarget(t *testing.T) {
	admin := mustBuild(t, Params{Server: "https://kind-control-plane:6443", CAData: []byte("CA"),
		ClientCertData: []byte("CERT"), ClientKeyData: []byte("KEY"), ClusterName: "kind", UserName: "kubernetes-admin"})
	out, err := Retarget(admin, "https://127.0.0.1:40000", "kinc-kind")
	if err != nil {
		t.Fatal(err)
	}
	if out.CurrentContext != "kinc-kind" || len(out.Clusters) != 1 || len(out.AuthInfos) != 1 || len(out.Contexts) != 1 {
		t.Fatalf("retargeted %+v", out)
	}
	c := out.Contexts["kinc-kind"]
	if c.Cluster != "kinc-kind" || c.AuthInfo != "kinc-kind" {
		t.Fatalf("context %+v", c)
	}
	if out.Clusters["kinc-kind"].Server != "https://127.0.0.1:40000" || string(out.AuthInfos["kinc-kind"].ClientKeyData) != "KEY" {
		t.Fatal("server or credentials wrong")
	}
	if admin.Clusters["kind"].Server != "https://kind-control-plane:6443" {
		t.Fatal("input was modified")
	}
	admin.CurrentContext = "missing"
	if _, err := Retarget(admin, "", "x"); err == nil {
		t.Fatal("want error for missing current context")
	}
}

func TestWriteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "config")
	if err := WriteFile(path, mustBuild(t, testParams("a"))); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode().Perm())
	}
}

func TestResolvePath(t *testing.T) {
	home := func() (string, error) { return "/home/u", nil }
	noHome := func() (string, error) { return "", errors.New("no home") }
	tests := []struct {
		name    string
		env     string
		home    func() (string, error)
		want    string
		wantErr string
	}{
		{"unset uses home", "", home, "/home/u/.kube/config", ""},
		{"single entry", "/tmp/kc", noHome, "/tmp/kc", ""},
		{"first of a list", "/a/one:/b/two", noHome, "/a/one", ""},
		{"empty entries skipped", "::/b/two:", noHome, "/b/two", ""},
		{"only separators falls back to home", ":", home, "/home/u/.kube/config", ""},
		{"home error", "", noHome, "", "no home"},
		{"empty home", "", func() (string, error) { return "", nil }, "", "home directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string {
				if k == "KUBECONFIG" {
					return tt.env
				}
				return ""
			}
			got, err := ResolvePath(getenv, tt.home)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
