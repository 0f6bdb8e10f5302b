package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/kinc-dev/kinc/pkg/version"

	"github.com/kinc-dev/kinc/pkg/cluster/nodes"
	"github.com/kinc-dev/kinc/pkg/cluster/nodeutils"
)

// LoadImages puts local Docker images into the containerd of cluster
// name's nodes (all, or those named in nodeNames): `docker save` is
// streamed into `ctr -n k8s.io images import -` in each node, with no
// temporary file.
func (p *Provider) LoadImages(ctx context.Context, name string, images, nodeNames []string) error {
	if len(images) == 0 {
		return errors.New("no images given")
	}
	for _, img := range images {
		if _, err := p.p.ImageID(ctx, img); err != nil {
			return fmt.Errorf("load image %q: %w", img, err)
		}
	}
	targets, err := p.targetNodes(ctx, name, nodeNames)
	if err != nil {
		return err
	}
	return forEach(targets, func(n nodes.Node) error {
		rc, err := p.p.SaveImages(ctx, images)
		if err != nil {
			return err
		}
		defer rc.Close()
		return nodeutils.LoadImageArchive(ctx, n, rc)
	})
}

// LoadImageArchive imports an image archive file (docker save format) into
// cluster name's nodes (all, or those named in nodeNames).
func (p *Provider) LoadImageArchive(ctx context.Context, name, archive string, nodeNames []string) error {
	if _, err := os.Stat(archive); err != nil {
		return fmt.Errorf("image archive: %w", err)
	}
	targets, err := p.targetNodes(ctx, name, nodeNames)
	if err != nil {
		return err
	}
	return forEach(targets, func(n nodes.Node) error {
		f, err := os.Open(archive)
		if err != nil {
			return fmt.Errorf("image archive: %w", err)
		}
		defer f.Close()
		return nodeutils.LoadImageArchive(ctx, n, io.Reader(f))
	})
}

func (p *Provider) targetNodes(ctx context.Context, name string, nodeNames []string) ([]nodes.Node, error) {
	all, err := p.p.ListNodes(ctx, name)
	if err != nil {
		return nil, err
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("unknown cluster %q", name)
	}
	targets, err := nodeutils.ByName(all, nodeNames)
	if err != nil {
		return nil, fmt.Errorf("cluster %q: %w", name, err)
	}
	return targets, nil
}

// CollectLogs writes cluster name's logs under dir: the engine's info,
// kinc's version and each node's journal, kubelet, containerd and /var/log.
func (p *Provider) CollectLogs(ctx context.Context, name, dir string) error {
	list, err := p.p.ListNodes(ctx, name)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		return fmt.Errorf("unknown cluster %q", name)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("collect logs: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kinc-version.txt"), []byte(version.Get().String()+"\n"), 0o644); err != nil {
		return fmt.Errorf("collect logs: %w", err)
	}
	return p.p.CollectLogs(ctx, dir, list)
}

func forEach(list []nodes.Node, fn func(nodes.Node) error) error {
	errs := make(chan error, len(list))
	for _, n := range list {
		go func() { errs <- fn(n) }()
	}
	var all []error
	for range list {
		all = append(all, <-errs)
	}
	return errors.Join(all...)
}
