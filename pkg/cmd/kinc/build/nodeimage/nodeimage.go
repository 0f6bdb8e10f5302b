// Package nodeimage implements `kinc build node-image`.
package nodeimage

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/kinc-dev/kinc/pkg/build/nodeimage"
	"github.com/kinc-dev/kinc/pkg/cmd"
	"github.com/kinc-dev/kinc/pkg/internal/cli"
	"github.com/kinc-dev/kinc/pkg/log"
)

type flagpole struct {
	image     string
	baseImage string
	binDir    string
	cacheDir  string
	force     bool
}

// NewCommand returns `kinc build node-image`.
func NewCommand(logger log.Logger, streams cmd.IOStreams) *cobra.Command {
	flags := &flagpole{}
	c := &cobra.Command{
		Use:   "node-image",
		Short: "Build the node image",
		Long: `Builds the kinc node image with no registry: a Debian bookworm rootfs made
with debootstrap (cached, rebuilt only when its recipe in images/node changes)
with systemd, containerd, runc, CNI plugins and crictl; our kubelet when it is
built; and component images (kube-apiserver, etcd, pause, …) made from our
binaries, which each node imports into containerd at first boot. The image is
imported with 'docker import'. It prints the image reference on stdout.

debootstrap needs root on Linux; elsewhere pass --base-image with a Debian
bookworm image to run the same recipe in Docker.`,
		Example: `  kinc build node-image
  kinc build node-image --base-image debian:bookworm --image kinc/node:dev`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runE(c.Context(), logger, streams, flags)
		},
	}
	c.Flags().StringVar(&flags.image, "image", "", fmt.Sprintf("name:tag of the image (default %s, also tagged %s:latest)", nodeimage.DefaultImage(), nodeimage.ImageRepository))
	c.Flags().StringVar(&flags.baseImage, "base-image", "", "build the rootfs in Docker from this Debian bookworm image instead of with debootstrap")
	c.Flags().StringVar(&flags.binDir, "bin-dir", "", "directory of kinc's binaries: etcd, pause, kubelet, kube-apiserver, … (default: the kinc binary's directory when it holds etcd, else ./bin)")
	c.Flags().StringVar(&flags.cacheDir, "cache-dir", "", "kinc's cache directory (default $XDG_CACHE_HOME/kinc or ~/.cache/kinc)")
	c.Flags().BoolVar(&flags.force, "force", false, "import the image again even when it is up to date")
	return c
}

func runE(ctx context.Context, logger log.Logger, streams cmd.IOStreams, flags *flagpole) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	binDir := flags.binDir
	if binDir == "" {
		binDir = cli.DefaultBinDir()
	}
	res, err := nodeimage.Build(ctx,
		nodeimage.WithLogger(logger),
		nodeimage.WithImage(flags.image),
		nodeimage.WithBaseImage(flags.baseImage),
		nodeimage.WithBinDir(binDir),
		nodeimage.WithCacheDir(flags.cacheDir),
		nodeimage.WithForce(flags.force),
	)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(streams.Out, res.Image)
	return err
}
