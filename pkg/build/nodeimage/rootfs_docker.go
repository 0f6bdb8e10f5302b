package nodeimage

import (
	"context"
	"fmt"
	"io"
)

// dockerRootfs runs the recipe in a container of the base image (apt
// installs the packages there) and exports the container's filesystem to out.
// The recipe goes in with `docker cp`, not a bind mount, so no mount point is
// left behind in the export.
func (b *builder) dockerRootfs(ctx context.Context, recipeHash, out string) error {
	name := "kinc-build-rootfs-" + recipeHash[:12]
	remove := func() {
		_ = b.cmder.CommandContext(context.WithoutCancel(ctx), "docker", "rm", "--force", "--volumes", name).Run()
	}
	remove() // a leftover of an interrupted build
	defer remove()
	err := b.cmder.CommandContext(ctx, "docker", "create", "--name", name, "--entrypoint", "/bin/sh",
		b.baseImage, "/"+recipeDir+"/"+recipeScript).Run()
	if err != nil {
		return fmt.Errorf("create the build container from %s: %w", b.baseImage, err)
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeRecipeTar(b.recipe, recipeDir, pw)) }()
	err = b.cmder.CommandContext(ctx, "docker", "cp", "-", name+":/").SetStdin(pr).Run()
	pr.CloseWithError(io.ErrClosedPipe)
	if err != nil {
		return fmt.Errorf("copy the recipe into the build container: %w", err)
	}
	if err := b.command(ctx, "docker", "start", "--attach", name).Run(); err != nil {
		return fmt.Errorf("the node recipe (images/node/recipe.sh) failed in a %s container: %w", b.baseImage, err)
	}
	if err := b.command(ctx, "docker", "export", "--output", out, name).Run(); err != nil {
		return fmt.Errorf("export the build container's filesystem: %w", err)
	}
	return nil
}
