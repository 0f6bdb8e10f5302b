package containerdtest

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// stop removes every pod through CRI, stops containerd, unmounts what is
// left under Dir and removes it.
func (in *Instance) stop(t testing.TB) {
	if in.Runtime != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if cs, err := in.Runtime.ListContainers(ctx, nil); err == nil {
			for _, c := range cs {
				_ = in.Runtime.StopContainer(ctx, c.Id, 0)
				_ = in.Runtime.RemoveContainer(ctx, c.Id)
			}
		}
		if sbs, err := in.Runtime.ListPodSandbox(ctx, nil); err == nil {
			for _, sb := range sbs {
				_ = in.Runtime.StopPodSandbox(ctx, sb.Id)
				_ = in.Runtime.RemovePodSandbox(ctx, sb.Id)
			}
		}
		cancel()
		in.Runtime.Close()
	}
	if in.cmd != nil && in.cmd.Process != nil {
		_ = in.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-in.done:
		case <-time.After(10 * time.Second):
			_ = in.cmd.Process.Kill()
			<-in.done
		}
	}
	// A shim outlives containerd; kill the ones serving this instance
	// (e.g. of a container whose creation was interrupted).
	killProcesses(func(cmdline string) bool {
		return strings.Contains(cmdline, "containerd-shim") && strings.Contains(cmdline, in.Socket)
	})
	unmountUnder(in.Dir)
	if t.Failed() {
		t.Logf("containerd log tail:\n%s", tail(in.Log(), 40))
	}
	_ = os.RemoveAll(in.Dir)
}

func unmountUnder(dir string) {
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		return
	}
	defer f.Close()
	var mounts []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) > 1 && strings.HasPrefix(fields[1], dir) {
			mounts = append(mounts, fields[1])
		}
	}
	for i := len(mounts) - 1; i >= 0; i-- {
		_ = syscall.Unmount(mounts[i], syscall.MNT_DETACH)
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// RemoveCgroups removes the cgroup tree name (e.g. "kinc-test") from every
// hierarchy, deepest first; it only succeeds for cgroups without processes.
func RemoveCgroups(name string) {
	mounts, _ := filepath.Glob("/sys/fs/cgroup/*")
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		mounts = []string{"/sys/fs/cgroup"}
	}
	for _, m := range mounts {
		// Processes left in the tree (a container init stuck when its
		// creation was interrupted) were started by the test: kill them.
		_ = filepath.WalkDir(filepath.Join(m, name), func(p string, d os.DirEntry, err error) error {
			if err == nil && d.Name() == "cgroup.procs" {
				if b, err := os.ReadFile(p); err == nil {
					for _, f := range strings.Fields(string(b)) {
						if pid, err := strconv.Atoi(f); err == nil {
							_ = syscall.Kill(pid, syscall.SIGKILL)
						}
					}
				}
			}
			return nil
		})
	}
	time.Sleep(100 * time.Millisecond)
	for _, m := range mounts {
		var dirs []string
		_ = filepath.WalkDir(filepath.Join(m, name), func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			_ = os.Remove(dirs[i])
		}
	}
}

// killProcesses SIGKILLs the processes whose command line (NUL-separated
// arguments joined by spaces) match.
func killProcesses(match func(cmdline string) bool) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !match(strings.ReplaceAll(string(b), "\x00", " ")) {
			continue
		}
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}
