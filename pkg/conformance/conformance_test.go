package conformance

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kinc-dev/kinc/pkg/conformance/suite"
	"github.com/kinc-dev/kinc/pkg/conformance/testimages"
	"github.com/kinc-dev/kinc/pkg/exec/exectest"
)

// fakeClusters is the Clusters twin: it records what a run asked of it.
type fakeClusters struct {
	existing []string
	created  []string
	config   string
	loaded   []string
	failLoad error
}

func (f *fakeClusters) List(context.Context) ([]string, error) { return f.existing, nil }

func (f *fakeClusters) Create(_ context.Context, name string, config []byte) error {
	f.created, f.config = append(f.created, name), string(config)
	f.existing = append(f.existing, name)
	return nil
}

func (f *fakeClusters) KubeConfig(_ context.Context, name string) (string, error) {
	return "kubeconfig of " + name, nil
}

func (f *fakeClusters) LoadImageArchive(_ context.Context, name, archive string) error {
	f.loaded = append(f.loaded, name+":"+archive)
	return f.failLoad
}

const junit = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="2" disabled="0" errors="0" failures="1" time="10">
  <testsuite name="Kubernetes e2e suite" package="/" tests="2" disabled="0" skipped="0" errors="0" failures="1" time="10" timestamp="2026-12-07T00:00:00">
    <testcase name="[It] [sig-api-machinery] Discovery should validate PreferredVersion [Conformance]" classname="Kubernetes e2e suite" status="passed" time="1"></testcase>
    <testcase name="[It] [sig-apps] Deployment should run the lifecycle of a Deployment [Conformance]" classname="Kubernetes e2e suite" status="failed" time="9">
      <failure message="deployment never became available&#xA;more detail" type="failed">[FAILED] deployment never became available</failure>
    </testcase>
  </testsuite>
</testsuites>
`

// fixture returns options whose builds and commands are fakes; the suite
// "runs" by writing junit into the report directory unless noReport.
func fixture(t *testing.T, clusters *fakeClusters, noReport bool) (*Options, *exectest.Cmder, *bytes.Buffer) {
	t.Helper()
	dir := t.TempDir()
	cmder := &exectest.Cmder{Handle: func(c *exectest.Call) error {
		_, _ = c.Stdout.Write([]byte("Running Suite: Kubernetes e2e suite\n"))
		for _, a := range c.Args {
			if d, ok := strings.CutPrefix(a, "--report-dir="); ok && !noReport {
				if err := os.WriteFile(filepath.Join(d, "junit_01.xml"), []byte(junit), 0o644); err != nil {
					return err
				}
			}
		}
		return errors.New("exit status 1") // specs failed
	}}
	var out bytes.Buffer
	o := &Options{
		Cmder: cmder, Out: &out, Clusters: clusters,
		CacheDir: filepath.Join(dir, "cache"), BinDir: filepath.Join(dir, "bin"), ReportDir: filepath.Join(dir, "report"),
		ClusterName: "conformance",
		buildSuite: func(_ context.Context, so suite.Options) (*suite.Suite, error) {
			b := filepath.Join(so.CacheDir, "bin")
			return &suite.Suite{KubernetesVersion: "v1.37.2", Dir: b, E2ETest: b + "/e2e.test", Kubectl: b + "/kubectl",
				Ginkgo: b + "/ginkgo", Agnhost: b + "/agnhost", Nonewprivs: b + "/nonewprivs", SampleAPIServer: b + "/sample-apiserver"}, nil
		},
		buildImages: func(_ context.Context, io testimages.Options) (testimages.Result, error) {
			for _, name := range []string{"agnhost", "nonewprivs", "sample-apiserver", "etcd", "pause"} {
				if io.Binaries[name] == "" {
					t.Errorf("no %s binary for the test images", name)
				}
			}
			return testimages.Result{Archive: filepath.Join(io.CacheDir, "images.tar"), Images: []string{"a", "b"}}, nil
		},
	}
	return o, cmder, &out
}

func TestRunCreatesTheClusterRunsAndSummarizes(t *testing.T) {
	t.Parallel()
	clusters := &fakeClusters{existing: []string{"other"}}
	o, cmder, out := fixture(t, clusters, false)
	o.Focus, o.Skip = `\[sig-apps\]`, `Serial`
	r, err := Run(context.Background(), *o)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(clusters.created, []string{"conformance"}) || clusters.config != ClusterConfig {
		t.Errorf("created %v with %q", clusters.created, clusters.config)
	}
	if len(clusters.loaded) != 1 || !strings.HasSuffix(clusters.loaded[0], "images.tar") {
		t.Errorf("loaded %v", clusters.loaded)
	}
	calls := cmder.Calls()
	if len(calls) != 1 {
		t.Fatalf("commands %v", cmder.Lines())
	}
	args := calls[0].Args
	if !strings.HasSuffix(args[0], "/e2e.test") {
		t.Errorf("ran %s, want e2e.test", args[0])
	}
	for _, want := range []string{"--ginkgo.label-filter=Conformance", `--ginkgo.focus=\[sig-apps\]`, "--ginkgo.skip=Serial",
		"--ginkgo.timeout=6h0m0s", "--provider=local", "--kubeconfig=" + filepath.Join(o.ReportDir, "kubeconfig"),
		"--report-dir=" + o.ReportDir, "--non-blocking-taints=node-role.kubernetes.io/control-plane"} {
		if !slices.Contains(args, want) {
			t.Errorf("e2e.test args lack %q: %v", want, args)
		}
	}
	if kc, _ := os.ReadFile(filepath.Join(o.ReportDir, "kubeconfig")); string(kc) != "kubeconfig of conformance" {
		t.Errorf("kubeconfig %q", kc)
	}
	if log, _ := os.ReadFile(filepath.Join(o.ReportDir, "e2e.log")); !strings.Contains(string(log), "Running Suite") {
		t.Errorf("e2e.log %q", log)
	}
	if p, f, _, n := r.Totals(); p != 1 || f != 1 || n != 2 {
		t.Errorf("totals %d passed %d failed of %d", p, f, n)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if last := lines[len(lines)-1]; last != "conformance: 1 passed, 1 failed, 0 skipped of 2" {
		t.Errorf("last line %q\n%s", last, out)
	}
	if !strings.Contains(out.String(), "deployment never became available") {
		t.Errorf("summary lacks the failure's first line:\n%s", out)
	}
	if sum, _ := os.ReadFile(filepath.Join(o.ReportDir, "summary.txt")); !strings.Contains(string(sum), "conformance: 1 passed") {
		t.Errorf("summary.txt %q", sum)
	}
}

func TestRunParallelUsesGinkgoAndAnExistingCluster(t *testing.T) {
	t.Parallel()
	clusters := &fakeClusters{existing: []string{"conformance"}}
	o, cmder, _ := fixture(t, clusters, false)
	o.Parallel = 4
	if _, err := Run(context.Background(), *o); err != nil {
		t.Fatal(err)
	}
	if len(clusters.created) != 0 {
		t.Errorf("an existing cluster was created again: %v", clusters.created)
	}
	args := cmder.Calls()[0].Args
	sep := slices.Index(args, "--")
	if !strings.HasSuffix(args[0], "/ginkgo") || sep < 0 || !strings.HasSuffix(args[sep-1], "/e2e.test") {
		t.Fatalf("ran %v, want ginkgo [flags] e2e.test -- [e2e flags]", args)
	}
	for _, want := range []string{"--procs=4", "--label-filter=Conformance", "--timeout=6h0m0s"} {
		if !slices.Contains(args[:sep], want) {
			t.Errorf("ginkgo flags lack %q: %v", want, args[:sep])
		}
	}
	if !slices.Contains(args[sep:], "--provider=local") {
		t.Errorf("e2e flags %v", args[sep:])
	}
}

func TestRunErrors(t *testing.T) {
	t.Parallel()
	// The suite died before writing a report: an error naming the log.
	o, _, _ := fixture(t, &fakeClusters{}, true)
	_, err := Run(context.Background(), *o)
	if err == nil || !strings.Contains(err.Error(), "without a report") || !strings.Contains(err.Error(), "e2e.log") {
		t.Errorf("Run without a report = %v", err)
	}
	// Loading the images failed: nothing runs.
	o, cmder, _ := fixture(t, &fakeClusters{failLoad: errors.New("node gone")}, false)
	if _, err := Run(context.Background(), *o); err == nil || !strings.Contains(err.Error(), "node gone") {
		t.Errorf("Run with a failed load = %v", err)
	}
	if len(cmder.Calls()) != 0 {
		t.Errorf("the suite ran after the images failed to load")
	}
	// Build only: no cluster is touched.
	clusters := &fakeClusters{}
	o, cmder, _ = fixture(t, clusters, false)
	o.BuildOnly, o.ClusterName = true, ""
	if r, err := Run(context.Background(), *o); err != nil || r != nil {
		t.Errorf("build only = %v, %v", r, err)
	}
	if len(clusters.created)+len(clusters.loaded)+len(cmder.Calls()) != 0 {
		t.Error("build only touched a cluster or ran the suite")
	}
	for _, bad := range []Options{{}, {Out: &bytes.Buffer{}}, {Out: &bytes.Buffer{}, Clusters: clusters, CacheDir: "c", ReportDir: "r"},
		{Out: &bytes.Buffer{}, Clusters: clusters, CacheDir: "c", ReportDir: "r", ClusterName: "x", Parallel: -1}} {
		if _, err := Run(context.Background(), bad); err == nil {
			t.Errorf("Run(%+v) accepted", bad)
		}
	}
}
