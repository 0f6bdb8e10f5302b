package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// recorder is a testing.TB that records Fatalf and Skipf instead of ending
// the test.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
}
func (r *recorder) Skipf(format string, args ...any) {
	r.skip = fmt.Sprintf(format, args...)
}

func TestMissing(t *testing.T) {
	for _, tc := range []struct {
		ci        string
		wantFatal bool
	}{{"", false}, {"false", false}, {"true", true}, {"1", true}, {"yes", false}} {
		t.Run("CI="+tc.ci, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			r := &recorder{TB: t}
			Missing(r, "kubectl is not installed (%s)", "run hack/ensure-kubectl.sh")
			const want = "kubectl is not installed (run hack/ensure-kubectl.sh)"
			if tc.wantFatal {
				if r.skip != "" || !strings.HasPrefix(r.fatal, "CI=true") || !strings.HasSuffix(r.fatal, want) {
					t.Fatalf("fatal %q, skip %q: want a failure saying CI=true and %q", r.fatal, r.skip, want)
				}
				return
			}
			if r.fatal != "" || r.skip != want {
				t.Fatalf("fatal %q, skip %q: want skip %q", r.fatal, r.skip, want)
			}
		})
	}
}

func TestRequireCommand(t *testing.T) {
	t.Setenv("CI", "")
	t.Setenv("PATH", t.TempDir())
	r := &recorder{TB: t}
	RequireCommand(r, "kinc-no-such-program", "apt-get install it")
	if want := "kinc-no-such-program is not installed (apt-get install it)"; r.skip != want {
		t.Fatalf("skip %q, want %q", r.skip, want)
	}
}

func executable(t *testing.T, path string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestKubectlPath(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PATH", t.TempDir())

	t.Setenv(KubectlEnv, executable(t, filepath.Join(dir, "my-kubectl")))
	if got, err := KubectlPath(); err != nil || got != filepath.Join(dir, "my-kubectl") {
		t.Errorf("KubectlPath() = %q, %v; want %s", got, err, filepath.Join(dir, "my-kubectl"))
	}

	t.Setenv(KubectlEnv, filepath.Join(dir, "absent"))
	if _, err := KubectlPath(); err == nil || !strings.Contains(err.Error(), KubectlEnv) {
		t.Errorf("KubectlPath() with a missing %s: error %v, want one naming it", KubectlEnv, err)
	}

	// Without the variable: bin/kubectl of this repository, else the PATH's.
	t.Setenv(KubectlEnv, "")
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	got, err := KubectlPath()
	if _, statErr := os.Stat(filepath.Join(root, "bin", "kubectl")); statErr == nil {
		if err != nil || got != filepath.Join(root, "bin", "kubectl") {
			t.Errorf("KubectlPath() = %q, %v; want bin/kubectl", got, err)
		}
	} else if err == nil || !strings.Contains(err.Error(), "hack/ensure-kubectl.sh") {
		t.Errorf("KubectlPath() with no kubectl = %q, %v; want an error naming hack/ensure-kubectl.sh", got, err)
	}
}

func TestKubectlVersions(t *testing.T) {
	dir, pathDir := t.TempDir(), t.TempDir()
	primary := executable(t, filepath.Join(dir, "kubectl"))
	old := executable(t, filepath.Join(dir, "kubectl.1.27"))
	executable(t, filepath.Join(dir, "kubectl.1.30")) // neither oldest nor newest
	// The PATH's kubectl links into another directory holding the newest.
	other := t.TempDir()
	executable(t, filepath.Join(other, "kubectl"))
	newest := executable(t, filepath.Join(other, "kubectl.1.33"))
	if err := os.Symlink(filepath.Join(other, "kubectl"), filepath.Join(pathDir, "kubectl")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", pathDir)
	t.Setenv(KubectlEnv, primary)
	if got, want := KubectlVersions(t), []string{primary, old, newest}; !reflect.DeepEqual(got, want) {
		t.Errorf("KubectlVersions() = %q, want %q", got, want)
	}
	// The primary is one of the versions: listed once.
	t.Setenv(KubectlEnv, old)
	if got, want := KubectlVersions(t), []string{old, newest}; !reflect.DeepEqual(got, want) {
		t.Errorf("KubectlVersions() = %q, want %q", got, want)
	}
}
