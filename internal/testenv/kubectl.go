package testenv

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// KubectlEnv names the variable holding the kubectl binary tests run. The
// Makefile's integration, e2e and test targets set it from
// hack/ensure-kubectl.sh.
const KubectlEnv = "KINC_KUBECTL"

// module is this repository's module path, to find its root (and bin/).
const module = "github.com/kinc-dev/kinc"

// KubectlPath returns the kubectl tests run, so that none depends on the
// kubectl that happens to be first on the PATH: $KINC_KUBECTL when set (it
// must be executable), else bin/kubectl of this repository (the pinned one
// hack/ensure-kubectl.sh builds), else kubectl on the PATH. The error says
// how to get one.
func KubectlPath() (string, error) {
	if k := os.Getenv(KubectlEnv); k != "" {
		path, err := exec.LookPath(k)
		if err != nil {
			return "", fmt.Errorf("%s=%s is not an executable: %w", KubectlEnv, k, err)
		}
		return path, nil
	}
	if root, err := repoRoot(); err == nil {
		bin := filepath.Join(root, "bin", "kubectl")
		if path, err := exec.LookPath(bin); err == nil {
			return path, nil
		}
	}
	if path, err := exec.LookPath("kubectl"); err == nil {
		return path, nil
	}
	return "", errors.New("no kubectl: run hack/ensure-kubectl.sh (it builds a pinned kubectl into bin/kubectl " +
		"when none 1.27-1.33 is on the PATH; make integration/e2e/test run it), or set " + KubectlEnv)
}

// RequireKubectl returns KubectlPath's binary, or reports kubectl missing
// (see Missing).
func RequireKubectl(tb testing.TB) string {
	tb.Helper()
	path, err := KubectlPath()
	if err != nil {
		Missing(tb, "%v", err)
	}
	return path
}

// KubectlVersions returns the kubectl binaries a multi-version test runs:
// RequireKubectl's first, then the oldest and newest supported versions,
// kubectl.1.27 and kubectl.1.33, each the first found beside it, beside the
// PATH's kubectl (symlinks followed), as on machines with several kubectl
// versions installed side by side, or in this repository's bin/ (where
// hack/ensure-kubectl.sh --skew builds them). Each binary appears once.
func KubectlVersions(tb testing.TB) []string {
	tb.Helper()
	primary := RequireKubectl(tb)
	var dirs []string
	for _, p := range []string{primary, pathKubectl()} {
		if p == "" {
			continue
		}
		if real, err := filepath.EvalSymlinks(p); err == nil {
			dirs = append(dirs, filepath.Dir(real))
		}
	}
	if root, err := repoRoot(); err == nil {
		dirs = append(dirs, filepath.Join(root, "bin"))
	}
	bins := []string{primary}
	seen := map[string]bool{realPath(primary): true}
	for _, v := range []string{"1.27", "1.33"} {
		for _, d := range dirs {
			p := filepath.Join(d, "kubectl."+v)
			if _, err := exec.LookPath(p); err != nil {
				continue
			}
			if !seen[realPath(p)] {
				seen[realPath(p)] = true
				bins = append(bins, p)
			}
			break
		}
	}
	return bins
}

func pathKubectl() string {
	p, _ := exec.LookPath("kubectl")
	return p
}

func realPath(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}

// repoRoot returns the directory of this module's go.mod, searched upwards
// from the working directory (a test runs in its package's directory).
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if isModuleRoot(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of %s above the working directory", module)
		}
		dir = parent
	}
}

func isModuleRoot(goMod string) bool {
	f, err := os.Open(goMod)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) == 2 && fields[0] == "module" {
			return fields[1] == module
		}
	}
	return false
}
