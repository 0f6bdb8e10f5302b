package manager_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
	"github.com/kinc-dev/kinc/pkg/controller/rootcacertpublisher"
	"github.com/kinc-dev/kinc/pkg/pki"
	"github.com/kinc-dev/kinc/pkg/pki/kubeconfig"
)

// TestIntegrationRBAC runs the manager as kubeadm does once RBAC is on:
// the apiserver with --authorization-mode=Node,RBAC and upstream's
// bootstrap policy, the manager on a certificate of
// system:kube-controller-manager (controller-manager.conf) with
// --use-service-account-credentials. The manager's own identity may not
// create pods or delete namespaces' content, so what follows is done by
// the controllers as their service accounts: each account exists in
// kube-system; the lease is held; a Deployment gets its pods, and loses
// them to the garbage collector when deleted; a new namespace gets its
// default ServiceAccount and kube-root-ca.crt, and is emptied and removed
// when deleted; an aggregated ClusterRole gets its source's rules; and
// the other controllers write what they write (moreControllers). The
// manager logs no RBAC refusal.
func TestIntegrationRBAC(t *testing.T) {
	inst, client := setup(t, "--authorization-mode=Node,RBAC")
	kcm := managerKubeconfig(t, inst)
	keyFile := filepath.Join(t.TempDir(), "ca.key")
	if err := os.WriteFile(keyFile, inst.CA.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	m := start(t, inst, "rbac", freePort(t), "--kubeconfig="+kcm, "--authentication-kubeconfig="+kcm, "--authorization-kubeconfig="+kcm,
		"--cluster-signing-cert-file="+filepath.Join(inst.Dir, "ca.crt"), "--cluster-signing-key-file="+keyFile,
		"--allocate-node-cidrs=true", "--cluster-cidr=10.244.0.0/16")
	ctx := context.Background()
	poll(t, 20*time.Second, "lease held by rbac", func(ctx context.Context) bool { return leaseHolder(ctx, client) == "rbac" })

	// The manager's own identity may not create pods: the pods below come
	// from the controllers' accounts.
	rootCfg, err := clientcmd.BuildConfigFromFlags("", kcm)
	if err != nil {
		t.Fatal(err)
	}
	root := kubernetes.NewForConfigOrDie(rootCfg)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "c"}}}}
	_, err = root.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{})
	if want := `forbidden: User "system:kube-controller-manager" cannot create resource "pods"`; !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), want) {
		t.Fatalf("creating a pod as system:kube-controller-manager: %v, want 403 saying %s", err, want)
	}

	for _, sa := range []string{"deployment-controller", "replicaset-controller", "namespace-controller", "generic-garbage-collector",
		"service-account-controller", "root-ca-cert-publisher", "clusterrole-aggregation-controller"} {
		poll(t, 20*time.Second, "service account kube-system/"+sa, func(ctx context.Context) bool {
			_, err := client.CoreV1().ServiceAccounts("kube-system").Get(ctx, sa, metav1.GetOptions{})
			return err == nil
		})
	}

	createNamespace(t, client, "apps")
	poll(t, 30*time.Second, "default ServiceAccount in apps", hasDefaultAccount(client, "apps"))
	poll(t, 30*time.Second, "kube-root-ca.crt in apps", func(ctx context.Context) bool {
		_, err := client.CoreV1().ConfigMaps("apps").Get(ctx, rootcacertpublisher.ConfigMapName, metav1.GetOptions{})
		return err == nil
	})

	l := map[string]string{"app": "web"}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "web"},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2), Selector: &metav1.LabelSelector{MatchLabels: l},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: l},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "web:1"}}}}},
	}
	if _, err := client.AppsV1().Deployments("apps").Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	countPods := func(n int) func(ctx context.Context) bool {
		return func(ctx context.Context) bool {
			pods, err := client.CoreV1().Pods("apps").List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
			return err == nil && len(pods.Items) == n
		}
	}
	poll(t, 30*time.Second, "2 pods of web", countPods(2))
	if err := client.AppsV1().Deployments("apps").Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	poll(t, 30*time.Second, "web's ReplicaSet and pods collected", func(ctx context.Context) bool {
		rss, err := client.AppsV1().ReplicaSets("apps").List(ctx, metav1.ListOptions{})
		return err == nil && len(rss.Items) == 0 && countPods(0)(ctx)
	})

	agg := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "rbac-test-aggregate"},
		AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"rbac-test": "source"}}}}}
	src := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "rbac-test-source", Labels: map[string]string{"rbac-test": "source"}},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}}}}
	for _, r := range []*rbacv1.ClusterRole{agg, src} {
		if _, err := client.RbacV1().ClusterRoles().Create(ctx, r, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	poll(t, 30*time.Second, "the aggregate holding its source's rule", func(ctx context.Context) bool {
		r, err := client.RbacV1().ClusterRoles().Get(ctx, agg.Name, metav1.GetOptions{})
		return err == nil && len(r.Rules) == 1 && r.Rules[0].Resources[0] == "pods"
	})

	moreControllers(ctx, t, client)

	if _, err := client.CoreV1().ConfigMaps("apps").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "content"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := client.CoreV1().Namespaces().Delete(ctx, "apps", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	poll(t, 60*time.Second, "namespace apps removed", func(ctx context.Context) bool {
		_, err := client.CoreV1().Namespaces().Get(ctx, "apps", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})

	var refused []string
	for _, line := range strings.Split(m.log.String(), "\n") {
		// RBAC's refusals read `... is forbidden: User "x" cannot ...`
		// (a terminating namespace's refusals are 403s too, and expected).
		if strings.Contains(line, `forbidden: User \"`) || strings.Contains(line, `forbidden: User "`) {
			refused = append(refused, line)
		}
	}
	if len(refused) > 0 {
		t.Errorf("the manager was refused:\n%s", strings.Join(refused, "\n"))
	}
}

// managerKubeconfig writes kubeadm's controller-manager.conf for inst: a
// client certificate of system:kube-controller-manager (no group) from
// the cluster CA. It returns its path.
func managerKubeconfig(t *testing.T, inst *apiservertest.Instance) string {
	t.Helper()
	cert, err := inst.CA.Issue(pki.ClientSpec("system:kube-controller-manager"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := kubeconfig.Build(kubeconfig.Params{Server: inst.URL, CAData: inst.CA.CertPEM, ClientCertData: cert.CertPEM,
		ClientKeyData: cert.KeyPEM, ClusterName: "kinc-test", UserName: "system:kube-controller-manager"})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "controller-manager.conf")
	if err := kubeconfig.WriteFile(path, cfg); err != nil {
		t.Fatal(err)
	}
	return path
}

// moreControllers checks, in namespace apps, that the other controllers'
// first writes are allowed: a Node gets its podCIDR (node-ipam) and a
// DaemonSet's pod; a StatefulSet gets web-0 and a ControllerRevision; a
// Job its pod; a Service its Endpoints and EndpointSlice; a
// PodDisruptionBudget its status; a kubelet client CSR is approved and
// signed.
func moreControllers(ctx context.Context, t *testing.T, client kubernetes.Interface) {
	t.Helper()
	if _, err := client.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	l := map[string]string{"app": "more"}
	tmpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: l},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "c:1"}}}}
	sel := &metav1.LabelSelector{MatchLabels: l}
	if _, err := client.AppsV1().DaemonSets("apps").Create(ctx, &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "ds"},
		Spec: appsv1.DaemonSetSpec{Selector: sel, Template: tmpl}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.AppsV1().StatefulSets("apps").Create(ctx, &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.StatefulSetSpec{Replicas: ptr.To[int32](1), Selector: sel, Template: tmpl, ServiceName: "web"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	jobTmpl := *tmpl.DeepCopy()
	jobTmpl.Labels = nil
	jobTmpl.Spec.RestartPolicy = corev1.RestartPolicyNever
	if _, err := client.BatchV1().Jobs("apps").Create(ctx, &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "job"},
		Spec: batchv1.JobSpec{Template: jobTmpl}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CoreV1().Services("apps").Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "svc"},
		Spec: corev1.ServiceSpec{Selector: l, Ports: []corev1.ServicePort{{Port: 80}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.PolicyV1().PodDisruptionBudgets("apps").Create(ctx, &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "pdb"},
		Spec: policyv1.PodDisruptionBudgetSpec{Selector: sel, MinAvailable: ptr.To(intstr.FromInt32(1))}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "system:node:node-1", Organization: []string{"system:nodes"}}}, key)
	if err != nil {
		t.Fatal(err)
	}
	csr := &certificatesv1.CertificateSigningRequest{ObjectMeta: metav1.ObjectMeta{Name: "node-1"},
		Spec: certificatesv1.CertificateSigningRequestSpec{SignerName: certificatesv1.KubeAPIServerClientKubeletSignerName,
			Usages:  []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth},
			Request: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})}}
	if _, err := client.CertificatesV1().CertificateSigningRequests().Create(ctx, csr, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	poll(t, 30*time.Second, "node-1's podCIDR", func(ctx context.Context) bool {
		n, err := client.CoreV1().Nodes().Get(ctx, "node-1", metav1.GetOptions{})
		return err == nil && n.Spec.PodCIDR != ""
	})
	poll(t, 30*time.Second, "the pods of the DaemonSet, the StatefulSet and the Job", func(ctx context.Context) bool {
		pods, err := client.CoreV1().Pods("apps").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false
		}
		owners := map[string]bool{}
		for _, p := range pods.Items {
			if ref := metav1.GetControllerOf(&p); ref != nil {
				owners[ref.Kind] = true
			}
		}
		return owners["DaemonSet"] && owners["StatefulSet"] && owners["Job"]
	})
	poll(t, 30*time.Second, "the StatefulSet's and the DaemonSet's ControllerRevisions", func(ctx context.Context) bool {
		revs, err := client.AppsV1().ControllerRevisions("apps").List(ctx, metav1.ListOptions{})
		return err == nil && len(revs.Items) == 2
	})
	poll(t, 30*time.Second, "svc's Endpoints and EndpointSlice", func(ctx context.Context) bool {
		_, err := client.CoreV1().Endpoints("apps").Get(ctx, "svc", metav1.GetOptions{})
		slices, serr := client.DiscoveryV1().EndpointSlices("apps").List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=svc"})
		return err == nil && serr == nil && len(slices.Items) == 1
	})
	poll(t, 30*time.Second, "the PodDisruptionBudget's status", func(ctx context.Context) bool {
		pdb, err := client.PolicyV1().PodDisruptionBudgets("apps").Get(ctx, "pdb", metav1.GetOptions{})
		return err == nil && pdb.Status.ObservedGeneration == pdb.Generation
	})
	poll(t, 30*time.Second, "the kubelet CSR approved and signed", func(ctx context.Context) bool {
		csr, err := client.CertificatesV1().CertificateSigningRequests().Get(ctx, "node-1", metav1.GetOptions{})
		return err == nil && len(csr.Status.Conditions) == 1 && csr.Status.Conditions[0].Type == certificatesv1.CertificateApproved &&
			len(csr.Status.Certificate) > 0
	})
}
