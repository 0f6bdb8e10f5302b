package pki

import (
	"crypto/x509"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

// testCluster is a kind-like cluster: one control plane, two workers.
func testCluster() ClusterOptions {
	return ClusterOptions{
		ClusterName: "kind",
		ControlPlanes: []NodeInfo{
			{Name: "kind-control-plane", IPs: []net.IP{net.ParseIP("172.18.0.2")}},
		},
		Workers: []NodeInfo{
			{Name: "kind-worker", IPs: []net.IP{net.ParseIP("172.18.0.3")}},
			{Name: "kind-worker2", IPs: []net.IP{net.ParseIP("172.18.0.4"), net.ParseIP("fc00:f853:ccd:e793::4")}},
		},
		CertSANs: []string{"my.example.com", "192.0.2.7"},
		Now:      func() time.Time { return testNow },
	}
}

func mustGenerate(t testing.TB, opts ClusterOptions) *ClusterPKI {
	t.Helper()
	p, err := GenerateClusterPKI(opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestGenerateClusterPKICertificates(t *testing.T) {
	p := mustGenerate(t, testCluster())
	cp := p.Nodes["kind-control-plane"]
	w2 := p.Nodes["kind-worker2"]
	server, client := x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth

	tests := []struct {
		name    string
		kp      *KeyPair
		ca      *CA
		cn      string
		org     []string
		usages  []x509.ExtKeyUsage
		dns     []string // must all be present
		ips     []string // must all be present
		exactIP bool     // ips is the complete list
	}{
		{"apiserver", cp.APIServer, p.CA, "kube-apiserver", nil, []x509.ExtKeyUsage{server},
			[]string{"kind-control-plane", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
				"kubernetes.default.svc.cluster.local", "localhost", "my.example.com"},
			[]string{"172.18.0.2", "10.96.0.1", "127.0.0.1", "192.0.2.7"}, true},
		{"apiserver-kubelet-client", p.APIServerKubeletClient, p.CA, "kube-apiserver-kubelet-client",
			[]string{"kubeadm:cluster-admins"}, []x509.ExtKeyUsage{client}, nil, nil, true},
		{"apiserver-etcd-client", p.APIServerEtcdClient, p.EtcdCA, "kube-apiserver-etcd-client", nil,
			[]x509.ExtKeyUsage{client}, nil, nil, true},
		{"front-proxy-client", p.FrontProxyClient, p.FrontProxyCA, "front-proxy-client", nil,
			[]x509.ExtKeyUsage{client}, nil, nil, true},
		{"etcd/server", cp.EtcdServer, p.EtcdCA, "kind-control-plane", nil, []x509.ExtKeyUsage{server, client},
			[]string{"kind-control-plane", "localhost"}, []string{"172.18.0.2", "127.0.0.1", "::1"}, true},
		{"etcd/peer", cp.EtcdPeer, p.EtcdCA, "kind-control-plane", nil, []x509.ExtKeyUsage{server, client},
			[]string{"kind-control-plane", "localhost"}, []string{"172.18.0.2", "127.0.0.1", "::1"}, true},
		{"etcd/healthcheck-client", p.EtcdHealthcheckClient, p.EtcdCA, "kube-etcd-healthcheck-client", nil,
			[]x509.ExtKeyUsage{client}, nil, nil, true},
		{"admin", p.Admin, p.CA, "kubernetes-admin", []string{"kubeadm:cluster-admins"},
			[]x509.ExtKeyUsage{client}, nil, nil, true},
		{"super-admin", p.SuperAdmin, p.CA, "kubernetes-super-admin", []string{"system:masters"},
			[]x509.ExtKeyUsage{client}, nil, nil, true},
		{"controller-manager", p.ControllerManager, p.CA, "system:kube-controller-manager", nil,
			[]x509.ExtKeyUsage{client}, nil, nil, true},
		{"scheduler", p.Scheduler, p.CA, "system:kube-scheduler", nil, []x509.ExtKeyUsage{client}, nil, nil, true},
		{"kubelet client cp", cp.KubeletClient, p.CA, "system:node:kind-control-plane", []string{"system:nodes"},
			[]x509.ExtKeyUsage{client}, nil, nil, true},
		{"node agent worker2", w2.NodeAgent, p.CA, "kinc:node-agent:kind-worker2", []string{"kinc:node-agents"},
			[]x509.ExtKeyUsage{client}, nil, nil, true},
		{"kubelet serving worker2", w2.KubeletServing, p.CA, "kind-worker2", nil, []x509.ExtKeyUsage{server},
			[]string{"kind-worker2"}, []string{"172.18.0.4", "fc00:f853:ccd:e793::4"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.kp == nil {
				t.Fatal("not generated")
			}
			c := tt.kp.Cert
			for _, u := range tt.usages {
				if err := tt.ca.Verify(c, u); err != nil {
					t.Fatal(err)
				}
			}
			if !slices.Equal(c.ExtKeyUsage, tt.usages) {
				t.Fatalf("ExtKeyUsage = %v, want %v", c.ExtKeyUsage, tt.usages)
			}
			if c.Subject.CommonName != tt.cn || !slices.Equal(c.Subject.Organization, tt.org) {
				t.Fatalf("subject CN=%q O=%v, want CN=%q O=%v", c.Subject.CommonName, c.Subject.Organization, tt.cn, tt.org)
			}
			for _, d := range tt.dns {
				if !slices.Contains(c.DNSNames, d) {
					t.Errorf("DNS SAN %q missing from %v", d, c.DNSNames)
				}
			}
			gotIPs := ipStrings(c.IPAddresses)
			for _, ip := range tt.ips {
				if !slices.Contains(gotIPs, ip) {
					t.Errorf("IP SAN %s missing from %v", ip, gotIPs)
				}
			}
			if tt.exactIP && len(gotIPs) != len(tt.ips) {
				t.Errorf("IP SANs = %v, want exactly %v", gotIPs, tt.ips)
			}
			if got := c.NotAfter.Sub(testNow); got != LeafValidity {
				t.Errorf("validity %v, want %v", got, LeafValidity)
			}
		})
	}

	// The three CAs are distinct: nothing crosses over.
	if err := p.EtcdCA.Verify(cp.APIServer.Cert, server); err == nil {
		t.Error("apiserver cert verifies against the etcd CA")
	}
	for _, ca := range []*CA{p.CA, p.FrontProxyCA, p.EtcdCA} {
		if got := ca.Cert.NotAfter.Sub(testNow); got != CAValidity {
			t.Errorf("%s validity %v, want %v", ca.Cert.Subject.CommonName, got, CAValidity)
		}
	}
	if w := p.Nodes["kind-worker"]; w.APIServer != nil || w.EtcdServer != nil || w.ControlPlane || w.Init {
		t.Error("worker got control-plane certificates")
	}
	if !cp.Init || !cp.ControlPlane {
		t.Error("first control plane not marked init")
	}
}

func TestClusterOptionsValidation(t *testing.T) {
	cp := []NodeInfo{{Name: "cp"}}
	tests := []struct {
		name    string
		opts    ClusterOptions
		wantErr string
	}{
		{"no cluster name", ClusterOptions{ControlPlanes: cp}, "cluster name"},
		{"no control plane", ClusterOptions{ClusterName: "c"}, "no control-plane"},
		{"empty node name", ClusterOptions{ClusterName: "c", ControlPlanes: cp, Workers: []NodeInfo{{}}}, "empty name"},
		{"duplicate node", ClusterOptions{ClusterName: "c", ControlPlanes: cp, Workers: cp}, "duplicate"},
		{"bad service cidr", ClusterOptions{ClusterName: "c", ControlPlanes: cp, ServiceCIDR: "10.96.0.0"}, "service cidr"},
		{"bad endpoint", ClusterOptions{ClusterName: "c", ControlPlanes: cp, ControlPlaneEndpoint: "noport"}, "endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := GenerateClusterPKI(tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
			}
		})
	}
}

func TestFirstIP(t *testing.T) {
	tests := []struct {
		cidr, want string
		wantErr    bool
	}{
		{"10.96.0.0/16", "10.96.0.1", false},
		{"10.96.0.0/12", "10.96.0.1", false},
		{"10.96.0.0/16,fd00:10:96::/112", "10.96.0.1", false},
		{"fd00:10:96::/112", "fd00:10:96::1", false},
		{"10.0.0.255/24", "10.0.0.1", false},
		{"10.0.0.7/32", "", true},
		{"nonsense", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.cidr, func(t *testing.T) {
			got, err := FirstIP(tt.cidr)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && got.String() != tt.want {
				t.Fatalf("got %v, want %s", got, tt.want)
			}
		})
	}
}

func TestReissueNode(t *testing.T) {
	opts := testCluster()
	p := mustGenerate(t, opts)
	before := *p.Nodes["kind-control-plane"]
	caBefore := p.CA.Cert.Raw

	moved := NodeInfo{Name: "kind-control-plane", IPs: []net.IP{net.ParseIP("172.18.0.9")}}
	if err := p.ReissueNode(moved); err != nil {
		t.Fatal(err)
	}
	after := p.Nodes["kind-control-plane"]
	for name, kp := range map[string]*KeyPair{"apiserver": after.APIServer, "etcd server": after.EtcdServer,
		"etcd peer": after.EtcdPeer, "kubelet serving": after.KubeletServing} {
		ips := ipStrings(kp.Cert.IPAddresses)
		if !slices.Contains(ips, "172.18.0.9") || slices.Contains(ips, "172.18.0.2") {
			t.Errorf("%s IPs after reissue = %v", name, ips)
		}
	}
	if err := p.CA.Verify(after.APIServer.Cert, x509.ExtKeyUsageServerAuth); err != nil {
		t.Fatal(err)
	}
	if after.KubeletClient != before.KubeletClient || string(p.CA.Cert.Raw) != string(caBefore) {
		t.Error("reissue replaced certificates that do not carry IPs")
	}
	if !after.Init || !after.ControlPlane {
		t.Error("reissue lost the node's role")
	}
	if got := p.Options.ControlPlanes[0].IPs[0].String(); got != "172.18.0.9" {
		t.Errorf("options not updated: %s", got)
	}
	if got := opts.ControlPlanes[0].IPs[0].String(); got != "172.18.0.2" {
		t.Errorf("caller's options were mutated: %s", got)
	}
	if err := p.ReissueNode(NodeInfo{Name: "nope"}); err == nil {
		t.Error("want error for unknown node")
	}
}

// TestIssueLaterFromCAFiles is the restart path: only ca.crt/ca.key are at
// hand, and one apiserver certificate is issued for a new IP.
func TestIssueLaterFromCAFiles(t *testing.T) {
	opts := testCluster()
	p := mustGenerate(t, opts)
	ca, err := ParseCA(p.CA.CertPEM, p.CA.KeyPEM, Options{})
	if err != nil {
		t.Fatal(err)
	}
	spec, err := APIServerSpec(opts, NodeInfo{Name: "kind-control-plane", IPs: []net.IP{net.ParseIP("172.18.0.42")}})
	if err != nil {
		t.Fatal(err)
	}
	kp, err := ca.Issue(spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kp.Cert.Verify(x509.VerifyOptions{Roots: p.CA.Pool(), DNSName: "kubernetes.default.svc",
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		t.Fatal(err)
	}
	if err := kp.Cert.VerifyHostname("172.18.0.42"); err != nil {
		t.Fatal(err)
	}
}

func TestGenerateClusterPKIWithoutIPs(t *testing.T) {
	p := mustGenerate(t, ClusterOptions{ClusterName: "c", ControlPlanes: []NodeInfo{{Name: "c-control-plane"}}})
	if err := p.Nodes["c-control-plane"].APIServer.Cert.VerifyHostname("c-control-plane"); err != nil {
		t.Fatal(err)
	}
	if got := p.Options.ControlPlaneEndpoint; got != "c-control-plane:6443" {
		t.Fatalf("default endpoint %q", got)
	}
}
