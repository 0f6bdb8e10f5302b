package noderestriction_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
	"github.com/kinc-dev/kinc/pkg/pki"
)

func kubeletClient(t *testing.T, inst *apiservertest.Instance, node string) kubernetes.Interface {
	t.Helper()
	kp, err := inst.CA.Issue(pki.ClientSpec("system:node:"+node, "system:nodes"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := rest.AnonymousClientConfig(inst.Config)
	cfg.CertData, cfg.KeyData = kp.CertPEM, kp.KeyPEM
	return kubernetes.NewForConfigOrDie(cfg)
}

func TestNodeRestrictionIntegration(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := pki.EncodePrivateKeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "sa.key")
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	inst := apiservertest.Start(t, apiservertest.Options{ExtraFlags: []string{
		"--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local", "--service-account-signing-key-file=" + keyFile}})
	ctx := context.Background()
	admin := kubernetes.NewForConfigOrDie(inst.Config)
	kubelet := kubeletClient(t, inst, "a")
	forbidden := func(what string, err error, msg string) {
		t.Helper()
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), msg) {
			t.Fatalf("%s: got %v, want 403 saying %q", what, err, msg)
		}
	}
	ok := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	// Nodes: its own, with kubelet labels only.
	_, err = kubelet.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "a",
		Labels: map[string]string{"node-role.kubernetes.io/control-plane": ""}}}, metav1.CreateOptions{})
	forbidden("create node a with a role label", err,
		`nodes "a" is forbidden: node "a" is not allowed to set the following labels: node-role.kubernetes.io/control-plane`)
	nodeA, err := kubelet.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "a",
		Labels: map[string]string{corev1.LabelHostname: "a", "node.kubernetes.io/exclude-from-external-load-balancers": ""}}}, metav1.CreateOptions{})
	ok("create node a", err)
	_, err = kubelet.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "b"}}, metav1.CreateOptions{})
	forbidden("create node b", err, `nodes "b" is forbidden: node "a" is not allowed to modify node "b"`)
	nodeA.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, LastHeartbeatTime: metav1.Now()}}
	nodeA, err = kubelet.CoreV1().Nodes().UpdateStatus(ctx, nodeA, metav1.UpdateOptions{})
	ok("update node a's status", err)
	nodeA.Spec.Taints = []corev1.Taint{{Key: "x", Effect: corev1.TaintEffectNoSchedule}}
	_, err = kubelet.CoreV1().Nodes().Update(ctx, nodeA, metav1.UpdateOptions{})
	forbidden("taint node a", err, `node "a" is not allowed to modify taints`)
	_, err = admin.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "b"}}, metav1.CreateOptions{})
	ok("admin creates node b", err)
	_, err = kubelet.CoreV1().Nodes().Patch(ctx, "b", "application/merge-patch+json", []byte(`{"metadata":{"labels":{"x":"y"}}}`), metav1.PatchOptions{})
	forbidden("patch node b", err, `node "a" is not allowed to modify node "b"`)

	// Pods: status of its own only, mirror pods only, deletes of its own.
	_, err = admin.CoreV1().ServiceAccounts("default").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "sa"}}, metav1.CreateOptions{})
	ok("create service account sa", err)
	for _, p := range []struct{ name, node string }{{"pod-a", "a"}, {"pod-b", "b"}} {
		_, err := admin.CoreV1().Pods("default").Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: p.name},
			Spec: corev1.PodSpec{NodeName: p.node, ServiceAccountName: "sa", Containers: []corev1.Container{{Name: "c", Image: "busybox"}},
				// The token volume the kubelet requests tokens for (audience "": the API's).
				Volumes: []corev1.Volume{{Name: "token", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
					Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}}}}}}}}}, metav1.CreateOptions{})
		ok("create "+p.name, err)
	}
	var podA *corev1.Pod
	deadline := time.Now().Add(15 * time.Second)
	for { // the Node authorizer's graph follows the pod store
		if podA, err = kubelet.CoreV1().Pods("default").Get(ctx, "pod-a", metav1.GetOptions{}); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	ok("get pod-a as node a", err)

	// Tokens: bound to its own pods, for the audiences they use.
	podB, err := admin.CoreV1().Pods("default").Get(ctx, "pod-b", metav1.GetOptions{})
	ok("get pod-b", err)
	tokenFor := func(pod *corev1.Pod, audiences ...string) error {
		_, err := kubelet.CoreV1().ServiceAccounts("default").CreateToken(ctx, "sa", &authenticationv1.TokenRequest{
			Spec: authenticationv1.TokenRequestSpec{Audiences: audiences, BoundObjectRef: &authenticationv1.BoundObjectReference{
				APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: pod.UID}}}, metav1.CreateOptions{})
		return err
	}
	ok("token bound to pod-a", tokenFor(podA))
	forbidden("token bound to pod-b", tokenFor(podB), "node requested token bound to a pod scheduled on a different node")
	forbidden("token for another audience", tokenFor(podA, "vault"), `system:node:a is not authorized to request tokens for audience "vault"`)
	podA.Status.Phase = corev1.PodRunning
	_, err = kubelet.CoreV1().Pods("default").UpdateStatus(ctx, podA, metav1.UpdateOptions{})
	ok("update pod-a's status", err)
	_, err = kubelet.CoreV1().Pods("default").Patch(ctx, "pod-b", "application/merge-patch+json",
		[]byte(`{"status":{"phase":"Running"}}`), metav1.PatchOptions{}, "status")
	forbidden("patch pod-b's status", err, `node "a" can only update pod status for pods with spec.nodeName set to itself`)
	err = kubelet.CoreV1().Pods("default").Delete(ctx, "pod-b", metav1.DeleteOptions{})
	forbidden("delete pod-b", err, `node "a" can only delete pods with spec.nodeName set to itself`)
	_, err = kubelet.CoreV1().Pods("default").Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "plain"},
		Spec: corev1.PodSpec{NodeName: "a", Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}, metav1.CreateOptions{})
	forbidden("create a plain pod", err, `node "a" can only create mirror pods`)
	yes := true
	mirror := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "static-a", Annotations: map[string]string{corev1.MirrorPodAnnotationKey: "h"},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: "a", UID: nodeA.UID, Controller: &yes}}},
		Spec: corev1.PodSpec{NodeName: "a", Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
	_, err = kubelet.CoreV1().Pods("default").Create(ctx, mirror, metav1.CreateOptions{})
	ok("create mirror pod", err)
	err = kubelet.CoreV1().Pods("default").Delete(ctx, "pod-a", metav1.DeleteOptions{})
	ok("delete pod-a", err)

	// Leases: its own in kube-node-lease.
	_, err = admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kube-node-lease"}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	_, err = kubelet.CoordinationV1().Leases("kube-node-lease").Create(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "a"}}, metav1.CreateOptions{})
	ok("create lease a", err)
	_, err = kubelet.CoordinationV1().Leases("kube-node-lease").Create(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "b"}}, metav1.CreateOptions{})
	forbidden("create lease b", err, "can only access node lease with the same name as the requesting node")
}
