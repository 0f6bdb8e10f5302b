// Package containerdtest starts a private containerd (its own config, root,
// state and socket under a temporary directory, the CRI plugin with
// restrict_oom_score_adj, overlayfs, bridge/host-local CNI) for kubelet
// integration tests, with a locally built pause image and test image.
package containerdtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/kinc-dev/kinc/internal/testenv"
	"github.com/kinc-dev/kinc/pkg/kubelet/cri"
)

// Image references imported into the instance.
const (
	PauseImage = "kinc.local/pause:test"
	TestImage  = "kinc.local/testbin:test"
)

// CNIBinDir is where Debian's containernetworking-plugins installs the plugins.
const CNIBinDir = "/usr/lib/cni"

// Instance is a running containerd.
type Instance struct {
	Dir      string
	Socket   string
	Endpoint string // unix:// + Socket
	LogPath  string
	Runtime  *cri.Client
	cmd      *exec.Cmd
	done     chan struct{}
}

// MaybeSkip skips t under -short, and when this machine cannot run
// containerd with CNI (no root, containerd, runc or CNI plugins) skips it or,
// under CI, fails it (testenv.Missing).
func MaybeSkip(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: skipped with -short")
	}
	testenv.RequireRoot(t, "containerd")
	for _, bin := range []string{"containerd", "ctr", "runc", "containerd-shim-runc-v2"} {
		testenv.RequireCommand(t, bin, "hack/ensure-test-deps.sh, or apt-get install containerd runc")
	}
	for _, p := range []string{"bridge", "host-local", "loopback", "portmap"} {
		testenv.RequireFile(t, filepath.Join(CNIBinDir, p), "CNI plugin: hack/ensure-test-deps.sh, or apt-get install containernetworking-plugins")
	}
}

// Start builds the images, starts containerd and imports them. Everything
// (pods, mounts, the process, the directory) is removed at test cleanup.
func Start(t testing.TB) *Instance {
	t.Helper()
	MaybeSkip(t)
	dir, err := os.MkdirTemp("", "kinc-ctrd-")
	if err != nil {
		t.Fatal(err)
	}
	in := &Instance{Dir: dir, Socket: filepath.Join(dir, "containerd.sock"), LogPath: filepath.Join(dir, "containerd.log")}
	in.Endpoint = "unix://" + in.Socket
	t.Cleanup(func() { in.stop(t) })
	if err := in.writeConfig(); err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(in.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	in.cmd = exec.Command("containerd", "--config", filepath.Join(dir, "config.toml"))
	in.cmd.Stdout, in.cmd.Stderr = logFile, logFile
	in.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := in.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	in.done = make(chan struct{})
	go func() { _ = in.cmd.Wait(); logFile.Close(); close(in.done) }()

	if in.Runtime, err = cri.Dial(in.Endpoint); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cri.WaitReady(ctx, in.Runtime, 100*time.Millisecond); err != nil {
		t.Fatalf("%v\ncontainerd log:\n%s", err, in.Log())
	}
	if err := in.importImages(t); err != nil {
		t.Fatal(err)
	}
	return in
}

// Log returns containerd's log so far.
func (in *Instance) Log() string {
	b, _ := os.ReadFile(in.LogPath)
	return string(b)
}

func (in *Instance) writeConfig() error {
	cniConf := filepath.Join(in.Dir, "cni")
	if err := os.MkdirAll(cniConf, 0o755); err != nil {
		return err
	}
	conflist := fmt.Sprintf(`{"cniVersion":"0.4.0","name":"kinctest","plugins":[
{"type":"bridge","bridge":"kinctest0","isGateway":true,"ipMasq":false,
 "ipam":{"type":"host-local","dataDir":%q,"ranges":[[{"subnet":"10.251.0.0/24"}]],"routes":[{"dst":"0.0.0.0/0"}]}},
{"type":"portmap","capabilities":{"portMappings":true}}]}`, filepath.Join(in.Dir, "cni-ipam"))
	if err := os.WriteFile(filepath.Join(cniConf, "10-kinctest.conflist"), []byte(conflist), 0o644); err != nil {
		return err
	}
	config := fmt.Sprintf(`version = 2
root = %[1]q
state = %[2]q
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = %[3]q
[ttrpc]
  address = %[4]q
[plugins."io.containerd.internal.v1.opt"]
  path = %[5]q
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %[6]q
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %[7]q
    conf_dir = %[8]q
`, filepath.Join(in.Dir, "root"), filepath.Join(in.Dir, "state"), in.Socket, filepath.Join(in.Dir, "ttrpc.sock"),
		filepath.Join(in.Dir, "opt"), PauseImage, CNIBinDir, cniConf)
	return os.WriteFile(filepath.Join(in.Dir, "config.toml"), []byte(config), 0o644)
}

// importImages builds testbin statically and imports the pause and test images.
func (in *Instance) importImages(t testing.TB) error {
	t.Helper()
	bin := filepath.Join(in.Dir, "testbin")
	build := exec.Command("go", "build", "-o", bin, "github.com/kinc-dev/kinc/pkg/kubelet/containerdtest/testbin")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build testbin: %v\n%s", err, out)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	for _, img := range []struct {
		ref, file string
		entry     []string
	}{{PauseImage, "pause", []string{"/pause"}}, {TestImage, "testbin", []string{"/testbin"}}} {
		tarPath := filepath.Join(in.Dir, img.file+".tar")
		if err := writeImageTar(tarPath, img.ref, map[string][]byte{img.file: data}, img.entry); err != nil {
			return err
		}
		out, err := exec.Command("ctr", "--address", in.Socket, "-n", "k8s.io", "images", "import", "--no-unpack", tarPath).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ctr images import %s: %v\n%s", img.ref, err, out)
		}
	}
	// The CRI plugin learns about imported images from events: wait for it.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, ref := range []string{PauseImage, TestImage} {
		for {
			img, err := in.Runtime.ImageStatus(ctx, &runtimeapi.ImageSpec{Image: ref})
			if err == nil && img != nil {
				break
			}
			if ctx.Err() != nil {
				return fmt.Errorf("image %s not visible through CRI: %v", ref, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}
