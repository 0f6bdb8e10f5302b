package server_test

import (
	"encoding/json"
	"net/http"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
)

// TestIntegrationReviews creates each review API through client-go and runs
// the real kubectl's `auth whoami` and `auth can-i` against the binary on
// its default authorization (AlwaysAllow).
func TestIntegrationReviews(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd and kube-apiserver")
	}
	inst := apiservertest.Start(t, apiservertest.Options{})
	cs := clientset(t, inst.Config)
	t.Run("discovery", func(t *testing.T) { reviewDiscovery(t, cs) })
	t.Run("access reviews", func(t *testing.T) { accessReviews(t, cs) })
	t.Run("rules review", func(t *testing.T) { rulesReview(t, cs) })
	t.Run("identity reviews", func(t *testing.T) { identityReviews(t, inst, cs) })
	t.Run("create only", func(t *testing.T) { reviewsCreateOnly(t, cs) })
	t.Run("openapi", func(t *testing.T) { reviewsOpenAPI(t, cs) })
	for _, bin := range kubectlBinaries(t) {
		t.Run(filepath.Base(bin), func(t *testing.T) { kubectlAuth(t, newKubectl(t, inst, bin)) })
	}
}

func reviewDiscovery(t *testing.T, cs kubernetes.Interface) {
	want := map[string][]string{
		"authorization.k8s.io/v1":  {"localsubjectaccessreviews", "selfsubjectaccessreviews", "selfsubjectrulesreviews", "subjectaccessreviews"},
		"authentication.k8s.io/v1": {"selfsubjectreviews", "tokenreviews"},
	}
	for gv, names := range want {
		list, err := cs.Discovery().ServerResourcesForGroupVersion(gv)
		if err != nil {
			t.Fatalf("%s: %v", gv, err)
		}
		var got []string
		for _, r := range list.APIResources {
			got = append(got, r.Name)
			if !slices.Equal(r.Verbs, metav1.Verbs{"create"}) {
				t.Errorf("%s %s: verbs %v, want [create]", gv, r.Name, r.Verbs)
			}
			if r.Namespaced != (r.Name == "localsubjectaccessreviews") {
				t.Errorf("%s %s: namespaced %v", gv, r.Name, r.Namespaced)
			}
		}
		if !slices.Equal(got, names) {
			t.Errorf("%s: %v, want %v", gv, got, names)
		}
	}
}

func accessReviews(t *testing.T, cs kubernetes.Interface) {
	ctx := testCtx(t, time.Minute)
	az := cs.AuthorizationV1()
	pods := &authorizationv1.ResourceAttributes{Namespace: "default", Verb: "create", Resource: "pods"}

	sar, err := az.SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: "alice", Groups: []string{"devs"}, ResourceAttributes: pods}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !sar.Status.Allowed || sar.Status.Denied || sar.Spec.User != "alice" {
		t.Errorf("SubjectAccessReview: %+v", sar)
	}
	_, err = az.SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		ResourceAttributes: pods}}, metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec.user: Invalid value: \"\": at least one of user or group must be specified") {
		t.Errorf("SubjectAccessReview without a subject: %v, want 422", err)
	}
	_, err = az.SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: "alice"}}, metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "exactly one of nonResourceAttributes or resourceAttributes must be specified") {
		t.Errorf("SubjectAccessReview without attributes: %v, want 422", err)
	}

	ssar, err := az.SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		NonResourceAttributes: &authorizationv1.NonResourceAttributes{Verb: "get", Path: "/metrics"}}}, metav1.CreateOptions{})
	if err != nil || !ssar.Status.Allowed {
		t.Errorf("SelfSubjectAccessReview: %+v %v", ssar, err)
	}

	lsar, err := az.LocalSubjectAccessReviews("default").Create(ctx, &authorizationv1.LocalSubjectAccessReview{
		Spec: authorizationv1.SubjectAccessReviewSpec{User: "alice", ResourceAttributes: pods}}, metav1.CreateOptions{})
	if err != nil || !lsar.Status.Allowed || lsar.Namespace != "default" {
		t.Errorf("LocalSubjectAccessReview: %+v %v", lsar, err)
	}
	_, err = az.LocalSubjectAccessReviews("kube-system").Create(ctx, &authorizationv1.LocalSubjectAccessReview{
		Spec: authorizationv1.SubjectAccessReviewSpec{User: "alice", ResourceAttributes: pods}}, metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), `spec.resourceAttributes.namespace: Invalid value: "default": must match metadata.namespace`) {
		t.Errorf("LocalSubjectAccessReview about another namespace: %v, want 422", err)
	}
}

// rulesReview checks what the default server (AlwaysAllow) answers:
// upstream's wildcard rules.
func rulesReview(t *testing.T, cs kubernetes.Interface) {
	ctx := testCtx(t, time.Minute)
	ssrr, err := cs.AuthorizationV1().SelfSubjectRulesReviews().Create(ctx, &authorizationv1.SelfSubjectRulesReview{
		Spec: authorizationv1.SelfSubjectRulesReviewSpec{Namespace: "default"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wildcard := authorizationv1.SubjectRulesReviewStatus{
		ResourceRules:    []authorizationv1.ResourceRule{{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}}},
		NonResourceRules: []authorizationv1.NonResourceRule{{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}}},
	}
	if !reflect.DeepEqual(ssrr.Status, wildcard) {
		t.Errorf("SelfSubjectRulesReview under AlwaysAllow: %+v, want %+v", ssrr.Status, wildcard)
	}
	_, err = cs.AuthorizationV1().SelfSubjectRulesReviews().Create(ctx, &authorizationv1.SelfSubjectRulesReview{}, metav1.CreateOptions{})
	if !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), "no namespace on request") {
		t.Errorf("SelfSubjectRulesReview without a namespace: %v, want 400", err)
	}
}

func identityReviews(t *testing.T, inst *apiservertest.Instance, cs kubernetes.Interface) {
	ctx := testCtx(t, time.Minute)
	ssr, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if u := ssr.Status.UserInfo; u.Username != "kubernetes-admin" || !slices.Contains(u.Groups, "system:masters") ||
		!slices.Contains(u.Groups, "system:authenticated") || ssr.CreationTimestamp.IsZero() {
		t.Errorf("SelfSubjectReview as the admin: %+v", ssr)
	}

	tokenCfg := rest.AnonymousClientConfig(inst.Config)
	tokenCfg.BearerToken = apiservertest.Token
	ssr, err = clientset(t, tokenCfg).AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil || ssr.Status.UserInfo.Username != "token-user" || ssr.Status.UserInfo.UID != "token-uid" {
		t.Errorf("SelfSubjectReview with a token: %+v %v", ssr, err)
	}

	tr, err := cs.AuthenticationV1().TokenReviews().Create(ctx, &authenticationv1.TokenReview{
		Spec: authenticationv1.TokenReviewSpec{Token: apiservertest.Token}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Status.Authenticated || tr.Status.User.Username != "token-user" || !slices.Contains(tr.Status.User.Groups, "token-group") {
		t.Errorf("TokenReview of the token file's token: %+v", tr.Status)
	}
	tr, err = cs.AuthenticationV1().TokenReviews().Create(ctx, &authenticationv1.TokenReview{
		Spec: authenticationv1.TokenReviewSpec{Token: "not-a-token"}}, metav1.CreateOptions{})
	if err != nil || tr.Status.Authenticated || tr.Status.Error == "" || tr.Status.User.Username != "" {
		t.Errorf("TokenReview of an unknown token: %+v %v", tr, err)
	}
	_, err = cs.AuthenticationV1().TokenReviews().Create(ctx, &authenticationv1.TokenReview{}, metav1.CreateOptions{})
	if !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), "token is required for TokenReview in authentication") {
		t.Errorf("TokenReview without a token: %v, want 400", err)
	}
}

// reviewsCreateOnly checks the other verbs are 405, as upstream.
func reviewsCreateOnly(t *testing.T, cs *kubernetes.Clientset) {
	ctx := testCtx(t, time.Minute)
	for _, path := range []string{"/apis/authorization.k8s.io/v1/subjectaccessreviews", "/apis/authentication.k8s.io/v1/tokenreviews/x",
		"/apis/authorization.k8s.io/v1/namespaces/default/localsubjectaccessreviews"} {
		var code int
		err := cs.RESTClient().Get().AbsPath(path).Do(ctx).StatusCode(&code).Error()
		if code != http.StatusMethodNotAllowed || !apierrors.IsMethodNotSupported(err) {
			t.Errorf("GET %s: %d %v, want 405", path, code, err)
		}
	}
	var code int
	err := cs.RESTClient().Delete().AbsPath("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews/x").Do(ctx).StatusCode(&code).Error()
	if code != http.StatusMethodNotAllowed {
		t.Errorf("DELETE: %d %v, want 405", code, err)
	}
}

// reviewsOpenAPI checks the reviews' create operations are described, with
// upstream's operation ids.
func reviewsOpenAPI(t *testing.T, cs *kubernetes.Clientset) {
	ctx := testCtx(t, time.Minute)
	for gv, ops := range map[string]map[string]string{
		"authorization.k8s.io/v1": {
			"/apis/authorization.k8s.io/v1/subjectaccessreviews":                             "createAuthorizationV1SubjectAccessReview",
			"/apis/authorization.k8s.io/v1/selfsubjectrulesreviews":                          "createAuthorizationV1SelfSubjectRulesReview",
			"/apis/authorization.k8s.io/v1/namespaces/{namespace}/localsubjectaccessreviews": "createAuthorizationV1NamespacedLocalSubjectAccessReview",
		},
		"authentication.k8s.io/v1": {
			"/apis/authentication.k8s.io/v1/tokenreviews":       "createAuthenticationV1TokenReview",
			"/apis/authentication.k8s.io/v1/selfsubjectreviews": "createAuthenticationV1SelfSubjectReview",
		},
	} {
		raw, err := cs.RESTClient().Get().AbsPath("/openapi/v3/apis/" + gv).Do(ctx).Raw()
		if err != nil {
			t.Fatalf("%s: %v", gv, err)
		}
		var doc struct {
			Paths map[string]struct {
				Get  *struct{} `json:"get"`
				Post struct {
					OperationID string `json:"operationId"`
				} `json:"post"`
			} `json:"paths"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		for path, op := range ops {
			p := doc.Paths[path]
			if p.Post.OperationID != op {
				t.Errorf("%s: post %q, want %q", path, p.Post.OperationID, op)
			}
			if p.Get != nil {
				t.Errorf("%s: a get operation", path)
			}
		}
	}
}

func kubectlAuth(t *testing.T, k *kubectlRunner) {
	out := k.must("auth", "can-i", "create", "pods")
	if strings.TrimSpace(out) != "yes" {
		t.Errorf("can-i create pods: %q, want yes", out)
	}
	if out := k.must("auth", "can-i", "get", "/healthz"); strings.TrimSpace(out) != "yes" {
		t.Errorf("can-i get /healthz: %q, want yes", out)
	}
	if out := k.must("auth", "can-i", "delete", "secrets", "-n", "kube-system", "--as=alice"); strings.TrimSpace(out) != "yes" {
		t.Errorf("can-i --as: %q, want yes", out)
	}
	out = k.must("auth", "can-i", "--list", "-n", "default")
	contains(t, "can-i --list", out, "*.*", "[*]")
	if h := header(lastLines(out)); h != "Resources Non-Resource URLs Resource Names Verbs" {
		t.Errorf("can-i --list header %q:\n%s", h, out)
	}

	if kubectlMinor(t, k) < 28 {
		// kubectl 1.27 asks only for v1beta1 and v1alpha1, which a 1.37
		// apiserver does not serve either.
		contains(t, "whoami (kubectl 1.27)", k.mustFail("auth", "whoami"), "selfsubjectreviews API is not enabled")
		return
	}
	out = k.must("auth", "whoami")
	contains(t, "whoami", out, "ATTRIBUTE", "Username", "kubernetes-admin", "Groups", "[system:masters system:authenticated]")
	out = k.must("auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")
	if out != "kubernetes-admin" {
		t.Errorf("whoami -o jsonpath: %q", out)
	}
	out = k.must("auth", "whoami", "--as=alice", "--as-group=devs", "-o", "jsonpath={.status.userInfo.username} {.status.userInfo.groups}")
	if out != `alice ["devs","system:authenticated"]` {
		t.Errorf("whoami --as=alice --as-group=devs: %q, want alice in devs (is filters.WithImpersonation in the server's chain?)", out)
	}
}

// lastLines drops what kubectl printed before the table (a warning).
func lastLines(out string) string {
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "Resources") {
			return strings.Join(lines[i:], "\n")
		}
	}
	return out
}

// kubectlMinor returns the minor version of k's kubectl.
func kubectlMinor(t *testing.T, k *kubectlRunner) int {
	t.Helper()
	out, err := exec.Command(k.bin, "version", "--client", "-o", "json").Output()
	if err != nil {
		t.Fatalf("kubectl version: %v", err)
	}
	var v struct {
		ClientVersion struct {
			Minor string `json:"minor"`
		} `json:"clientVersion"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	minor := 0
	for _, c := range v.ClientVersion.Minor {
		if c < '0' || c > '9' {
			break
		}
		minor = minor*10 + int(c-'0')
	}
	return minor
}
