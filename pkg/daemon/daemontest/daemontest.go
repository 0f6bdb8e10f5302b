// Package daemontest runs a daemon.Command's command line in a test: the
// exit code and both streams, with klog left alone (it is process-global,
// and the tests of a main run in parallel).
package daemontest

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/kinc-dev/kinc/pkg/daemon"
)

// Execute runs c with args and returns its exit code, stdout and stderr.
// It sets c.Klog to a no-op.
func Execute(c *daemon.Command, args ...string) (code int, stdout, stderr string) {
	c.Klog = func(*slog.Logger, int) {}
	var out, errOut bytes.Buffer
	code = c.Execute(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// Case is one command line and what it must give: the exit code, and text
// that stdout and stderr must each contain ("" matches anything).
type Case struct {
	Args           []string
	Code           int
	Stdout, Stderr string
}

// Check runs every case on a fresh command from newCommand and reports
// each mismatch.
func Check(t testing.TB, newCommand func() *daemon.Command, cases ...Case) {
	t.Helper()
	for _, tc := range cases {
		code, stdout, stderr := Execute(newCommand(), tc.Args...)
		if code != tc.Code || !strings.Contains(stdout, tc.Stdout) || !strings.Contains(stderr, tc.Stderr) {
			t.Errorf("%q: code %d, stdout %q, stderr %q; want %d, %q, %q", tc.Args, code, stdout, stderr, tc.Code, tc.Stdout, tc.Stderr)
		}
	}
}
