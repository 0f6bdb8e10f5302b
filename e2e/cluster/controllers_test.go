//go:build e2e

package cluster

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kinc-dev/kinc/e2e/framework"
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
	if _, err := run(t, "load", "docker-image", framework.BusyboxImage, "--name", name); err != nil {
		t.Fatal(err)
	}

	t.Run("static pod with kubeadm's flags, restarted on manifest edit", func(t *testing.T) {
		m := m.with(t)
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
		m := m.with(t)
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
		m := m.with(t)
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

	t.Run("Deployment create, scale, rollout, history, undo, pause, restart", func(t *testing.T) {
		m := m.with(t)
		ns := m.namespace("e2e-deploy")
		m.mustKubectl(fmt.Sprintf(sleeperDeployment, "web", 2), ns, "apply", "-f", "-")
		m.rolledOut(ns, "deployment/web")
		pods := m.podsOf(ns, "app=web")
		if len(pods) != 2 {
			t.Fatalf("deployment web of 2 replicas has pods %v", pods)
		}
		for pod, node := range pods {
			if !strings.HasPrefix(node, name+"-worker") {
				t.Errorf("pod %s runs on %q, want a worker", pod, node)
			}
		}
		m.mustKubectl("", ns, "scale", "deployment/web", "--replicas=4")
		m.rolledOut(ns, "deployment/web")
		if pods := m.podsOf(ns, "app=web"); len(pods) != 4 {
			t.Errorf("scaled to 4: pods %v", pods)
		}
		m.mustKubectl("", ns, "set", "env", "deployment/web", "STEP=two")
		m.rolledOut(ns, "deployment/web")
		hist := m.mustKubectl("", ns, "rollout", "history", "deployment/web")
		if !strings.Contains(hist, "\n1 ") || !strings.Contains(hist, "\n2 ") {
			t.Errorf("rollout history lacks revisions 1 and 2:\n%s", hist)
		}
		rs := strings.Fields(m.mustKubectl("", ns, "get", "rs", "-l", "app=web", "-o", `jsonpath={range .items[*]}{.metadata.name}={.spec.replicas} {end}`))
		if len(rs) != 2 {
			t.Errorf("replicasets after a rollout: %v", rs)
		}
		m.mustKubectl("", ns, "rollout", "undo", "deployment/web")
		m.rolledOut(ns, "deployment/web")
		env := m.mustKubectl("", ns, "get", "deployment", "web", "-o", `jsonpath={.spec.template.spec.containers[0].env}`)
		rev := m.mustKubectl("", ns, "get", "deployment", "web", "-o", `jsonpath={.metadata.annotations.deployment\.kubernetes\.io/revision}`)
		if env != "" || rev != "3" {
			t.Errorf("after undo: env %q revision %q, want none and 3", env, rev)
		}
		m.mustKubectl("", ns, "rollout", "pause", "deployment/web")
		m.mustKubectl("", ns, "set", "env", "deployment/web", "STEP=paused")
		reason := ""
		m.eventually(30*time.Second, "Progressing condition DeploymentPaused", func() bool {
			reason = m.mustKubectl("", ns, "get", "deployment", "web", "-o", `jsonpath={.status.conditions[?(@.type=="Progressing")].reason}`)
			return reason == "DeploymentPaused"
		}, func() string { return "reason " + reason })
		m.mustKubectl("", ns, "rollout", "resume", "deployment/web")
		m.rolledOut(ns, "deployment/web")
		m.mustKubectl("", ns, "rollout", "restart", "deployment/web")
		m.rolledOut(ns, "deployment/web")
		if pods := m.podsOf(ns, "app=web"); len(pods) != 4 {
			t.Errorf("after restart: pods %v", pods)
		}
		events := m.mustKubectl("", ns, "get", "events", "--field-selector", "involvedObject.kind=Deployment", "-o", "jsonpath={range .items[*]}{.reason}: {.message}{\"\\n\"}{end}")
		if !strings.Contains(events, "ScalingReplicaSet: Scaled up replica set web-") {
			t.Errorf("deployment events lack ScalingReplicaSet:\n%s", events)
		}
	})

	t.Run("cascading deletion: orphan, background, foreground", func(t *testing.T) {
		m := m.with(t)
		ns := m.namespace("e2e-gc")
		m.mustKubectl(fmt.Sprintf(sleeperDeployment, "web", 2), ns, "apply", "-f", "-")
		m.rolledOut(ns, "deployment/web")
		m.mustKubectl("", ns, "delete", "deployment", "web", "--cascade=orphan")
		m.eventually(30*time.Second, "orphaned replicaset without an owner", func() bool {
			out := m.mustKubectl("", ns, "get", "rs", "-l", "app=web", "-o", "jsonpath={range .items[*]}{.metadata.name}:{.metadata.ownerReferences}{end}")
			return strings.HasPrefix(out, "web-") && strings.HasSuffix(out, ":")
		}, func() string {
			out, _ := m.kubectl("", ns, "get", "deploy,rs,pods", "-o", "yaml")
			return out + "\n" + m.controllerManagerLog("e2e-gc")
		})
		if pods := m.podsOf(ns, "app=web"); len(pods) != 2 {
			t.Errorf("orphaning the deployment changed its pods: %v", pods)
		}
		m.mustKubectl("", ns, "delete", "rs", "-l", "app=web", "--cascade=background")
		m.eventually(60*time.Second, "pods of a deleted replicaset gone", func() bool { return len(m.podsOf(ns, "app=web")) == 0 }, nil)

		m.mustKubectl(fmt.Sprintf(sleeperDeployment, "fg", 1), ns, "apply", "-f", "-")
		m.rolledOut(ns, "deployment/fg")
		m.mustKubectl("", ns, "delete", "deployment", "fg", "--cascade=foreground", "--timeout=60s")
		if out := m.mustKubectl("", ns, "get", "rs,pods", "-l", "app=fg", "-o", "name"); strings.Contains(out, "replicaset") {
			t.Errorf("after a foreground delete returned, the replicaset remains: %s", out)
		}
	})

	t.Run("a Job completes", func(t *testing.T) {
		m := m.with(t)
		ns := m.namespace("e2e-job")
		m.mustKubectl(jobYAML, ns, "apply", "-f", "-")
		m.mustKubectl("", ns, "wait", "--for=condition=complete", "job/three", "--timeout=120s")
		if got := m.mustKubectl("", ns, "get", "job", "three", "-o", "jsonpath={.status.succeeded}"); got != "3" {
			t.Errorf("job three succeeded %s times, want 3", got)
		}
	})

	t.Run("Endpoints follow ready pods", func(t *testing.T) {
		m := m.with(t)
		ns := m.namespace("e2e-ep")
		m.mustKubectl(fmt.Sprintf(sleeperDeployment, "web", 2), ns, "apply", "-f", "-")
		m.mustKubectl("", ns, "expose", "deployment", "web", "--port=80", "--target-port=8080")
		m.rolledOut(ns, "deployment/web")
		var ips string
		m.eventually(30*time.Second, "2 addresses in Endpoints and EndpointSlices of service web", func() bool {
			out, err := m.kubectl("", ns, "get", "endpoints", "web", "-o", "jsonpath={.subsets[*].addresses[*].ip}")
			ips = out
			return err == nil && len(strings.Fields(ips)) == 2
		}, func() string { return m.mustKubectl("", ns, "get", "endpoints,pods", "-o", "wide") })
		slices := m.mustKubectl("", ns, "get", "endpointslices", "-l", "kubernetes.io/service-name=web", "-o", "jsonpath={.items[*].endpoints[*].addresses[0]}")
		if len(strings.Fields(slices)) != 2 {
			t.Errorf("endpointslices of web hold %q, endpoints %q", slices, ips)
		}
	})

	t.Run("a CronJob fires within its minute", func(t *testing.T) {
		m := m.with(t)
		ns := m.namespace("e2e-cron")
		m.mustKubectl("", ns, "create", "cronjob", "tick", "--image="+framework.BusyboxImage, "--schedule=* * * * *", "--", "sh", "-c", "echo tick")
		var jobs string
		m.eventually(75*time.Second, "a Job of CronJob tick completed", func() bool {
			jobs, _ = m.kubectl("", ns, "get", "jobs", "-o", `jsonpath={range .items[*]}{.metadata.name}={.status.succeeded} {end}`)
			return strings.HasPrefix(jobs, "tick-") && strings.Contains(jobs, "=1")
		}, func() string { return jobs + "\n" + m.mustKubectl("", ns, "describe", "cronjob", "tick") })
		if last := m.mustKubectl("", ns, "get", "cronjob", "tick", "-o", "jsonpath={.status.lastScheduleTime}"); last == "" {
			t.Error("cronjob tick has no lastScheduleTime")
		}
	})

	t.Run("a DaemonSet has a pod on every node", func(t *testing.T) {
		m := m.with(t)
		ns := m.namespace("e2e-ds")
		m.mustKubectl(daemonSetYAML, ns, "apply", "-f", "-")
		m.rolledOut(ns, "daemonset/agent")
		nodes := map[string]bool{}
		for _, node := range m.podsOf(ns, "app=agent") {
			nodes[node] = true
		}
		if len(nodes) != 3 || !nodes[cp] || !nodes[name+"-worker"] || !nodes[name+"-worker2"] {
			t.Errorf("daemonset pods on %v, want one on each of the 3 nodes", nodes)
		}
		m.mustKubectl("", ns, "set", "env", "daemonset/agent", "STEP=two")
		m.rolledOut(ns, "daemonset/agent")
		if hist := m.mustKubectl("", ns, "rollout", "history", "daemonset/agent"); !strings.Contains(hist, "\n2 ") {
			t.Errorf("daemonset rollout history lacks revision 2:\n%s", hist)
		}
	})

	t.Run("a StatefulSet creates web-0 before web-1", func(t *testing.T) {
		m := m.with(t)
		ns := m.namespace("e2e-sts")
		m.mustKubectl(statefulSetYAML, ns, "apply", "-f", "-")
		m.rolledOut(ns, "statefulset/web")
		out := m.mustKubectl("", ns, "get", "pods", "-l", "app=web", "--sort-by=.metadata.creationTimestamp", "-o",
			`jsonpath={range .items[*]}{.metadata.name} {.metadata.creationTimestamp} {.status.conditions[?(@.type=="Ready")].lastTransitionTime}{"\n"}{end}`)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 {
			t.Fatalf("statefulset pods:\n%s", out)
		}
		first, second := strings.Fields(lines[0]), strings.Fields(lines[1])
		if first[0] != "web-0" || second[0] != "web-1" || second[1] < first[2] {
			t.Errorf("web-1 created before web-0 was Ready:\n%s", out)
		}
	})

	// Last: it stops a worker.
	t.Run("kubectl exec, cp, port-forward and proxies reach pods on workers", func(t *testing.T) {
		streamingCases(t, m.with(t))
	})

	t.Run("who may do what: RBAC, the Node authorizer, service-account tokens", func(t *testing.T) {
		authzCases(t, m.with(t))
	})

	t.Run("a stopped worker goes NotReady, is tainted, its pods evicted; back, untainted", func(t *testing.T) {
		m := m.with(t)
		ns := m.namespace("e2e-evict")
		m.mustKubectl(strings.Replace(fmt.Sprintf(sleeperDeployment, "web", 4), "      terminationGracePeriodSeconds: 1\n",
			"      terminationGracePeriodSeconds: 1\n      tolerations:\n      - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 10}\n", 1), ns, "apply", "-f", "-")
		m.rolledOut(ns, "deployment/web")
		w2 := name + "-worker2"
		onW2 := 0
		for _, node := range m.podsOf(ns, "app=web") {
			if node == w2 {
				onW2++
			}
		}
		if onW2 == 0 {
			t.Fatalf("no pod of web on %s: %v", w2, m.podsOf(ns, "app=web"))
		}
		if out, err := exec.CommandContext(m.ctx, "docker", "stop", "-t", "1", w2).CombinedOutput(); err != nil {
			t.Fatalf("docker stop %s: %v\n%s", w2, err, out)
		}
		stopped := time.Now()
		var last string
		took := m.eventually(90*time.Second, w2+" Ready Unknown with the unreachable taints", func() bool {
			last = m.mustKubectl("", "get", "node", w2, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status} {.spec.taints[*].key}/{.spec.taints[*].effect}`)
			return strings.HasPrefix(last, "Unknown ") && strings.Contains(last, "node.kubernetes.io/unreachable") && strings.Contains(last, "NoExecute")
		}, func() string { return last })
		t.Logf("%s NotReady and tainted %s after docker stop", w2, took)
		if took > 60*time.Second {
			t.Errorf("%s went NotReady after %s, want within 60s (40s grace)", w2, took)
		}
		m.eventually(60*time.Second, "web's pods on "+w2+" evicted and replaced on the other worker", func() bool {
			pods := m.podsOf(ns, "app=web")
			for _, node := range pods {
				if node == w2 {
					return false
				}
			}
			return len(pods) == 4
		}, func() string { return m.mustKubectl("", ns, "get", "pods", "-o", "wide") })
		t.Logf("pods evicted and replaced %s after docker stop", time.Since(stopped).Round(time.Second))
		events := m.mustKubectl("", ns, "get", "events", "--field-selector", "reason=TaintManagerEviction", "-o", "name")
		if events == "" {
			t.Error("no TaintManagerEviction events")
		}
		if out, err := exec.CommandContext(m.ctx, "docker", "start", w2).CombinedOutput(); err != nil {
			t.Fatalf("docker start %s: %v\n%s", w2, err, out)
		}
		m.eventually(2*time.Minute, w2+" Ready again without taints", func() bool {
			last = m.mustKubectl("", "get", "node", w2, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status} {.spec.taints}`)
			return last == "True "
		}, func() string { return last })
	})
}

// controllerManagerLog returns the lines of the control plane's
// kube-controller-manager log that mention grep.
func (m *multi) controllerManagerLog(grep string) string {
	out, err := m.node(m.name+"-control-plane", "sh", "-c",
		"crictl logs $(crictl ps -q --name kube-controller-manager) 2>&1 | grep -F -- '"+grep+"' | tail -50")
	if err != nil {
		return "kube-controller-manager log: " + err.Error()
	}
	return "kube-controller-manager log (" + grep + "):\n" + out
}

// with returns m for a subtest: failures go to t.
func (m *multi) with(t *testing.T) *multi {
	c := *m
	c.t = t
	return &c
}

// namespace creates a namespace for one case and returns the kubectl flag
// that selects it.
func (m *multi) namespace(ns string) string {
	m.t.Helper()
	m.mustKubectl("", "create", "namespace", ns)
	return "--namespace=" + ns
}

// rolledOut waits for kubectl rollout status of what in namespace flag ns.
func (m *multi) rolledOut(ns, what string) {
	m.t.Helper()
	if out, err := m.kubectl("", ns, "rollout", "status", what, "--timeout=120s"); err != nil {
		d, _ := m.kubectl("", ns, "describe", what)
		p, _ := m.kubectl("", ns, "get", "rs,pods", "-o", "wide")
		m.t.Fatalf("%s did not roll out: %v\n%s\n%s\n%s", what, err, out, d, p)
	}
}

// podsOf returns the running, not terminating pods matching selector, with
// their nodes.
func (m *multi) podsOf(ns, selector string) map[string]string {
	m.t.Helper()
	out := m.mustKubectl("", ns, "get", "pods", "-l", selector, "-o",
		`jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.status.phase} {.metadata.deletionTimestamp}{"\n"}{end}`)
	pods := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[2] == "Running" {
			pods[f[0]] = f[1]
		}
	}
	return pods
}

// sleeperDeployment is a Deployment (name, replicas) of pods that run until
// deleted, labelled app=name, listening nowhere.
const sleeperDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
spec:
  replicas: %[2]d
  selector:
    matchLabels: {app: %[1]s}
  strategy:
    rollingUpdate: {maxSurge: 1, maxUnavailable: 1}
  template:
    metadata:
      labels: {app: %[1]s}
    spec:
` + sleeperPodSpec

// sleeperPodSpec ends a workload's pod template (indented under
// template.spec): one container that runs until deleted and stops at once
// then.
const sleeperPodSpec = `      terminationGracePeriodSeconds: 1
      containers:
      - name: sleep
        image: ` + framework.BusyboxImage + `
        imagePullPolicy: Never
        command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
`

// daemonSetYAML runs a sleeper on every node, the control plane too.
const daemonSetYAML = `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      terminationGracePeriodSeconds: 1
      tolerations:
      - {key: node-role.kubernetes.io/control-plane, operator: Exists, effect: NoSchedule}
` + sleeperPodSpec

// statefulSetYAML is an OrderedReady StatefulSet of two sleepers.
const statefulSetYAML = `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  replicas: 2
  serviceName: web
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
` + sleeperPodSpec

// jobYAML is a Job of three completions, two at a time.
const jobYAML = `apiVersion: batch/v1
kind: Job
metadata:
  name: three
spec:
  completions: 3
  parallelism: 2
  backoffLimit: 2
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: work
        image: ` + framework.BusyboxImage + `
        imagePullPolicy: Never
        command: ["sh", "-c", "echo done"]
`

// sleeperPod is a pod that runs until deleted (and stops at once then).
const sleeperPod = `apiVersion: v1
kind: Pod
metadata:
  name: %s
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: sleep
    image: ` + framework.BusyboxImage + `
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
