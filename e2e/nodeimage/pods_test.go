//go:build e2e

package nodeimage

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/client"

	"github.com/kinc-dev/kinc/pkg/version"
)

// bridgeConf is a bridge + host-local network from Debian's plugins in
// /usr/lib/cni, as a CNI addon would install.
const bridgeConf = `{
  "cniVersion": "1.0.0",
  "name": "e2e-bridge",
  "plugins": [
    {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.244.0.0/24"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
`

// runPod starts a CRI sandbox (the pause image) and, in it, a container of
// our etcd image running `etcd --version` the way a static pod names its
// binary; it checks the output and exit code, cleans up, and returns the
// sandbox's IP ("" on the host network). runpFlags go to `crictl runp`
// (e.g. --runtime <handler>).
func runPod(ctx context.Context, t *testing.T, cli *client.Client, id, name, linux string, runpFlags ...string) string {
	t.Helper()
	// Not under /tmp: docker cp cannot write into the node's tmpfs mounts.
	dir := "/var/lib/kinc-e2e/" + name
	mustExec(ctx, t, cli, id, "mkdir", "-p", dir)
	pod := `{"metadata": {"name": "e2e-` + name + `", "namespace": "default", "uid": "e2e-` + name + `-uid", "attempt": 0},
  "log_directory": "` + dir + `/logs", ` + linux + `}`
	ctr := `{"metadata": {"name": "etcd-version"}, "image": {"image": "` + version.EtcdImage + `"},
  "command": ["etcd", "--version"], "log_path": "etcd-version.log", "linux": {}}`
	writeFiles(ctx, t, cli, id, map[string]string{dir + "/pod.json": pod, dir + "/ctr.json": ctr})

	start := time.Now()
	sandbox := mustExec(ctx, t, cli, id, append(append([]string{"crictl", "runp"}, runpFlags...), dir+"/pod.json")...)
	t.Logf("sandbox %s ready in %s", sandbox[:12], time.Since(start).Round(time.Millisecond))
	defer func() {
		_, _ = execIn(ctx, cli, id, "crictl", "stopp", sandbox)
		_, _ = execIn(ctx, cli, id, "crictl", "rmp", sandbox)
	}()
	c := mustExec(ctx, t, cli, id, "crictl", "create", sandbox, dir+"/ctr.json", dir+"/pod.json")
	mustExec(ctx, t, cli, id, "crictl", "start", c)
	if code := waitExited(ctx, t, cli, id, c); code != "0" {
		t.Errorf("etcd --version exited %s", code)
	}
	logs := mustExec(ctx, t, cli, id, "crictl", "logs", c)
	if !strings.Contains(logs, "etcd Version: 3.7.3") {
		t.Errorf("etcd --version printed %q", logs)
	}
	return mustExec(ctx, t, cli, id, "crictl", "inspectp", "-o", "go-template", "--template", "{{.status.network.ip}}", sandbox)
}
