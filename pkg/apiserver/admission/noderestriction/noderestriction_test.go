package noderestriction

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kinc-dev/kinc/pkg/apiserver/admission"
	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
	"github.com/kinc-dev/kinc/pkg/apiserver/authz"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// fakeStore answers Get from a map keyed namespace/name; other methods are
// not used (the embedded nil Store panics if they are).
type fakeStore struct {
	registry.Store
	gr   schema.GroupResource
	objs map[string]runtime.Object
}

func (s *fakeStore) Get(_ context.Context, ns, name string, _ *metav1.GetOptions) (runtime.Object, error) {
	if o, ok := s.objs[ns+"/"+name]; ok {
		return o, nil
	}
	return nil, apierrors.NewNotFound(s.gr, name)
}

// allowAudience allows node1 to request tokens for audience "allowed".
type allowAudience struct{}

func (allowAudience) Authorize(_ context.Context, a authz.Attributes) (authz.Decision, string, error) {
	if a.Verb == "request-serviceaccounts-token-audience" && a.Resource == "allowed" {
		return authz.Allow, "", nil
	}
	return authz.NoOpinion, "", nil
}

func podOn(name, node string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID("uid-" + name)},
		Spec: corev1.PodSpec{NodeName: node, Volumes: []corev1.Volume{{Name: "tok", VolumeSource: corev1.VolumeSource{
			Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}}}}}}}}}
}

func mirrorPod(node, nodeUID string, mutate func(*corev1.Pod)) *corev1.Pod {
	yes := true
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "static-" + node,
		Annotations:     map[string]string{corev1.MirrorPodAnnotationKey: "hash"},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: node, UID: types.UID(nodeUID), Controller: &yes}}},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Image: "i"}},
			Volumes: []corev1.Volume{{Name: "h", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/x"}}}}}}
	if mutate != nil {
		mutate(p)
	}
	return p
}

func csrPEM(t *testing.T, cn string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn, Organization: []string{"system:nodes"}}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

func TestValidate(t *testing.T) {
	pods := &fakeStore{gr: schema.GroupResource{Resource: "pods"}, objs: map[string]runtime.Object{
		"ns/p1": podOn("p1", "node1"), "ns/p2": podOn("p2", "node2")}}
	nodes := &fakeStore{gr: schema.GroupResource{Resource: "nodes"}, objs: map[string]runtime.Object{
		"/node1": &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node1", UID: "node1-uid"}}}}
	p := New(registry.Deps{
		Stores: func(gvr schema.GroupVersionResource) registry.Store {
			switch gvr.Resource {
			case "pods":
				return pods
			case "nodes":
				return nodes
			}
			return nil
		},
		Auth: &registry.Auth{Authorizer: allowAudience{}},
	})
	node1 := &authn.User{Name: "system:node:node1", Groups: []string{"system:nodes", "system:authenticated"}}
	gvr := func(group, res string) schema.GroupVersionResource {
		return schema.GroupVersionResource{Group: group, Version: "v1", Resource: res}
	}
	at := func(op admission.Operation, r schema.GroupVersionResource, sub, ns, name string, obj, old runtime.Object) *admission.Attributes {
		return &admission.Attributes{Operation: op, Resource: r, Subresource: sub, Namespace: ns, Name: name, Object: obj, OldObject: old, User: node1}
	}
	podsR, nodesR := gvr("", "pods"), gvr("", "nodes")
	labeled := func(labels map[string]string) *corev1.Node {
		return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node1", Labels: labels}}
	}
	tainted := labeled(nil)
	tainted.Spec.Taints = []corev1.Taint{{Key: "k", Effect: corev1.TaintEffectNoSchedule}}
	withStatus := func(pod *corev1.Pod, mutate func(*corev1.Pod)) *corev1.Pod {
		pod = pod.DeepCopy()
		mutate(pod)
		return pod
	}
	token := func(name, uid string, audiences ...string) *authenticationv1.TokenRequest {
		return &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{Audiences: audiences,
			BoundObjectRef: &authenticationv1.BoundObjectReference{APIVersion: "v1", Kind: "Pod", Name: name, UID: types.UID(uid)}}}
	}
	pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "c"},
		Spec: corev1.PersistentVolumeClaimSpec{VolumeName: "pv"}}
	pvcCap := pvc.DeepCopy()
	pvcCap.Status.Capacity = corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}
	pvcSpec := pvc.DeepCopy()
	pvcSpec.Spec.VolumeName = "other"

	tests := []struct {
		name string
		a    *admission.Attributes
		want string // substring of the Forbidden message, "" to admit
	}{
		{"not a node", &admission.Attributes{Operation: admission.Create, Resource: podsR, Namespace: "ns",
			Object: podOn("x", "node2"), User: &authn.User{Name: "alice"}}, ""},
		{"unidentifiable node", &admission.Attributes{Operation: admission.Create, Resource: podsR, Namespace: "ns",
			Object: podOn("x", "node1"), User: &authn.User{Name: "system:node:", Groups: []string{"system:nodes"}}},
			`could not determine node from user "system:node:"`},

		// Mirror pods.
		{"mirror pod", at(admission.Create, podsR, "", "ns", "", mirrorPod("node1", "node1-uid", nil), nil), ""},
		{"not a mirror pod", at(admission.Create, podsR, "", "ns", "", podOn("x", "node1"), nil),
			`pod does not have "kubernetes.io/config.mirror" annotation, node "node1" can only create mirror pods`},
		{"mirror pod on other node", at(admission.Create, podsR, "", "ns", "", mirrorPod("node1", "node1-uid", func(p *corev1.Pod) { p.Spec.NodeName = "node2" }), nil),
			`node "node1" can only create pods with spec.nodeName set to itself`},
		{"mirror pod without owner", at(admission.Create, podsR, "", "ns", "", mirrorPod("node1", "node1-uid", func(p *corev1.Pod) { p.OwnerReferences = nil }), nil),
			`can only create pods with an owner reference set to itself`},
		{"mirror pod owned by other node", at(admission.Create, podsR, "", "ns", "", mirrorPod("node1", "node1-uid", func(p *corev1.Pod) { p.OwnerReferences[0].Name = "node2" }), nil),
			`can only create pods with an owner reference set to itself`},
		{"mirror pod not controlled", at(admission.Create, podsR, "", "ns", "", mirrorPod("node1", "node1-uid", func(p *corev1.Pod) { p.OwnerReferences[0].Controller = nil }), nil),
			`can only create pods with a controller owner reference set to itself`},
		{"mirror pod wrong node uid", at(admission.Create, podsR, "", "ns", "", mirrorPod("node1", "stale", nil), nil),
			`node node1 UID mismatch: expected stale got node1-uid`},
		{"mirror pod with service account", at(admission.Create, podsR, "", "ns", "", mirrorPod("node1", "node1-uid", func(p *corev1.Pod) { p.Spec.ServiceAccountName = "sa" }), nil),
			`node "node1" can not create pods that reference serviceaccounts`},
		{"mirror pod with secret env", at(admission.Create, podsR, "", "ns", "", mirrorPod("node1", "node1-uid", func(p *corev1.Pod) {
			p.Spec.Containers[0].EnvFrom = []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}}}}
		}), nil), `can not create pods that reference secrets`},
		{"mirror pod with configmap volume", at(admission.Create, podsR, "", "ns", "", mirrorPod("node1", "node1-uid", func(p *corev1.Pod) {
			p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "c", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "c"}}}})
		}), nil), `can not create pods that reference configmaps`},
		{"mirror pod with pvc", at(admission.Create, podsR, "", "ns", "", mirrorPod("node1", "node1-uid", func(p *corev1.Pod) {
			p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "c", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "c"}}})
		}), nil), `can not create pods that reference persistentvolumeclaims`},
		{"mirror pod with token volume", at(admission.Create, podsR, "", "ns", "", mirrorPod("node1", "node1-uid", func(p *corev1.Pod) {
			p.Spec.Volumes = podOn("x", "node1").Spec.Volumes
		}), nil), `can not create pods that reference serviceaccounts (via projected volumes)`},

		// Pod deletes, status, evictions.
		{"delete own pod", at(admission.Delete, podsR, "", "ns", "p1", nil, podOn("p1", "node1")), ""},
		{"delete other node's pod", at(admission.Delete, podsR, "", "ns", "p2", nil, podOn("p2", "node2")),
			`node "node1" can only delete pods with spec.nodeName set to itself`},
		{"delete looked up", at(admission.Delete, podsR, "", "ns", "p2", nil, nil), `can only delete pods with spec.nodeName set to itself`},
		{"update pod", at(admission.Update, podsR, "", "ns", "p1", podOn("p1", "node1"), podOn("p1", "node1")),
			`unexpected operation "UPDATE", node "node1" can only create and delete mirror pods`},
		{"own pod status", at(admission.Update, podsR, "status", "ns", "p1",
			withStatus(podOn("p1", "node1"), func(p *corev1.Pod) { p.Status.Phase = corev1.PodRunning }), podOn("p1", "node1")), ""},
		{"other pod status", at(admission.Update, podsR, "status", "ns", "p2", podOn("p2", "node2"), podOn("p2", "node2")),
			`node "node1" can only update pod status for pods with spec.nodeName set to itself`},
		{"labels through status", at(admission.Update, podsR, "status", "ns", "p1",
			withStatus(podOn("p1", "node1"), func(p *corev1.Pod) { p.Labels = map[string]string{"a": "b"} }), podOn("p1", "node1")),
			`node "node1" cannot update labels through pod status`},
		{"evict own pod", at(admission.Create, podsR, "eviction", "ns", "p1", &policyv1.Eviction{}, nil), ""},
		{"evict other pod", at(admission.Create, podsR, "eviction", "ns", "p2", &policyv1.Eviction{}, nil),
			`node node1 can only evict pods with spec.nodeName set to itself`},
		{"evict by body name", at(admission.Create, podsR, "eviction", "ns", "", &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: "p2"}}, nil),
			`can only evict pods with spec.nodeName set to itself`},
		{"pod exec subresource", at(admission.Create, podsR, "binding", "ns", "p1", nil, nil),
			`unexpected pod subresource "binding", only 'status' and 'eviction' are allowed`},

		// Nodes.
		{"create own node", at(admission.Create, nodesR, "", "", "node1", labeled(map[string]string{
			"kubernetes.io/hostname": "node1", "node.kubernetes.io/instance-type": "x", "kubelet.kubernetes.io/a": "b", "example.com/x": "y"}), nil), ""},
		{"create other node", at(admission.Create, nodesR, "", "", "node2", labeled(nil), nil),
			`node "node1" is not allowed to modify node "node2"`},
		{"create with role label", at(admission.Create, nodesR, "", "", "node1", labeled(map[string]string{
			"node-role.kubernetes.io/control-plane": "", "node-restriction.kubernetes.io/x": "y", "foo.k8s.io/z": ""}), nil),
			`node "node1" is not allowed to set the following labels: foo.k8s.io/z, node-restriction.kubernetes.io/x, node-role.kubernetes.io/control-plane`},
		{"update own node status", at(admission.Update, nodesR, "status", "", "node1", labeled(nil), labeled(nil)), ""},
		{"update other node", at(admission.Update, nodesR, "status", "", "node2", labeled(nil), labeled(nil)),
			`node "node1" is not allowed to modify node "node2"`},
		{"update taints", at(admission.Update, nodesR, "", "", "node1", tainted, labeled(nil)), `node "node1" is not allowed to modify taints`},
		{"update kubelet labels", at(admission.Update, nodesR, "", "", "node1", labeled(map[string]string{"topology.kubernetes.io/zone": "z"}), labeled(nil)), ""},
		{"remove restricted label", at(admission.Update, nodesR, "", "", "node1", labeled(nil), labeled(map[string]string{"node-restriction.kubernetes.io/a": "b"})),
			`is not allowed to modify labels: node-restriction.kubernetes.io/a`},
		{"delete own node", at(admission.Delete, nodesR, "", "", "node1", nil, labeled(nil)), ""},

		// Leases.
		{"create own lease", at(admission.Create, gvr("coordination.k8s.io", "leases"), "", "kube-node-lease", "",
			&coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "node1"}}, nil), ""},
		{"create other lease", at(admission.Create, gvr("coordination.k8s.io", "leases"), "", "kube-node-lease", "",
			&coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "node2"}}, nil), "can only access node lease with the same name as the requesting node"},
		{"update other lease", at(admission.Update, gvr("coordination.k8s.io", "leases"), "", "kube-node-lease", "node2", nil, nil),
			"can only access node lease with the same name"},
		{"lease elsewhere", at(admission.Update, gvr("coordination.k8s.io", "leases"), "", "kube-system", "node1", nil, nil),
			`can only access leases in the "kube-node-lease" system namespace`},

		// Tokens.
		{"token for own pod", at(admission.Create, gvr("", "serviceaccounts"), "token", "ns", "default", token("p1", "uid-p1"), nil), ""},
		{"token for other node's pod", at(admission.Create, gvr("", "serviceaccounts"), "token", "ns", "default", token("p2", "uid-p2"), nil),
			"node requested token bound to a pod scheduled on a different node"},
		{"token unbound", at(admission.Create, gvr("", "serviceaccounts"), "token", "ns", "default", &authenticationv1.TokenRequest{}, nil),
			"node requested token not bound to a pod"},
		{"token without uid", at(admission.Create, gvr("", "serviceaccounts"), "token", "ns", "default", token("p1", ""), nil),
			"node requested token with a pod binding without a uid"},
		{"token stale uid", at(admission.Create, gvr("", "serviceaccounts"), "token", "ns", "default", token("p1", "old"), nil),
			"the UID in the bound object reference (old) does not match the UID in record"},
		{"token other audience", at(admission.Create, gvr("", "serviceaccounts"), "token", "ns", "default", token("p1", "uid-p1", "vault"), nil),
			`system:node:node1 is not authorized to request tokens for audience "vault"`},
		{"token authorized audience", at(admission.Create, gvr("", "serviceaccounts"), "token", "ns", "default", token("p1", "uid-p1", "allowed"), nil), ""},
		{"token two audiences", at(admission.Create, gvr("", "serviceaccounts"), "token", "ns", "default", token("p1", "uid-p1", "a", "b"), nil),
			"node may only request 0 or 1 audiences"},

		// PVC status.
		{"pvc capacity", at(admission.Update, gvr("", "persistentvolumeclaims"), "status", "ns", "c", pvcCap, pvc), ""},
		{"pvc spec through status", at(admission.Update, gvr("", "persistentvolumeclaims"), "status", "ns", "c", pvcSpec, pvc),
			`node "node1" is not allowed to update fields other than status.quantity and status.conditions`},
		{"pvc update", at(admission.Update, gvr("", "persistentvolumeclaims"), "", "ns", "c", pvcSpec, pvc), "may only update PVC status"},

		// CSRs.
		{"own client csr", at(admission.Create, gvr("certificates.k8s.io", "certificatesigningrequests"), "", "", "",
			&certificatesv1.CertificateSigningRequest{Spec: certificatesv1.CertificateSigningRequestSpec{
				SignerName: certificatesv1.KubeAPIServerClientKubeletSignerName, Request: csrPEM(t, "system:node:node1")}}, nil), ""},
		{"other node's serving csr", at(admission.Create, gvr("certificates.k8s.io", "certificatesigningrequests"), "", "", "",
			&certificatesv1.CertificateSigningRequest{Spec: certificatesv1.CertificateSigningRequestSpec{
				SignerName: certificatesv1.KubeletServingSignerName, Request: csrPEM(t, "system:node:node2")}}, nil),
			"can only create a node CSR with CN=system:node:node1"},
		{"other signer", at(admission.Create, gvr("certificates.k8s.io", "certificatesigningrequests"), "", "", "",
			&certificatesv1.CertificateSigningRequest{Spec: certificatesv1.CertificateSigningRequestSpec{
				SignerName: "example.com/x", Request: csrPEM(t, "anything")}}, nil), ""},

		// Everything else passes.
		{"configmap", at(admission.Create, gvr("", "configmaps"), "", "ns", "", &corev1.ConfigMap{}, nil), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.Validate(context.Background(), tt.a)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && err == nil:
				t.Fatalf("admitted, want %q", tt.want)
			case tt.want != "" && (!apierrors.IsForbidden(err) || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("got %v, want Forbidden %q", err, tt.want)
			}
		})
	}
}

func TestForbiddenMessage(t *testing.T) {
	p := New(registry.Deps{})
	err := p.Validate(context.Background(), &admission.Attributes{Operation: admission.Update,
		Resource: corev1.SchemeGroupVersion.WithResource("nodes"), Name: "b",
		User: &authn.User{Name: "system:node:a", Groups: []string{"system:nodes"}}})
	want := `nodes "b" is forbidden: node "a" is not allowed to modify node "b"`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
	if !p.Handles(admission.Delete) || p.Handles(admission.Connect) || p.Name() != "NodeRestriction" {
		t.Fatal("Handles or Name wrong")
	}
}
