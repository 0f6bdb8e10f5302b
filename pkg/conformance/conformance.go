// Package conformance runs the upstream Kubernetes conformance suite against
// a kinc cluster, offline: it builds the suite (package suite) and the test
// images (package testimages) from the Go module proxy and Debian packages,
// creates or reuses a cluster of one control plane and two workers, loads the
// images into every node, runs e2e.test with focus/skip regexes and reads its
// JUnit report into a summary grouped by SIG (package report).
package conformance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/conformance/report"
	"github.com/kinc-dev/kinc/pkg/conformance/suite"
	"github.com/kinc-dev/kinc/pkg/conformance/testimages"
	"github.com/kinc-dev/kinc/pkg/exec"
	"github.com/kinc-dev/kinc/pkg/log"
)

// DefaultLabelFilter selects the conformance specs: upstream's
// framework.ConformanceIt labels each with "Conformance" (and names it
// "… [Conformance]"). Focus and Skip then narrow that set.
const DefaultLabelFilter = "Conformance"

// ClusterConfig is the cluster a conformance run creates when the named one
// does not exist: one control plane and two workers, as kind's conformance
// jobs use ("at least two untainted nodes" is itself a spec).
const ClusterConfig = `kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
- role: control-plane
- role: worker
- role: worker
`

// Clusters is what a run needs of kinc's cluster provider.
type Clusters interface {
	// List returns the names of the existing clusters.
	List(ctx context.Context) ([]string, error)
	// Create creates cluster name from a kind-format config and waits for
	// its nodes to be Ready.
	Create(ctx context.Context, name string, config []byte) error
	// KubeConfig returns an admin kubeconfig of cluster name, for the host.
	KubeConfig(ctx context.Context, name string) (string, error)
	// LoadImageArchive imports a `docker save` archive into every node.
	LoadImageArchive(ctx context.Context, name, archive string) error
}

// Options configures Run. Zero values take the defaults given.
type Options struct {
	Cmder  exec.Cmder       // default: this machine
	Logger log.Logger       // progress lines (default: nowhere)
	Clock  clock.WithTicker // default: real
	// Out receives the suite's own output as it runs (it is also written
	// to <ReportDir>/e2e.log) and the summary at the end. Required.
	Out io.Writer
	// Clusters creates and reaches clusters. Required.
	Clusters Clusters
	// CacheDir is kinc's cache for the suite and the images
	// (e.g. ~/.cache/kinc/conformance). Required.
	CacheDir string
	// BinDir holds kinc's etcd and pause, which two test images reuse.
	BinDir string
	// ClusterName is the cluster to run against, created (1 control plane,
	// 2 workers) when it does not exist. Required.
	ClusterName string
	// LabelFilter is a ginkgo label filter (default: DefaultLabelFilter);
	// Focus and Skip are ginkgo regexes over spec names that narrow it
	// (default: none).
	LabelFilter, Focus, Skip string
	// Parallel runs that many ginkgo processes (the [Serial] specs still
	// run alone at the end); 0 or 1 runs e2e.test directly, one spec at a
	// time.
	Parallel int
	// Timeout bounds the whole suite (default 6h: a full serial run takes
	// hours, and ginkgo's default of 1h would cut it short).
	Timeout time.Duration
	// ReportDir receives junit_01.xml, e2e.log, summary.txt and the
	// kubeconfig used. Required.
	ReportDir string
	// BuildOnly builds the suite and the images and stops.
	BuildOnly bool

	// buildSuite and buildImages are seams for unit tests.
	buildSuite  func(context.Context, suite.Options) (*suite.Suite, error)
	buildImages func(context.Context, testimages.Options) (testimages.Result, error)
}

// Run builds what the suite needs (cached), prepares the cluster and runs
// the suite, writing the JUnit report, the log and the summary under
// opts.ReportDir and the summary to opts.Out. It returns the parsed report
// (nil with BuildOnly); failing specs are in the report, not an error. An
// error means the suite could not run or left no readable report.
func Run(ctx context.Context, opts Options) (*report.Report, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	s, err := opts.buildSuite(ctx, suite.Options{Cmder: opts.Cmder, Logger: opts.Logger, Clock: opts.Clock, CacheDir: opts.CacheDir})
	if err != nil {
		return nil, err
	}
	binaries := map[string]string{
		"agnhost": s.Agnhost, "nonewprivs": s.Nonewprivs, "sample-apiserver": s.SampleAPIServer,
		"etcd": filepath.Join(opts.BinDir, "etcd"), "pause": filepath.Join(opts.BinDir, "pause"),
	}
	images, err := opts.buildImages(ctx, testimages.Options{Cmder: opts.Cmder, Logger: opts.Logger, CacheDir: opts.CacheDir, Binaries: binaries})
	if err != nil {
		return nil, err
	}
	if opts.BuildOnly {
		return nil, nil
	}
	kubeconfig, err := opts.prepareCluster(ctx, images)
	if err != nil {
		return nil, err
	}
	if err := opts.runSuite(ctx, s, kubeconfig); err != nil {
		return nil, err
	}
	return opts.summarize()
}

func (o *Options) defaults() error {
	switch {
	case o.Out == nil:
		return errors.New("conformance: no output writer")
	case o.Clusters == nil:
		return errors.New("conformance: no cluster provider")
	case o.CacheDir == "" || o.ReportDir == "":
		return errors.New("conformance: a cache and a report directory are required")
	case o.ClusterName == "" && !o.BuildOnly:
		return errors.New("conformance: no cluster name")
	case o.Parallel < 0:
		return fmt.Errorf("conformance: parallel must be 0 or more, not %d", o.Parallel)
	}
	if o.Cmder == nil {
		o.Cmder = exec.LocalCmder{}
	}
	if o.Logger == nil {
		o.Logger = log.NoopLogger{}
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.LabelFilter == "" {
		o.LabelFilter = DefaultLabelFilter
	}
	if o.Timeout <= 0 {
		o.Timeout = 6 * time.Hour
	}
	if o.buildSuite == nil {
		o.buildSuite = suite.Build
	}
	if o.buildImages == nil {
		o.buildImages = testimages.Build
	}
	return nil
}

// prepareCluster creates the cluster when it is missing, loads the test
// images into its nodes and writes its kubeconfig into the report
// directory, returning that file's path.
func (o *Options) prepareCluster(ctx context.Context, images testimages.Result) (string, error) {
	names, err := o.Clusters.List(ctx)
	if err != nil {
		return "", fmt.Errorf("conformance: list clusters: %w", err)
	}
	if slices.Contains(names, o.ClusterName) {
		o.step("Using cluster %q", o.ClusterName)
	} else {
		o.step("Creating cluster %q (1 control plane, 2 workers)", o.ClusterName)
		if err := o.Clusters.Create(ctx, o.ClusterName, []byte(ClusterConfig)); err != nil {
			return "", fmt.Errorf("conformance: create cluster %q: %w", o.ClusterName, err)
		}
	}
	start := o.Clock.Now()
	o.step("Loading %d test images into every node of %q", len(images.Images), o.ClusterName)
	if err := o.Clusters.LoadImageArchive(ctx, o.ClusterName, images.Archive); err != nil {
		return "", fmt.Errorf("conformance: load the test images into %q: %w", o.ClusterName, err)
	}
	o.done("Loaded the test images in %s", o.Clock.Since(start).Round(time.Second))
	kc, err := o.Clusters.KubeConfig(ctx, o.ClusterName)
	if err != nil {
		return "", fmt.Errorf("conformance: kubeconfig of %q: %w", o.ClusterName, err)
	}
	if err := os.MkdirAll(o.ReportDir, 0o755); err != nil {
		return "", fmt.Errorf("conformance: %w", err)
	}
	path := filepath.Join(o.ReportDir, "kubeconfig")
	if err := os.WriteFile(path, []byte(kc), 0o600); err != nil {
		return "", fmt.Errorf("conformance: %w", err)
	}
	return path, nil
}

// junitPath is where the suite writes its JUnit report (--report-dir).
func (o *Options) junitPath() string { return filepath.Join(o.ReportDir, "junit_01.xml") }

// runSuite runs e2e.test (through ginkgo when parallel), its output going to
// Out and <ReportDir>/e2e.log. A non-zero exit with a report written means
// specs failed, which the summary shows; without a report it is an error.
func (o *Options) runSuite(ctx context.Context, s *suite.Suite, kubeconfig string) error {
	_ = os.Remove(o.junitPath()) // a stale report must not pass for this run's
	logPath := filepath.Join(o.ReportDir, "e2e.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("conformance: %w", err)
	}
	defer logFile.Close()
	name, args := o.command(s, kubeconfig)
	o.step("Running the conformance suite %s (labels %q, focus %q, skip %q); the log is %s", s.KubernetesVersion, o.LabelFilter, o.Focus, o.Skip, logPath)
	start := o.Clock.Now()
	w := io.MultiWriter(o.Out, logFile)
	runErr := o.Cmder.CommandContext(ctx, name, args...).SetStdout(w).SetStderr(w).Run()
	o.done("The suite ran for %s", o.Clock.Since(start).Round(time.Second))
	if _, err := os.Stat(o.junitPath()); err != nil {
		if runErr != nil {
			return fmt.Errorf("conformance: the suite failed without a report (see %s): %w", logPath, runErr)
		}
		return fmt.Errorf("conformance: the suite wrote no report %s (see %s)", o.junitPath(), logPath)
	}
	return nil
}

// command returns how to run the suite. The e2e flags: --provider=local
// (no cloud), kinc's kubeconfig, the suite's own kubectl, the report
// directory, a timeout for the slowest pods, and control-plane taints that
// do not block the start (the kind conformance setup).
func (o *Options) command(s *suite.Suite, kubeconfig string) (string, []string) {
	e2e := []string{
		"--provider=local",
		"--kubeconfig=" + kubeconfig,
		"--kubectl-path=" + s.Kubectl,
		"--report-dir=" + o.ReportDir,
		"--system-pods-startup-timeout=5m",
		"--non-blocking-taints=node-role.kubernetes.io/control-plane",
		"--disable-log-dump",
	}
	// Flag names are ginkgo's; e2e.test takes them with a "ginkgo." prefix.
	ginkgo := []string{"label-filter=" + o.LabelFilter, "timeout=" + o.Timeout.String(), "no-color"}
	if o.Focus != "" {
		ginkgo = append(ginkgo, "focus="+o.Focus)
	}
	if o.Skip != "" {
		ginkgo = append(ginkgo, "skip="+o.Skip)
	}
	if o.Parallel <= 1 {
		var args []string
		for _, f := range ginkgo {
			args = append(args, "--ginkgo."+f)
		}
		return s.E2ETest, append(args, e2e...)
	}
	args := []string{"--procs=" + strconv.Itoa(o.Parallel)}
	for _, f := range ginkgo {
		args = append(args, "--"+f)
	}
	args = append(args, s.E2ETest, "--")
	return s.Ginkgo, append(args, e2e...)
}

// summarize parses the JUnit report and writes the summary to Out and to
// <ReportDir>/summary.txt; its last line is the count.
func (o *Options) summarize() (*report.Report, error) {
	r, err := report.ParseFile(o.junitPath())
	if err != nil {
		return nil, fmt.Errorf("conformance: %w", err)
	}
	f, err := os.Create(filepath.Join(o.ReportDir, "summary.txt"))
	if err != nil {
		return nil, fmt.Errorf("conformance: %w", err)
	}
	defer f.Close()
	if err := r.WriteSummary(io.MultiWriter(o.Out, f)); err != nil {
		return nil, fmt.Errorf("conformance: %w", err)
	}
	return r, nil
}

func (o *Options) step(format string, args ...any) {
	o.Logger.V(0).Infof(" • "+format+" ...", args...)
}

func (o *Options) done(format string, args ...any) { o.Logger.V(0).Infof(" ✓ "+format, args...) }
