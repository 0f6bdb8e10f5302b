//go:build e2e

package cluster

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestControllerManager runs kinc's kube-controller-manager as a user of a
// cluster with workers meets it, with the real kubectl. The cases share one
// cluster: each works in its own namespace, and the ones that disturb nodes
// come last.
func TestControllerManager(t *testing.T) {
	const name = "kinc-e2e-kcm"
	m := newMulti(t, name, 12*time.Minute)
	cp := name + "-control-plane"
	m.create(kindMultiNode)
	if _, err := run(t, "load", "docker-image", "kinc-e2e/busybox:1", "--name", name); err != nil {
		t.Fatal(err)
	}

	t.Run("static pod with kubeadm's flags, restarted on manifest edit", func(t *testing.T) {
		ps, err := m.node(cp, "ps", "-eo", "pid,args")
		must(t, err)
		line := processLine(ps, "kube-controller-manager ")
		for _, flag := range []string{"--kubeconfig=/etc/kubernetes/controller-manager.conf", "--controllers=*,bootstrapsigner,tokencleaner",
			"--leader-elect=true", "--use-service-account-credentials=true", "--cluster-signing-key-file=/etc/kubernetes/pki/ca.key",
			"--service-account-private-key-file=/etc/kubernetes/pki/sa.key", "--root-ca-file=/etc/kubernetes/pki/ca.crt"} {
			if !strings.Contains(line, flag) {
				t.Errorf("ps shows no kube-controller-manager %s:\n%s", flag, ps)
			}
		}
		if out, err := m.node(cp, "curl", "-sk", "https://127.0.0.1:10257/healthz"); err != nil || out != "ok" {
			t.Errorf("controller-manager /healthz: %q %v", out, err)
		}
		holder := m.mustKubectl("", "-n", "kube-system", "get", "lease", "kube-controller-manager", "-o", "jsonpath={.spec.holderIdentity}")
		if !strings.HasPrefix(holder, cp+"_") {
			t.Errorf("lease kube-system/kube-controller-manager held by %q", holder)
		}
		// As a learner would: edit the manifest, see the kubelet restart
		// the component with the new flag.
		if _, err := m.node(cp, "sed", "-i", `s|    - --use-service-account-credentials=true|&\n    - --v=2|`,
			"/etc/kubernetes/manifests/kube-controller-manager.yaml"); err != nil {
			t.Fatal(err)
		}
		m.eventually(90*time.Second, "kube-controller-manager restarted with --v=2", func() bool {
			ps, _ := m.node(cp, "ps", "-eo", "pid,args")
			return strings.Contains(processLine(ps, "kube-controller-manager "), "--v=2")
		}, func() string { ps, _ := m.node(cp, "ps", "-eo", "pid,args"); return ps })
	})

	t.Run("every namespace has the default ServiceAccount and kube-root-ca.crt", func(t *testing.T) {
		m.mustKubectl("", "create", "namespace", "e2e-sa")
		m.eventually(30*time.Second, "default ServiceAccount and kube-root-ca.crt in every namespace", func() bool {
			ns := strings.Fields(m.mustKubectl("", "get", "ns", "-o", "jsonpath={.items[*].metadata.name}"))
			sa := m.mustKubectl("", "get", "sa", "-A", "--field-selector", "metadata.name=default", "-o", "jsonpath={.items[*].metadata.namespace}")
			cm := m.mustKubectl("", "get", "cm", "-A", "--field-selector", "metadata.name=kube-root-ca.crt", "-o", "jsonpath={.items[*].metadata.namespace}")
			return len(ns) >= 5 && len(strings.Fields(sa)) == len(ns) && len(strings.Fields(cm)) == len(ns)
		}, func() string { return m.mustKubectl("", "get", "ns,sa,cm", "-A") })
		ca := m.mustKubectl("", "-n", "e2e-sa", "get", "cm", "kube-root-ca.crt", "-o", `jsonpath={.data.ca\.crt}`)
		onNode, err := m.node(cp, "cat", "/etc/kubernetes/pki/ca.crt")
		must(t, err)
		if strings.TrimSpace(ca) != strings.TrimSpace(onNode) {
			t.Errorf("kube-root-ca.crt holds %q, not the cluster CA", ca)
		}
	})

	t.Run("kubectl delete namespace with content completes", func(t *testing.T) {
		m.mustKubectl("", "create", "namespace", "e2e-ns")
		m.mustKubectl("", "-n", "e2e-ns", "create", "configmap", "c", "--from-literal=a=b")
		m.mustKubectl("", "-n", "e2e-ns", "create", "secret", "generic", "s", "--from-literal=a=b")
		m.mustKubectl(fmt.Sprintf(sleeperPod, "sleeper"), "-n", "e2e-ns", "apply", "-f", "-")
		start := time.Now()
		m.mustKubectl("", "delete", "namespace", "e2e-ns", "--timeout=90s")
		t.Logf("namespace with a configmap, a secret and a running pod deleted in %s", time.Since(start).Round(100*time.Millisecond))
		if out, err := m.kubectl("", "get", "namespace", "e2e-ns"); err == nil || !strings.Contains(out, "NotFound") {
			t.Errorf("namespace still there: %s %v", out, err)
		}
	})
}

// sleeperPod is a pod that runs until deleted (and stops at once then).
const sleeperPod = `apiVersion: v1
kind: Pod
metadata:
  name: %s
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: sleep
    image: kinc-e2e/busybox:1
    imagePullPolicy: Never
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
`

// processLine returns the line of ps output whose command starts with
// prefix, or "".
func processLine(ps, prefix string) string {
	for _, l := range strings.Split(ps, "\n") {
		f := strings.Fields(l)
		if len(f) > 1 && strings.HasPrefix(strings.Join(f[1:], " "), prefix) {
			return l
		}
	}
	return ""
}
