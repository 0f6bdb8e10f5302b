//go:build e2e

package cluster

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"

	"github.com/kinc-dev/kinc/e2e/framework"
	"github.com/kinc-dev/kinc/internal/testenv"
	"github.com/kinc-dev/kinc/pkg/cluster/constants"
)

// webPod serves a page on the first worker and says so in its log at each
// start.
const webPod = `apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  nodeSelector:
    kubernetes.io/hostname: %s-worker
  containers:
  - name: web
    image: ` + framework.BusyboxImage + `
    imagePullPolicy: Never
    command: ["sh", "-c", "mkdir -p /www && echo hello-from-web > /www/index.html && echo started && exec httpd -f -vv -p 8080 -h /www"]
`

// clientPod fetches the page from the second worker (with nc: Debian's
// static busybox wget crashes).
const clientPod = `apiVersion: v1
kind: Pod
metadata:
  name: %s
spec:
  nodeSelector:
    kubernetes.io/hostname: %s-worker2
  restartPolicy: Never
  containers:
  - name: wget
    image: ` + framework.BusyboxImage + `
    imagePullPolicy: Never
    command: ["sh", "-c", "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 %s 8080"]
`

// toHostPod says hello to a listener on the host from the second worker.
const toHostPod = `apiVersion: v1
kind: Pod
metadata:
  name: to-host
spec:
  nodeSelector:
    kubernetes.io/hostname: %s-worker2
  restartPolicy: Never
  containers:
  - name: nc
    image: ` + framework.BusyboxImage + `
    imagePullPolicy: Never
    command: ["sh", "-c", "echo hello-host | nc -w 5 %s %d"]
`

// multi is a running multi-node cluster under test.
type multi struct {
	t          testing.TB
	ctx        context.Context
	cli        *client.Client
	name       string
	image      string
	kubeconfig string
}

// newMulti prepares cluster name for a test of at most timeout: kubectl
// and the node image must be there (else the test is skipped), the busybox
// image is built, and what an earlier run left is removed now and at the
// end.
func newMulti(t testing.TB, name string, timeout time.Duration) *multi {
	t.Helper()
	framework.RequireKubectl(t)
	cli := framework.DockerClient(t)
	img := framework.NodeImage(t, cli)
	framework.LockNodeStops(t)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	framework.ImportBusybox(ctx, t, cli)
	cleanupCluster(t, cli, name)
	return &multi{t: t, ctx: ctx, cli: cli, name: name, image: img, kubeconfig: filepath.Join(t.TempDir(), "config")}
}

// create runs kinc create cluster --wait with the config doc on stdin.
func (m *multi) create(doc string) {
	m.t.Helper()
	start := time.Now()
	if _, err := runIn(m.t, doc, "create", "cluster", "--name", m.name, "--config", "-", "--image", m.image,
		"--wait", "2m", "--kubeconfig", m.kubeconfig); err != nil {
		m.t.Fatalf("create: %v", err)
	}
	m.t.Logf("cluster %s created with --wait in %s", m.name, time.Since(start).Round(100*time.Millisecond))
}

func (m *multi) kubectl(stdin string, args ...string) (string, error) {
	return framework.Kubectl(m.ctx, m.kubeconfig, stdin, args...)
}

func (m *multi) mustKubectl(stdin string, args ...string) string {
	m.t.Helper()
	out, err := m.kubectl(stdin, args...)
	if err != nil {
		m.t.Fatal(err)
	}
	return out
}

// node runs a command in a node container.
func (m *multi) node(node string, cmd ...string) (string, error) {
	out, err := exec.CommandContext(m.ctx, "docker", append([]string{"exec", node}, cmd...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("docker exec %s %s: %v\n%s", node, strings.Join(cmd, " "), err, out)
	}
	return string(out), nil
}

// eventually polls cond until it holds; after timeout it fails with what
// describe says. It returns how long it took.
func (m *multi) eventually(timeout time.Duration, what string, cond func() bool, describe func() string) time.Duration {
	m.t.Helper()
	return framework.Eventually(m.t, timeout, 500*time.Millisecond, what, cond, describe).Round(100 * time.Millisecond)
}

// ips returns each node container's address on the kinc network.
func (m *multi) ips(nodes []string) map[string]string {
	m.t.Helper()
	out := map[string]string{}
	for _, n := range nodes {
		info, err := m.cli.ContainerInspect(m.ctx, n)
		must(m.t, err)
		for _, ep := range info.NetworkSettings.Networks {
			out[n] = ep.IPAddress
		}
	}
	return out
}

// started returns when each node container last started.
func (m *multi) started(nodes []string) map[string]time.Time {
	m.t.Helper()
	out := map[string]time.Time{}
	for _, n := range nodes {
		info, err := m.cli.ContainerInspect(m.ctx, n)
		must(m.t, err)
		at, err := time.Parse(time.RFC3339Nano, info.State.StartedAt)
		must(m.t, err)
		out[n] = at
	}
	return out
}

// nodesBack waits until every node reports the container's current address
// and a Ready heartbeat from after the container started: its kubelet is
// back.
func (m *multi) nodesBack(want map[string]string, started map[string]time.Time) time.Duration {
	m.t.Helper()
	var last string
	return m.eventually(3*time.Minute, "every node Ready again at its address", func() bool {
		out, err := m.kubectl("", "get", "nodes", "-o",
			`jsonpath={range .items[*]}{.metadata.name} {.status.addresses[?(@.type=="InternalIP")].address} {.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].lastHeartbeatTime}{"\n"}{end}`)
		last = out + fmt.Sprint(err)
		if err != nil {
			return false
		}
		back := 0
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			f := strings.Fields(line)
			if len(f) != 4 || f[1] != want[f[0]] || f[2] != "True" {
				continue
			}
			if hb, err := time.Parse(time.RFC3339, f[3]); err == nil && !hb.Before(started[f[0]].Truncate(time.Second)) {
				back++
			}
		}
		return back == len(want)
	}, func() string {
		msg := "last: " + last
		for n := range want {
			journal, _ := m.node(n, "journalctl", "-u", "kubelet", "-b", "--no-pager", "-n", "30")
			msg += "\n--- kubelet journal of " + n + ":\n" + journal
		}
		return msg
	})
}

// webServes waits until the web pod runs at a new address, started since,
// and the page is served to the control-plane node across nodes. It
// returns the pod's IP.
func (m *multi) webServes(notIP string) string {
	m.t.Helper()
	var ip, last string
	m.eventually(2*time.Minute, "web Running at a new address and serving across nodes", func() bool {
		out, err := m.kubectl("", "get", "pod", "web", "-o", "jsonpath={.status.phase} {.status.podIP}")
		f := strings.Fields(out)
		if err != nil || len(f) != 2 || f[0] != "Running" || f[1] == notIP {
			last = out + fmt.Sprint(err)
			return false
		}
		ip = f[1]
		page, err := m.node(m.name+"-control-plane", "curl", "-sS", "--max-time", "2", "http://"+ip+":8080/")
		last = page + fmt.Sprint(err)
		return err == nil && strings.TrimSpace(page) == "hello-from-web"
	}, func() string {
		d, _ := m.kubectl("", "describe", "pod", "web")
		routes, _ := m.node(m.name+"-control-plane", "ip", "route")
		return "last: " + last + "\nroutes on the control plane:\n" + routes + "\n" + d
	})
	return ip
}

// podToPod runs a client pod on the second worker that fetches the page
// from the web pod on the first.
func (m *multi) podToPod(pod, webIP string) {
	m.t.Helper()
	m.mustKubectl(fmt.Sprintf(clientPod, pod, m.name, webIP), "apply", "-f", "-")
	m.eventually(90*time.Second, pod+" Succeeded", func() bool {
		out, _ := m.kubectl("", "get", "pod", pod, "-o", "jsonpath={.status.phase}")
		return out == "Succeeded"
	}, func() string { d, _ := m.kubectl("", "describe", "pod", pod); return d })
	if out := m.mustKubectl("", "logs", pod); !strings.Contains(out, "200 OK") || !strings.HasSuffix(strings.TrimSpace(out), "hello-from-web") {
		m.t.Errorf("%s fetched %q across nodes, want hello-from-web", pod, out)
	}
	// The Kubernetes network model: no NAT between pods, the server sees
	// the client pod's own address.
	clientIP := m.mustKubectl("", "get", "pod", pod, "-o", "jsonpath={.status.podIP}")
	if logs := m.mustKubectl("", "logs", "web"); clientIP == "" || !strings.Contains(logs, "["+clientIP+"]:") && !strings.Contains(logs, "[::ffff:"+clientIP+"]:") {
		m.t.Errorf("web saw no request from %s's address %q (was it masqueraded?):\n%s", pod, clientIP, logs)
	}
}

// etcdPeerAt waits until the control plane's etcd member advertises its
// peer URL at ip (kinc-etcd-peer moves it after a readdress), asking etcd
// itself with the healthcheck client certificate.
func (m *multi) etcdPeerAt(ip string) {
	m.t.Helper()
	want := `"peerURLs":["https://` + ip + `:2380"]`
	var last string
	m.eventually(time.Minute, "etcd member peer URL at "+ip, func() bool {
		out, err := m.node(m.name+"-control-plane", "sh", "-c", "cd /etc/kubernetes/pki/etcd && "+
			"curl -sS --max-time 2 --cacert ca.crt --cert healthcheck-client.crt --key healthcheck-client.key -X POST -d '{}' https://127.0.0.1:2379/v3/cluster/member/list")
		last = out + fmt.Sprint(err)
		return err == nil && strings.Contains(strings.ReplaceAll(out, " ", ""), want)
	}, func() string {
		journal, _ := m.node(m.name+"-control-plane", "journalctl", "-b", "--no-pager", "-u", "kinc-etcd-peer.service")
		return "last: " + last + "\n" + journal
	})
}

// podToHost runs a pod on the second worker that connects to a listener of
// this test on the host, at the kinc network's gateway: traffic leaving the
// pod network is masqueraded, so the host sees the node's address and its
// replies find their way back.
func (m *multi) podToHost() {
	m.t.Helper()
	nw, err := m.cli.NetworkInspect(m.ctx, constants.NetworkName, network.InspectOptions{})
	must(m.t, err)
	if len(nw.IPAM.Config) == 0 || nw.IPAM.Config[0].Gateway == "" {
		m.t.Fatalf("network %s has no gateway: %+v", constants.NetworkName, nw.IPAM)
	}
	l, err := net.Listen("tcp", ":0")
	must(m.t, err)
	defer l.Close()
	got := make(chan string, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		line, _ := bufio.NewReader(c).ReadString('\n')
		got <- c.RemoteAddr().(*net.TCPAddr).IP.String() + " " + strings.TrimSpace(line)
	}()
	port := l.Addr().(*net.TCPAddr).Port
	m.mustKubectl(fmt.Sprintf(toHostPod, m.name, nw.IPAM.Config[0].Gateway, port), "apply", "-f", "-")
	select {
	case g := <-got:
		from, line, _ := strings.Cut(g, " ")
		if want := m.ips([]string{m.name + "-worker2"})[m.name+"-worker2"]; from != want || line != "hello-host" {
			m.t.Errorf("the host got %q from %s, want hello-host from the node's address %s", line, from, want)
		}
	case <-time.After(90 * time.Second):
		d, _ := m.kubectl("", "describe", "pod", "to-host")
		m.t.Fatalf("no connection from a pod to the host's %s:%d\n%s", nw.IPAM.Config[0].Gateway, port, d)
	}
}

// TestMultiNodeClusterFromKindConfigSurvivesRestarts creates a cluster from
// kind's multi-node example config (read from stdin), checks it looks like
// kubeadm's from inside, runs pods that talk across nodes, then restarts
// every node three times: a plain `docker restart`; a stop/start in which
// the nodes' old addresses are taken so Docker must give them new ones; and
// a restart of the Docker engine itself, as a host reboot does.
// Each time the cluster comes back Ready with its objects, pods run again
// and reach each other, and `kubectl logs` reaches the kubelets.
func TestMultiNodeClusterFromKindConfigSurvivesRestarts(t *testing.T) {
	const name = "kinc-e2e-multi"
	m := newMulti(t, name, 12*time.Minute)
	ctx, cli := m.ctx, m.cli
	cp, w1, w2 := name+"-control-plane", name+"-worker", name+"-worker2"
	nodes := []string{cp, w1, w2}
	m.create(kindMultiNode)

	out := m.mustKubectl("", "get", "nodes", "-o", `jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {end}`)
	if want := cp + "=True " + w1 + "=True " + w2 + "=True "; out != want {
		t.Fatalf("nodes %q, want %q", out, want)
	}
	if taint := m.mustKubectl("", "get", "node", cp, "-o", "jsonpath={.spec.taints[*].key}:{.spec.taints[*].effect}"); taint != "node-role.kubernetes.io/control-plane:NoSchedule" {
		t.Errorf("control plane of a cluster with workers has taints %q, want kubeadm's", taint)
	}
	ps, err := m.node(cp, "ps", "aux")
	must(t, err)
	if !strings.Contains(ps, "kube-apiserver") || !strings.Contains(ps, "--etcd-servers=https://127.0.0.1:2379") {
		t.Errorf("ps aux in the control plane shows no kube-apiserver --etcd-servers=https://127.0.0.1:2379:\n%s", ps)
	}
	manifests, err := m.node(cp, "ls", "/etc/kubernetes/manifests")
	must(t, err)
	if got := strings.Fields(manifests); !slices.Equal(got, []string{"etcd.yaml", "kube-apiserver.yaml", "kube-controller-manager.yaml", "kube-scheduler.yaml"}) {
		t.Errorf("/etc/kubernetes/manifests holds %v", got)
	}
	if out, err := m.node(w1, "ls", "/etc/kubernetes/manifests"); err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("a worker's manifests directory: %q %v", out, err)
	}

	if _, err := run(t, "load", "docker-image", framework.BusyboxImage, "--name", name); err != nil {
		t.Fatal(err)
	}
	m.mustKubectl("", "create", "configmap", "survivor", "--from-literal=kept=yes")
	m.mustKubectl(fmt.Sprintf(webPod, name), "apply", "-f", "-")
	webIP := m.webServes("")
	// The worker's range is the one the node-ipam-controller gave its Node.
	w1CIDR := m.mustKubectl("", "get", "node", w1, "-o", "jsonpath={.spec.podCIDR}")
	if _, r, err := net.ParseCIDR(w1CIDR); err != nil || !r.Contains(net.ParseIP(webIP)) {
		t.Errorf("web pod IP %s is not in the first worker's spec.podCIDR %q (%v)", webIP, w1CIDR, err)
	}
	m.podToPod("client-0", webIP)
	m.podToHost()

	restarts := []struct {
		name    string
		restart func(before map[string]string) bool
	}{
		{"docker restart", func(map[string]string) bool {
			out, err := exec.CommandContext(ctx, "docker", append([]string{"restart"}, nodes...)...).CombinedOutput()
			if err != nil {
				t.Fatalf("docker restart: %v\n%s", err, out)
			}
			return true
		}},
		{"new addresses", func(before map[string]string) bool {
			if out, err := exec.CommandContext(ctx, "docker", append([]string{"stop"}, nodes...)...).CombinedOutput(); err != nil {
				t.Fatalf("docker stop: %v\n%s", err, out)
			}
			holdAddresses(ctx, t, cli, name, before)
			if out, err := exec.CommandContext(ctx, "docker", append([]string{"start"}, nodes...)...).CombinedOutput(); err != nil {
				t.Fatalf("docker start: %v\n%s", err, out)
			}
			return true
		}},
		{"engine restart (a host reboot)", func(map[string]string) bool { return restartEngine(ctx, t) }},
	}
	notRun := "" // a restart that was not opted in (restartEngine)
	for i, r := range restarts {
		before := m.ips(nodes)
		restartAt := time.Now()
		if !r.restart(before) {
			t.Logf("%s: not run (set KINC_E2E_RESTART_ENGINE=1 on a machine whose Docker engine may be restarted)", r.name)
			notRun = r.name
			continue
		}
		after := m.ips(nodes)
		if r.name == "new addresses" {
			for _, n := range nodes {
				if after[n] == before[n] {
					t.Fatalf("%s kept %s although it was taken", n, after[n])
				}
			}
		}
		t.Logf("%s: addresses %v → %v", r.name, before, after)
		m.nodesBack(after, m.started(nodes))
		t.Logf("%s: every node Ready at its address, heartbeat after its start, %s after the restart began", r.name, time.Since(restartAt).Round(100*time.Millisecond))

		if out := m.mustKubectl("", "get", "configmap", "survivor", "-o", "jsonpath={.data.kept}"); out != "yes" {
			t.Errorf("%s: configmap survivor holds %q", r.name, out)
		}
		webIP = m.webServes(webIP)
		t.Logf("%s: web serving across nodes again at %s, %s after the restart began", r.name, webIP, time.Since(restartAt).Round(100*time.Millisecond))
		if logs := m.mustKubectl("", "logs", "web"); !strings.Contains(logs, "started") {
			t.Errorf("%s: kubectl logs web = %q", r.name, logs)
		}
		m.podToPod(fmt.Sprintf("client-%d", i+1), webIP)
		m.etcdPeerAt(after[cp])
		if ep := m.mustKubectl("", "get", "endpoints", "kubernetes", "-o", "jsonpath={.subsets[0].addresses[0].ip}"); ep != after[cp] {
			t.Errorf("%s: default/kubernetes endpoints %q, want the control plane's address %s", r.name, ep, after[cp])
		}
	}

	if _, err := run(t, "delete", "cluster", "--name", name, "--kubeconfig", m.kubeconfig); err != nil {
		t.Fatal(err)
	}
	if n := len(containers(t, cli, name)); n != 0 {
		t.Errorf("%d containers left after delete", n)
	}
	if data, _ := os.ReadFile(m.kubeconfig); strings.Contains(string(data), "kinc-"+name) {
		t.Errorf("kubeconfig still names the cluster:\n%s", data)
	}
	if notRun != "" {
		// Every other phase and check ran; the test still did not do all it
		// says: a skip naming why, and a failure under CI.
		testenv.Missing(t, "%s: not run, the other restarts passed: set KINC_E2E_RESTART_ENGINE=1 on a machine whose Docker engine may be restarted (.ci/run does)", notRun)
	}
}

// restartEngine stops and starts the Docker engine, as a host reboot does:
// with systemctl where systemd runs it, else (the engine hack/ensure-docker.sh
// started, as in CI) by SIGTERM and the script. The nodes come back by their
// restart policy alone. It reports false, doing nothing, unless
// KINC_E2E_RESTART_ENGINE=1; opted in, t fails when neither way applies (no
// local dockerd: Docker Desktop, a remote DOCKER_HOST).
func restartEngine(ctx context.Context, t *testing.T) bool {
	t.Helper()
	if os.Getenv("KINC_E2E_RESTART_ENGINE") != "1" {
		// It stops every container of the engine, not only this test's:
		// opt-in (.ci/run opts in on its throwaway machine).
		return false
	}
	if exec.CommandContext(ctx, "systemctl", "is-active", "--quiet", "docker").Run() == nil {
		if out, err := exec.CommandContext(ctx, "systemctl", "restart", "docker").CombinedOutput(); err != nil {
			t.Fatalf("systemctl restart docker: %v\n%s", err, out)
		}
		return true
	}
	out, err := exec.CommandContext(ctx, "pgrep", "-x", "dockerd").Output()
	pids := strings.Fields(string(out))
	if err != nil || len(pids) != 1 {
		t.Fatalf("KINC_E2E_RESTART_ENGINE=1 but the Docker engine cannot be restarted here: docker is not a systemd unit and pgrep -x dockerd found %d processes (%v), want one (a local engine started by hack/ensure-docker.sh)", len(pids), err)
	}
	if out, err := exec.CommandContext(ctx, "kill", "-TERM", pids[0]).CombinedOutput(); err != nil {
		t.Fatalf("kill dockerd: %v\n%s", err, out)
	}
	deadline := time.Now().Add(time.Minute)
	for exec.CommandContext(ctx, "kill", "-0", pids[0]).Run() == nil {
		if time.Now().After(deadline) {
			t.Fatalf("dockerd %s did not stop within a minute", pids[0])
		}
		time.Sleep(100 * time.Millisecond)
	}
	if out, err := exec.CommandContext(ctx, "../../hack/ensure-docker.sh").CombinedOutput(); err != nil {
		t.Fatalf("hack/ensure-docker.sh: %v\n%s", err, out)
	}
	return true
}

// holdAddresses runs a placeholder container on the kinc network at each
// address, so the stopped nodes cannot get them back. The placeholders go
// when the test ends.
func holdAddresses(ctx context.Context, t *testing.T, cli *client.Client, cluster string, ips map[string]string) {
	t.Helper()
	for node, ip := range ips {
		name := "kinc-e2e-hold-" + node
		_ = cli.ContainerRemove(ctx, name, container.RemoveOptions{Force: true})
		created, err := cli.ContainerCreate(ctx,
			&container.Config{Image: framework.BusyboxImage, Cmd: []string{"sleep", "3600"}, Labels: map[string]string{"kinc-e2e-hold": cluster}},
			&container.HostConfig{AutoRemove: false},
			&network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
				constants.NetworkName: {IPAMConfig: &network.EndpointIPAMConfig{IPv4Address: ip}},
			}}, nil, name)
		if err != nil {
			t.Fatalf("hold %s: %v", ip, err)
		}
		t.Cleanup(func() {
			_ = cli.ContainerRemove(context.Background(), created.ID, container.RemoveOptions{Force: true})
		})
		if err := cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
			t.Fatalf("hold %s: %v", ip, err)
		}
	}
}
