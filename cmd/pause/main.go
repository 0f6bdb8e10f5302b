// Command pause is the sandbox ("infra") container of every pod, like
// upstream's pause.c: it holds the pod's namespaces open by blocking until
// SIGINT or SIGTERM (then it exits 0), and reaps zombies when it is PID 1 of
// a pod's shared PID namespace. kinc ships it as registry.k8s.io/pause.
package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/kinc-dev/kinc/pkg/version"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-v" {
		fmt.Printf("pause (kinc %s)\n", version.Version())
		return
	}
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "Warning: pause should be the first process")
	}
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, notifySignals()...)
	os.Exit(run(sigs, os.Stderr, reapZombies))
}

// run blocks on sigs: SIGCHLD calls reap, SIGINT and SIGTERM end the process
// with status 0, as upstream's pause does. It returns the exit status.
func run(sigs <-chan os.Signal, stderr io.Writer, reap func()) int {
	for s := range sigs {
		if isChildSignal(s) {
			reap()
			continue
		}
		fmt.Fprintf(stderr, "Shutting down, got signal: %v\n", s)
		return 0
	}
	return 0
}
