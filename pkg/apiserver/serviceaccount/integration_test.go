package serviceaccount_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kinc-dev/kinc/internal/testenv"
	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/serviceaccount"
	"github.com/kinc-dev/kinc/pkg/pki"
)

const issuer = "https://kubernetes.default.svc.cluster.local"

type cluster struct {
	inst    *apiservertest.Instance
	admin   kubernetes.Interface
	saKey   *pki.ServiceAccountKey
	proxyCA *pki.CA
}

func start(t *testing.T) *cluster {
	t.Helper()
	dir := t.TempDir()
	saKey, err := pki.NewServiceAccountKey(pki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	// A second verification key (RSA), as a key rotation leaves.
	oldKey, err := pki.NewServiceAccountKey(pki.RSA2048)
	if err != nil {
		t.Fatal(err)
	}
	proxyCA, err := pki.NewCA("front-proxy-ca", pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	inst := apiservertest.Start(t, apiservertest.Options{ExtraFlags: []string{
		"--service-account-issuer=" + issuer,
		"--service-account-key-file=" + write("sa.pub", saKey.PublicPEM),
		"--service-account-key-file=" + write("old.pub", oldKey.PublicPEM),
		"--service-account-signing-key-file=" + write("sa.key", saKey.PrivatePEM),
		"--service-account-max-token-expiration=48h",
		"--enable-bootstrap-token-auth=true",
		"--requestheader-client-ca-file=" + write("front-proxy-ca.crt", proxyCA.CertPEM),
		"--requestheader-allowed-names=front-proxy-client",
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
	}})
	return &cluster{inst: inst, admin: inst.Client(t), saKey: saKey, proxyCA: proxyCA}
}

// as returns a client authenticating with a bearer token only.
func (c *cluster) as(t *testing.T, token string) kubernetes.Interface {
	t.Helper()
	cfg := &rest.Config{Host: c.inst.URL, BearerToken: token,
		TLSClientConfig: rest.TLSClientConfig{CAData: c.inst.CA.CertPEM}}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func whoami(ctx context.Context, cs kubernetes.Interface) (authenticationv1.UserInfo, error) {
	r, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		return authenticationv1.UserInfo{}, err
	}
	return r.Status.UserInfo, nil
}

// eventually401 waits until the token is refused (the apiserver reads the
// objects a token names from its watch cache, which follows etcd closely).
func eventually401(t *testing.T, ctx context.Context, c *cluster, token, why string) {
	t.Helper()
	var err error
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if _, err = whoami(ctx, c.as(t, token)); apierrors.IsUnauthorized(err) {
			return
		}
	}
	t.Fatalf("%s: token still accepted (last err %v)", why, err)
}

func TestServiceAccountTokens(t *testing.T) {
	c := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const ns = "sa-test"
	if _, err := c.admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sa, err := c.admin.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "robot"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}

	// TokenRequest: defaults, and the token authenticates as the service
	// account.
	tr, err := c.admin.CoreV1().ServiceAccounts(ns).CreateToken(ctx, "robot", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Status.Token == "" || *tr.Spec.ExpirationSeconds != 3600 || !slices.Equal(tr.Spec.Audiences, []string{issuer}) ||
		time.Until(tr.Status.ExpirationTimestamp.Time) < 59*time.Minute {
		t.Fatalf("TokenRequest = %+v", tr)
	}
	robot := c.as(t, tr.Status.Token)
	u, err := whoami(ctx, robot)
	if err != nil {
		t.Fatal(err)
	}
	if u.Username != "system:serviceaccount:sa-test:robot" || u.UID != string(sa.UID) ||
		!slices.Equal(u.Groups, []string{"system:serviceaccounts", "system:serviceaccounts:sa-test", "system:authenticated"}) ||
		len(u.Extra["authentication.kubernetes.io/credential-id"]) != 1 ||
		!strings.HasPrefix(u.Extra["authentication.kubernetes.io/credential-id"][0], "JTI=") {
		t.Errorf("user = %+v", u)
	}
	if _, err := robot.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("listing pods with the token (AlwaysAllow): %v", err)
	}
	// TokenReview answers the same.
	rev, err := c.admin.AuthenticationV1().TokenReviews().Create(ctx, &authenticationv1.TokenReview{
		Spec: authenticationv1.TokenReviewSpec{Token: tr.Status.Token}}, metav1.CreateOptions{})
	if err != nil || !rev.Status.Authenticated || rev.Status.User.Username != u.Username {
		t.Errorf("TokenReview = %+v, %v", rev, err)
	}

	// Capped expiration, a token for another audience.
	long, err := c.admin.CoreV1().ServiceAccounts(ns).CreateToken(ctx, "robot", &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr(int64(7 * 24 * 3600)), Audiences: []string{"vault"}}}, metav1.CreateOptions{})
	if err != nil || *long.Spec.ExpirationSeconds != 48*3600 {
		t.Fatalf("capped TokenRequest = %+v, %v", long, err)
	}

	// A TokenReview for vault accepts the vault token, the API does not.
	rev, err = c.admin.AuthenticationV1().TokenReviews().Create(ctx, &authenticationv1.TokenReview{
		Spec: authenticationv1.TokenReviewSpec{Token: long.Status.Token, Audiences: []string{"vault"}}}, metav1.CreateOptions{})
	if err != nil || !rev.Status.Authenticated || !slices.Equal(rev.Status.Audiences, []string{"vault"}) {
		t.Errorf("TokenReview for vault = %+v, %v", rev, err)
	}

	// Forged (another key), expired (our key, but past), other audience:
	// 401, with nothing but "Unauthorized" in the answer.
	other, _ := pki.GenerateKey(pki.ECDSAP256)
	forger, _ := serviceaccount.NewIssuer(issuer, other)
	ourKey, _ := serviceaccount.NewIssuer(issuer, c.saKey.Key)
	claims := registry.TokenClaims{Namespace: ns, ServiceAccount: registry.ObjectRef{Name: "robot", UID: sa.UID},
		Audiences: []string{issuer}, IssuedAt: time.Now(), Expiration: time.Hour}
	forged, _ := forger.IssueToken(ctx, claims)
	claims.IssuedAt = time.Now().Add(-3 * time.Hour)
	expired, _ := ourKey.IssueToken(ctx, claims)
	for name, tok := range map[string]string{"forged": forged, "expired": expired, "other audience": long.Status.Token,
		"garbage": "not-a-token"} {
		_, err := whoami(ctx, c.as(t, tok))
		if !apierrors.IsUnauthorized(err) {
			t.Errorf("%s token: err = %v, want 401", name, err)
			continue
		}
		if msg := err.Error(); msg != "Unauthorized" {
			t.Errorf("%s token: message %q", name, msg)
		}
	}

	// A pod-bound token names the pod, and dies with it.
	pod, err := c.admin.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"},
		Spec: corev1.PodSpec{ServiceAccountName: "robot", Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bound, err := c.admin.CoreV1().ServiceAccounts(ns).CreateToken(ctx, "robot", &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{BoundObjectRef: &authenticationv1.BoundObjectReference{
			Kind: "Pod", APIVersion: "v1", Name: "p", UID: pod.UID}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if u, err := whoami(ctx, c.as(t, bound.Status.Token)); err != nil ||
		!slices.Equal(u.Extra["authentication.kubernetes.io/pod-name"], []string{"p"}) ||
		!slices.Equal(u.Extra["authentication.kubernetes.io/pod-uid"], []string{string(pod.UID)}) {
		t.Errorf("pod-bound user = %+v, %v", u, err)
	}
	if _, err := c.admin.CoreV1().ServiceAccounts(ns).CreateToken(ctx, "robot", &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{BoundObjectRef: &authenticationv1.BoundObjectReference{
			Kind: "Pod", APIVersion: "v1", Name: "p", UID: "other"}}}, metav1.CreateOptions{}); !apierrors.IsConflict(err) {
		t.Errorf("bound to a pod with another UID: %v", err)
	}
	if err := c.admin.CoreV1().Pods(ns).Delete(ctx, "p", metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(0))}); err != nil {
		t.Fatal(err)
	}
	eventually401(t, ctx, c, bound.Status.Token, "pod deleted")

	// kubectl create token.
	if kubectl := testenv.RequireKubectl(t); kubectl != "" {
		cmd := exec.CommandContext(ctx, kubectl, "--kubeconfig", c.inst.Kubeconfig, "create", "token", "robot", "-n", ns, "--duration=20m")
		cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("kubectl create token: %v", err)
		}
		if u, err := whoami(ctx, c.as(t, strings.TrimSpace(string(out)))); err != nil || u.Username != "system:serviceaccount:sa-test:robot" {
			t.Errorf("kubectl's token: %+v, %v", u, err)
		}
	}

	// Deleting the service account ends its tokens.
	if err := c.admin.CoreV1().ServiceAccounts(ns).Delete(ctx, "robot", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually401(t, ctx, c, tr.Status.Token, "service account deleted")
	if _, err := c.admin.CoreV1().ServiceAccounts(ns).CreateToken(ctx, "robot", &authenticationv1.TokenRequest{}, metav1.CreateOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("TokenRequest for a deleted service account: %v", err)
	}
	// A new service account of the same name is another identity.
	if _, err := c.admin.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "robot"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := whoami(ctx, c.as(t, tr.Status.Token)); !apierrors.IsUnauthorized(err) {
		t.Errorf("old token after the service account was recreated: %v", err)
	}
}

func TestOIDCDiscovery(t *testing.T) {
	c := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	raw := c.admin.CoreV1().RESTClient()
	body, err := raw.Get().AbsPath(serviceaccount.OpenIDConfigPath).DoRaw(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var md struct {
		Issuer  string   `json:"issuer"`
		JWKSURI string   `json:"jwks_uri"`
		Algs    []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := json.Unmarshal(body, &md); err != nil {
		t.Fatal(err)
	}
	if md.Issuer != issuer || md.JWKSURI != "https://127.0.0.1:"+c.inst.URL[strings.LastIndex(c.inst.URL, ":")+1:]+"/openid/v1/jwks" ||
		!slices.Equal(md.Algs, []string{"ES256", "RS256"}) {
		t.Errorf("openid-configuration = %s", body)
	}
	body, err = raw.Get().AbsPath(serviceaccount.JWKSPath).DoRaw(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Keys []struct {
			Kid, Kty, Alg, Use string
		} `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatal(err)
	}
	kid, _ := serviceaccount.KeyID(c.saKey.Key.Public())
	if len(set.Keys) != 2 || set.Keys[0].Kid != kid || set.Keys[0].Kty != "EC" || set.Keys[1].Kty != "RSA" {
		t.Errorf("jwks = %s", body)
	}
	// The tokens the server issues name that key.
	if _, err := c.admin.CoreV1().ServiceAccounts("default").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "oidc"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Asked in protobuf, as the kubelet asks.
	cfg := rest.CopyConfig(c.inst.Config)
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	pb, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := pb.CoreV1().ServiceAccounts("default").CreateToken(ctx, "oidc", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hdr, _ := jsonPart(tr.Status.Token, 0)
	if hdr["kid"] != kid || hdr["alg"] != "ES256" {
		t.Errorf("token header = %v", hdr)
	}
}

func TestBootstrapAndFrontProxy(t *testing.T) {
	c := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.admin.CoreV1().Secrets("kube-system").Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "bootstrap-token-abcdef"}, Type: "bootstrap.kubernetes.io/token",
		StringData: map[string]string{"token-id": "abcdef", "token-secret": "0123456789abcdef",
			"usage-bootstrap-authentication": "true", "auth-extra-groups": "system:bootstrappers:kubeadm:default-node-token",
			"expiration": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	u, err := whoami(ctx, c.as(t, "abcdef.0123456789abcdef"))
	if err != nil || u.Username != "system:bootstrap:abcdef" ||
		!slices.Equal(u.Groups, []string{"system:bootstrappers", "system:bootstrappers:kubeadm:default-node-token", "system:authenticated"}) {
		t.Errorf("bootstrap token user = %+v, %v", u, err)
	}
	if _, err := whoami(ctx, c.as(t, "abcdef.0123456789abcdee")); !apierrors.IsUnauthorized(err) {
		t.Errorf("wrong bootstrap secret: %v", err)
	}

	// The front proxy's certificate and headers.
	proxy := func(cn string, headers map[string]string) kubernetes.Interface {
		kp, err := c.proxyCA.Issue(pki.ClientSpec(cn))
		if err != nil {
			t.Fatal(err)
		}
		cfg := &rest.Config{Host: c.inst.URL, TLSClientConfig: rest.TLSClientConfig{CAData: c.inst.CA.CertPEM,
			CertData: kp.CertPEM, KeyData: kp.KeyPEM}}
		cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
			return roundTripper(func(r *http.Request) (*http.Response, error) {
				r = r.Clone(r.Context())
				for k, v := range headers {
					r.Header.Add(k, v)
				}
				return rt.RoundTrip(r)
			})
		}
		cs, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return cs
	}
	hdrs := map[string]string{"X-Remote-User": "alice", "X-Remote-Group": "devs", "X-Remote-Extra-Scopes": "read"}
	u, err = whoami(ctx, proxy("front-proxy-client", hdrs))
	if err != nil || u.Username != "alice" || !slices.Equal(u.Groups, []string{"devs", "system:authenticated"}) ||
		!slices.Equal(u.Extra["scopes"], []string{"read"}) {
		t.Errorf("front proxy user = %+v, %v", u, err)
	}
	// A proxy name not allowed, and the proxy's certificate as a user of its
	// own (the front-proxy CA is not a client CA): 401.
	if _, err := whoami(ctx, proxy("someone", hdrs)); !apierrors.IsUnauthorized(err) {
		t.Errorf("proxy name not allowed: %v", err)
	}
	if _, err := whoami(ctx, proxy("front-proxy-client", nil)); !apierrors.IsUnauthorized(err) {
		t.Errorf("proxy certificate without headers: %v", err)
	}
	// The apiserver publishes how it authenticates, for delegated
	// authentication.
	cm, err := c.admin.CoreV1().ConfigMaps("kube-system").Get(ctx, "extension-apiserver-authentication", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cm.Data["client-ca-file"] != string(c.inst.CA.CertPEM) || cm.Data["requestheader-client-ca-file"] != string(c.proxyCA.CertPEM) ||
		cm.Data["requestheader-allowed-names"] != `["front-proxy-client"]` || cm.Data["requestheader-username-headers"] != `["X-Remote-User"]` ||
		cm.Data["requestheader-extra-headers-prefix"] != `["X-Remote-Extra-"]` || cm.Data["requestheader-group-headers"] != `["X-Remote-Group"]` {
		t.Errorf("extension-apiserver-authentication = %v", cm.Data)
	}
	// The admin's certificate (client CA) still works.
	if u, err := whoami(ctx, c.admin); err != nil || u.Username != "kubernetes-admin" {
		t.Errorf("admin = %+v, %v", u, err)
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func ptr[T any](v T) *T { return &v }

// jsonPart decodes part i of a JWT.
func jsonPart(token string, i int) (map[string]any, error) {
	parts := strings.Split(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}
