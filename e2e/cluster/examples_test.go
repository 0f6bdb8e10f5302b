//go:build e2e

package cluster

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kinc-dev/kinc/e2e/framework"
	"github.com/kinc-dev/kinc/internal/testenv"
)

// kindPortMapping is kind's site/static/examples/config-with-port-mapping.yaml,
// verbatim.
const kindPortMapping = `kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
- role: control-plane
  # port forward 80 on the host to 80 on this node
  extraPortMappings:
  - containerPort: 80
    hostPort: 80
    # optional: set the bind address on the host
    # 0.0.0.0 is the current default
    listenAddress: "127.0.0.1"
    # optional: set the protocol to one of TCP, UDP, SCTP.
    # TCP is the default
    protocol: TCP
`

// kindMounts is kind's site/static/examples/config-with-mounts.yaml; only
// its placeholder host paths are replaced by directories of the test.
const kindMounts = `kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
- role: control-plane
  # add a mount from /path/to/my/files on the host to /files on the node
  extraMounts:
  - hostPath: /path/to/my/files
    containerPath: /files
  #
  # add an additional mount leveraging *all* of the config fields
  #
  # generally you only need the two fields above ...
  #
  - hostPath: /path/to/my/other-files/
    containerPath: /other-files
    # optional: if set, the mount is read-only.
    # default false
    readOnly: true
    # optional: if set, the mount needs SELinux relabeling.
    # default false
    selinuxRelabel: false
    # optional: set propagation mode (None, HostToContainer or Bidirectional)
    # see https://kubernetes.io/docs/concepts/storage/volumes/#mount-propagation
    # default None
    #
    # WARNING: You very likely do not need this field.
    #
    # This field controls propagation of *additional* mounts created
    # *at runtime* underneath this mount.
    #
    # On MacOS with Docker Desktop, if the mount is from macOS and not the
    # docker desktop VM, you cannot use this field. You can use it for
    # mounts to the linux VM.
    propagation: None
`

// hostPortPod serves a page on the node's port 80 (hostPort).
const hostPortPod = `apiVersion: v1
kind: Pod
metadata:
  name: port80
spec:
  containers:
  - name: web
    image: ` + framework.BusyboxImage + `
    imagePullPolicy: Never
    command: ["sh", "-c", "mkdir -p /www && echo hello-through-port-80 > /www/index.html && exec httpd -f -p 80 -h /www"]
    ports:
    - containerPort: 80
      hostPort: 80
`

// TestKindExamplePortMapping creates a cluster from kind's port-mapping
// example: a pod with hostPort 80 on the node answers on the host's
// 127.0.0.1:80.
func TestKindExamplePortMapping(t *testing.T) {
	if l, err := net.Listen("tcp", "127.0.0.1:80"); err != nil {
		testenv.Missing(t, "127.0.0.1:80 is taken on this host, kind's example cannot bind it (free the port): %v", err)
	} else {
		l.Close()
	}
	m := newMulti(t, "kinc-e2e-ports", 6*time.Minute)
	m.create(kindPortMapping)
	if _, err := run(t, "load", "docker-image", framework.BusyboxImage, "--name", m.name); err != nil {
		t.Fatal(err)
	}
	m.mustKubectl(hostPortPod, "apply", "-f", "-")
	var last string
	took := m.eventually(90*time.Second, "the pod's page on the host's 127.0.0.1:80", func() bool {
		resp, err := (&http.Client{Timeout: 2 * time.Second}).Get("http://127.0.0.1:80/")
		if err != nil {
			last = err.Error()
			return false
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		last = fmt.Sprintf("%d %q", resp.StatusCode, body)
		return resp.StatusCode == 200 && strings.TrimSpace(string(body)) == "hello-through-port-80"
	}, func() string { d, _ := m.kubectl("", "describe", "pod", "port80"); return "last: " + last + "\n" + d })
	t.Logf("host 127.0.0.1:80 → node :80 → pod hostPort 80 served %s after apply", took)
}

// TestKindExampleMounts creates a cluster from kind's mounts example: the
// node sees the host's files, and the read-only mount refuses writes.
func TestKindExampleMounts(t *testing.T) {
	m := newMulti(t, "kinc-e2e-mounts", 6*time.Minute)
	files, other := t.TempDir(), t.TempDir()
	must(t, os.WriteFile(filepath.Join(files, "hello"), []byte("from the host\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(other, "config"), []byte("read only\n"), 0o644))
	doc := strings.NewReplacer("/path/to/my/files", files, "/path/to/my/other-files/", other+"/").Replace(kindMounts)
	m.create(doc)
	cp := m.name + "-control-plane"
	if out, err := m.node(cp, "cat", "/files/hello", "/other-files/config"); err != nil || out != "from the host\nread only\n" {
		t.Errorf("mounted files read %q (%v)", out, err)
	}
	if _, err := m.node(cp, "touch", "/files/written-by-node"); err != nil {
		t.Errorf("/files is not writable: %v", err)
	} else if _, err := os.Stat(filepath.Join(files, "written-by-node")); err != nil {
		t.Errorf("a file written in /files is not on the host: %v", err)
	}
	if out, err := m.node(cp, "touch", "/other-files/x"); err == nil || !strings.Contains(out, "Read-only file system") {
		t.Errorf("writing the readOnly mount: %q %v", out, err)
	}
}
