//go:build !unix

package main

import (
	"os"
	"syscall"
)

// reapZombies does nothing where there are no zombies to reap; pause only
// runs in Linux containers, this keeps `go build ./...` working elsewhere.
func reapZombies() {}

// notifySignals are the signals pause handles.
func notifySignals() []os.Signal { return []os.Signal{os.Interrupt, syscall.SIGTERM} }

func isChildSignal(os.Signal) bool { return false }
