package pki

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kinc-dev/kinc/pkg/pki/kubeconfig"
	"k8s.io/client-go/rest"
)

// TestTLSHandshakeWithAdminKubeconfig serves the apiserver certificate on
// loopback with client-certificate auth against the cluster CA, and talks to
// it through client-go's transport built from kubeconfigs.
func TestTLSHandshakeWithAdminKubeconfig(t *testing.T) {
	opts := testCluster()
	opts.Now = nil // real clock: the handshake checks validity against it
	p := mustGenerate(t, opts)
	apiserver := p.Nodes["kind-control-plane"].APIServer

	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := r.TLS.PeerCertificates[0]
		fmt.Fprintf(w, "%s|%s", c.Subject.CommonName, strings.Join(c.Subject.Organization, ","))
	}))
	srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{apiserver.TLSCertificate()},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    p.CA.Pool(),
	}
	srv.StartTLS()
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	foreign, err := NewCA("kubernetes", Options{})
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := foreign.Issue(ClientSpec(AdminUser, ClusterAdminsGroup))
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name       string
		host       string // server host in the kubeconfig
		serverName string // TLS server name override
		client     *KeyPair
		want       string
		wantErr    bool
	}{
		{"host kubeconfig via 127.0.0.1", "127.0.0.1", "", p.Admin, "kubernetes-admin|kubeadm:cluster-admins", false},
		{"host kubeconfig via localhost", "localhost", "", p.SuperAdmin, "kubernetes-super-admin|system:masters", false},
		{"in-cluster service name", "127.0.0.1", "kubernetes.default.svc.cluster.local", p.Nodes["kind-control-plane"].KubeletClient, "system:node:kind-control-plane|system:nodes", false},
		{"node name", "127.0.0.1", "kind-control-plane", p.Scheduler, "system:kube-scheduler|", false},
		{"extra certSAN", "127.0.0.1", "my.example.com", p.Admin, "kubernetes-admin|kubeadm:cluster-admins", false},
		{"name not in SANs", "127.0.0.1", "evil.example.com", p.Admin, "", true},
		{"client cert from another CA", "127.0.0.1", "", stranger, "", true},
		{"front-proxy client is not a cluster client", "127.0.0.1", "", p.FrontProxyClient, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := kubeconfig.Build(kubeconfig.Params{
				Server: "https://" + net.JoinHostPort(tt.host, port), CAData: p.CA.CertPEM,
				ClientCertData: tt.client.CertPEM, ClientKeyData: tt.client.KeyPEM,
				ClusterName: "kinc-test", UserName: "kinc-test", ContextName: "kinc-test",
			})
			if err != nil {
				t.Fatal(err)
			}
			rc, err := kubeconfig.RESTConfig(cfg, "")
			if err != nil {
				t.Fatal(err)
			}
			rc.TLSClientConfig.ServerName = tt.serverName
			rt, err := rest.TransportFor(rc)
			if err != nil {
				t.Fatal(err)
			}
			client := &http.Client{Transport: rt}
			resp, err := client.Get(rc.Host + "/whoami")
			if tt.wantErr {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("request succeeded with status %s, want TLS failure", resp.Status)
				}
				if !strings.Contains(err.Error(), "tls") && !strings.Contains(err.Error(), "certificate") {
					t.Fatalf("err = %v, want a TLS failure", err)
				}
				t.Log(err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if string(body) != tt.want {
				t.Fatalf("server saw %q, want %q", body, tt.want)
			}
		})
	}
}
