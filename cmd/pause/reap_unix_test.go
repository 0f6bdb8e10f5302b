//go:build unix

package main

import (
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestReapZombies leaves an exited child unwaited (a zombie) and checks that
// reapZombies collects it.
func TestReapZombies(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatalf("cannot start a child: %v", err)
	}
	pid := cmd.Process.Pid
	deadline := time.Now().Add(5 * time.Second)
	for {
		reapZombies()
		// Once reaped, signal 0 to the pid fails (ESRCH).
		if err := syscall.Kill(pid, 0); err != nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("child %d was not reaped", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
