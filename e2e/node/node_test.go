//go:build e2e

// Package node proves the kubelet and the node image (issue #4) in a real
// node container: the control plane comes up from static pod manifests as
// Running mirror pods; the kube-apiserver runs with the flags of its
// manifest; pods of a workload image built here (Debian's static busybox,
// imported with docker import, loaded with `kinc load docker-image`) run,
// log, crash-loop, get env from ConfigMaps, Secrets and the downward API,
// and are deleted gracefully; and editing a static pod manifest restarts the
// component with the new flags. The real kubectl is the client; `docker
// exec` looks inside the node. Benchmarks (bench_test.go) measure pod
// startup against bare CRI calls, the kubelet's RSS and an idle node's
// memory.
package node

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kinc-dev/kinc/e2e/framework"
)

const testCluster = "kinc-e2e-node"

// workloads are applied together so that the crash loop's back-off runs
// while the other checks do.
const workloads = `apiVersion: v1
kind: ConfigMap
metadata: {name: e2e-config}
data: {greeting: hello-configmap, FROM_ENVFROM: envfrom-value}
---
apiVersion: v1
kind: Secret
metadata: {name: e2e-secret}
stringData: {password: s3cr3t-value}
---
apiVersion: v1
kind: Pod
metadata: {name: e2e-hello}
spec:
  terminationGracePeriodSeconds: 3
  containers:
  - name: hello
    image: ` + framework.BusyboxImage + `
    imagePullPolicy: Never
    command: [sh, -c, 'echo hello-from-kinc; sleep 3600']
---
apiVersion: v1
kind: Pod
metadata: {name: e2e-crash}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: crash
    image: ` + framework.BusyboxImage + `
    imagePullPolicy: Never
    command: [sh, -c, 'exit 1']
---
apiVersion: v1
kind: Pod
metadata: {name: e2e-env}
spec:
  restartPolicy: Never
  containers:
  - name: env
    image: ` + framework.BusyboxImage + `
    imagePullPolicy: Never
    command: [env]
    resources: {limits: {memory: 64Mi}}
    envFrom:
    - configMapRef: {name: e2e-config}
      prefix: EF_
    env:
    - {name: CM_GREETING, valueFrom: {configMapKeyRef: {name: e2e-config, key: greeting}}}
    - {name: SECRET_PASSWORD, valueFrom: {secretKeyRef: {name: e2e-secret, key: password}}}
    - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
    - {name: MEM_LIMIT, valueFrom: {resourceFieldRef: {resource: limits.memory}}}
`

func TestNode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	start := time.Now()
	e := newEnv(ctx, t, testCluster)
	defer func() { t.Logf("whole test: %s", since(start)) }()

	t.Run("control plane mirror pods", func(t *testing.T) {
		e := e.with(t)
		want := map[string]bool{}
		for _, c := range []string{"etcd", "kube-apiserver", "kube-scheduler"} {
			want[c+"-"+e.node] = true
		}
		var out string
		took := e.eventually(60*time.Second, 500*time.Millisecond, "etcd, kube-apiserver and kube-scheduler Running mirror pods", func() bool {
			out, _ = e.kubectl("", "-n", "kube-system", "get", "pods", "-o",
				`jsonpath={range .items[*]}{.metadata.name} {.status.phase} {.metadata.annotations.kubernetes\.io/config\.mirror}{"\n"}{end}`)
			running := 0
			for _, line := range strings.Split(out, "\n") {
				if f := strings.Fields(line); len(f) == 3 && want[f[0]] && f[1] == "Running" && f[2] != "" {
					running++
				}
			}
			return running == len(want)
		}, func() string { return out })
		t.Logf("mirror pods Running %s after create:\n%s", took.Round(10*time.Millisecond),
			e.mustKubectl("", "-n", "kube-system", "get", "pods", "-o", "wide"))
	})

	t.Run("apiserver flags in ps", func(t *testing.T) {
		e := e.with(t)
		line := apiserverLine(e.mustExec("ps", "aux"))
		for _, want := range []string{"kube-apiserver --advertise-address=", " --etcd-servers=https://127.0.0.1:2379", " --client-ca-file=/etc/kubernetes/pki/ca.crt", " --secure-port=6443"} {
			if !strings.Contains(line, want) {
				t.Errorf("ps aux in the node lacks %q in the kube-apiserver line %q", want, line)
			}
		}
		t.Logf("ps aux: %s", line)
	})

	e.mustKubectl(workloads, "apply", "-f", "-")
	applied := time.Now()

	t.Run("pod runs, logs and is deleted gracefully", func(t *testing.T) {
		e := e.with(t)
		var out string
		took := e.eventually(60*time.Second, 200*time.Millisecond, "e2e-hello Running", func() bool {
			out, _ = e.kubectl("", "get", "pod", "e2e-hello", "-o", `jsonpath={.status.phase} {.status.podIP} {.status.containerStatuses[0].containerID}`)
			return strings.HasPrefix(out, "Running ")
		}, e.describe("pod", "e2e-hello"))
		t.Logf("e2e-hello Running %s after apply: %s", took.Round(10*time.Millisecond), out)
		f := strings.Fields(out)
		if len(f) != 3 || !strings.HasPrefix(f[1], "10.244.") || !strings.HasPrefix(f[2], "containerd://") {
			t.Fatalf("pod status %q: want a pod IP from 10.244.0.0/16 and a containerd:// container ID", out)
		}
		ctr := strings.TrimPrefix(f[2], "containerd://")
		e.eventually(20*time.Second, 200*time.Millisecond, "kubectl logs shows hello-from-kinc", func() bool {
			out, _ = e.kubectl("", "logs", "e2e-hello")
			return out == "hello-from-kinc\n"
		}, func() string { return "logs: " + out })

		if state := e.mustExec("crictl", "inspect", "-o", "go-template", "--template", "{{.status.state}}", ctr); strings.TrimSpace(state) != "CONTAINER_RUNNING" {
			t.Fatalf("container %s is %s before the delete", ctr, state)
		}
		start := time.Now()
		e.mustKubectl("", "delete", "pod", "e2e-hello", "--wait=true", "--timeout=60s")
		took = time.Since(start)
		// The object disappears only after the kubelet stopped the
		// container: sh as PID 1 ignores SIGTERM, so that is after the
		// 3 s grace period, when the kubelet sends SIGKILL.
		if out, err := e.kubectl("", "get", "pod", "e2e-hello"); err == nil || !strings.Contains(out, "NotFound") {
			t.Errorf("pod still there after kubectl delete: %s", out)
		}
		state, err := e.exec("crictl", "inspect", "-o", "go-template", "--template", "{{.status.state}}", ctr)
		if err == nil && strings.TrimSpace(state) != "CONTAINER_EXITED" {
			t.Errorf("container %s is %s after the pod object is gone", ctr, state)
		}
		if took < 2*time.Second || took > 30*time.Second {
			t.Errorf("kubectl delete took %s; want about the 3 s grace period (SIGTERM ignored, then SIGKILL)", took.Round(10*time.Millisecond))
		}
		t.Logf("kubectl delete pod took %s (grace period 3 s); container afterwards: %s", took.Round(10*time.Millisecond), orGone(state, err))
	})

	t.Run("env from ConfigMap, Secret and downward API", func(t *testing.T) {
		e := e.with(t)
		var out string
		e.eventually(60*time.Second, 300*time.Millisecond, "e2e-env Succeeded", func() bool {
			out, _ = e.kubectl("", "get", "pod", "e2e-env", "-o", `jsonpath={.status.phase}`)
			return out == "Succeeded"
		}, e.describe("pod", "e2e-env"))
		logs := e.mustKubectl("", "logs", "e2e-env")
		podIP := ""
		for _, line := range strings.Split(logs, "\n") {
			if v, ok := strings.CutPrefix(line, "POD_IP="); ok {
				podIP = v
			}
		}
		for _, want := range []string{
			"EF_greeting=hello-configmap", "EF_FROM_ENVFROM=envfrom-value", // envFrom with a prefix
			"CM_GREETING=hello-configmap",             // configMapKeyRef
			"SECRET_PASSWORD=s3cr3t-value",            // secretKeyRef
			"POD_NAME=e2e-env",                        // fieldRef metadata.name
			fmt.Sprintf("MEM_LIMIT=%d", 64*1024*1024), // resourceFieldRef limits.memory
			"KUBERNETES_SERVICE_HOST=10.96.0.1", "HOSTNAME=e2e-env",
		} {
			if !strings.Contains(logs, want+"\n") {
				t.Errorf("env lacks %s", want)
			}
		}
		if !strings.HasPrefix(podIP, "10.244.") { // fieldRef status.podIP
			t.Errorf("POD_IP=%q, want an IP from the pod CIDR 10.244.0.0/16", podIP)
		}
		t.Logf("kubectl logs e2e-env:\n%s", logs)
	})

	t.Run("crash loop", func(t *testing.T) {
		e := e.with(t)
		var out string
		var counts []int // restartCount as polled: it must only rise
		e.eventually(90*time.Second, 500*time.Millisecond, "e2e-crash in CrashLoopBackOff with restartCount ≥ 2", func() bool {
			out, _ = e.kubectl("", "get", "pod", "e2e-crash", "-o",
				`jsonpath={.status.containerStatuses[0].restartCount} {.status.containerStatuses[0].state.waiting.reason} {.status.containerStatuses[0].lastState.terminated.exitCode}`)
			f := strings.Fields(out)
			if len(f) == 0 {
				return false
			}
			n, _ := strconv.Atoi(f[0])
			if len(counts) == 0 || counts[len(counts)-1] != n {
				counts = append(counts, n)
			}
			return len(f) == 3 && n >= 2 && f[1] == "CrashLoopBackOff" && f[2] == "1"
		}, e.describe("pod", "e2e-crash"))
		if !slices.IsSorted(counts) {
			t.Errorf("restartCount went down: %v", counts)
		}
		t.Logf("restartCount seen: %v", counts)
		t.Logf("e2e-crash %s after apply: restartCount, reason, last exit code = %s",
			since(applied), out)
		t.Logf("kubectl get pods:\n%s", e.mustKubectl("", "get", "pods"))
	})

	// Last: it restarts the apiserver.
	t.Run("apiserver manifest edit restarts it", func(t *testing.T) {
		e := e.with(t)
		const flag = "--max-requests-inflight=401"
		before := apiserverLine(e.mustExec("ps", "-eo", "pid,args"))
		if strings.Contains(before, flag) {
			t.Fatalf("apiserver already runs with %s", flag)
		}
		start := time.Now()
		e.mustExec("sed", "-i", `/^    - kube-apiserver$/a\    - `+flag, "/etc/kubernetes/manifests/kube-apiserver.yaml")
		var line string
		took := e.eventually(90*time.Second, 250*time.Millisecond, "kube-apiserver restarted with "+flag+" and answering", func() bool {
			out, _ := e.exec("ps", "-eo", "pid,args")
			if line = apiserverLine(out); !strings.Contains(line, " "+flag) {
				return false
			}
			ready, err := e.kubectl("", "get", "--raw", "/readyz")
			return err == nil && ready == "ok"
		}, func() string {
			logs, _ := e.exec("journalctl", "-u", "kubelet", "--no-pager", "-n", "40")
			return "ps: " + line + "\nkubelet:\n" + logs
		})
		t.Logf("apiserver restarted with %s and ready %s after the edit (pid %s → %s)", flag, took.Round(10*time.Millisecond),
			strings.Fields(before)[0], strings.Fields(line)[0])
		if strings.Fields(before)[0] == strings.Fields(line)[0] {
			t.Errorf("same apiserver pid %s after the edit", strings.Fields(line)[0])
		}
		mirror := "kube-apiserver-" + e.node
		var cmd string
		took = e.eventually(60*time.Second, 500*time.Millisecond, "mirror pod shows "+flag, func() bool {
			cmd, _ = e.kubectl("", "-n", "kube-system", "get", "pod", mirror, "-o", `jsonpath={.status.phase} {.spec.containers[0].command}`)
			return strings.HasPrefix(cmd, "Running ") && strings.Contains(cmd, flag)
		}, func() string { return cmd })
		t.Logf("mirror pod %s Running with the new flag %s after the edit (%s after the apiserver)", mirror, since(start), took.Round(10*time.Millisecond))
		// The apiserver serves the cluster again: a write goes through.
		e.mustKubectl("", "create", "configmap", "e2e-after-restart", "--from-literal=k=v")
	})
}

// with returns a copy of e that reports to tb (a subtest).
func (e *env) with(tb testing.TB) *env {
	c := *e
	c.tb = tb
	return &c
}

// apiserverLine returns the kube-apiserver line of ps output.
func apiserverLine(ps string) string {
	for _, line := range strings.Split(ps, "\n") {
		if strings.Contains(line, "kube-apiserver --") {
			return strings.TrimSpace(line)
		}
	}
	return ""
}

func orGone(state string, err error) string {
	if err != nil {
		return "removed"
	}
	return strings.TrimSpace(state)
}
