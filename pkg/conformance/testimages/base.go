package testimages

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
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
	if under := b.mountsUnder(root); len(under) > 0 {
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
// interrupted debootstrap left mounted inside it (proc, sys). It keeps the
// directory, and says so, when something stays mounted.
func (b *builder) removeWorkDir(ctx context.Context, dir string) {
	under := b.mountsUnder(dir)
	for i := len(under) - 1; i >= 0; i-- { // deepest first
		_ = b.cmder.CommandContext(context.WithoutCancel(ctx), "umount", "-l", under[i]).Run()
	}
	if left := b.mountsUnder(dir); len(left) > 0 {
		b.logger.Warnf("not removing %s: still mounted inside it: %s (unmount them, then delete it)", dir, strings.Join(left, ", "))
		return
	}
	if err := os.RemoveAll(dir); err != nil {
		b.logger.Warnf("remove %s: %v", dir, err)
	}
}

// mountsUnder returns the mount points inside dir, outermost first.
func (b *builder) mountsUnder(dir string) []string {
	points, err := b.mounts()
	if err != nil {
		return []string{"(unknown: " + err.Error() + ")"}
	}
	var under []string
	for _, p := range points {
		if strings.HasPrefix(p, dir+string(filepath.Separator)) {
			under = append(under, p)
		}
	}
	return under
}

// readMounts returns this machine's mount points (Linux: /proc/self/mounts;
// elsewhere none, as debootstrap does not run there).
func readMounts() ([]string, error) {
	data, err := os.ReadFile("/proc/self/mounts")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var points []string
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 1 {
			points = append(points, unescapeMount(f[1]))
		}
	}
	return points, nil
}

// unescapeMount decodes the octal escapes (\040 for a space) of /proc/mounts.
func unescapeMount(s string) string {
	var out strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			var v int
			if _, err := fmt.Sscanf(s[i+1:i+4], "%03o", &v); err == nil {
				out.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		out.WriteByte(s[i])
	}
	return out.String()
}

// notFound tells whether err is a command that is not installed.
func notFound(err error) bool {
	return errors.Is(err, osexec.ErrNotFound)
}
