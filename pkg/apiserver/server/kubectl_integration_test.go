package server_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kinc-dev/kinc/internal/testenv"
	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
)

// kubectlBinaries returns the kubectl binaries to test with: the one the
// tests use ($KINC_KUBECTL, bin/kubectl or the PATH's; without one the test
// is skipped, or fails under CI), plus the oldest and newest supported,
// kubectl.1.27 and kubectl.1.33, where they are installed side by side.
func kubectlBinaries(t *testing.T) []string {
	t.Helper()
	return testenv.KubectlVersions(t)
}

// kubectlRunner runs one kubectl binary against an instance, with its own
// cache directory so discovery is fetched from our server.
type kubectlRunner struct {
	t    *testing.T
	bin  string
	inst *apiservertest.Instance
	home string
}

func newKubectl(t *testing.T, inst *apiservertest.Instance, bin string) *kubectlRunner {
	return &kubectlRunner{t: t, bin: bin, inst: inst, home: t.TempDir()}
}

func (k *kubectlRunner) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, k.bin, append([]string{"--kubeconfig", k.inst.Kubeconfig}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+k.home, "KUBECACHEDIR="+filepath.Join(k.home, "cache"))
	return cmd
}

func (k *kubectlRunner) run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := k.command(ctx, args...).CombinedOutput()
	return string(out), err
}

// must runs kubectl and fails the test (showing the apiserver's log tail)
// when it fails.
func (k *kubectlRunner) must(args ...string) string {
	k.t.Helper()
	out, err := k.run(args...)
	if err != nil {
		k.t.Fatalf("%s %s: %v\n%s\napiserver log:\n%s", filepath.Base(k.bin), strings.Join(args, " "), err, out, tail(k.inst.Log(), 30))
	}
	return out
}

// mustFail runs kubectl expecting failure, returning its output.
func (k *kubectlRunner) mustFail(args ...string) string {
	k.t.Helper()
	out, err := k.run(args...)
	if err == nil {
		k.t.Fatalf("%s %s: want failure, got:\n%s", filepath.Base(k.bin), strings.Join(args, " "), out)
	}
	return out
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// header returns the first line of a table, with runs of spaces folded.
func header(out string) string {
	first, _, _ := strings.Cut(out, "\n")
	return strings.Join(strings.Fields(first), " ")
}

func contains(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("%s: output lacks %q:\n%s", what, w, out)
		}
	}
}

const manifest = `apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  labels: {app: web}
data:
  greeting: hello
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: busybox:1.36
        command: ["httpd", "-f", "-p", "8080"]
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: web
  labels: {app: web}
spec:
  selector: {app: web}
  ports:
  - name: http
    port: 80
    targetPort: 8080
---
apiVersion: v1
kind: Pod
metadata:
  name: solo
  labels: {app: solo, tier: backend}
spec:
  containers:
  - name: main
    image: busybox
    command: ["sleep", "3600"]
    env:
    - name: GREETING
      valueFrom:
        configMapKeyRef: {name: web-config, key: greeting}
`

func TestIntegrationKubectl(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd and kube-apiserver")
	}
	inst := apiservertest.Start(t, apiservertest.Options{})
	for i, bin := range kubectlBinaries(t) {
		ns := fmt.Sprintf("kubectl-%d", i)
		t.Run(filepath.Base(bin), func(t *testing.T) {
			kubectlScenario(t, newKubectl(t, inst, bin), ns)
		})
	}
}

func kubectlScenario(t *testing.T, k *kubectlRunner, ns string) {
	contains(t, "create namespace", k.must("create", "namespace", ns), "namespace/"+ns+" created")
	file := filepath.Join(t.TempDir(), "app.yaml")
	if err := os.WriteFile(file, []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	contains(t, "apply", k.must("-n", ns, "apply", "-f", file),
		"configmap/web-config created", "deployment.apps/web created", "service/web created", "pod/solo created")
	// A second apply is a no-op patch computed by kubectl from last-applied.
	contains(t, "re-apply", k.must("-n", ns, "apply", "-f", file), "pod/solo unchanged", "deployment.apps/web unchanged")

	out := k.must("-n", ns, "get", "pods", "-o", "wide")
	if h := header(out); h != "NAME READY STATUS RESTARTS AGE IP NODE NOMINATED NODE READINESS GATES" {
		t.Errorf("get pods -o wide header: %q", h)
	}
	contains(t, "get pods -o wide", out, "solo", "0/1", "Pending", "<none>")

	out = k.must("-n", ns, "get", "pod", "solo", "-o", "yaml")
	contains(t, "get -o yaml", out, "kind: Pod", "name: solo", "namespace: "+ns, "resourceVersion:", "uid:",
		"creationTimestamp:", "restartPolicy: Always", "dnsPolicy: ClusterFirst", "schedulerName: default-scheduler",
		"terminationGracePeriodSeconds: 30", "imagePullPolicy: Always", "phase: Pending")

	out = k.must("get", "deployments", "-A")
	if h := header(out); h != "NAMESPACE NAME READY UP-TO-DATE AVAILABLE AGE" {
		t.Errorf("get deployments -A header: %q", h)
	}
	contains(t, "get -A", out, ns, "web", "0/2")

	out = k.must("-n", ns, "get", "services")
	if h := header(out); h != "NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE" {
		t.Errorf("get services header: %q", h)
	}
	contains(t, "get services", out, "web", "ClusterIP", "80/TCP")

	contains(t, "--show-labels", k.must("-n", ns, "get", "pods", "--show-labels"), "app=solo,tier=backend")
	out = k.must("-n", ns, "get", "cm,deploy,svc,pods", "-l", "app=web", "-o", "name")
	contains(t, "-l", out, "configmap/web-config", "deployment.apps/web", "service/web")
	if strings.Contains(out, "pod/solo") {
		t.Errorf("-l app=web selected pod/solo:\n%s", out)
	}
	contains(t, "-l notin", k.must("-n", ns, "get", "pods", "-l", "tier notin (frontend),app", "-o", "name"), "pod/solo")
	contains(t, "--field-selector", k.must("-n", ns, "get", "pods", "--field-selector", "status.phase=Pending,metadata.name=solo", "-o", "name"), "pod/solo")
	contains(t, "bad field selector", k.mustFail("-n", ns, "get", "pods", "--field-selector", "spec.nosuchfield=x"), "field label not supported")

	// get -w sees a change made while it watches, then times out by itself.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	watch := k.command(ctx, "-n", ns, "get", "configmaps", "-w", "--request-timeout=8s")
	stdout, err := watch.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	waitLine(t, lines, "web-config")
	k.must("-n", ns, "create", "configmap", "watched", "--from-literal=k=v")
	waitLine(t, lines, "watched")
	_ = watch.Wait()

	contains(t, "label", k.must("-n", ns, "label", "pod", "solo", "env=test"), "pod/solo labeled")
	// kubectl 1.27 prints "annotate", later ones "annotated".
	contains(t, "annotate", k.must("-n", ns, "annotate", "pod", "solo", "note=hi"), "pod/solo annotate")
	contains(t, "label shows", k.must("-n", ns, "get", "pod", "solo", "--show-labels"), "env=test")
	contains(t, "strategic patch", k.must("-n", ns, "patch", "deployment", "web", "-p", `{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"busybox:1.37"}]}}}}`), "patched")
	contains(t, "merge patch", k.must("-n", ns, "patch", "configmap", "web-config", "--type=merge", "-p", `{"data":{"extra":"1"}}`), "patched")
	contains(t, "json patch", k.must("-n", ns, "patch", "service", "web", "--type=json", "-p", `[{"op":"replace","path":"/spec/ports/0/port","value":81}]`), "patched")
	contains(t, "patched values", k.must("-n", ns, "get", "deploy/web", "cm/web-config", "svc/web", "-o", "yaml"), "image: busybox:1.37", "extra: \"1\"", "port: 81")
	k.mustFail("-n", ns, "patch", "service", "web", "--type=json", "-p", `[{"op":"test","path":"/spec/ports/0/port","value":1}]`)

	cm := k.must("-n", ns, "get", "configmap", "web-config", "-o", "yaml")
	replaced := filepath.Join(t.TempDir(), "cm.yaml")
	if err := os.WriteFile(replaced, []byte(strings.Replace(cm, "greeting: hello", "greeting: bonjour", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	contains(t, "replace", k.must("-n", ns, "replace", "-f", replaced), "configmap/web-config replaced")
	// The same file again holds a stale resourceVersion now.
	contains(t, "stale replace", k.mustFail("-n", ns, "replace", "-f", replaced), "the object has been modified")

	contains(t, "scale", k.must("-n", ns, "scale", "deployment", "web", "--replicas=3"), "deployment.apps/web scaled")
	contains(t, "scaled", k.must("-n", ns, "get", "deployment", "web", "-o", "jsonpath={.spec.replicas}"), "3")

	contains(t, "explain", k.must("explain", "pod.spec.containers"), "KIND:", "Pod", "image", "DESCRIPTION")
	out = k.must("api-resources")
	for _, row := range []string{"pods po v1 true Pod", "deployments deploy apps/v1 true Deployment", "namespaces ns v1 false Namespace", "leases coordination.k8s.io/v1 true Lease"} {
		if !strings.Contains(strings.Join(strings.Fields(out), " "), row) {
			t.Errorf("api-resources lacks %q:\n%s", row, out)
		}
	}
	contains(t, "describe", k.must("-n", ns, "describe", "pod", "solo"), "Name:", "solo", "Namespace:", ns, "Status:", "Pending", "Containers:", "main:", "busybox")

	contains(t, "delete", k.must("-n", ns, "delete", "configmap", "watched"), `configmap "watched" deleted`)
	k.mustFail("-n", ns, "get", "configmap", "watched")
	contains(t, "delete -f", k.must("-n", ns, "delete", "-f", file, "--wait=false"), `deployment.apps "web" deleted`, `service "web" deleted`)
}

// waitLine waits for a watch output line containing want.
func waitLine(t *testing.T, lines <-chan string, want string) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("watch ended before a line with %q", want)
			}
			if strings.Contains(l, want) {
				return
			}
		case <-deadline:
			t.Fatalf("no watch line with %q within 20s", want)
		}
	}
}
