package docker

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/go-connections/nat"

	"github.com/kinc-dev/kinc/pkg/cluster/config"
	"github.com/kinc-dev/kinc/pkg/log"
)

func plan(t *testing.T, doc string) []nodePlan {
	t.Helper()
	c, err := config.Load([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	config.SetDefaults(c, "kinc/node:test")
	if err := config.Validate(c); err != nil {
		t.Fatal(err)
	}
	port := 40000
	plans, err := planNodes(c, func(string) (int, error) { port++; return port, nil },
		func(p string) (string, error) { return "/cwd/" + strings.TrimPrefix(p, "./"), nil })
	if err != nil {
		t.Fatal(err)
	}
	return plans
}

func TestPlanNodes(t *testing.T) {
	t.Parallel()
	plans := plan(t, `kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
name: demo
nodes:
- role: control-plane
  extraPortMappings:
  - {containerPort: 80, hostPort: 8080, listenAddress: 127.0.0.1}
  - {containerPort: 53, protocol: UDP}
  extraMounts:
  - {hostPath: ./data, containerPath: /data, readOnly: true, propagation: HostToContainer}
- role: worker
- role: worker
`)
	var names []string
	for _, p := range plans {
		names = append(names, p.name)
	}
	if strings.Join(names, ",") != "demo-control-plane,demo-worker,demo-worker2" {
		t.Fatalf("names %v", names)
	}
	cp, w := plans[0], plans[2]
	if cp.config.Hostname != cp.name || cp.config.Labels["io.kinc.cluster"] != "demo" || cp.config.Labels["io.kinc.role"] != "control-plane" ||
		w.config.Labels["io.kinc.role"] != "worker" {
		t.Errorf("labels/hostname %+v %+v", cp.config, w.config)
	}
	if got := cp.host.PortBindings[apiServerPort]; len(got) != 1 || got[0] != (nat.PortBinding{HostIP: "127.0.0.1", HostPort: "40002"}) {
		t.Errorf("apiserver binding %v", got)
	}
	if got := cp.host.PortBindings["80/tcp"]; len(got) != 1 || got[0].HostPort != "8080" || got[0].HostIP != "127.0.0.1" {
		t.Errorf("port 80 binding %v", got)
	}
	if got := cp.host.PortBindings["53/udp"]; len(got) != 1 || got[0].HostPort != "40001" || got[0].HostIP != "0.0.0.0" {
		t.Errorf("port 53 binding %v", got)
	}
	if len(w.host.PortBindings) != 0 {
		t.Errorf("worker publishes %v", w.host.PortBindings)
	}
	if cp.host.Binds[len(cp.host.Binds)-1] != "/cwd/data:/data:ro,rslave" {
		t.Errorf("binds %v", cp.host.Binds)
	}
	if _, ok := cp.config.Volumes["/var"]; !ok || cp.host.Tmpfs["/run"] != "" || cp.host.CgroupnsMode != container.CgroupnsModePrivate ||
		cp.config.StopSignal != "SIGRTMIN+3" || *cp.host.Init {
		t.Errorf("node container basics %+v %+v", cp.config, cp.host)
	}
	if !contains(cp.config.Env, "KUBECONFIG=/etc/kubernetes/admin.conf") || contains(w.config.Env, "KUBECONFIG=/etc/kubernetes/admin.conf") {
		t.Errorf("env %v / %v", cp.config.Env, w.config.Env)
	}
}

func TestFixedAndDockerPickedAPIServerPort(t *testing.T) {
	t.Parallel()
	plans := plan(t, "kind: Cluster\napiVersion: kinc.dev/v1alpha4\nnetworking: {apiServerPort: 6443, apiServerAddress: 0.0.0.0}\n")
	if got := plans[0].host.PortBindings[apiServerPort][0]; got.HostPort != "6443" || got.HostIP != "0.0.0.0" {
		t.Errorf("fixed %v", got)
	}
	plans = plan(t, "kind: Cluster\napiVersion: kinc.dev/v1alpha4\nnetworking: {apiServerPort: -1}\n")
	if got := plans[0].host.PortBindings[apiServerPort][0]; got.HostPort != "" {
		t.Errorf("docker-picked %v", got)
	}
}

func TestApplySecurity(t *testing.T) {
	t.Parallel()
	var priv, caps container.HostConfig
	applySecurity(&priv, true)
	applySecurity(&caps, false)
	if !priv.Privileged || len(priv.CapAdd) != 0 {
		t.Errorf("privileged %+v", priv)
	}
	if caps.Privileged || !contains(caps.CapAdd, "ALL") || !contains(caps.CapDrop, "SYS_RESOURCE") ||
		!contains(caps.Binds, "/sys/fs/cgroup:/sys/fs/cgroup:rw") || !contains(caps.SecurityOpt, "seccomp=unconfined") ||
		caps.MaskedPaths == nil || len(caps.MaskedPaths) != 0 || caps.ReadonlyPaths == nil || len(caps.ReadonlyPaths) != 0 {
		t.Errorf("fallback %+v", caps)
	}
}

func TestPickPortError(t *testing.T) {
	t.Parallel()
	c := &config.Cluster{}
	config.SetDefaults(c, "img")
	_, err := planNodes(c, func(string) (int, error) { return 0, errors.New("no ports") }, nil)
	if err == nil || !strings.Contains(err.Error(), "pick a free port on 127.0.0.1: no ports") {
		t.Fatalf("error %v", err)
	}
}

func TestEngineErrorSaysWhatToDo(t *testing.T) {
	t.Parallel()
	if got := engineError("x", errors.New("plain")).Error(); got != "x: plain" {
		t.Errorf("got %q", got)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestPrivilegedMemo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := &provider{logger: log.NoopLogger{}, cacheDir: dir}
	if _, ok := p.readPrivilegedMemo(); ok {
		t.Fatal("a memo without an engine ID")
	}
	p.engineID = "ABCD:EFGH"
	if _, ok := p.readPrivilegedMemo(); ok {
		t.Fatal("a memo before any was written")
	}
	p.setPrivileged(false)
	if v, ok := (&provider{cacheDir: dir, engineID: "ABCD:EFGH"}).readPrivilegedMemo(); !ok || v {
		t.Errorf("another process reads %v %v, want false", v, ok)
	}
	if _, ok := (&provider{cacheDir: dir, engineID: "other"}).readPrivilegedMemo(); ok {
		t.Error("another engine read this engine's memo")
	}
	p.setPrivileged(true)
	if v, ok := p.readPrivilegedMemo(); !ok || !v {
		t.Errorf("read %v %v, want true", v, ok)
	}
	p.forgetPrivileged()
	if _, ok := p.readPrivilegedMemo(); ok || p.privileged != nil {
		t.Error("forgotten memo still read")
	}
	if err := os.WriteFile(filepath.Join(dir, "engine-ABCD:EFGH.privileged"), []byte("maybe\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok := p.readPrivilegedMemo(); ok {
		t.Error("garbage read as a memo")
	}
	p.engineID = "../escape"
	if p.privilegedMemo() != "" {
		t.Error("an engine ID with a slash names a path")
	}
}
