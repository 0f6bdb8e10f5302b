//go:build e2e

package framework

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kinc-dev/kinc/internal/testenv"
)

// RequireKubectl returns the real kubectl the e2e tests run (see
// testenv.KubectlPath: $KINC_KUBECTL, bin/kubectl, the PATH's); without one
// tb is skipped, or fails under CI. Call it before creating a cluster.
func RequireKubectl(tb testing.TB) string {
	tb.Helper()
	return testenv.RequireKubectl(tb)
}

// Kubectl runs the real kubectl (testenv.KubectlPath) against kubeconfig
// with stdin and returns its combined output; a failure is an error carrying
// the arguments and the output.
func Kubectl(ctx context.Context, kubeconfig, stdin string, args ...string) (string, error) {
	kubectl, err := testenv.KubectlPath()
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, kubectl, append([]string{"--kubeconfig", kubeconfig, "--request-timeout", "20s"}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// Eventually polls cond every interval until it holds, and returns how long
// that took; after timeout tb fails with what and what describe (when not
// nil) says.
func Eventually(tb testing.TB, timeout, interval time.Duration, what string, cond func() bool, describe func() string) time.Duration {
	tb.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > timeout {
			msg := ""
			if describe != nil {
				msg = describe()
			}
			tb.Fatalf("%s: not after %s\n%s", what, timeout, msg)
		}
		time.Sleep(interval)
	}
	return time.Since(start)
}
