package kubelet_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	v1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"

	"github.com/kinc-dev/kinc/manifests"
	"github.com/kinc-dev/kinc/pkg/controller/certificates/approver"
	"github.com/kinc-dev/kinc/pkg/controller/certificates/signer"
)

// TestIntegrationKubeletTLSBootstrap: a kubelet started as kubeadm join
// starts it (--bootstrap-kubeconfig with a bootstrap token, no
// kubelet.conf, rotateCertificates) on an apiserver with Node,RBAC and
// kubeadm's bindings, with the CSR approver and signer running, gets its
// certificate, writes kubelet.conf pointing at
// kubelet-client-current.pem, and registers its Node as
// system:node:<name>.
func TestIntegrationKubeletTLSBootstrap(t *testing.T) {
	e := newEnvWith(t, []string{"--authorization-mode=Node,RBAC", "--enable-bootstrap-token-auth=true"}, `  webhook:
    enabled: true
authorization:
  mode: Webhook
rotateCertificates: true
`)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for _, doc := range strings.Split(manifests.KubeadmRBAC, "\n---") {
		var crb rbacv1.ClusterRoleBinding
		if err := yaml.Unmarshal([]byte(doc), &crb); err != nil {
			t.Fatal(err)
		}
		if crb.Kind == "ClusterRoleBinding" {
			if _, err := e.client.RbacV1().ClusterRoleBindings().Create(ctx, &crb, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := e.client.CoreV1().Secrets("kube-system").Create(ctx, &v1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "bootstrap-token-abcdef"}, Type: "bootstrap.kubernetes.io/token",
		StringData: map[string]string{"token-id": "abcdef", "token-secret": "0123456789abcdef",
			"usage-bootstrap-authentication": "true", "auth-extra-groups": "system:bootstrappers:kubeadm:default-node-token"}},
		metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	runCSRControllers(ctx, t, e)

	boot := clientcmdapi.NewConfig()
	boot.Clusters["kubernetes"] = &clientcmdapi.Cluster{Server: e.api.URL, CertificateAuthorityData: e.api.CA.CertPEM}
	boot.AuthInfos["tls-bootstrap-token-user"] = &clientcmdapi.AuthInfo{Token: "abcdef.0123456789abcdef"}
	boot.Contexts["tls-bootstrap-token-user@kubernetes"] = &clientcmdapi.Context{Cluster: "kubernetes", AuthInfo: "tls-bootstrap-token-user"}
	boot.CurrentContext = "tls-bootstrap-token-user@kubernetes"
	e.opts.BootstrapKubeconfig = filepath.Join(e.dir, "bootstrap-kubelet.conf")
	if err := clientcmd.WriteToFile(*boot, e.opts.BootstrapKubeconfig); err != nil {
		t.Fatal(err)
	}
	e.opts.Kubeconfig = filepath.Join(e.dir, "kubelet.conf")
	e.opts.CertDirectory = filepath.Join(e.dir, "pki")
	e.opts.NodeLabels = nil // node-role labels are refused by NodeRestriction
	e.opts.RegisterWithTaints = nil
	e.startKubelet()

	eventually(t, "node registered", 90*time.Second, func() error {
		_, err := e.client.CoreV1().Nodes().Get(ctx, nodeName, metav1.GetOptions{})
		return err
	})
	cfg, err := clientcmd.BuildConfigFromFlags("", e.opts.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(e.opts.CertDirectory, "kubelet-client-current.pem"); cfg.CertFile != want || cfg.KeyFile != want {
		t.Errorf("kubelet.conf names %s and %s, want %s", cfg.CertFile, cfg.KeyFile, want)
	}
	as, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r, err := as.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil || r.Status.UserInfo.Username != "system:node:"+nodeName {
		t.Errorf("kubelet.conf authenticates as %+v (%v)", r.Status.UserInfo, err)
	}
}

// runCSRControllers runs the CSR approver and signer (the apiserver's CA)
// as the admin until the test ends.
func runCSRControllers(ctx context.Context, t *testing.T, e *env) {
	t.Helper()
	certFile, keyFile := filepath.Join(e.dir, "ca.crt"), filepath.Join(e.dir, "ca.key")
	if err := os.WriteFile(certFile, e.api.CA.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, e.api.CA.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	ca, err := signer.NewFileCA(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	cas := map[string]signer.CAProvider{}
	for _, name := range signer.Signers() {
		cas[name] = ca
	}
	logger := slog.New(slog.NewTextHandler(e.logs, nil))
	factory := informers.NewSharedInformerFactory(e.client, 0)
	csrs := factory.Certificates().V1().CertificateSigningRequests()
	s, err := signer.New(e.client, csrs, signer.Options{CAs: cas, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	a := approver.New(e.client, csrs, approver.Options{Logger: logger})
	ctx, cancel := context.WithCancel(ctx)
	factory.Start(ctx.Done())
	var wg sync.WaitGroup
	for _, c := range []interface {
		Run(context.Context, int) error
	}{s, a} {
		wg.Go(func() { _ = c.Run(ctx, 2) })
	}
	t.Cleanup(func() { cancel(); wg.Wait(); factory.Shutdown() })
}
