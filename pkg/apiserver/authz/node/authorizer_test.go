package node

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
	"github.com/kinc-dev/kinc/pkg/apiserver/authz"
)

// testPod is pod ns/name on node, with a secret volume, a configmap env,
// an image pull secret, a projected secret and configmap, a PVC, an
// ephemeral volume, service account sa-<name>, a claim and an ephemeral
// container referencing secret eph-<name>.
func testPod(name, node string) *corev1.Pod {
	claim := "claim-" + name
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name},
		Spec: corev1.PodSpec{
			NodeName:           node,
			ServiceAccountName: "sa-" + name,
			ImagePullSecrets:   []corev1.LocalObjectReference{{Name: "pull-" + name}},
			Containers: []corev1.Container{{Name: "c", Env: []corev1.EnvVar{{Name: "X", ValueFrom: &corev1.EnvVarSource{
				ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "env-cm-" + name}}}}},
				EnvFrom: []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "envfrom-" + name}}}}}},
			EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "e",
				Env: []corev1.EnvVar{{Name: "Y", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
					LocalObjectReference: corev1.LocalObjectReference{Name: "eph-" + name}}}}}}}},
			Volumes: []corev1.Volume{
				{Name: "s", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "vol-" + name}}},
				{Name: "p", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
					{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "proj-" + name}}},
					{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "proj-cm-" + name}}},
				}}}},
				{Name: "pvc", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "pvc-" + name}}},
				{Name: "eph", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{}}},
			},
			ResourceClaims: []corev1.PodResourceClaim{{Name: "rc", ResourceClaimName: &claim}},
		},
	}
}

func nodeUser(name string) *authn.User {
	return &authn.User{Name: "system:node:" + name, Groups: []string{GroupNodes, "system:authenticated"}}
}

func TestAuthorize(t *testing.T) {
	g := NewGraph()
	g.SetPod(testPod("p1", "node1"))
	g.SetPod(testPod("p2", "node2"))
	mirror := testPod("mirror", "node1")
	mirror.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "x"}
	g.SetPod(mirror)
	g.SetPod(testPod("unbound", ""))
	g.SetPV("pv1", "ns", "pvc-p1")
	g.SetPV("pv2", "ns", "pvc-p2")
	g.SetVolumeAttachment("va1", "node1")
	z := NewForGraph(g)

	res := func(verb, group, resource, sub, ns, name string) authz.Attributes {
		return authz.Attributes{User: nodeUser("node1"), Verb: verb, IsResourceRequest: true, APIGroup: group,
			Resource: resource, Subresource: sub, Namespace: ns, Name: name}
	}
	withSelector := func(a authz.Attributes, sel string) authz.Attributes { a.FieldSelector = sel; return a }
	withUser := func(a authz.Attributes, u *authn.User) authz.Attributes { a.User = u; return a }
	noRel := "no relationship found between node 'node1' and this object"

	tests := []struct {
		name   string
		attrs  authz.Attributes
		want   authz.Decision
		reason string // substring of the reason, when set
	}{
		// Who is a node.
		{"not a node", withUser(res("get", "", "secrets", "", "ns", "vol-p1"), &authn.User{Name: "alice"}), authz.NoOpinion, ""},
		{"node name without group", withUser(res("get", "", "secrets", "", "ns", "vol-p1"),
			&authn.User{Name: "system:node:node1"}), authz.NoOpinion, ""},
		{"unknown node", withUser(res("get", "", "secrets", "", "ns", "vol-p1"),
			&authn.User{Name: "system:node:", Groups: []string{GroupNodes}}), authz.NoOpinion, `unknown node for user "system:node:"`},

		// Secrets, configmaps of its pods.
		{"secret volume", res("get", "", "secrets", "", "ns", "vol-p1"), authz.Allow, ""},
		{"image pull secret", res("get", "", "secrets", "", "ns", "pull-p1"), authz.Allow, ""},
		{"envFrom secret", res("get", "", "secrets", "", "ns", "envfrom-p1"), authz.Allow, ""},
		{"projected secret", res("get", "", "secrets", "", "ns", "proj-p1"), authz.Allow, ""},
		{"ephemeral container secret", res("get", "", "secrets", "", "ns", "eph-p1"), authz.Allow, ""},
		{"env configmap", res("get", "", "configmaps", "", "ns", "env-cm-p1"), authz.Allow, ""},
		{"projected configmap", res("get", "", "configmaps", "", "ns", "proj-cm-p1"), authz.Allow, ""},
		{"list one secret by name", withSelector(res("list", "", "secrets", "", "ns", ""), "metadata.name=vol-p1"), authz.Allow, ""},
		{"watch one secret by name", withSelector(res("watch", "", "secrets", "", "ns", ""), "metadata.name=vol-p1"), authz.Allow, ""},
		{"other node's secret", res("get", "", "secrets", "", "ns", "vol-p2"), authz.NoOpinion, noRel},
		{"other node's configmap", res("get", "", "configmaps", "", "ns", "env-cm-p2"), authz.NoOpinion, noRel},
		{"unknown secret", res("get", "", "secrets", "", "ns", "nope"), authz.NoOpinion, noRel},
		{"same name other namespace", res("get", "", "secrets", "", "other", "vol-p1"), authz.NoOpinion, noRel},
		{"mirror pod grants nothing", res("get", "", "secrets", "", "ns", "vol-mirror"), authz.NoOpinion, noRel},
		{"unbound pod grants nothing", res("get", "", "secrets", "", "ns", "vol-unbound"), authz.NoOpinion, noRel},
		{"list secrets", res("list", "", "secrets", "", "ns", ""), authz.NoOpinion, "No Object name found"},
		{"list secrets all namespaces", res("list", "", "secrets", "", "", ""), authz.NoOpinion, "can only read namespaced object"},
		{"update secret", res("update", "", "secrets", "", "ns", "vol-p1"), authz.NoOpinion, "can only read resources of this type"},
		{"create secret", res("create", "", "secrets", "", "ns", ""), authz.NoOpinion, "can only read resources of this type"},

		// PVCs, PVs, claims, attachments.
		{"pvc", res("get", "", "persistentvolumeclaims", "", "ns", "pvc-p1"), authz.Allow, ""},
		{"ephemeral pvc", res("get", "", "persistentvolumeclaims", "", "ns", "p1-eph"), authz.Allow, ""},
		{"other pvc", res("get", "", "persistentvolumeclaims", "", "ns", "pvc-p2"), authz.NoOpinion, noRel},
		{"list pvcs", res("list", "", "persistentvolumeclaims", "", "ns", ""), authz.NoOpinion, "can only get individual resources"},
		{"pvc status update", res("update", "", "persistentvolumeclaims", "status", "ns", "pvc-p1"), authz.Allow, ""},
		{"other pvc status", res("patch", "", "persistentvolumeclaims", "status", "ns", "pvc-p2"), authz.NoOpinion, noRel},
		{"pvc status get", res("get", "", "persistentvolumeclaims", "status", "ns", "pvc-p1"), authz.NoOpinion, "can only get/update/patch this type"},
		{"pv", res("get", "", "persistentvolumes", "", "", "pv1"), authz.Allow, ""},
		{"other pv", res("get", "", "persistentvolumes", "", "", "pv2"), authz.NoOpinion, noRel},
		{"resource claim", res("get", "resource.k8s.io", "resourceclaims", "", "ns", "claim-p1"), authz.Allow, ""},
		{"other resource claim", res("get", "resource.k8s.io", "resourceclaims", "", "ns", "claim-p2"), authz.NoOpinion, noRel},
		{"volume attachment", res("get", "storage.k8s.io", "volumeattachments", "", "", "va1"), authz.Allow, ""},
		{"unknown volume attachment", res("get", "storage.k8s.io", "volumeattachments", "", "", "va2"), authz.NoOpinion, noRel},

		// Service accounts.
		{"token for its pod's sa", res("create", "", "serviceaccounts", "token", "ns", "sa-p1"), authz.Allow, ""},
		{"token for other sa", res("create", "", "serviceaccounts", "token", "ns", "sa-p2"), authz.NoOpinion, noRel},
		{"token for mirror pod's sa", res("create", "", "serviceaccounts", "token", "ns", "sa-mirror"), authz.NoOpinion, noRel},
		{"get its pod's sa", res("get", "", "serviceaccounts", "", "ns", "sa-p1"), authz.Allow, ""},
		{"get other sa", res("get", "", "serviceaccounts", "", "ns", "sa-p2"), authz.NoOpinion, noRel},
		{"list sas", res("list", "", "serviceaccounts", "", "ns", ""), authz.NoOpinion, "can only create tokens for individual service accounts"},
		{"update sa", res("update", "", "serviceaccounts", "", "ns", "sa-p1"), authz.NoOpinion, "can only create tokens for individual service accounts"},
		{"create sa", res("create", "", "serviceaccounts", "", "ns", "sa-p1"), authz.NoOpinion, "can only create token subresource"},

		// Pods.
		{"get its pod", res("get", "", "pods", "", "ns", "p1"), authz.Allow, ""},
		{"get its mirror pod", res("get", "", "pods", "", "ns", "mirror"), authz.Allow, ""},
		{"get other pod", res("get", "", "pods", "", "ns", "p2"), authz.NoOpinion, noRel},
		{"list pods on node", withSelector(res("list", "", "pods", "", "", ""), "spec.nodeName=node1"), authz.Allow, ""},
		{"watch pods on node", withSelector(res("watch", "", "pods", "", "", ""), "spec.nodeName==node1"), authz.Allow, ""},
		{"list pods on other node", withSelector(res("list", "", "pods", "", "", ""), "spec.nodeName=node2"), authz.NoOpinion, "can only list/watch pods with spec.nodeName field selector"},
		{"list pods not on node", withSelector(res("list", "", "pods", "", "", ""), "spec.nodeName!=node1"), authz.NoOpinion, "can only list/watch pods"},
		{"list all pods", res("list", "", "pods", "", "", ""), authz.NoOpinion, "can only list/watch pods"},
		{"watch its pod by name", withSelector(res("watch", "", "pods", "", "ns", ""), "metadata.name=p1"), authz.Allow, ""},
		{"create pod", res("create", "", "pods", "", "ns", ""), authz.Allow, ""},
		{"delete pod", res("delete", "", "pods", "", "ns", "p2"), authz.Allow, ""},
		{"update pod", res("update", "", "pods", "", "ns", "p1"), authz.NoOpinion, ""},
		{"pod status", res("patch", "", "pods", "status", "ns", "p1"), authz.Allow, ""},
		{"eviction", res("create", "", "pods", "eviction", "ns", "p1"), authz.Allow, ""},
		{"exec", res("create", "", "pods", "exec", "ns", "p1"), authz.NoOpinion, ""},

		// Nodes.
		{"get own node", res("get", "", "nodes", "", "", "node1"), authz.Allow, ""},
		{"watch own node", withSelector(res("watch", "", "nodes", "", "", ""), "metadata.name=node1"), authz.Allow, ""},
		{"get other node", res("get", "", "nodes", "", "", "node2"), authz.NoOpinion, "node 'node1' cannot read 'node2', only its own Node object"},
		{"list nodes", res("list", "", "nodes", "", "", ""), authz.NoOpinion, "node 'node1' cannot read all nodes, only its own Node object"},
		{"create node", res("create", "", "nodes", "", "", ""), authz.Allow, ""},
		{"patch node", res("patch", "", "nodes", "", "", "node2"), authz.Allow, ""},
		{"node status", res("update", "", "nodes", "status", "", "node1"), authz.Allow, ""},
		{"delete node", res("delete", "", "nodes", "", "", "node1"), authz.NoOpinion, ""},

		// Leases and CSINodes.
		{"own lease", res("update", "coordination.k8s.io", "leases", "", NamespaceNodeLease, "node1"), authz.Allow, ""},
		{"create lease", res("create", "coordination.k8s.io", "leases", "", NamespaceNodeLease, ""), authz.Allow, ""},
		{"other lease", res("get", "coordination.k8s.io", "leases", "", NamespaceNodeLease, "node2"), authz.NoOpinion, "can only access node lease with the same name"},
		{"lease elsewhere", res("get", "coordination.k8s.io", "leases", "", "kube-system", "node1"), authz.NoOpinion, `can only access leases in the "kube-node-lease" system namespace`},
		{"list leases", res("list", "coordination.k8s.io", "leases", "", NamespaceNodeLease, ""), authz.NoOpinion, "can only get, create, update, patch, or delete a node lease"},
		{"own csinode", res("update", "storage.k8s.io", "csinodes", "", "", "node1"), authz.Allow, ""},
		{"other csinode", res("get", "storage.k8s.io", "csinodes", "", "", "node2"), authz.NoOpinion, "can only access CSINode with the same name"},

		// The static node rules.
		{"services", res("list", "", "services", "", "", ""), authz.Allow, ""},
		{"events", res("create", "events.k8s.io", "events", "", "ns", ""), authz.Allow, ""},
		{"tokenreviews", res("create", "authentication.k8s.io", "tokenreviews", "", "", ""), authz.Allow, ""},
		{"subjectaccessreviews", res("create", "authorization.k8s.io", "subjectaccessreviews", "", "", ""), authz.Allow, ""},
		{"csr", res("create", "certificates.k8s.io", "certificatesigningrequests", "", "", ""), authz.Allow, ""},
		{"runtimeclasses", res("watch", "node.k8s.io", "runtimeclasses", "", "", ""), authz.Allow, ""},
		{"endpoints", res("get", "", "endpoints", "", "ns", "x"), authz.Allow, ""},
		{"deployments", res("get", "apps", "deployments", "", "ns", "x"), authz.NoOpinion, ""},
		{"delete service", res("delete", "", "services", "", "ns", "x"), authz.NoOpinion, ""},
		{"non-resource", authz.Attributes{User: nodeUser("node1"), Verb: "get", Path: "/healthz"}, authz.NoOpinion, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, reason, err := z.Authorize(context.Background(), tt.attrs)
			if err != nil {
				t.Fatal(err)
			}
			if d != tt.want || !strings.Contains(reason, tt.reason) {
				t.Errorf("got %v %q, want %v %q", d, reason, tt.want, tt.reason)
			}
		})
	}
}

func TestGraphUpdates(t *testing.T) {
	g := NewGraph()
	a := testPod("a", "node1")
	b := testPod("b", "node1")
	b.Spec.Volumes[0].Secret.SecretName = "vol-a" // both pods use secret vol-a
	g.SetPod(a)
	g.SetPod(b)
	if !g.Has("node1", Secret, "ns", "vol-a") {
		t.Fatal("vol-a not reachable")
	}
	g.DeletePod("ns", "a")
	if !g.Has("node1", Secret, "ns", "vol-a") {
		t.Fatal("vol-a lost while pod b still uses it")
	}
	if g.Has("node1", Secret, "ns", "pull-a") {
		t.Fatal("pull-a still reachable after pod a is gone")
	}
	// An ephemeral container added later brings its references.
	b.Spec.EphemeralContainers[0].Env[0].ValueFrom.SecretKeyRef.Name = "debug"
	g.SetPod(b)
	if !g.Has("node1", Secret, "ns", "debug") || g.Has("node1", Secret, "ns", "eph-b") {
		t.Fatal("ephemeral container change not recorded")
	}
	// Unbinding (a pod recreated unscheduled) forgets it.
	b.Spec.NodeName = ""
	g.SetPod(b)
	if g.Has("node1", Pod, "ns", "b") || len(g.nodes) != 0 || len(g.pods) != 0 {
		t.Fatalf("graph not empty: %v %v", g.nodes, g.pods)
	}
}

func BenchmarkAuthorizeSecret(b *testing.B) {
	g := NewGraph()
	for i := range 1000 {
		g.SetPod(testPod("p"+string(rune('a'+i%26))+string(rune('a'+i/26)), "node1"))
	}
	z := NewForGraph(g)
	a := authz.Attributes{User: nodeUser("node1"), Verb: "get", IsResourceRequest: true, Resource: "secrets", Namespace: "ns", Name: "vol-paa"}
	for b.Loop() {
		if d, _, _ := z.Authorize(context.Background(), a); d != authz.Allow {
			b.Fatal(d)
		}
	}
}

func TestRulesFor(t *testing.T) {
	z := NewForGraph(NewGraph())
	if rules, err := z.RulesFor(context.Background(), nodeUser("node1"), "ns"); err == nil || rules != nil {
		t.Fatalf("node: got %v, %v; want an error", rules, err)
	}
	if rules, err := z.RulesFor(context.Background(), &authn.User{Name: "alice"}, "ns"); err != nil || rules != nil {
		t.Fatalf("alice: got %v, %v; want nothing", rules, err)
	}
}
