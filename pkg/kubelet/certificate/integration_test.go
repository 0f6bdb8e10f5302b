package certificate_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"

	"github.com/kinc-dev/kinc/manifests"
	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
	"github.com/kinc-dev/kinc/pkg/controller/certificates/approver"
	"github.com/kinc-dev/kinc/pkg/controller/certificates/signer"
	"github.com/kinc-dev/kinc/pkg/kubelet/certificate"
)

// TestIntegrationBootstrapAndRotation: on an apiserver with Node,RBAC,
// bootstrap tokens and kubeadm's bindings, with the real CSR approver and
// signer, a kubelet's bootstrap with a kubeadm bootstrap token Secret gets
// a certificate approved as nodeclient and signed by the cluster CA; the
// kubeconfig it writes authenticates as system:node:worker; a rotation
// through that identity is approved as selfnodeclient and the transport
// switches to the new certificate.
func TestIntegrationBootstrapAndRotation(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts etcd and kube-apiserver")
	}
	inst := apiservertest.Start(t, apiservertest.Options{ExtraFlags: []string{
		"--authorization-mode=Node,RBAC", "--enable-bootstrap-token-auth=true"}})
	admin := inst.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	createKubeadmBindings(ctx, t, admin)
	if _, err := admin.CoreV1().Secrets("kube-system").Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "bootstrap-token-abcdef"}, Type: "bootstrap.kubernetes.io/token",
		StringData: map[string]string{"token-id": "abcdef", "token-secret": "0123456789abcdef",
			"usage-bootstrap-authentication": "true", "usage-bootstrap-signing": "true",
			"auth-extra-groups": "system:bootstrappers:kubeadm:default-node-token",
			"expiration":        time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	runControllers(ctx, t, inst, admin)

	dir := t.TempDir()
	boot := clientcmdapi.NewConfig()
	boot.Clusters["kubernetes"] = &clientcmdapi.Cluster{Server: inst.URL, CertificateAuthorityData: inst.CA.CertPEM}
	boot.AuthInfos["tls-bootstrap-token-user"] = &clientcmdapi.AuthInfo{Token: "abcdef.0123456789abcdef"}
	boot.Contexts["tls-bootstrap-token-user@kubernetes"] = &clientcmdapi.Context{Cluster: "kubernetes", AuthInfo: "tls-bootstrap-token-user"}
	boot.CurrentContext = "tls-bootstrap-token-user@kubernetes"
	b := certificate.Bootstrap{Kubeconfig: filepath.Join(dir, "kubelet.conf"), BootstrapKubeconfig: filepath.Join(dir, "bootstrap-kubelet.conf"),
		CertDir: filepath.Join(dir, "pki"), NodeName: "worker", Logger: slog.New(slog.NewTextHandler(t.Output(), nil))}
	if err := clientcmd.WriteToFile(*boot, b.BootstrapKubeconfig); err != nil {
		t.Fatal(err)
	}
	if err := b.Run(ctx); err != nil {
		t.Fatal(err)
	}
	csrs, err := admin.CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{})
	if err != nil || len(csrs.Items) != 1 {
		t.Fatalf("CSRs: %v %v", csrs, err)
	}
	first := csrs.Items[0]
	if first.Spec.Username != "system:bootstrap:abcdef" || approvedMessage(&first) != approver.NodeClientMessage {
		t.Errorf("bootstrap CSR by %q, approval %q", first.Spec.Username, approvedMessage(&first))
	}

	restCfg, err := clientcmd.BuildConfigFromFlags("", b.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := rest.LoadTLSFiles(restCfg); err != nil {
		t.Fatal(err)
	}
	store := &certificate.Store{Dir: b.CertDir, CertFile: restCfg.CertFile, KeyFile: restCfg.KeyFile}
	pair, err := store.Current()
	if err != nil {
		t.Fatal(err)
	}
	if err := inst.CA.Verify(pair.Leaf, x509.ExtKeyUsageClientAuth); err != nil {
		t.Errorf("bootstrapped certificate: %v", err)
	}
	var m *certificate.Manager
	closeAll, err := certificate.Transport(restCfg, func() *tls.Certificate { return m.Current() })
	if err != nil {
		t.Fatal(err)
	}
	node, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		t.Fatal(err)
	}
	if m, err = certificate.NewManager(certificate.ManagerConfig{NodeName: "worker", Store: store, Client: node, OnRotate: closeAll}); err != nil {
		t.Fatal(err)
	}
	if u := whoami(ctx, t, node); u.Username != "system:node:worker" || !slices.Equal(u.Groups, []string{"system:nodes", "system:authenticated"}) {
		t.Errorf("bootstrapped identity %+v", u)
	}

	if err := m.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	second := m.Current()
	if second.Leaf.SerialNumber.Cmp(pair.Leaf.SerialNumber) == 0 {
		t.Fatal("rotation kept the certificate")
	}
	csrs, _ = admin.CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{})
	for _, csr := range csrs.Items {
		if csr.Name == first.Name {
			continue
		}
		if csr.Spec.Username != "system:node:worker" || approvedMessage(&csr) != approver.SelfNodeClientMessage {
			t.Errorf("rotation CSR %s by %q, approval %q", csr.Name, csr.Spec.Username, approvedMessage(&csr))
		}
	}
	// The client now presents the new certificate: the apiserver sees the
	// same user, and the new pair is what the store and kubeconfig name.
	if u := whoami(ctx, t, node); u.Username != "system:node:worker" {
		t.Errorf("identity after rotation %+v", u)
	}
	onDisk, err := store.Current()
	if err != nil || !onDisk.Leaf.Equal(second.Leaf) {
		t.Errorf("kubelet-client-current.pem is not the rotated certificate: %v", err)
	}
}

// createKubeadmBindings creates the ClusterRoleBindings of kubeadm's RBAC
// objects (kubelet-bootstrap, node-autoapprove-*).
func createKubeadmBindings(ctx context.Context, t *testing.T, admin kubernetes.Interface) {
	t.Helper()
	n := 0
	for _, doc := range strings.Split(manifests.KubeadmRBAC, "\n---") {
		var crb rbacv1.ClusterRoleBinding
		if err := yaml.Unmarshal([]byte(doc), &crb); err != nil {
			t.Fatal(err)
		}
		if crb.Kind != "ClusterRoleBinding" {
			continue
		}
		if _, err := admin.RbacV1().ClusterRoleBindings().Create(ctx, &crb, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n < 3 {
		t.Fatalf("only %d ClusterRoleBindings in kubeadm's RBAC objects", n)
	}
}

// runControllers runs the CSR approver and signer (the cluster CA for
// every signer) as the admin until the test ends.
func runControllers(ctx context.Context, t *testing.T, inst *apiservertest.Instance, admin kubernetes.Interface) {
	t.Helper()
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key")
	if err := os.WriteFile(certFile, inst.CA.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, inst.CA.KeyPEM, 0o600); err != nil {
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
	logger := slog.New(slog.NewTextHandler(t.Output(), nil))
	factory := informers.NewSharedInformerFactory(admin, 0)
	csrInformer := factory.Certificates().V1().CertificateSigningRequests()
	s, err := signer.New(admin, csrInformer, signer.Options{CAs: cas, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	a := approver.New(admin, csrInformer, approver.Options{Logger: logger})
	ctx, cancel := context.WithCancel(ctx)
	factory.Start(ctx.Done())
	var wg sync.WaitGroup
	for _, c := range []interface {
		Run(context.Context, int) error
	}{s, a} {
		wg.Go(func() {
			if err := c.Run(ctx, 2); err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(func() { cancel(); wg.Wait(); factory.Shutdown() })
}

// approvedMessage is the message of csr's Approved condition.
func approvedMessage(csr *certificatesv1.CertificateSigningRequest) string {
	for _, c := range csr.Status.Conditions {
		if c.Type == certificatesv1.CertificateApproved {
			return c.Message
		}
	}
	return ""
}

// whoami is the client's user.
func whoami(ctx context.Context, t *testing.T, client kubernetes.Interface) authenticationv1.UserInfo {
	t.Helper()
	r, err := client.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return r.Status.UserInfo
}
