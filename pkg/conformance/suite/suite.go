// Package suite builds the upstream Kubernetes conformance suite, the
// `e2e.test` binary of k8s.io/kubernetes/test/e2e, and the programs around it
// (a kubectl, the ginkgo CLI, and the binaries of the test images: agnhost,
// nonewprivs, sample-apiserver) at kinc's Kubernetes version, from the Go
// module proxy.
//
// They are built in a throwaway module under the user cache, never in kinc's
// go.mod (DESIGN §5): k8s.io/kubernetes points its staging modules at
// ./staging, which a dependent module cannot see, so the module replaces each
// staging module k8s.io/kubernetes requires with the published
// k8s.io/<name> v0.<minor>.<patch>. The binaries are cached beside a stamp of
// every input (versions, Go toolchain, the module's text, the flags); a build
// with the same inputs reuses them at once. The first e2e.test compile takes
// 15–40 minutes on two cores.
package suite

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/build/buildlog"
	"github.com/kinc-dev/kinc/pkg/exec"
	"github.com/kinc-dev/kinc/pkg/log"
	"github.com/kinc-dev/kinc/pkg/version"
)

// Options configures Build. Zero values take the defaults given.
type Options struct {
	// Cmder runs go (default: exec.LocalCmder, on this machine).
	Cmder exec.Cmder
	// Logger receives progress lines (default: nowhere).
	Logger log.Logger
	// Clock times the build and paces the progress lines (default: real).
	Clock clock.WithTicker
	// CacheDir is kinc's conformance cache; the suite lives in its
	// <KubernetesVersion> subdirectory. Required.
	CacheDir string
	// KubernetesVersion is the k8s.io/kubernetes release to build
	// (default: version.KubernetesVersion, the one kinc reports).
	KubernetesVersion string
	// Progress is how often a long compile says it is still running
	// (default: one minute).
	Progress time.Duration
}

// Suite is a built conformance suite: absolute paths of its binaries.
type Suite struct {
	KubernetesVersion string
	Dir               string // the directory holding the binaries
	E2ETest           string // k8s.io/kubernetes/test/e2e, built with go test -c
	Kubectl           string // k8s.io/kubernetes/cmd/kubectl, the suite's own client
	Ginkgo            string // the ginkgo CLI that runs e2e.test in parallel
	// Image binaries, static (CGO_ENABLED=0) for the test images.
	Agnhost, Nonewprivs, SampleAPIServer string
}

// target is one binary the module builds.
type target struct {
	name string // file name under the binary directory
	pkg  string // import path
	test bool   // built with `go test -c` (the suite itself)
	cgo  bool   // linked with cgo when a C compiler is there (as upstream's release)
}

// targets lists what Build makes, e2e.test last: it takes by far the longest,
// and the quick ones failing first saves the wait.
func targets() []target {
	return []target{
		{name: "kubectl", pkg: "k8s.io/kubernetes/cmd/kubectl"},
		{name: "ginkgo", pkg: "github.com/onsi/ginkgo/v2/ginkgo"},
		{name: "agnhost", pkg: "k8s.io/kubernetes/test/images/agnhost"},
		{name: "nonewprivs", pkg: "k8s.io/kubernetes/test/images/nonewprivs"},
		{name: "sample-apiserver", pkg: "k8s.io/sample-apiserver"},
		{name: "e2e.test", pkg: "k8s.io/kubernetes/test/e2e", test: true, cgo: true},
	}
}

// recipeVersion changes whenever the way the module or binaries are made
// changes in a way the stamp's other inputs do not show.
const recipeVersion = "1"

// builder carries one Build's settings.
type builder struct {
	Options
	dir, moduleDir, binDir string
	stagingVersion         string // v0.37.2 for v1.37.2
	minor                  string
}

// Build returns the conformance suite at opts.KubernetesVersion, building it
// first unless a build from the same inputs is cached. It needs go on the
// PATH and the Go module proxy (or a warm module cache).
func Build(ctx context.Context, opts Options) (*Suite, error) {
	b, err := newBuilder(opts)
	if err != nil {
		return nil, err
	}
	return b.build(ctx)
}

func newBuilder(opts Options) (*builder, error) {
	if opts.CacheDir == "" {
		return nil, errors.New("suite: no cache directory")
	}
	if opts.Cmder == nil {
		opts.Cmder = exec.LocalCmder{}
	}
	if opts.Logger == nil {
		opts.Logger = log.NoopLogger{}
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.KubernetesVersion == "" {
		opts.KubernetesVersion = version.KubernetesVersion
	}
	if opts.Progress <= 0 {
		opts.Progress = time.Minute
	}
	parts := strings.Split(strings.TrimPrefix(opts.KubernetesVersion, "v"), ".")
	if len(parts) != 3 || parts[0] != "1" || !strings.HasPrefix(opts.KubernetesVersion, "v") {
		return nil, fmt.Errorf("suite: Kubernetes version %q is not v1.<minor>.<patch>", opts.KubernetesVersion)
	}
	dir := filepath.Join(opts.CacheDir, opts.KubernetesVersion)
	return &builder{
		Options:        opts,
		dir:            dir,
		moduleDir:      filepath.Join(dir, "module"),
		binDir:         filepath.Join(dir, "bin"),
		stagingVersion: "v0." + parts[1] + "." + parts[2],
		minor:          parts[1],
	}, nil
}

func (b *builder) suite() *Suite {
	p := func(name string) string { return filepath.Join(b.binDir, name) }
	return &Suite{
		KubernetesVersion: b.KubernetesVersion, Dir: b.binDir,
		E2ETest: p("e2e.test"), Kubectl: p("kubectl"), Ginkgo: p("ginkgo"),
		Agnhost: p("agnhost"), Nonewprivs: p("nonewprivs"), SampleAPIServer: p("sample-apiserver"),
	}
}

func (b *builder) step(format string, args ...any) { buildlog.Step(b.Logger, format, args...) }
func (b *builder) done(format string, args ...any) { buildlog.Done(b.Logger, format, args...) }

func (b *builder) build(ctx context.Context) (*Suite, error) {
	goVersion, err := b.output(ctx, "go", "env", "GOVERSION")
	if err != nil {
		return nil, fmt.Errorf("go not found or not working: the conformance suite is built from source; install Go 1.26 or newer: %w", err)
	}
	cgo := b.haveCC(ctx)
	gomod, err := b.goMod(ctx)
	if err != nil {
		return nil, err
	}
	stamp := b.stamp(goVersion, gomod, cgo)
	if b.cached(stamp) {
		b.done("Using the cached conformance suite %s (%s)", b.KubernetesVersion, b.binDir)
		return b.suite(), nil
	}
	start := b.Clock.Now()
	b.step("Building the conformance suite %s from the Go module proxy in %s; the first e2e.test compile takes 15–40 minutes on 2 cores", b.KubernetesVersion, b.moduleDir)
	if err := b.writeModule(gomod); err != nil {
		return nil, err
	}
	if err := b.goRun(ctx, "resolve the module graph (go mod tidy)", nil, "mod", "tidy"); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(b.binDir, 0o755); err != nil {
		return nil, fmt.Errorf("suite: %w", err)
	}
	// A stale stamp must not survive a half-finished rebuild.
	_ = os.Remove(b.stampPath())
	for _, t := range targets() {
		if err := b.buildTarget(ctx, t, cgo); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(b.stampPath(), []byte(stamp+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("suite: %w", err)
	}
	b.done("Built the conformance suite %s in %s", b.KubernetesVersion, b.Clock.Since(start).Round(time.Second))
	return b.suite(), nil
}

// buildTarget compiles t into the binary directory (through a temporary
// name, so an interrupted build leaves no half-written binary).
func (b *builder) buildTarget(ctx context.Context, t target, cgo bool) error {
	out := filepath.Join(b.binDir, t.name)
	tmp := out + ".tmp"
	args := []string{"build"}
	if t.test {
		args = []string{"test", "-c", "-vet=off"}
	}
	args = append(args, "-trimpath", "-ldflags", b.ldflags(), "-o", tmp, t.pkg)
	env := []string{"CGO_ENABLED=0"}
	if t.cgo && cgo {
		env = []string{"CGO_ENABLED=1"}
	}
	start := b.Clock.Now()
	b.step("Compiling %s (%s)", t.name, t.pkg)
	stop := b.progress(t.name, start)
	err := b.goRun(ctx, "compile "+t.name, env, args...)
	stop()
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, out); err != nil {
		return fmt.Errorf("suite: %w", err)
	}
	b.done("Compiled %s in %s", t.name, b.Clock.Since(start).Round(time.Second))
	return nil
}

// progress logs every b.Progress that name is still compiling, until the
// returned stop is called.
func (b *builder) progress(name string, start time.Time) (stop func()) {
	t := b.Clock.NewTicker(b.Progress)
	quit := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case <-quit:
				return
			case <-t.C():
				buildlog.Note(b.Logger, "still compiling %s: %s so far", name, b.Clock.Since(start).Round(time.Second))
			}
		}
	}()
	return func() {
		t.Stop()
		close(quit)
		<-finished
	}
}

// ldflags stamps the binaries as a release build: without it they report
// v0.0.0-master, which specs that compare versions trip over.
func (b *builder) ldflags() string {
	var f []string
	for _, pkg := range []string{"k8s.io/component-base/version", "k8s.io/client-go/pkg/version"} {
		f = append(f, "-X "+pkg+".gitVersion="+b.KubernetesVersion, "-X "+pkg+".gitMajor=1",
			"-X "+pkg+".gitMinor="+b.minor, "-X "+pkg+".gitTreeState=clean")
	}
	return strings.Join(f, " ")
}

// goRun runs go in the module directory with the module-mode settings every
// step shares; what names the step in an error.
func (b *builder) goRun(ctx context.Context, what string, env []string, args ...string) error {
	env = append([]string{"GOFLAGS=-mod=mod", "GOWORK=off"}, env...)
	cmd := b.Cmder.CommandContext(ctx, "go", append([]string{"-C", b.moduleDir}, args...)...).SetEnv(env...)
	var out bytes.Buffer
	w := io.Writer(&out)
	if info := b.Logger.V(1); info.Enabled() {
		w = io.MultiWriter(&out, buildlog.NewLineWriter(info))
	}
	if err := cmd.SetStdout(w).SetStderr(w).Run(); err != nil {
		return fmt.Errorf("suite: %s failed (it needs the Go module proxy or a warm module cache; output follows): %w\n%s",
			what, err, lastLines(out.String(), 30))
	}
	return nil
}

// output runs a command and returns its trimmed standard output.
func (b *builder) output(ctx context.Context, name string, args ...string) (string, error) {
	var out strings.Builder
	if err := b.Cmder.CommandContext(ctx, name, args...).SetStdout(&out).Run(); err != nil {
		return "", err
	}
	return strings.TrimSpace(out.String()), nil
}

// haveCC reports whether go can link with cgo here (go env CC names a
// compiler that runs): e2e.test is cgo-linked as upstream builds it when it can.
func (b *builder) haveCC(ctx context.Context) bool {
	cc, err := b.output(ctx, "go", "env", "CC")
	if err != nil || cc == "" {
		return false
	}
	return b.Cmder.CommandContext(ctx, strings.Fields(cc)[0], "--version").Run() == nil
}

// goMod returns the throwaway module's go.mod: k8s.io/kubernetes at the
// version, and a replace for each staging module it requires (the ones its
// own go.mod requires at v0.0.0 and replaces with ./staging/src/…).
func (b *builder) goMod(ctx context.Context) (string, error) {
	var out bytes.Buffer
	mod := "k8s.io/kubernetes@" + b.KubernetesVersion
	cmd := b.Cmder.CommandContext(ctx, "go", "mod", "download", "-json", mod).SetEnv("GOFLAGS=-mod=mod", "GOWORK=off")
	if err := cmd.SetStdout(&out).Run(); err != nil {
		return "", fmt.Errorf("suite: download %s (it needs the Go module proxy): %w", mod, err)
	}
	var info struct{ GoMod, Error string }
	if err := json.Unmarshal(out.Bytes(), &info); err != nil || info.GoMod == "" {
		return "", fmt.Errorf("suite: go mod download %s answered no go.mod (%s): %v", mod, info.Error, err)
	}
	upstream, err := os.ReadFile(info.GoMod)
	if err != nil {
		return "", fmt.Errorf("suite: %w", err)
	}
	staging := StagingModules(upstream)
	if len(staging) == 0 {
		return "", fmt.Errorf("suite: %s's go.mod replaces no staging module: its layout changed", mod)
	}
	var s strings.Builder
	fmt.Fprintf(&s, "// Generated by kinc: the conformance suite's throwaway module. Edits are overwritten.\n")
	fmt.Fprintf(&s, "module kinc.invalid/conformance\n\ngo 1.26.0\n\ngodebug default=go1.26\n\nrequire k8s.io/kubernetes %s\n\n", b.KubernetesVersion)
	for _, m := range staging {
		fmt.Fprintf(&s, "replace %s => %s %s\n", m, m, b.stagingVersion)
	}
	return s.String(), nil
}

// StagingModules returns, sorted, the modules a k8s.io/kubernetes go.mod both
// requires at v0.0.0 and replaces with a ./staging directory.
func StagingModules(gomod []byte) []string {
	required := map[string]bool{}
	replaced := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		line := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(sc.Text()), "require"))
		line = strings.TrimSpace(strings.TrimPrefix(line, "replace"))
		f := strings.Fields(line)
		switch {
		case len(f) >= 2 && f[1] == "v0.0.0":
			required[f[0]] = true
		case len(f) >= 3 && f[1] == "=>" && strings.HasPrefix(f[2], "./staging/"):
			replaced[f[0]] = true
		}
	}
	var out []string
	for m := range required {
		if replaced[m] {
			out = append(out, m)
		}
	}
	sort.Strings(out)
	return out
}

// tools is the module's tools.go: it imports every package built there, so
// that go mod tidy records their (test-only, too) dependencies.
func tools() string {
	var s strings.Builder
	s.WriteString("//go:build tools\n\n// Generated by kinc. Package tools pins what the conformance module builds.\npackage tools\n\nimport (\n")
	for _, t := range targets() {
		fmt.Fprintf(&s, "\t_ %q\n", t.pkg)
	}
	s.WriteString(")\n")
	return s.String()
}

// writeModule writes go.mod and tools.go afresh (go mod tidy then resolves
// the requirements again); go.sum is kept.
func (b *builder) writeModule(gomod string) error {
	if err := os.MkdirAll(b.moduleDir, 0o755); err != nil {
		return fmt.Errorf("suite: %w", err)
	}
	for name, data := range map[string]string{"go.mod": gomod, "tools.go": tools()} {
		p := filepath.Join(b.moduleDir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			return fmt.Errorf("suite: %w", err)
		}
	}
	return nil
}

func (b *builder) stampPath() string { return filepath.Join(b.binDir, ".stamp") }

// stamp hashes every input of the binaries.
func (b *builder) stamp(goVersion, gomod string, cgo bool) string {
	h := sha256.New()
	fmt.Fprintf(h, "recipe %s\ngo %s\ncgo %v\nldflags %s\n%s\n%s\n", recipeVersion, goVersion, cgo, b.ldflags(), gomod, tools())
	return hex.EncodeToString(h.Sum(nil))
}

// cached reports whether the binaries were built from these inputs.
func (b *builder) cached(stamp string) bool {
	data, err := os.ReadFile(b.stampPath())
	if err != nil || strings.TrimSpace(string(data)) != stamp {
		return false
	}
	for _, t := range targets() {
		if fi, err := os.Stat(filepath.Join(b.binDir, t.name)); err != nil || fi.Size() == 0 {
			return false
		}
	}
	return true
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
