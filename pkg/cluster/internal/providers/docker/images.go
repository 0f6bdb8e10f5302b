package docker

import (
	"context"
	"fmt"
	"io"

	"github.com/docker/docker/client"

	"github.com/kinc-dev/kinc/pkg/cluster/internal/providers"
)

// ImageID implements providers.Provider.
func (p *provider) ImageID(ctx context.Context, ref string) (string, error) {
	info, err := p.cli.ImageInspect(ctx, ref)
	if err != nil {
		if client.IsErrNotFound(err) {
			return "", fmt.Errorf("image %q: %w", ref, providers.ErrImageNotFound)
		}
		return "", engineError("inspect image "+ref, err)
	}
	return info.ID, nil
}

// SaveImages implements providers.Provider.
func (p *provider) SaveImages(ctx context.Context, refs []string) (io.ReadCloser, error) {
	rc, err := p.cli.ImageSave(ctx, refs)
	if err != nil {
		return nil, engineError("docker save", err)
	}
	return rc, nil
}
