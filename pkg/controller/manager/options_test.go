package manager

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"

	"github.com/kinc-dev/kinc/pkg/pki"
	"github.com/kinc-dev/kinc/pkg/pki/kubeconfig"
)

// files are a kubeadm-like /etc/kubernetes for the manager's flags.
type files struct {
	dir                                                string
	kubeconfig, caCrt, caKey, saKey, otherCrt, garbage string
}

func writeFiles(t *testing.T) files {
	t.Helper()
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ca, err := pki.NewCA("kubernetes", pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	other, err := pki.NewCA("other", pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	saKey, err := pki.GenerateKey(pki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	saPEM, err := pki.EncodePrivateKeyPEM(saKey)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := ca.Issue(pki.ClientSpec("system:kube-controller-manager"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := kubeconfig.Build(kubeconfig.Params{Server: "https://127.0.0.1:6443", CAData: ca.CertPEM, ClientCertData: admin.CertPEM,
		ClientKeyData: admin.KeyPEM, ClusterName: "kubernetes", UserName: "system:kube-controller-manager"})
	if err != nil {
		t.Fatal(err)
	}
	kc, err := kubeconfig.Serialize(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return files{dir: dir, kubeconfig: write("controller-manager.conf", kc), caCrt: write("ca.crt", ca.CertPEM),
		caKey: write("ca.key", ca.KeyPEM), saKey: write("sa.key", saPEM), otherCrt: write("other.crt", other.CertPEM),
		garbage: write("garbage", []byte("not PEM"))}
}

// kubeadmArgs are the flags kubeadm's kube-controller-manager.yaml passes.
func (f files) kubeadmArgs() []string {
	return []string{
		"--allocate-node-cidrs=true",
		"--authentication-kubeconfig=" + f.kubeconfig,
		"--authorization-kubeconfig=" + f.kubeconfig,
		"--bind-address=127.0.0.1",
		"--client-ca-file=" + f.caCrt,
		"--cluster-cidr=10.244.0.0/16",
		"--cluster-name=kinc",
		"--cluster-signing-cert-file=" + f.caCrt,
		"--cluster-signing-key-file=" + f.caKey,
		"--controllers=*,bootstrapsigner,tokencleaner",
		"--kubeconfig=" + f.kubeconfig,
		"--leader-elect=true",
		"--requestheader-client-ca-file=" + f.caCrt,
		"--root-ca-file=" + f.caCrt,
		"--service-account-private-key-file=" + f.saKey,
		"--service-cluster-ip-range=10.96.0.0/16",
		"--use-service-account-credentials=true",
	}
}

// parse returns the options of args, failing the test on a parse error.
func parse(t *testing.T, args ...string) *Options {
	t.Helper()
	o := NewOptions()
	fs := pflag.NewFlagSet(Name, pflag.ContinueOnError)
	o.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	return o
}

// TestDefaults: upstream's defaults.
func TestDefaults(t *testing.T) {
	o := NewOptions()
	if o.SecurePort != 10257 || o.BindAddress != "0.0.0.0" || !slices.Equal(o.Controllers, []string{"*"}) || o.ClusterName != "kubernetes" ||
		!o.LeaderElect || o.ResourceNamespace != "kube-system" || o.ResourceName != "kube-controller-manager" ||
		o.LeaseDuration != 15*time.Second || o.KubeAPIQPS != 20 || o.KubeAPIBurst != 30 || o.UseServiceAccountCredentials || o.AllocateNodeCIDRs {
		t.Errorf("defaults %+v", o)
	}
	if err := o.Validate(); err != nil {
		t.Errorf("the defaults do not validate: %v", err)
	}
}

// TestKubeadmFlags: kubeadm's command line parses and validates.
func TestKubeadmFlags(t *testing.T) {
	f := writeFiles(t)
	o := parse(t, f.kubeadmArgs()...)
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.Controllers, []string{"*", "bootstrapsigner", "tokencleaner"}) || o.ClusterCIDR != "10.244.0.0/16" ||
		o.BindAddress != "127.0.0.1" || !o.UseServiceAccountCredentials || o.RootCAFile != f.caCrt {
		t.Errorf("parsed %+v", o)
	}
}

// TestValidateNamesTheFlag: each bad value is refused with the flag's
// name; several are all reported.
func TestValidateNamesTheFlag(t *testing.T) {
	f := writeFiles(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--cluster-cidr=10.244.0.0/33"}, `--cluster-cidr "10.244.0.0/33": invalid CIDR address`},
		{[]string{"--cluster-cidr=banana"}, `--cluster-cidr "banana"`},
		{[]string{"--cluster-cidr=10.244.0.0/16,10.245.0.0/16"}, "--cluster-cidr \"10.244.0.0/16,10.245.0.0/16\": at most two CIDRs, one IPv4 and one IPv6"},
		{[]string{"--service-cluster-ip-range=10.96.0.0"}, `--service-cluster-ip-range "10.96.0.0"`},
		{[]string{"--allocate-node-cidrs"}, "--allocate-node-cidrs requires --cluster-cidr"},
		{[]string{"--allocate-node-cidrs", "--cluster-cidr=10.244.0.0/25"}, "--node-cidr-mask-size 24 does not fit --cluster-cidr 10.244.0.0/25"},
		{[]string{"--allocate-node-cidrs", "--cluster-cidr=10.0.0.0/8", "--node-cidr-mask-size=28"}, "more than 2^16 node CIDRs"},
		{[]string{"--allocate-node-cidrs", "--cluster-cidr=10.244.0.0/16,fd00::/48", "--node-cidr-mask-size=24"}, "not allowed with a dual-stack --cluster-cidr"},
		{[]string{"--node-cidr-mask-size=-1"}, "--node-cidr-mask-size -1 must not be negative"},
		{[]string{"--controllers=*,nope"}, `--controllers: "nope" is not in the list of known controllers`},
		{[]string{"--root-ca-file=" + f.garbage}, "--root-ca-file: parse certificate"},
		{[]string{"--client-ca-file=/nonexistent"}, "--client-ca-file: open /nonexistent"},
		{[]string{"--requestheader-client-ca-file=" + f.saKey}, "--requestheader-client-ca-file: parse certificate"},
		{[]string{"--service-account-private-key-file=" + f.caCrt}, "--service-account-private-key-file: parse private key"},
		{[]string{"--authentication-kubeconfig=/nonexistent"}, "--authentication-kubeconfig:"},
		{[]string{"--authorization-kubeconfig=" + f.garbage}, "--authorization-kubeconfig:"},
		{[]string{"--cluster-signing-cert-file=" + f.caCrt}, "--cluster-signing-cert-file and --cluster-signing-key-file go together"},
		{[]string{"--cluster-signing-cert-file=" + f.otherCrt, "--cluster-signing-key-file=" + f.caKey}, "does not match its private key"},
		{[]string{"--secure-port=70000"}, "--secure-port 70000"},
		{[]string{"--leader-elect-resource-lock=endpoints"}, "--leader-elect-resource-lock"},
		{[]string{"--kube-api-qps=-1"}, "--kube-api-qps"},
	} {
		err := parse(t, tc.args...).Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v; want an error containing %q", tc.args, err, tc.want)
		}
	}
	err := parse(t, "--cluster-cidr=x", "--service-cluster-ip-range=y", "--controllers=z").Validate()
	for _, flag := range []string{"--cluster-cidr", "--service-cluster-ip-range", "--controllers"} {
		if err == nil || !strings.Contains(err.Error(), flag) {
			t.Errorf("three bad flags: %v; want %s named", err, flag)
		}
	}
}

// TestValidateGoodNetworks: dual-stack and explicit masks upstream accepts.
func TestValidateGoodNetworks(t *testing.T) {
	for _, args := range [][]string{
		{"--allocate-node-cidrs", "--cluster-cidr=10.244.0.0/16"},
		{"--allocate-node-cidrs", "--cluster-cidr=10.244.0.0/16,fd00:10:244::/56"},
		{"--allocate-node-cidrs", "--cluster-cidr=fd00:10:244::/56"},
		{"--allocate-node-cidrs", "--cluster-cidr=10.244.0.0/16", "--node-cidr-mask-size=26"},
		{"--cluster-cidr=10.244.0.0/28"}, // not allocating: the mask does not matter
		{"--service-cluster-ip-range=10.96.0.0/12,fd00:10:96::/112"},
	} {
		if err := parse(t, args...).Validate(); err != nil {
			t.Errorf("%q: %v", args, err)
		}
	}
}

// TestRootClientBuilder: each controller gets its own copy of the root
// configuration, told apart by its user agent, with root's credentials.
func TestRootClientBuilder(t *testing.T) {
	root := &rest.Config{Host: "https://127.0.0.1:6443", TLSClientConfig: rest.TLSClientConfig{CertData: []byte("cert")}}
	b := RootClientBuilder(root)
	cfg, err := b("service-account-controller")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.UserAgent != rest.DefaultKubernetesUserAgent()+"/service-account-controller" || cfg.Host != root.Host || string(cfg.CertData) != "cert" {
		t.Errorf("%+v", cfg)
	}
	cfg.Host = "changed"
	if root.Host == "changed" {
		t.Fatal("the builder returned root itself")
	}
}
