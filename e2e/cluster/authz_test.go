//go:build e2e

package cluster

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/kinc-dev/kinc/e2e/framework"
)

// authzCases check who may do what in a cluster running kubeadm's
// authorization (--authorization-mode=Node,RBAC) and admission, as users,
// service accounts and kubelets meet it.
func authzCases(t *testing.T, m *multi) {
	const n = "e2e-authz"
	ns := m.namespace(n)
	cp, w1, w2 := m.name+"-control-plane", m.name+"-worker", m.name+"-worker2"

	t.Run("the apiserver runs kubeadm's authorization and admission flags", func(t *testing.T) {
		ps, err := m.node(cp, "ps", "-eo", "pid,args")
		must(t, err)
		line := processLine(ps, "kube-apiserver ")
		for _, flag := range []string{"--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
			"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
			"--service-account-key-file=/etc/kubernetes/pki/sa.pub", "--service-account-signing-key-file=/etc/kubernetes/pki/sa.key"} {
			if !strings.Contains(line, flag) {
				t.Errorf("ps shows no kube-apiserver %s:\n%s", flag, line)
			}
		}
	})

	t.Run("workers joined with the bootstrap token (TLS bootstrap, as kubeadm join)", func(t *testing.T) {
		csrs := m.mustKubectl("", "get", "csr", "-o",
			`jsonpath={range .items[*]}{.spec.username} {.spec.signerName} {.status.conditions[0].type}{"\n"}{end}`)
		var joined int
		for _, l := range strings.Split(csrs, "\n") {
			if f := strings.Fields(l); len(f) == 3 && strings.HasPrefix(f[0], "system:bootstrap:") &&
				f[1] == "kubernetes.io/kube-apiserver-client-kubelet" && f[2] == "Approved" {
				joined++
			}
		}
		if joined != 2 {
			t.Errorf("want 2 approved kubelet client CSRs from system:bootstrap:<id>, got:\n%s", csrs)
		}
		conf, err := m.node(w1, "cat", "/etc/kubernetes/kubelet.conf")
		if err != nil || !strings.Contains(conf, "/var/lib/kubelet/pki/kubelet-client-current.pem") {
			t.Errorf("%s's kubelet.conf does not use the certificate it requested: %v\n%s", w1, err, conf)
		}
	})

	t.Run("whoami and can-i as the admin, a service account and anonymous", func(t *testing.T) {
		who := m.mustKubectl("", "auth", "whoami", "-o", "jsonpath={.status.userInfo.username} {.status.userInfo.groups}")
		if !strings.HasPrefix(who, "kubernetes-admin ") || !strings.Contains(who, "kubeadm:cluster-admins") {
			t.Errorf("auth whoami as admin.conf: %q", who)
		}
		if out := strings.TrimSpace(m.mustKubectl("", "auth", "can-i", "*", "*")); out != "yes" {
			t.Errorf("admin can-i '*' '*': %q", out)
		}
		sa := "system:serviceaccount:" + n + ":default"
		if out, err := m.kubectl("", ns, "auth", "can-i", "list", "pods", "--as="+sa); err == nil || strings.TrimSpace(out) != "no" {
			t.Errorf("can-i list pods as %s without a binding: %q %v", sa, out, err)
		}
		list := m.mustKubectl("", ns, "auth", "can-i", "--list", "--as="+sa)
		for _, want := range []string{"selfsubjectreviews.authentication.k8s.io", "selfsubjectaccessreviews.authorization.k8s.io", "/api/*"} {
			if !strings.Contains(list, want) {
				t.Errorf("can-i --list as %s lacks %s:\n%s", sa, want, list)
			}
		}
		if out, err := m.node(cp, "curl", "-sk", "https://127.0.0.1:6443/healthz"); err != nil || out != "ok" {
			t.Errorf("anonymous /healthz: %q %v", out, err)
		}
		if out, _ := m.node(cp, "curl", "-sk", "https://127.0.0.1:6443/api/v1/namespaces"); !strings.Contains(out, `"code":403`) ||
			!strings.Contains(out, `User \"system:anonymous\" cannot list resource \"namespaces\"`) {
			t.Errorf("anonymous list namespaces, want 403:\n%s", out)
		}
	})

	t.Run("kubectl create token, then requests with it", func(t *testing.T) {
		token := strings.TrimSpace(m.mustKubectl("", ns, "create", "token", "default", "--duration=10m"))
		// A client certificate would win over the token (as upstream,
		// certificates are authenticated first): a kubeconfig with the
		// token alone.
		k := func(token string, args ...string) (string, error) {
			return runKubectl(m.ctx, framework.RequireKubectl(t), m.tokenKubeconfig(t, token), "", args...)
		}
		out, err := k(token, ns, "get", "pods")
		want := `User "system:serviceaccount:` + n + `:default" cannot list resource "pods" in API group "" in the namespace "` + n + `"`
		if err == nil || !strings.Contains(out, want) {
			t.Errorf("get pods with the token, want 403 %q: %q %v", want, out, err)
		}
		if out, err := k(token, "get", "--raw", "/version"); err != nil || !strings.Contains(out, "gitVersion") {
			t.Errorf("/version with the token: %q %v", out, err)
		}
		forged := token[:len(token)-4] + "AAAA"
		if out, err := k(forged, ns, "get", "pods"); err == nil || !strings.Contains(out, "Unauthorized") {
			t.Errorf("forged token, want 401: %q %v", out, err)
		}
	})

	t.Run("a pod's service account: 403 listing pods from inside, 200 after a RoleBinding", func(t *testing.T) {
		bin := buildInCluster(t, m, w1)
		ips := m.ips([]string{cp})
		// Services route nowhere until kube-proxy runs (issue 14): point
		// the in-cluster configuration at the apiserver's node address.
		m.mustKubectl(fmt.Sprintf(inClusterPod, w1, bin, ips[cp]), ns, "apply", "-f", "-")
		m.mustKubectl("", ns, "wait", "--for=condition=Ready", "pod/incluster", "--timeout=90s")
		mounts := m.mustKubectl("", ns, "get", "pod", "incluster", "-o", `jsonpath={.spec.volumes[*].name} {.spec.containers[0].volumeMounts[*].mountPath}`)
		if !strings.Contains(mounts, "kube-api-access-") || !strings.Contains(mounts, "/var/run/secrets/kubernetes.io/serviceaccount") {
			t.Errorf("the ServiceAccount admission plugin did not add the kube-api-access volume: %q", mounts)
		}
		out, err := m.kubectl("", ns, "exec", "incluster", "--", "/incluster/incluster")
		if err == nil || !strings.Contains(out, `cannot list resource "pods"`) {
			t.Errorf("listing pods from inside without a RoleBinding, want 403: %q %v", out, err)
		}
		m.mustKubectl("", ns, "create", "rolebinding", "default-view", "--clusterrole=view", "--serviceaccount="+n+":default")
		var last string
		m.eventually(30*time.Second, "the pod lists pods after the RoleBinding", func() bool {
			last, err = m.kubectl("", ns, "exec", "incluster", "--", "/incluster/incluster")
			return err == nil && strings.HasPrefix(last, "listed ")
		}, func() string { return last })
	})

	t.Run("a kubelet reads its own pods' Secrets, not another node's", func(t *testing.T) {
		for _, p := range []struct{ pod, secret, node string }{{"on-w1", "for-w1", w1}, {"on-w2", "for-w2", w2}} {
			m.mustKubectl("", ns, "create", "secret", "generic", p.secret, "--from-literal=k=v")
			m.mustKubectl(fmt.Sprintf(secretPod, p.pod, p.node, p.secret), ns, "apply", "-f", "-")
		}
		m.mustKubectl("", ns, "wait", "--for=condition=Ready", "pod/on-w1", "pod/on-w2", "--timeout=90s")
		kubelet := m.kubeletKubeconfig(t, w1)
		k := func(args ...string) (string, error) {
			return runKubectl(m.ctx, framework.RequireKubectl(t), kubelet, "", append([]string{"-n", n}, args...)...)
		}
		if out, err := k("get", "secret", "for-w1", "-o", "name"); err != nil || out != "secret/for-w1\n" {
			t.Errorf("%s's kubelet reading its pod's Secret: %q %v", w1, out, err)
		}
		out, err := k("get", "secret", "for-w2")
		if err == nil || !strings.Contains(out, "no relationship found between node '"+w1+"' and this object") {
			t.Errorf("%s's kubelet reading a Secret of a pod on %s, want 403: %q %v", w1, w2, out, err)
		}
		if out, err := k("get", "secrets"); err == nil || !strings.Contains(out, "Forbidden") {
			t.Errorf("%s's kubelet listing Secrets, want 403: %q %v", w1, out, err)
		}
		if out, err := k("label", "node", w2, "x=y"); err == nil || !strings.Contains(out, "Forbidden") {
			t.Errorf("%s's kubelet labelling %s, want 403: %q %v", w1, w2, out, err)
		}
	})
}

// buildInCluster builds e2e/incluster for the nodes and copies it into
// node's /opt/kinc-e2e/; it returns that directory.
func buildInCluster(t *testing.T, m *multi, node string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "incluster")
	cmd := exec.CommandContext(m.ctx, "go", "build", "-o", out, "github.com/kinc-dev/kinc/e2e/incluster")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building e2e/incluster: %v\n%s", err, b)
	}
	const dir = "/opt/kinc-e2e"
	if _, err := m.node(node, "mkdir", "-p", dir); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.CommandContext(m.ctx, "docker", "cp", out, node+":"+dir+"/incluster").CombinedOutput(); err != nil {
		t.Fatalf("docker cp: %v\n%s", err, b)
	}
	return dir
}

// kubeletKubeconfig returns a kubeconfig with node's kubelet credentials
// (its /etc/kubernetes/kubelet.conf), pointed at the apiserver's address
// on the host.
func (m *multi) kubeletKubeconfig(t *testing.T, node string) string {
	t.Helper()
	raw, err := m.node(node, "cat", "/etc/kubernetes/kubelet.conf")
	must(t, err)
	cfg, err := clientcmd.Load([]byte(raw))
	must(t, err)
	admin, err := clientcmd.LoadFromFile(m.kubeconfig)
	must(t, err)
	server := admin.Clusters[admin.Contexts[admin.CurrentContext].Cluster].Server
	for _, c := range cfg.Clusters {
		c.Server = server
	}
	for _, a := range cfg.AuthInfos {
		for _, f := range []*string{&a.ClientCertificate, &a.ClientKey} {
			if *f != "" { // kubeadm's kubelet.conf may name the rotated pem
				pem, err := m.node(node, "cat", *f)
				must(t, err)
				*f = ""
				if f == &a.ClientCertificate {
					a.ClientCertificateData = []byte(pem)
				} else {
					a.ClientKeyData = []byte(pem)
				}
			}
		}
	}
	path := filepath.Join(t.TempDir(), "kubelet.conf")
	must(t, clientcmd.WriteToFile(*cfg, path))
	return path
}

// tokenKubeconfig returns a kubeconfig for the cluster that authenticates
// with token alone.
func (m *multi) tokenKubeconfig(t *testing.T, token string) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(m.kubeconfig)
	must(t, err)
	for _, a := range cfg.AuthInfos {
		a.ClientCertificate, a.ClientKey, a.ClientCertificateData, a.ClientKeyData = "", "", nil, nil
		a.Token = token
	}
	path := filepath.Join(t.TempDir(), "token.kubeconfig")
	must(t, clientcmd.WriteToFile(*cfg, path))
	return path
}

// inClusterPod runs on node %[1]s with e2e/incluster from the node's
// directory %[2]s, its in-cluster configuration pointed at %[3]s:6443.
const inClusterPod = `apiVersion: v1
kind: Pod
metadata:
  name: incluster
spec:
  nodeName: %[1]s
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: ` + framework.BusyboxImage + `
    imagePullPolicy: Never
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
    env:
    - {name: KUBERNETES_SERVICE_HOST, value: "%[3]s"}
    - {name: KUBERNETES_SERVICE_PORT, value: "6443"}
    volumeMounts:
    - {name: bin, mountPath: /incluster, readOnly: true}
  volumes:
  - name: bin
    hostPath: {path: "%[2]s", type: Directory}
`

// secretPod (name, node, secret) mounts a Secret on a node.
const secretPod = `apiVersion: v1
kind: Pod
metadata:
  name: %[1]s
spec:
  nodeName: %[2]s
  terminationGracePeriodSeconds: 1
  containers:
  - name: sleep
    image: ` + framework.BusyboxImage + `
    imagePullPolicy: Never
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
    volumeMounts:
    - {name: s, mountPath: /s}
  volumes:
  - name: s
    secret: {secretName: %[3]s}
`
