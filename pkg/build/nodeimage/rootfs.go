package nodeimage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/kinc-dev/kinc/pkg/build/workdir"
)

// rootfsKey says how the base system is made, for the recipe hash: the
// debootstrap suite and architecture, or the base image's ID (pulled first
// when it is not present).
func (b *builder) rootfsKey(ctx context.Context) (string, error) {
	if b.baseImage == "" {
		return fmt.Sprintf("debootstrap %s %s minbase", suite, b.arch), nil
	}
	id, err := b.inspect(ctx, b.baseImage, "{{.Id}}")
	if err != nil {
		b.step("Pulling base image %s", b.baseImage)
		if perr := b.command(ctx, "docker", "pull", b.baseImage).Run(); perr != nil {
			return "", fmt.Errorf("base image %s is not present and cannot be pulled (docker pull it, or docker import a Debian %s rootfs under that name): %w", b.baseImage, suite, perr)
		}
		if id, err = b.inspect(ctx, b.baseImage, "{{.Id}}"); err != nil {
			return "", fmt.Errorf("inspect base image %s: %w", b.baseImage, err)
		}
	}
	return "image " + b.baseImage + "@" + id, nil
}

func (b *builder) rootfsPath(hash string) string {
	return filepath.Join(b.cacheDir(), "rootfs-"+hash[:16]+".tar")
}

// ensureRootfs returns the cached rootfs tarball for recipeHash, building it
// first when it is missing.
func (b *builder) ensureRootfs(ctx context.Context, recipeHash string) (string, error) {
	out := b.rootfsPath(recipeHash)
	if _, err := os.Stat(out); err == nil {
		b.done("Using cached rootfs %s (%s)", recipeHash[:12], out)
		return out, nil
	}
	start := b.now()
	tmp := out + ".tmp"
	var err error
	if b.baseImage == "" {
		b.step("Building rootfs with debootstrap (Debian %s, recipe %s); this takes a few minutes", suite, recipeHash[:12])
		err = b.debootstrapRootfs(ctx, recipeHash, tmp)
	} else {
		b.step("Building rootfs in Docker from %s (recipe %s); this takes a few minutes", b.baseImage, recipeHash[:12])
		err = b.dockerRootfs(ctx, recipeHash, tmp)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return "", err
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", fmt.Errorf("cache the rootfs: %w", err)
	}
	b.done("Built rootfs in %s (cached as %s)", b.since(start), out)
	return out, nil
}

// debootstrapRootfs runs debootstrap with every package of the recipe, runs
// the recipe chroot'ed into the result and tars it to out.
func (b *builder) debootstrapRootfs(ctx context.Context, recipeHash, out string) error {
	if _, err := b.lookPath("debootstrap"); err != nil {
		return fmt.Errorf("debootstrap not found: apt-get install -y debootstrap (or build in Docker with --base-image debian:%s)", suite)
	}
	if b.geteuid() != 0 {
		return fmt.Errorf("debootstrap needs root: run as root (sudo), or build in Docker with --base-image debian:%s", suite)
	}
	pkgs, err := b.packages()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp(b.cacheDir(), "rootfs-work-")
	if err != nil {
		return fmt.Errorf("create a work directory: %w", err)
	}
	defer b.removeWorkDir(ctx, work)
	root := filepath.Join(work, "rootfs")
	err = b.command(ctx, "debootstrap", "--variant=minbase", "--include="+strings.Join(pkgs, ","), suite, root).Run()
	if err != nil {
		return fmt.Errorf("debootstrap failed (is Debian's mirror reachable? its output follows): %w", err)
	}
	if err := writeRecipeDir(b.recipe, filepath.Join(root, recipeDir)); err != nil {
		return fmt.Errorf("copy the recipe into the rootfs: %w", err)
	}
	if err := b.command(ctx, "chroot", root, "/bin/sh", "/"+recipeDir+"/"+recipeScript).Run(); err != nil {
		return fmt.Errorf("the node recipe (images/node/recipe.sh) failed in the debootstrap chroot: %w", err)
	}
	if err := b.command(ctx, "tar", "--numeric-owner", "-C", root, "-cf", out, ".").Run(); err != nil {
		return fmt.Errorf("archive the rootfs: %w", err)
	}
	return nil
}

func (b *builder) packages() ([]string, error) {
	pkgs, err := recipePackageList(b.recipe)
	if err == nil && len(pkgs) == 0 {
		err = errors.New("the recipe lists no packages")
	}
	return pkgs, err
}

// removeWorkDir deletes a debootstrap work directory, unmounting first
// whatever an interrupted debootstrap left mounted inside it (workdir.Remove).
func (b *builder) removeWorkDir(ctx context.Context, dir string) {
	workdir.Remove(ctx, b.cmder, b.mounts, b.logger, dir)
}

// pruneRootfs removes cached rootfs tarballs other than keep.
func (b *builder) pruneRootfs(keep string) {
	old, _ := filepath.Glob(filepath.Join(b.cacheDir(), "rootfs-*.tar"))
	for _, p := range old {
		if p != keep {
			_ = os.Remove(p)
		}
	}
}
