package audit_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kinc-dev/kinc/pkg/apiserver/audit"
	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
	"github.com/kinc-dev/kinc/pkg/apiserver/authz"
)

// docsPolicy is the example policy of upstream's auditing documentation
// (kubernetes.io, "Auditing", audit-policy.yaml).
const docsPolicy = `
apiVersion: audit.k8s.io/v1 # This is required.
kind: Policy
omitStages:
  - "RequestReceived"
rules:
  - level: RequestResponse
    resources:
    - group: ""
      resources: ["pods"]
  - level: Metadata
    resources:
    - group: ""
      resources: ["pods/log", "pods/status"]
  - level: None
    resources:
    - group: ""
      resources: ["configmaps"]
      resourceNames: ["controller-leader"]
  - level: None
    users: ["system:kube-proxy"]
    verbs: ["watch"]
    resources:
    - group: "" # core API group
      resources: ["endpoints", "services"]
  - level: None
    userGroups: ["system:authenticated"]
    nonResourceURLs:
    - "/api*" # Wildcard matching.
    - "/version"
  - level: Request
    resources:
    - group: "" # core API group
      resources: ["configmaps"]
    namespaces: ["kube-system"]
  - level: Metadata
    resources:
    - group: "" # core API group
      resources: ["secrets", "configmaps"]
  - level: Request
    resources:
    - group: "" # core API group
    - group: "extensions" # Version of group should NOT be included.
  - level: Metadata
    omitStages:
      - "RequestReceived"
`

func res(verb, group, ns, resource, sub, name string) authz.Attributes {
	return authz.Attributes{User: &authn.User{Name: "alice", Groups: []string{authn.GroupAuthenticated}}, Verb: verb,
		IsResourceRequest: true, APIGroup: group, Namespace: ns, Resource: resource, Subresource: sub, Name: name}
}

func TestEvaluateDocumentedPolicy(t *testing.T) {
	p, warning, err := audit.ParsePolicy([]byte(docsPolicy))
	if err != nil || warning != "" {
		t.Fatalf("ParsePolicy: %v (warning %q)", err, warning)
	}
	proxy := res("watch", "", "", "endpoints", "", "")
	proxy.User = &authn.User{Name: "system:kube-proxy", Groups: []string{authn.GroupAuthenticated}}
	proxyGet := proxy
	proxyGet.Verb = "get"
	anon := authz.Attributes{User: &authn.User{Name: "system:anonymous", Groups: []string{authn.GroupUnauthenticated}}, Verb: "get", Path: "/version"}
	tests := []struct {
		name string
		a    authz.Attributes
		want audit.Level
	}{
		{"pods", res("create", "", "default", "pods", "", "web"), audit.LevelRequestResponse},
		{"a pods subresource is not pods", res("get", "", "default", "pods", "log", "web"), audit.LevelMetadata},
		{"pods/status", res("update", "", "default", "pods", "status", "web"), audit.LevelMetadata},
		{"pods/exec falls to the core group rule", res("create", "", "default", "pods", "exec", "web"), audit.LevelRequest},
		{"the leader configmap", res("update", "", "kube-system", "configmaps", "", "controller-leader"), audit.LevelNone},
		{"another kube-system configmap", res("update", "", "kube-system", "configmaps", "", "other"), audit.LevelRequest},
		{"a configmap elsewhere", res("update", "", "default", "configmaps", "", "other"), audit.LevelMetadata},
		{"secrets", res("get", "", "default", "secrets", "", "s"), audit.LevelMetadata},
		{"kube-proxy watching endpoints", proxy, audit.LevelNone},
		{"kube-proxy getting endpoints", proxyGet, audit.LevelRequest},
		{"authenticated /api", authz.Attributes{User: &authn.User{Name: "a", Groups: []string{authn.GroupAuthenticated}}, Verb: "get", Path: "/apis/apps"}, audit.LevelNone},
		{"anonymous /version", anon, audit.LevelMetadata},
		{"extensions", res("list", "extensions", "default", "ingresses", "", ""), audit.LevelRequest},
		{"apps falls to the catch-all", res("list", "apps", "default", "deployments", "", ""), audit.LevelMetadata},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := p.Evaluate(tt.a)
			if c.Level != tt.want {
				t.Errorf("level %s, want %s", c.Level, tt.want)
			}
			if !c.Omits(audit.StageRequestReceived) || c.Omits(audit.StageResponseComplete) {
				t.Errorf("omitStages %v: want the policy's RequestReceived only", c.OmitStages)
			}
		})
	}
}

func TestEvaluateWildcardsAndDefaults(t *testing.T) {
	p, _, err := audit.ParsePolicy([]byte(`apiVersion: audit.k8s.io/v1
kind: Policy
omitManagedFields: true
rules:
- level: Request
  resources: [{group: "*", resources: ["*/status"]}]
- level: RequestResponse
  omitManagedFields: false
  omitStages: [ResponseStarted]
  resources: [{group: "apps", resources: ["deployments/*"]}]
- level: Metadata
  namespaces: [""]
- level: RequestResponse
  resources: [{group: "", resources: ["*"], resourceNames: ["special"]}]
- level: Metadata
  nonResourceURLs: ["/healthz*", "/version"]
`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		a    authz.Attributes
		want audit.Level
	}{
		{"*/status in any group", res("update", "batch", "ns", "jobs", "status", "j"), audit.LevelRequest},
		{"*/status is not the resource", res("update", "batch", "ns", "jobs", "", "j"), audit.LevelNone},
		{"deployments/* matches a subresource", res("update", "apps", "ns", "deployments", "scale", "d"), audit.LevelRequestResponse},
		{"deployments/* matches the resource", res("get", "apps", "ns", "deployments", "", "d"), audit.LevelRequestResponse},
		{"namespace \"\" is cluster scope", res("get", "", "", "nodes", "", "n"), audit.LevelMetadata},
		{"a named object", res("get", "", "ns", "pods", "", "special"), audit.LevelRequestResponse},
		{"another name", res("get", "", "ns", "pods", "", "other"), audit.LevelNone},
		{"a list has no name", res("list", "", "ns", "pods", "", ""), audit.LevelNone},
		{"a path prefix", authz.Attributes{Verb: "get", Path: "/healthz/etcd"}, audit.LevelMetadata},
		{"an exact path", authz.Attributes{Verb: "get", Path: "/version/x"}, audit.LevelNone},
		{"no user matches no user rule", authz.Attributes{Verb: "get", Path: "/version"}, audit.LevelMetadata},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.Evaluate(tt.a).Level; got != tt.want {
				t.Errorf("level %s, want %s", got, tt.want)
			}
		})
	}
	c := p.Evaluate(res("get", "apps", "ns", "deployments", "", "d"))
	if c.OmitManagedFields || !slices.Equal(c.OmitStages, []audit.Stage{audit.StageResponseStarted}) {
		t.Errorf("rule config %+v: want the rule's omitManagedFields false and omitStages", c)
	}
	if c := p.Evaluate(res("update", "batch", "ns", "jobs", "status", "j")); !c.OmitManagedFields {
		t.Errorf("rule config %+v: want the policy's omitManagedFields", c)
	}
}

func TestEvaluateUsersAndGroups(t *testing.T) {
	p, _, err := audit.ParsePolicy([]byte(`{"apiVersion":"audit.k8s.io/v1","kind":"Policy","rules":[
{"level":"None","users":["system:kube-scheduler"]},
{"level":"Metadata","userGroups":["system:nodes"],"verbs":["get","list"]},
{"level":"RequestResponse","userGroups":["devs"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	as := func(name, verb string, groups ...string) audit.Level {
		return p.Evaluate(authz.Attributes{User: &authn.User{Name: name, Groups: groups}, Verb: verb, IsResourceRequest: true, Resource: "pods"}).Level
	}
	for _, tt := range []struct {
		got, want audit.Level
	}{
		{as("system:kube-scheduler", "get", "devs"), audit.LevelNone},
		{as("system:node:a", "get", "system:nodes"), audit.LevelMetadata},
		{as("system:node:a", "update", "system:nodes"), audit.LevelNone},
		{as("bob", "update", "x", "devs"), audit.LevelRequestResponse},
		{as("bob", "update", "x"), audit.LevelNone},
	} {
		if tt.got != tt.want {
			t.Errorf("level %s, want %s", tt.got, tt.want)
		}
	}
}

func TestParsePolicyErrors(t *testing.T) {
	tests := []struct{ name, policy, want string }{
		{"no apiVersion", "kind: Policy\nrules: [{level: None}]", "unknown group version"},
		{"an old version", "apiVersion: audit.k8s.io/v1beta1\nkind: Policy\nrules: [{level: None}]", "unknown group version"},
		{"no rules", "apiVersion: audit.k8s.io/v1\nkind: Policy", "loaded illegal policy with 0 rules"},
		{"no level", "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{verbs: [get]}]", "rules[0].level: Required value"},
		{"a bad level", "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: Everything}]", `Unsupported value: "Everything"`},
		{"a bad stage", "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [Done]\nrules: [{level: None}]", "allowed stages are"},
		{"a relative URL", "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None, nonResourceURLs: [healthz]}]", "must begin with a '/'"},
		{"a wildcard inside", "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None, nonResourceURLs: [\"/a*/b\"]}]", "must be the final character"},
		{"URLs and resources", "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None, nonResourceURLs: [/a], resources: [{group: \"\"}]}]", "both regular resources and non-resource URLs"},
		{"a versioned group", "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None, resources: [{group: apps/v1}]}]", "resources.group: Invalid value"},
		{"names without resources", "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None, resources: [{resourceNames: [a]}]}]", "requires at least one resource"},
		{"not YAML", "rules: [", "failed decoding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := audit.ParsePolicy([]byte(tt.policy))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestLoadPolicyLenient(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, []byte("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: Metadata, colour: red}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p, warning, err := audit.LoadPolicy(path)
	if err != nil || p.Rules[0].Level != audit.LevelMetadata {
		t.Fatalf("LoadPolicy: %v, %+v", err, p)
	}
	if !strings.Contains(warning, "colour") {
		t.Errorf("warning %q: want the unknown field named", warning)
	}
	if _, _, err := audit.LoadPolicy(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Error("a missing file loaded")
	}
	if err := os.WriteFile(path, []byte("apiVersion: audit.k8s.io/v1\nkind: Policy\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := audit.LoadPolicy(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("error %v: want the file named", err)
	}
}
