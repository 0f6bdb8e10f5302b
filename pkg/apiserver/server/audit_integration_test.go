package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
	"github.com/kinc-dev/kinc/pkg/apiserver/audit"
)

const integrationAuditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitManagedFields: true
rules:
- level: None
  resources: [{group: "", resources: [events]}]
- level: None
  nonResourceURLs: ["/readyz*", "/healthz*", "/livez*"]
- level: Metadata
  resources: [{group: "", resources: [secrets]}]
- level: RequestResponse
  resources: [{group: "", resources: [configmaps]}]
- level: Metadata
`

// TestIntegrationAudit runs the binary with an audit policy and log and
// reads the log it writes.
func TestIntegrationAudit(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd and kube-apiserver")
	}
	dir := t.TempDir()
	policy := filepath.Join(dir, "audit-policy.yaml")
	if err := os.WriteFile(policy, []byte(integrationAuditPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "logs", "audit.log")
	inst := apiservertest.Start(t, apiservertest.Options{ExtraFlags: []string{"--audit-policy-file=" + policy,
		"--audit-log-path=" + logPath, "--audit-log-maxsize=10", "--audit-log-maxbackup=2", "--audit-log-maxage=7"}})
	cfg := rest.CopyConfig(inst.Config)
	cfg.ContentType, cfg.AcceptContentTypes = "application/json", "application/json"
	cs := clientset(t, cfg)
	ctx := context.Background()

	// A create at RequestResponse records both bodies.
	if _, err := cs.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "audited"},
		Data: map[string]string{"colour": "teal"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	create := waitAuditEvent(t, logPath, func(e audit.Event) bool {
		return e.Verb == "create" && e.Stage == audit.StageResponseComplete && e.ObjectRef != nil && e.ObjectRef.Name == "audited"
	})
	if create.Level != audit.LevelRequestResponse || create.ResponseStatus.Code != 201 ||
		!strings.Contains(string(create.RequestObject), `"colour":"teal"`) || !strings.Contains(string(create.ResponseObject), `"colour":"teal"`) ||
		strings.Contains(string(create.ResponseObject), "managedFields") {
		t.Errorf("create event %+v\nrequest %s\nresponse %s", create, create.RequestObject, create.ResponseObject)
	}
	if create.User.Username != "kubernetes-admin" || !strings.Contains(strings.Join(create.User.Groups, ","), "system:masters") {
		t.Errorf("user %+v: want the admin", create.User)
	}
	if create.Annotations["authorization.k8s.io/decision"] != "allow" || create.ObjectRef.Namespace != "default" || create.ObjectRef.APIVersion != "v1" {
		t.Errorf("create event annotations %v objectRef %+v", create.Annotations, create.ObjectRef)
	}

	// A secret read at Metadata records no body; the Audit-ID header names
	// the event.
	if _, err := cs.CoreV1().Secrets("default").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "hush"},
		StringData: map[string]string{"password": "s3cret"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Get(inst.URL + "/api/v1/namespaces/default/secrets/hush")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id := resp.Header.Get("Audit-ID")
	if resp.StatusCode != 200 || id == "" {
		t.Fatalf("GET secret: %s, Audit-ID %q", resp.Status, id)
	}
	read := waitAuditEvent(t, logPath, func(e audit.Event) bool {
		return string(e.AuditID) == id && e.Stage == audit.StageResponseComplete
	})
	if read.Level != audit.LevelMetadata || read.Verb != "get" || read.RequestObject != nil || read.ResponseObject != nil ||
		read.ObjectRef == nil || read.ObjectRef.Resource != "secrets" || read.ObjectRef.Name != "hush" || read.ResponseStatus.Code != 200 {
		t.Errorf("secret read event %+v", read)
	}
	for _, e := range readAuditLog(t, logPath) {
		line, _ := json.Marshal(e)
		if strings.Contains(string(line), "s3cret") || strings.Contains(string(line), "czNjcmV0") {
			t.Errorf("a secret's value is in the audit log: %s", line)
		}
	}

	// A refused credential is recorded without a user.
	forged := rest.AnonymousClientConfig(cfg)
	forged.BearerToken = "forged-token"
	fc, err := rest.HTTPClientFor(forged)
	if err != nil {
		t.Fatal(err)
	}
	resp, err = fc.Get(inst.URL + "/api/v1/namespaces/default/pods")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id = resp.Header.Get("Audit-ID")
	if resp.StatusCode != 401 || id == "" {
		t.Fatalf("GET pods with a forged token: %s, Audit-ID %q", resp.Status, id)
	}
	refused := waitAuditEvent(t, logPath, func(e audit.Event) bool { return string(e.AuditID) == id })
	if refused.Stage != audit.StageResponseStarted || refused.User.Username != "" || refused.ResponseStatus.Code != 401 ||
		refused.ResponseStatus.Message != "Authentication failed, attempted: bearer" {
		t.Errorf("refused request event %+v", refused)
	}

	// A None rule records nothing.
	if _, err := cs.CoreV1().Events("default").Create(ctx, &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "quiet"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "p"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// A watch records ResponseStarted, then ResponseComplete, no body.
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	timeout := int64(1)
	w, err := cs.CoreV1().ConfigMaps("default").Watch(wctx, metav1.ListOptions{TimeoutSeconds: &timeout})
	if err != nil {
		t.Fatal(err)
	}
	for range w.ResultChan() {
	}
	waitAuditEvent(t, logPath, func(e audit.Event) bool {
		return e.Verb == "watch" && e.Stage == audit.StageResponseComplete
	})
	var started bool
	for _, e := range readAuditLog(t, logPath) {
		if e.Verb != "watch" {
			continue
		}
		if e.ResponseObject != nil {
			t.Errorf("watch event %s has a body", e.Stage)
		}
		started = started || (e.Stage == audit.StageResponseStarted && e.ResponseStatus != nil && e.ResponseStatus.Code == 200)
	}
	if !started {
		t.Error("no ResponseStarted event for the watch")
	}
	for _, e := range readAuditLog(t, logPath) {
		if e.ObjectRef != nil && e.ObjectRef.Resource == "events" {
			t.Errorf("an event of a None rule: %+v", e)
		}
		if strings.HasPrefix(e.RequestURI, "/readyz") {
			t.Errorf("an event of a None rule: %+v", e)
		}
		if e.Kind != "Event" || e.APIVersion != audit.GroupVersion || e.AuditID == "" || e.RequestReceivedTimestamp.IsZero() {
			t.Errorf("malformed event %+v", e)
		}
	}
	if st, err := os.Stat(logPath); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("audit log %v, %v: want 0600", st, err)
	}
}

// TestIntegrationAuditBadFlags: a bad policy or the legacy format stop
// the apiserver with a clear message.
func TestIntegrationAuditBadFlags(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd and kube-apiserver")
	}
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, []byte("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: Loud}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := apiservertest.StartFailing(t, apiservertest.Options{ExtraFlags: []string{"--audit-policy-file=" + policy,
		"--audit-log-path=-"}})
	if !strings.Contains(out, `Unsupported value: \"Loud\"`) && !strings.Contains(out, `Unsupported value: "Loud"`) {
		t.Errorf("log does not name the bad level:\n%s", out)
	}
	out = apiservertest.StartFailing(t, apiservertest.Options{ExtraFlags: []string{"--audit-log-format=legacy"}})
	if !strings.Contains(out, "legacy") || !strings.Contains(out, "not supported") {
		t.Errorf("log does not refuse the legacy format:\n%s", out)
	}
}

func readAuditLog(t *testing.T, path string) []audit.Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var events []audit.Event
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var e audit.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("audit log line %q: %v", sc.Text(), err)
		}
		events = append(events, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return events
}

// waitAuditEvent waits up to 10s for an event match accepts.
func waitAuditEvent(t *testing.T, path string, match func(audit.Event) bool) audit.Event {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, e := range readAuditLog(t, path) {
			if match(e) {
				return e
			}
		}
		if time.Now().After(deadline) {
			t.Fatal(fmt.Errorf("no matching audit event in %s", path))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
