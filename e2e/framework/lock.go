//go:build e2e

package framework

import (
	"os"
	"syscall"
	"testing"
	"time"
)

// nodeStopLock is shared by the e2e packages whose node containers must not
// run while another package stops a node gracefully: on cgroup v1 without
// the node image's own cgroup subtree, a node's systemd shutting down
// (docker stop or restart) trims the host's empty cgroups — among them the
// docker/<id> cgroups of every other node container — and `docker exec`
// into those nodes then fails ("error adding pid … to cgroups … no such
// file or directory").
const nodeStopLock = "/tmp/kinc-e2e-node-stop.lock"

// LockNodeStops holds nodeStopLock until tb ends (or the process exits).
func LockNodeStops(tb testing.TB) {
	tb.Helper()
	f, err := os.OpenFile(nodeStopLock, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		tb.Fatal(err)
	}
	start := time.Now()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		tb.Fatalf("flock %s: %v", nodeStopLock, err)
	}
	if d := time.Since(start); d > time.Second {
		tb.Logf("waited %s for %s (another e2e package stops nodes)", d.Round(100*time.Millisecond), nodeStopLock)
	}
	tb.Cleanup(func() { f.Close() })
}
