//go:build unix

package main

import (
	"os"
	"syscall"
)

// reapZombies waits for every exited child without blocking, so processes
// orphaned into a pod's PID namespace do not linger as zombies.
func reapZombies() {
	for {
		pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}

// notifySignals are the signals pause handles.
func notifySignals() []os.Signal {
	return []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD}
}

func isChildSignal(s os.Signal) bool { return s == syscall.SIGCHLD }
