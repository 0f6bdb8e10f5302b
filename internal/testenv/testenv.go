// Package testenv is the one place where a test decides what to do when a
// part of the machine it needs is missing (root, containerd and runc, the CNI
// plugins, kubectl, a Docker engine, the node image, busybox): outside CI the
// test is skipped with a message saying what to install or run; under
// CI=true (set by .ci/run, and by most CI systems) the test FAILS with the
// same message, because CI is supposed to have every part and a skip there
// would hide that a tier did not run.
//
// It lives at the module root (not under pkg/) so that e2e/ can import it
// too. Skips that are not about a missing part (-short for integration tests,
// a table-driven case that does not apply) stay plain t.Skip.
package testenv

import (
	"os"
	"os/exec"
	"strconv"
	"testing"
)

// CI reports whether the tests run under CI: the environment variable CI is
// a true boolean ("true", "1", …).
func CI() bool {
	ci, err := strconv.ParseBool(os.Getenv("CI"))
	return err == nil && ci
}

// Missing reports that a part the test needs is absent: under CI tb fails
// (Fatalf), elsewhere it is skipped (Skipf). The message should name the part
// and how to get it.
func Missing(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if CI() {
		tb.Fatalf("CI=true and a part CI must provide is missing: "+format, args...)
	} else {
		tb.Skipf(format, args...)
	}
}

// RequireRoot reports root as missing (see Missing) unless the test runs as
// root; why says what needs it.
func RequireRoot(tb testing.TB, why string) {
	tb.Helper()
	if os.Geteuid() != 0 {
		Missing(tb, "%s needs root (run the tests as root, as .ci/run does)", why)
	}
}

// RequireCommand returns the path of the program name on the PATH, or
// reports it missing (see Missing) with install, the way to get it.
func RequireCommand(tb testing.TB, name, install string) string {
	tb.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		Missing(tb, "%s is not installed (%s)", name, install)
	}
	return path
}

// RequireFile reports path missing (see Missing) with install, the way to get
// it, unless it exists.
func RequireFile(tb testing.TB, path, install string) {
	tb.Helper()
	if _, err := os.Stat(path); err != nil {
		Missing(tb, "%s is missing (%s)", path, install)
	}
}
