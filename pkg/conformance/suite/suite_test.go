package suite

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/kinc-dev/kinc/pkg/exec/exectest"
)

const upstreamGoMod = `module k8s.io/kubernetes

go 1.26.0

require (
	github.com/onsi/ginkgo/v2 v2.32.0
	k8s.io/api v0.0.0
	k8s.io/client-go v0.0.0
	k8s.io/sample-apiserver v0.0.0
)

require k8s.io/kms v0.0.0 // indirect

replace (
	k8s.io/api => ./staging/src/k8s.io/api
	k8s.io/client-go => ./staging/src/k8s.io/client-go
	k8s.io/kms => ./staging/src/k8s.io/kms
	k8s.io/sample-apiserver => ./staging/src/k8s.io/sample-apiserver
	k8s.io/sample-controller => ./staging/src/k8s.io/sample-controller
	example.com/x => example.com/y v1.0.0
)
`

func TestStagingModules(t *testing.T) {
	t.Parallel()
	got := StagingModules([]byte(upstreamGoMod))
	// sample-controller is replaced but not required: not on the proxy.
	want := []string{"k8s.io/api", "k8s.io/client-go", "k8s.io/kms", "k8s.io/sample-apiserver"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("StagingModules = %v, want %v", got, want)
	}
}

// fakeGo answers go the way a working toolchain with a module proxy does:
// binaries appear where -o says.
func fakeGo(t *testing.T, upstream string) *exectest.Cmder {
	t.Helper()
	return &exectest.Cmder{Handle: func(c *exectest.Call) error {
		args := c.Args
		switch {
		case c.Line() == "go env GOVERSION":
			_, _ = c.Stdout.Write([]byte("go1.26.8\n"))
		case c.Line() == "go env CC":
			_, _ = c.Stdout.Write([]byte("gcc\n"))
		case strings.HasPrefix(c.Line(), "go mod download -json"):
			return json.NewEncoder(c.Stdout).Encode(map[string]string{"GoMod": upstream})
		case args[0] == "go":
			if i := slices.Index(args, "-o"); i > 0 {
				return os.WriteFile(args[i+1], []byte("binary"), 0o755)
			}
		}
		return nil
	}}
}

func TestBuildThenReuse(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	upstream := filepath.Join(dir, "kubernetes.mod")
	if err := os.WriteFile(upstream, []byte(upstreamGoMod), 0o644); err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(dir, "cache")
	clock := clocktesting.NewFakeClock(time.Unix(1e9, 0))
	cmder := fakeGo(t, upstream)
	opts := Options{Cmder: cmder, Clock: clock, CacheDir: cache, KubernetesVersion: "v1.37.2"}
	s, err := Build(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if s.E2ETest != filepath.Join(cache, "v1.37.2", "bin", "e2e.test") || s.Kubectl == "" || s.Agnhost == "" || s.SampleAPIServer == "" {
		t.Errorf("suite %+v", s)
	}
	mod, err := os.ReadFile(filepath.Join(cache, "v1.37.2", "module", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"require k8s.io/kubernetes v1.37.2", "replace k8s.io/api => k8s.io/api v0.37.2",
		"replace k8s.io/kms => k8s.io/kms v0.37.2", "godebug default=go1.26"} {
		if !strings.Contains(string(mod), want) {
			t.Errorf("go.mod lacks %q:\n%s", want, mod)
		}
	}
	if strings.Contains(string(mod), "sample-controller") {
		t.Errorf("go.mod replaces a module the proxy does not have:\n%s", mod)
	}
	tools, _ := os.ReadFile(filepath.Join(cache, "v1.37.2", "module", "tools.go"))
	if !strings.Contains(string(tools), `_ "k8s.io/kubernetes/test/e2e"`) || !strings.HasPrefix(string(tools), "//go:build tools") {
		t.Errorf("tools.go:\n%s", tools)
	}

	var e2e, kubectl *exectest.Call
	for _, c := range cmder.Calls() {
		switch {
		case slices.Contains(c.Args, "k8s.io/kubernetes/test/e2e"):
			e2e = &c
		case slices.Contains(c.Args, "k8s.io/kubernetes/cmd/kubectl"):
			kubectl = &c
		}
	}
	if e2e == nil || kubectl == nil {
		t.Fatalf("e2e.test or kubectl not built:\n%s", strings.Join(cmder.Lines(), "\n"))
	}
	if !strings.Contains(e2e.Line(), "test -c -vet=off -trimpath") || !slices.Contains(e2e.Env, "CGO_ENABLED=1") {
		t.Errorf("e2e.test built with %q env %v", e2e.Line(), e2e.Env)
	}
	if !slices.Contains(kubectl.Env, "CGO_ENABLED=0") || !slices.Contains(kubectl.Env, "GOWORK=off") {
		t.Errorf("kubectl built with env %v", kubectl.Env)
	}
	if !strings.Contains(kubectl.Line(), "k8s.io/component-base/version.gitVersion=v1.37.2") ||
		!strings.Contains(kubectl.Line(), "k8s.io/client-go/pkg/version.gitMinor=37") {
		t.Errorf("kubectl not stamped as a release: %s", kubectl.Line())
	}
	if last := cmder.Lines()[len(cmder.Lines())-1]; !strings.Contains(last, "test/e2e") {
		t.Errorf("e2e.test is not built last: %s", last)
	}

	// Same inputs: nothing is compiled again.
	again := fakeGo(t, upstream)
	opts.Cmder = again
	if _, err := Build(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if again.Ran("go -C") {
		t.Errorf("a build with the same inputs compiled again:\n%s", strings.Join(again.Lines(), "\n"))
	}

	// Another Go toolchain: everything is rebuilt.
	newer := fakeGo(t, upstream)
	handle := newer.Handle
	newer.Handle = func(c *exectest.Call) error {
		if c.Line() == "go env GOVERSION" {
			_, _ = c.Stdout.Write([]byte("go1.26.9\n"))
			return nil
		}
		return handle(c)
	}
	opts.Cmder = newer
	if _, err := Build(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if !newer.Ran("go -C " + filepath.Join(cache, "v1.37.2", "module") + " test -c") {
		t.Errorf("a new toolchain did not rebuild e2e.test:\n%s", strings.Join(newer.Lines(), "\n"))
	}
}

func TestBuildFailureKeepsNoStaleStamp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	upstream := filepath.Join(dir, "kubernetes.mod")
	if err := os.WriteFile(upstream, []byte(upstreamGoMod), 0o644); err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(dir, "cache")
	cmder := fakeGo(t, upstream)
	handle := cmder.Handle
	cmder.Handle = func(c *exectest.Call) error {
		if slices.Contains(c.Args, "k8s.io/kubernetes/test/e2e") {
			_, _ = c.Stderr.Write([]byte("compile: out of memory\n"))
			return errors.New("exit status 2")
		}
		return handle(c)
	}
	_, err := Build(context.Background(), Options{Cmder: cmder, CacheDir: cache, KubernetesVersion: "v1.37.2"})
	if err == nil || !strings.Contains(err.Error(), "compile e2e.test failed") || !strings.Contains(err.Error(), "out of memory") {
		t.Fatalf("Build = %v, want the compile error with its output", err)
	}
	if _, err := os.Stat(filepath.Join(cache, "v1.37.2", "bin", ".stamp")); err == nil {
		t.Error("a failed build left a stamp")
	}
	if _, err := os.Stat(filepath.Join(cache, "v1.37.2", "bin", "e2e.test.tmp")); err == nil {
		t.Error("a failed build left a partial binary")
	}
}

func TestBuildRejectsBadInput(t *testing.T) {
	t.Parallel()
	if _, err := Build(context.Background(), Options{CacheDir: t.TempDir(), KubernetesVersion: "1.37"}); err == nil {
		t.Error("a malformed version was accepted")
	}
	if _, err := Build(context.Background(), Options{}); err == nil {
		t.Error("no cache directory was accepted")
	}
	cmder := &exectest.Cmder{Handle: func(c *exectest.Call) error { return errors.New("executable file not found") }}
	_, err := Build(context.Background(), Options{Cmder: cmder, CacheDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "install Go") {
		t.Errorf("Build without go = %v", err)
	}
}
