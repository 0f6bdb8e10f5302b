package nodeimage

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/kinc-dev/kinc/pkg/exec"
)

// preload imports the component images into the node image's own containerd
// at build time, so that a node boots with them in place: Docker copies the
// image's /var/lib/containerd into each node's /var volume when it creates
// the node (well under a second), where importing the archives at first boot
// took seconds of every node's boot (see images/README.md).
//
// It runs kinc-preload-images (images/node) in a throwaway container of the
// imported image id with the archives copied in, then commits the container
// with the node's entrypoint back in place, and returns the committed image.
// The archives themselves do not stay in the image.
func (b *builder) preload(ctx context.Context, id string, l *layer) (string, error) {
	start := b.now()
	b.step("Preloading %d component images into the image's containerd", len(l.images))
	name := "kinc-build-preload-" + strings.TrimPrefix(l.digest, "sha256:")[:12]
	remove := func() {
		_ = b.cmder.CommandContext(context.WithoutCancel(ctx), "docker", "rm", "--force", "--volumes", name).Run()
	}
	remove() // a leftover of an interrupted build
	defer remove()
	// Mounting overlayfs needs what a node needs (DESIGN.md §6); the
	// temporary containerd root is an anonymous volume, dropped with the
	// container.
	err := b.cmder.CommandContext(ctx, "docker", "create", "--name", name,
		"--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE",
		"--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
		"--tmpfs", "/run", "--tmpfs", "/tmp", "--volume", "/kinc-preload",
		"--entrypoint", "/usr/local/bin/kinc-preload-images", id).Run()
	if err != nil {
		return "", fmt.Errorf("create the preload container: %w", err)
	}
	if err := b.copyArchives(ctx, name, l.images); err != nil {
		return "", err
	}
	if err := b.command(ctx, "docker", "start", "--attach", name).Run(); err != nil {
		return "", fmt.Errorf("preload the component images (kinc-preload-images failed; its output follows): %w", err)
	}
	lines, err := exec.OutputLines(b.cmder.CommandContext(ctx, "docker", "commit",
		"--change", `ENTRYPOINT ["/usr/local/bin/kinc-entrypoint", "/sbin/init"]`, "--message", "kinc build node-image: preloaded images", name))
	if err != nil || len(lines) == 0 {
		return "", fmt.Errorf("commit the preloaded image: %w", err)
	}
	b.done("Preloaded %s in %s", strings.Join(l.components, ", "), b.since(start))
	return strings.TrimSpace(lines[len(lines)-1]), nil
}

// copyArchives copies the image archives into the container's /kinc/images.
func (b *builder) copyArchives(ctx context.Context, container string, archives []layerFile) error {
	pr, pw := io.Pipe()
	written := make(chan error, 1)
	go func() {
		err := writeArchives(pw, archives, b.now())
		pw.CloseWithError(err)
		written <- err
	}()
	err := b.cmder.CommandContext(ctx, "docker", "cp", "-", container+":/kinc/images/").SetStdin(pr).Run()
	pr.CloseWithError(io.ErrClosedPipe) // unblocks the writer if docker stopped reading
	werr := <-written
	if err == nil {
		err = werr
	}
	if err != nil {
		return fmt.Errorf("copy the component images into the preload container: %w", err)
	}
	return nil
}

func writeArchives(w io.Writer, archives []layerFile, mtime time.Time) error {
	tw := tar.NewWriter(w)
	for _, f := range archives {
		if err := writeLayerFile(tw, f, mtime); err != nil {
			return err
		}
	}
	return tw.Close()
}
