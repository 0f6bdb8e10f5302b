package server_test

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"github.com/kinc-dev/kinc/pkg/pki"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"

	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
)

// reply is an HTTP answer, read completely.
type reply struct {
	code   int
	header http.Header
	body   []byte
}

// do sends one request with a JSON (or contentType) body and reads the
// reply; header holds name, value pairs.
func do(t *testing.T, c *http.Client, method, url, contentType string, body []byte, header ...string) reply {
	t.Helper()
	rep, err := send(c, method, url, contentType, body, header...)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// send is do for goroutines: it returns the error.
func send(c *http.Client, method, url, contentType string, body []byte, header ...string) (reply, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		return reply{}, err
	}
	if body != nil {
		if contentType == "" {
			contentType = "application/json"
		}
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: reading the body: %w", method, url, err)
	}
	return reply{code: resp.StatusCode, header: resp.Header, body: data}, nil
}

// wantStatus checks that rep is a failure Status (apiVersion v1, kind
// Status) with code and reason, and returns it.
func wantStatus(t *testing.T, what string, rep reply, code int, reason metav1.StatusReason) metav1.Status {
	t.Helper()
	var st metav1.Status
	if err := json.Unmarshal(rep.body, &st); err != nil {
		t.Errorf("%s: HTTP %d, body is not a Status: %v\n%s", what, rep.code, err, rep.body)
		return st
	}
	if rep.code != code || st.APIVersion != "v1" || st.Kind != "Status" || int(st.Code) != code ||
		st.Reason != reason || st.Status != metav1.StatusFailure {
		t.Errorf("%s: got HTTP %d %s/%s code=%d reason=%q status=%q, want HTTP %d v1/Status code=%d reason=%q status=Failure\n%s",
			what, rep.code, st.APIVersion, st.Kind, st.Code, st.Reason, st.Status, code, code, reason, rep.body)
	}
	if ct := rep.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q, want application/json", what, ct)
	}
	return st
}

// TestIntegrationAuthentication checks 401/403 answers through real TLS:
// anonymous requests, wrong and right bearer tokens, under RBAC (where
// anonymous requests are authorized like any other) and under AlwaysAllow
// (where, as upstream, anonymous authentication is off).
func TestIntegrationAuthentication(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd and kube-apiserver")
	}
	inst := apiservertest.Start(t, apiservertest.Options{ExtraFlags: []string{"--authorization-mode=Node,RBAC"}}) // --anonymous-auth=true
	anon := httpClient(inst)

	t.Run("anonymous healthz", func(t *testing.T) {
		for _, p := range []string{"/healthz", "/livez", "/readyz", "/version"} {
			if rep := do(t, anon, "GET", inst.URL+p, "", nil); rep.code != http.StatusOK {
				t.Errorf("anonymous GET %s: HTTP %d, want 200\n%s", p, rep.code, rep.body)
			}
		}
	})
	t.Run("anonymous pods forbidden", func(t *testing.T) {
		rep := do(t, anon, "GET", inst.URL+"/api/v1/pods", "", nil)
		st := wantStatus(t, "anonymous GET /api/v1/pods", rep, http.StatusForbidden, metav1.StatusReasonForbidden)
		if !strings.Contains(st.Message, `"system:anonymous"`) {
			t.Errorf("403 message %q does not name the user system:anonymous", st.Message)
		}
		rep = do(t, anon, "POST", inst.URL+"/api/v1/namespaces/default/configmaps", "", []byte(`{"metadata":{"name":"x"}}`))
		wantStatus(t, "anonymous POST configmap", rep, http.StatusForbidden, metav1.StatusReasonForbidden)
	})
	t.Run("wrong bearer token", func(t *testing.T) {
		// Invalid credentials are a 401 even though anonymous access is on.
		for _, p := range []string{"/api/v1/pods", "/healthz"} {
			rep := do(t, anon, "GET", inst.URL+p, "", nil, "Authorization", "Bearer not-the-token")
			wantStatus(t, "wrong token GET "+p, rep, http.StatusUnauthorized, metav1.StatusReasonUnauthorized)
		}
	})
	t.Run("bearer token", func(t *testing.T) {
		// token-user holds what RBAC gives every authenticated user
		// (discovery), nothing more.
		rep := do(t, anon, "GET", inst.URL+"/apis", "", nil, "Authorization", "Bearer "+apiservertest.Token)
		if rep.code != http.StatusOK || !bytes.Contains(rep.body, []byte(`"APIGroupList"`)) {
			t.Errorf("GET /apis with the token file's token: HTTP %d\n%s", rep.code, rep.body)
		}
		rep = do(t, anon, "POST", inst.URL+"/api/v1/namespaces/default/configmaps", "",
			[]byte(`{"metadata":{"name":"by-token"}}`), "Authorization", "Bearer "+apiservertest.Token)
		st := wantStatus(t, "POST configmap with the token", rep, http.StatusForbidden, metav1.StatusReasonForbidden)
		if want := `User "token-user" cannot create resource "configmaps" in API group "" in the namespace "default"`; !strings.Contains(st.Message, want) {
			t.Errorf("403 message %q, want %q", st.Message, want)
		}
	})
	t.Run("admin certificate", func(t *testing.T) {
		rep := do(t, adminHTTPClient(t, inst), "GET", inst.URL+"/api/v1/pods", "", nil)
		if rep.code != http.StatusOK {
			t.Errorf("GET /api/v1/pods with the admin certificate: HTTP %d\n%s", rep.code, rep.body)
		}
	})
	t.Run("certificate of another CA", func(t *testing.T) {
		other, err := pki.NewCA("not-the-cluster-ca", pki.Options{})
		if err != nil {
			t.Fatal(err)
		}
		kp, err := other.Issue(pki.ClientSpec("kubernetes-admin", "system:masters"))
		if err != nil {
			t.Fatal(err)
		}
		cert, err := tls.X509KeyPair(kp.CertPEM, kp.KeyPEM)
		if err != nil {
			t.Fatal(err)
		}
		// Go's client presents a certificate only when the server names its
		// CA; curl and others present it anyway.
		c := httpClient(inst)
		c.Transport.(*http.Transport).TLSClientConfig.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return &cert, nil
		}
		// A 401 with upstream's Status, not a failed TLS handshake; twice
		// (failures are never remembered as verified).
		for range 2 {
			rep := do(t, c, "GET", inst.URL+"/api/v1/pods", "", nil)
			wantStatus(t, "another CA's certificate GET /api/v1/pods", rep, http.StatusUnauthorized, metav1.StatusReasonUnauthorized)
		}
	})
	t.Run("AlwaysAllow: no anonymous", func(t *testing.T) {
		for _, flags := range [][]string{nil, {"--anonymous-auth=false", "--authorization-mode=RBAC"}} {
			strict := apiservertest.Start(t, apiservertest.Options{ExtraFlags: flags})
			c := httpClient(strict)
			for _, p := range []string{"/api/v1/pods", "/api", "/healthz"} {
				rep := do(t, c, "GET", strict.URL+p, "", nil)
				wantStatus(t, fmt.Sprintf("%v: no credentials GET %s", flags, p), rep, http.StatusUnauthorized, metav1.StatusReasonUnauthorized)
			}
			rep := do(t, c, "GET", strict.URL+"/apis", "", nil, "Authorization", "Bearer "+apiservertest.Token)
			if rep.code != http.StatusOK {
				t.Errorf("%v: token without anonymous auth: HTTP %d\n%s", flags, rep.code, rep.body)
			}
		}
	})
}

// TestIntegrationRequestErrors checks the answers to bad requests: always
// the right 4xx Status, never a 500.
func TestIntegrationRequestErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd and kube-apiserver")
	}
	inst := apiservertest.Start(t, apiservertest.Options{})
	c := adminHTTPClient(t, inst)
	cs := clientset(t, inst.Config)
	ctx := testCtx(t, 3*time.Minute)
	const ns = "errors"
	createNamespace(t, cs, ns)
	cmURL := inst.URL + "/api/v1/namespaces/" + ns + "/configmaps"
	podURL := inst.URL + "/api/v1/namespaces/" + ns + "/pods"
	if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "existing"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	t.Run("malformed bodies", func(t *testing.T) {
		cases := []struct {
			method, url, contentType, body string
		}{
			{"POST", cmURL, "", `{"metadata": {"name": "x"`},
			{"POST", cmURL, "", `not json at all`},
			{"POST", cmURL, "", `[1, 2, 3]`},
			{"POST", cmURL, "", `"a string"`},
			{"POST", cmURL, "", `{"metadata": {"name": 5}}`},
			{"POST", cmURL, "", `{"data": {"k": ["not", "a", "string"]}}`},
			{"POST", podURL, "", `{"metadata":{"name":"p"},"spec":{"containers":"nope"}}`},
			{"POST", cmURL, "application/yaml", "metadata: [unclosed"},
			{"PUT", cmURL + "/existing", "", `{"metadata": {"name": "existing"`},
			{"PATCH", cmURL + "/existing", "application/merge-patch+json", `{"data": `},
			{"PATCH", cmURL + "/existing", "application/strategic-merge-patch+json", `{"data": `},
			{"PATCH", cmURL + "/existing", "application/json-patch+json", `[{"op": "add", "path": `},
			{"PATCH", cmURL + "/existing", "application/json-patch+json", `{"op": "add"}`},
			{"DELETE", cmURL + "/existing", "", `{"kind": "DeleteOptions", `},
		}
		for _, tc := range cases {
			what := fmt.Sprintf("%s %s %s %q", tc.method, strings.TrimPrefix(tc.url, inst.URL), tc.contentType, tc.body)
			rep := do(t, c, tc.method, tc.url, tc.contentType, []byte(tc.body))
			wantStatus(t, what, rep, http.StatusBadRequest, metav1.StatusReasonBadRequest)
		}
		if _, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "existing", metav1.GetOptions{}); err != nil {
			t.Errorf("configmap existing after the malformed requests: %v", err)
		}
	})

	t.Run("invalid pod", func(t *testing.T) {
		pod := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"invalid"},
			"spec":{"containers":[{"name":"Bad_Name","image":""}],"restartPolicy":"Sometimes"}}`
		rep := do(t, c, "POST", podURL, "", []byte(pod))
		if rep.code == http.StatusCreated {
			t.Fatalf("an invalid pod was created: the pod strategy's validation (pkg/apiserver/registry/core/pod) is not wired into the server")
		}
		st := wantStatus(t, "invalid pod", rep, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
		if st.Details == nil || st.Details.Kind != "Pod" || st.Details.Name != "invalid" {
			t.Fatalf("422 details %+v, want kind Pod name invalid", st.Details)
		}
		fields := map[string]bool{}
		for _, c := range st.Details.Causes {
			fields[c.Field] = true
			if c.Type == "" || c.Message == "" {
				t.Errorf("cause without type or message: %+v", c)
			}
		}
		for _, f := range []string{"spec.containers[0].name", "spec.containers[0].image", "spec.restartPolicy"} {
			if !fields[f] {
				t.Errorf("422 causes %v lack field %s", fields, f)
			}
		}
		// Metadata is validated for every kind.
		rep = do(t, c, "POST", cmURL, "", []byte(`{"metadata":{"name":"Not_A_DNS_Name"}}`))
		st = wantStatus(t, "invalid configmap name", rep, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
		if st.Details == nil || len(st.Details.Causes) == 0 || st.Details.Causes[0].Field != "metadata.name" {
			t.Errorf("422 details %+v, want a cause on metadata.name", st.Details)
		}
	})

	t.Run("4MiB body", func(t *testing.T) {
		big := fmt.Sprintf(`{"metadata":{"name":"big"},"data":{"k":%q}}`, strings.Repeat("x", 4<<20))
		rep := do(t, c, "POST", cmURL, "", []byte(big))
		wantStatus(t, "POST of 4 MiB", rep, http.StatusRequestEntityTooLarge, metav1.StatusReasonRequestEntityTooLarge)
		rep = do(t, c, "PUT", cmURL+"/existing", "", []byte(big))
		wantStatus(t, "PUT of 4 MiB", rep, http.StatusRequestEntityTooLarge, metav1.StatusReasonRequestEntityTooLarge)
		rep = do(t, c, "PATCH", cmURL+"/existing", "application/merge-patch+json", []byte(big))
		wantStatus(t, "PATCH of 4 MiB", rep, http.StatusRequestEntityTooLarge, metav1.StatusReasonRequestEntityTooLarge)
	})

	t.Run("stale resourceVersion", func(t *testing.T) {
		cms := cs.CoreV1().ConfigMaps(ns)
		cm, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "stale"}, Data: map[string]string{"v": "0"}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		fresh := cm.DeepCopy()
		fresh.Data["v"] = "1"
		if _, err := cms.Update(ctx, fresh, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		cm.Data["v"] = "stale"
		_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
		if !apierrors.IsConflict(err) {
			t.Fatalf("update with a stale resourceVersion: %v, want 409 Conflict", err)
		}
		// The same over plain HTTP, to check the Status.
		body, _ := json.Marshal(cm)
		rep := do(t, c, "PUT", cmURL+"/stale", "", body)
		st := wantStatus(t, "PUT with stale resourceVersion", rep, http.StatusConflict, metav1.StatusReasonConflict)
		if !strings.Contains(st.Message, "the object has been modified") {
			t.Errorf("409 message %q", st.Message)
		}
		// A merge patch that names a stale resourceVersion is conditional too.
		patch := fmt.Sprintf(`{"metadata":{"resourceVersion":%q},"data":{"v":"patched"}}`, cm.ResourceVersion)
		rep = do(t, c, "PATCH", cmURL+"/stale", "application/merge-patch+json", []byte(patch))
		wantStatus(t, "PATCH with stale resourceVersion", rep, http.StatusConflict, metav1.StatusReasonConflict)
		got, err := cms.Get(ctx, "stale", metav1.GetOptions{})
		if err != nil || got.Data["v"] != "1" {
			t.Errorf("after the conflicts: %v, data %v, want v=1", err, got.Data)
		}
	})

	t.Run("fieldValidation", func(t *testing.T) {
		pod := func(name string) []byte {
			return []byte(fmt.Sprintf(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":%q},
				"spec":{"foo":"bar","containers":[{"name":"c","image":"busybox"}]}}`, name))
		}
		rep := do(t, c, "POST", podURL+"?fieldValidation=Strict", "", pod("strict"))
		st := wantStatus(t, "Strict unknown field", rep, http.StatusBadRequest, metav1.StatusReasonBadRequest)
		if !strings.Contains(st.Message, `unknown field "spec.foo"`) {
			t.Errorf("Strict: message %q lacks unknown field \"spec.foo\"", st.Message)
		}
		rep = do(t, c, "POST", podURL+"?fieldValidation=Warn", "", pod("warn"))
		if rep.code != http.StatusCreated {
			t.Fatalf("Warn: HTTP %d, want 201\n%s", rep.code, rep.body)
		}
		if w := strings.Join(rep.header.Values("Warning"), "\n"); !strings.HasPrefix(w, "299 ") || !strings.Contains(w, `unknown field \"spec.foo\"`) {
			t.Errorf("Warn: Warning header %q, want 299 - \"unknown field \\\"spec.foo\\\"\"", w)
		}
		rep = do(t, c, "POST", podURL+"?fieldValidation=Ignore", "", pod("ignore"))
		if rep.code != http.StatusCreated || len(rep.header.Values("Warning")) != 0 {
			t.Errorf("Ignore: HTTP %d, warnings %q; want 201 without warnings", rep.code, rep.header.Values("Warning"))
		}
		rep = do(t, c, "POST", podURL+"?fieldValidation=Bogus", "", pod("bogus"))
		wantStatus(t, "fieldValidation=Bogus", rep, http.StatusBadRequest, metav1.StatusReasonBadRequest)
		// Strict applies to patches too.
		rep = do(t, c, "PATCH", cmURL+"/existing?fieldValidation=Strict", "application/merge-patch+json", []byte(`{"spec":{"foo":1}}`))
		wantStatus(t, "Strict merge patch with an unknown field", rep, http.StatusBadRequest, metav1.StatusReasonBadRequest)
	})

	t.Run("concurrent read-modify-write", func(t *testing.T) {
		const writers, increments = 20, 5
		cms := cs.CoreV1().ConfigMaps(ns)
		if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "counter"}, Data: map[string]string{"n": "0"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		// 20 writers on one object: retry.DefaultRetry's 5 steps are too few.
		// (No Cap: reaching it ends the retries.)
		contended := wait.Backoff{Steps: 100, Duration: 10 * time.Millisecond, Factor: 1, Jitter: 1}
		var conflicts, done atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range increments {
					err := retry.RetryOnConflict(contended, func() error {
						cm, err := cms.Get(ctx, "counter", metav1.GetOptions{})
						if err != nil {
							return err
						}
						var n int
						fmt.Sscan(cm.Data["n"], &n)
						cm.Data["n"] = fmt.Sprint(n + 1)
						_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
						if apierrors.IsConflict(err) {
							conflicts.Add(1)
						}
						return err
					})
					if err != nil {
						errs <- err
						return
					}
					done.Add(1)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("writer: %v", err)
		}
		cm, err := cms.Get(ctx, "counter", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprint(done.Load()); cm.Data["n"] != want {
			t.Errorf("counter = %s after %d successful increments by %d writers: updates were lost", cm.Data["n"], done.Load(), writers)
		}
		t.Logf("%d conflicts retried", conflicts.Load())
		if conflicts.Load() == 0 {
			t.Logf("no conflicts: the writers never raced (the check above is then weak)")
		}
	})

	t.Run("concurrent merge patches", func(t *testing.T) {
		const patchers = 20
		cms := cs.CoreV1().ConfigMaps(ns)
		if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "patched"}, Data: map[string]string{"seed": "x"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, patchers)
		start := make(chan struct{})
		for i := range patchers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				p := fmt.Sprintf(`{"data":{"key-%d":"%d"}}`, i, i)
				if _, err := cms.Patch(ctx, "patched", types.MergePatchType, []byte(p), metav1.PatchOptions{}); err != nil {
					errs <- fmt.Errorf("patch %d: %w", i, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("%v (a patch without resourceVersion must not conflict)", err)
		}
		cm, err := cms.Get(ctx, "patched", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for i := range patchers {
			if cm.Data[fmt.Sprintf("key-%d", i)] != fmt.Sprint(i) {
				t.Errorf("key-%d missing after the concurrent patches: %v", i, cm.Data)
			}
		}
		if len(cm.Data) != patchers+1 {
			t.Errorf("data has %d keys, want %d", len(cm.Data), patchers+1)
		}
	})

	t.Run("odd patches", func(t *testing.T) {
		// Valid JSON that patch libraries may choke on: a 4xx, never a 500.
		if _, err := cs.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "patchme", Finalizers: []string{"a/b"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		u := podURL + "/patchme"
		const smp, jp, mp = "application/strategic-merge-patch+json", "application/json-patch+json", "application/merge-patch+json"
		cases := []struct{ contentType, body string }{
			{smp, `{"$patch":"delete"}`},
			{smp, `{"$patch":"replace"}`},
			{smp, `{"spec":{"containers":[{"$patch":"delete"}]}}`},
			{smp, `{"spec":{"containers":[{"$patch":"bogus","name":"c"}]}}`},
			{smp, `{"spec":{"containers":"x"}}`},
			{smp, `{"spec":{"containers":[1,2]}}`},
			{smp, `{"metadata":{"$deleteFromPrimitiveList/finalizers":[1]}}`},
			{smp, `{"metadata":{"$setElementOrder/finalizers":1}}`},
			{smp, `{"spec":{"$setElementOrder/containers":[{"x":1}]}}`},
			{smp, `{"spec":{"$retainKeys":"x"}}`},
			{smp, `[]`},
			{smp, `null`},
			{smp, `"x"`},
			{jp, `[{"op":"move","from":"/metadata","path":"/metadata/x"}]`},
			{jp, `[{"op":"remove","path":"/metadata"}]`},
			{jp, `[{"op":"replace","path":"/kind","value":"Service"}]`},
			{jp, `[{"op":"replace","path":"/apiVersion","value":"v2"}]`},
			{jp, `[{"op":"add","path":"/spec/containers/-","value":null}]`},
			{jp, `[{"op":"copy","from":"/spec","path":"/spec/x"}]`},
			{jp, `[{"op":"test","path":"/metadata/name","value":"other"}]`},
			{jp, `[{"op":"bogus","path":"/x"}]`},
			{jp, `[]`},
			{jp, `null`},
			{mp, `null`},
			{mp, `[]`},
			{mp, `{"metadata":null}`},
			{mp, `{"metadata":{"name":"other"}}`},
			{mp, `{"spec":null}`},
			{mp, `{"kind":"Service"}`},
			{mp, `{"apiVersion":"v2"}`},
			{mp, `{"metadata":{"resourceVersion":"not-a-number"}}`},
		}
		for _, tc := range cases {
			rep := do(t, c, "PATCH", u, tc.contentType, []byte(tc.body))
			if rep.code >= 500 {
				t.Errorf("PATCH %s %s: HTTP %d\n%s", tc.contentType, tc.body, rep.code, rep.body)
			}
		}
	})

	// Panic recovery: no request is known to make a handler panic, and
	// production code has no test-only hook to force one, so
	// pkg/apiserver/filters' TestPanicRecoveryAnswersInternalError proves
	// the filter the server puts outermost.
}

// TestIntegrationMaxMutatingInflight hammers an apiserver started with
// --max-mutating-requests-inflight=1: some writes must be refused with 429
// and Retry-After, reads must not be limited by it, and nothing may fail
// otherwise.
func TestIntegrationMaxMutatingInflight(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd and kube-apiserver")
	}
	inst := apiservertest.Start(t, apiservertest.Options{ExtraFlags: []string{"--max-mutating-requests-inflight=1"}})
	c := adminHTTPClient(t, inst)
	const ns = "default"
	url := inst.URL + "/api/v1/namespaces/" + ns + "/configmaps"

	const workers, perWorker = 16, 25
	var created, throttled, other atomic.Int64
	var firstOther atomic.Value
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				body := fmt.Sprintf(`{"metadata":{"name":"cm-%d-%d"},"data":{"k":%q}}`, w, i, strings.Repeat("v", 2048))
				rep, err := send(c, "POST", url, "", []byte(body))
				if err != nil {
					other.Add(1)
					firstOther.CompareAndSwap(nil, err.Error())
					continue
				}
				switch rep.code {
				case http.StatusCreated:
					created.Add(1)
				case http.StatusTooManyRequests:
					if throttled.Add(1) == 1 {
						if ra := rep.header.Get("Retry-After"); ra != "1" {
							t.Errorf("429 with Retry-After %q, want 1", ra)
						}
						wantStatus(t, "over the in-flight limit", rep, http.StatusTooManyRequests, metav1.StatusReasonTooManyRequests)
					}
				default:
					other.Add(1)
					firstOther.CompareAndSwap(nil, fmt.Sprintf("HTTP %d: %s", rep.code, rep.body))
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("%d created, %d refused with 429, %d other", created.Load(), throttled.Load(), other.Load())
	if throttled.Load() == 0 {
		t.Errorf("no request was refused with 429 with %d concurrent writers and --max-mutating-requests-inflight=1", workers)
	}
	if created.Load() == 0 {
		t.Errorf("no request succeeded")
	}
	if other.Load() > 0 {
		t.Errorf("%d requests failed otherwise, first: %v", other.Load(), firstOther.Load())
	}
	// client-go retries 429s by itself (honouring Retry-After): every create
	// through the typed clientset succeeds.
	cs := clientset(t, inst.Config)
	ctx := testCtx(t, time.Minute)
	var cwg sync.WaitGroup
	for w := range 8 {
		cwg.Add(1)
		go func() {
			defer cwg.Done()
			for i := range 5 {
				_, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("typed-%d-%d", w, i)}}, metav1.CreateOptions{})
				if err != nil {
					t.Errorf("typed create through the limit: %v", err)
				}
			}
		}()
	}
	cwg.Wait()
}
