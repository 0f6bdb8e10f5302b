package testimages

import (
	"context"
	"errors"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"

	"github.com/kinc-dev/kinc/pkg/build/workdir"
)

// slimPaths are removed from the base rootfs (globs relative to its root):
// documentation, translations, package lists and caches, logs, and the
// build host's hostname and resolver configuration (runtimes provide both).
var slimPaths = []string{
	"usr/share/doc/*", "usr/share/man/*", "usr/share/info/*", "usr/share/locale/*", "usr/share/lintian",
	"var/lib/apt/lists/*", "var/cache/apt/*", "var/cache/debconf/*-old", "var/log/*",
	"etc/hostname", "etc/resolv.conf",
}

// baseChanges are the Dockerfile instructions `docker import` applies to the
// base: an imported rootfs has no environment.
var baseChanges = []string{"ENV " + envPath}

// ensureBase makes sure the base image r.baseRef is in Docker, building it
// with debootstrap in work when it is not.
func (b *builder) ensureBase(ctx context.Context, r recipe, work string) error {
	if err := b.cmder.CommandContext(ctx, "docker", "image", "inspect", "--format", "{{.Id}}", r.baseRef).Run(); err == nil {
		b.done("Using base image %s", r.baseRef)
		return nil
	}
	start := b.now()
	b.step("Building the Debian %s base with debootstrap (%s); this takes a few minutes", suite, strings.Join(basePackages, ", "))
	if b.geteuid() != 0 {
		return errors.New("debootstrap needs root: run as root (sudo)")
	}
	root := filepath.Join(work, "rootfs")
	err := b.command(ctx, "debootstrap", "--variant=minbase", "--include="+strings.Join(basePackages, ","), suite, root).Run()
	if notFound(err) {
		return errors.New("debootstrap not found: apt-get install -y debootstrap (or run hack/ensure-debootstrap.sh)")
	}
	if err != nil {
		return fmt.Errorf("debootstrap failed (is Debian's mirror reachable? its output follows): %w", err)
	}
	if err := b.slim(root); err != nil {
		return err
	}
	tarball := filepath.Join(work, "rootfs.tar")
	if err := b.command(ctx, "tar", "--numeric-owner", "-C", root, "-cf", tarball, ".").Run(); err != nil {
		return fmt.Errorf("archive the base rootfs: %w", err)
	}
	args := []string{"import"}
	for _, c := range baseChanges {
		args = append(args, "--change", c)
	}
	args = append(args, tarball, r.baseRef)
	if err := b.command(ctx, "docker", args...).Run(); err != nil {
		return fmt.Errorf("docker import of the base rootfs failed: %w", err)
	}
	_ = os.Remove(tarball)
	b.done("Built base image %s in %s", r.baseRef, b.since(start))
	return nil
}

// slim removes slimPaths from root. It refuses to when something is mounted
// inside root (a debootstrap that did not clean up): deleting through a
// mount would reach the host's files.
func (b *builder) slim(root string) error {
	if under := workdir.MountsUnder(b.mounts, root); len(under) > 0 {
		return fmt.Errorf("debootstrap left mounts inside %s: %s (unmount them and run again)", root, strings.Join(under, ", "))
	}
	for _, pattern := range slimPaths {
		matches, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil {
			return err
		}
		for _, m := range matches {
			if err := os.RemoveAll(m); err != nil {
				return fmt.Errorf("slim the base rootfs: %w", err)
			}
		}
	}
	return nil
}

// removeWorkDir deletes a work directory, unmounting first whatever an
// interrupted debootstrap left mounted inside it (workdir.Remove).
func (b *builder) removeWorkDir(ctx context.Context, dir string) {
	workdir.Remove(ctx, b.cmder, b.mounts, b.logger, dir)
}

// notFound tells whether err is a command that is not installed.
func notFound(err error) bool {
	return errors.Is(err, osexec.ErrNotFound)
}
