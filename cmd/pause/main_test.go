//go:build unix

package main

import (
	"bytes"
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestRunReapsOnSIGCHLDAndExitsOnTERM(t *testing.T) {
	t.Parallel()
	sigs := make(chan os.Signal, 3)
	sigs <- syscall.SIGCHLD
	sigs <- syscall.SIGCHLD
	sigs <- syscall.SIGTERM
	var stderr bytes.Buffer
	reaped := 0
	if code := run(sigs, &stderr, func() { reaped++ }); code != 0 {
		t.Fatalf("exit status %d, want 0", code)
	}
	if reaped != 2 {
		t.Fatalf("reaped %d times, want 2", reaped)
	}
	if !strings.Contains(stderr.String(), "Shutting down, got signal: terminated") {
		t.Fatalf("stderr %q", stderr.String())
	}
}
