// Package conformance implements `kinc conformance`.
package conformance

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/kinc-dev/kinc/pkg/cluster"
	"github.com/kinc-dev/kinc/pkg/cmd"
	"github.com/kinc-dev/kinc/pkg/conformance"
	"github.com/kinc-dev/kinc/pkg/internal/cli"
	"github.com/kinc-dev/kinc/pkg/log"
)

type flagpole struct {
	name           string
	labels         string
	focus, skip    string
	parallel       int
	reportDir      string
	binDir         string
	cacheDir       string
	timeout        time.Duration
	buildOnly      bool
	failOnFailures bool
}

// DefaultClusterName is the cluster `kinc conformance` uses (and creates)
// without --name.
const DefaultClusterName = "conformance"

// NewCommand returns `kinc conformance`.
func NewCommand(logger log.Logger, streams cmd.IOStreams) *cobra.Command {
	flags := &flagpole{}
	c := &cobra.Command{
		Use:   "conformance",
		Short: "Runs the upstream Kubernetes conformance suite against a cluster, offline",
		Long: `Runs the [Conformance] specs of the upstream suite (k8s.io/kubernetes/test/e2e at the
Kubernetes version kinc reports) against a kinc cluster with no registry:

  1. builds e2e.test, its kubectl and ginkgo from the Go module proxy in a throwaway
     module under the cache (the first e2e.test compile takes 15-40 minutes on
     2 cores; later runs reuse it while the inputs are unchanged);
  2. builds the test images (agnhost, busybox, pause, nginx, ...) under their
     upstream names from Debian packages and those binaries (cached too);
  3. creates the cluster --name with 1 control plane and 2 workers when it does
     not exist (else uses it) and loads the images into every node;
  4. runs the suite, writing junit_01.xml, e2e.log and summary.txt under
     --report-dir, and prints the results by SIG, the failures with their first
     line, and a last line "conformance: P passed, F failed, S skipped of N".

Failing specs are results, not errors: the exit code is 0 when the suite ran
and reported, unless --fail-on-failures.`,
		Example: `  kinc conformance
  kinc conformance --name kinc --focus '\[sig-api-machinery\]' --parallel 4
  kinc conformance --build-only`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runE(c.Context(), logger, streams, flags)
		},
	}
	c.Flags().StringVarP(&flags.name, "name", "n", DefaultClusterName, "the cluster to run against, created (1 control plane, 2 workers) when it does not exist")
	c.Flags().StringVar(&flags.labels, "label-filter", conformance.DefaultLabelFilter, "ginkgo label filter selecting the specs")
	c.Flags().StringVar(&flags.focus, "focus", "", "ginkgo regex over spec names narrowing the selection (e.g. '\\[sig-apps\\]')")
	c.Flags().StringVar(&flags.skip, "skip", "", "ginkgo regex of the specs to leave out")
	c.Flags().IntVar(&flags.parallel, "parallel", 1, "ginkgo processes; [Serial] specs still run one at a time at the end")
	c.Flags().StringVar(&flags.reportDir, "report-dir", filepath.Join("bin", "conformance"), "where the JUnit report, the e2e log and the summary go")
	c.Flags().StringVar(&flags.binDir, "bin-dir", "", "directory of kinc's etcd and pause, reused by two test images (default: the kinc binary's directory when it holds etcd, else ./bin)")
	c.Flags().StringVar(&flags.cacheDir, "cache-dir", "", "kinc's cache directory (default $XDG_CACHE_HOME/kinc or ~/.cache/kinc)")
	c.Flags().DurationVar(&flags.timeout, "timeout", 6*time.Hour, "the whole suite's timeout")
	c.Flags().BoolVar(&flags.buildOnly, "build-only", false, "build the suite and the test images, then stop")
	c.Flags().BoolVar(&flags.failOnFailures, "fail-on-failures", false, "exit non-zero unless every selected spec and suite node passed")
	return c
}

func runE(ctx context.Context, logger log.Logger, streams cmd.IOStreams, flags *flagpole) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	cacheDir := flags.cacheDir
	if cacheDir == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return fmt.Errorf("no cache directory (set XDG_CACHE_HOME or pass --cache-dir): %w", err)
		}
		cacheDir = filepath.Join(dir, "kinc")
	}
	binDir := flags.binDir
	if binDir == "" {
		binDir = cli.DefaultBinDir()
	}
	reportDir, err := filepath.Abs(flags.reportDir)
	if err != nil {
		return err
	}
	p, err := cluster.NewProvider(cluster.ProviderWithLogger(logger))
	if err != nil {
		return err
	}
	r, err := conformance.Run(ctx, conformance.Options{
		Logger:      logger,
		Out:         streams.Out,
		Clusters:    providerClusters{p},
		CacheDir:    filepath.Join(cacheDir, "conformance"),
		BinDir:      binDir,
		ClusterName: flags.name,
		LabelFilter: flags.labels,
		Focus:       flags.focus,
		Skip:        flags.skip,
		Parallel:    flags.parallel,
		Timeout:     flags.timeout,
		ReportDir:   reportDir,
		BuildOnly:   flags.buildOnly,
	})
	if err != nil || r == nil {
		return err
	}
	if flags.failOnFailures && !r.Succeeded() {
		return errors.New("conformance: the suite did not pass (failed specs, or a suite node such as BeforeSuite failed)")
	}
	return nil
}

// providerClusters is conformance.Clusters over kinc's provider.
type providerClusters struct{ p *cluster.Provider }

func (c providerClusters) List(ctx context.Context) ([]string, error) { return c.p.List(ctx) }

func (c providerClusters) Create(ctx context.Context, name string, config []byte) error {
	return c.p.Create(ctx, name, cluster.CreateWithRawConfig(config), cluster.CreateWithWaitForReady(5*time.Minute))
}

func (c providerClusters) KubeConfig(ctx context.Context, name string) (string, error) {
	return c.p.KubeConfig(ctx, name, false)
}

func (c providerClusters) LoadImageArchive(ctx context.Context, name, archive string) error {
	return c.p.LoadImageArchive(ctx, name, archive, nil)
}
