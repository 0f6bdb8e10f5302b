package docker

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/kinc-dev/kinc/pkg/cluster/nodes"
)

// CollectLogs implements providers.Provider, with kind's layout: the
// engine's info, then per node serial.log, inspect.json, journal.log,
// kubelet.log, containerd.log, images.log and the node's /var/log. Every
// node is collected concurrently; a piece that fails is skipped and its
// error reported at the end.
func (p *provider) CollectLogs(ctx context.Context, dir string, list []nodes.Node) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("collect logs: %w", err)
	}
	var errs []error
	var mu sync.Mutex
	record := func(err error) {
		if err != nil {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		}
	}
	if info, err := p.cli.Info(ctx); err != nil {
		record(engineError("docker info", err))
	} else {
		record(writeJSON(filepath.Join(dir, "docker-info.txt"), info))
	}
	var wg sync.WaitGroup
	for _, n := range list {
		wg.Go(func() { record(p.collectNode(ctx, filepath.Join(dir, n.String()), n)) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (p *provider) collectNode(ctx context.Context, dir string, n nodes.Node) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var errs []error
	toFile := func(name string, fn func(io.Writer) error) {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			errs = append(errs, err)
			return
		}
		if err := fn(f); err != nil {
			errs = append(errs, fmt.Errorf("%s/%s: %w", n, name, err))
		}
		if err := f.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	toFile("serial.log", func(w io.Writer) error { return n.SerialLogs(ctx, w) })
	toFile("inspect.json", func(w io.Writer) error {
		_, raw, err := p.cli.ContainerInspectWithRaw(ctx, n.String(), false)
		if err == nil {
			_, err = w.Write(raw)
		}
		return err
	})
	for name, argv := range map[string][]string{
		"journal.log":    {"journalctl", "--no-pager"},
		"kubelet.log":    {"journalctl", "--no-pager", "-u", "kubelet.service"},
		"containerd.log": {"journalctl", "--no-pager", "-u", "containerd.service"},
		"kinc-node.log":  {"journalctl", "--no-pager", "-u", "kinc-readdress.service", "-u", "kinc-routes.service", "-u", "kinc-etcd-peer.service"},
		"containers.log": {"crictl", "ps", "-a"},
		"pods.log":       {"crictl", "pods"},
		"images.log":     {"crictl", "images"},
	} {
		toFile(name, func(w io.Writer) error {
			return n.CommandContext(ctx, argv[0], argv[1:]...).SetStdout(w).SetStderr(w).Run()
		})
	}
	// The containers' logs as kind lays them out: <node>/pods/<ns>_<pod>_<uid>/...
	// (/var/log/containers only links into it; the journal is exported as
	// text above).
	rc, _, err := p.cli.CopyFromContainer(ctx, n.String(), "/var/log/pods")
	if err != nil {
		errs = append(errs, engineError("copy /var/log/pods from "+n.String(), err))
	} else {
		if err := untar(rc, dir); err != nil {
			errs = append(errs, fmt.Errorf("%s: /var/log/pods: %w", n, err))
		}
		rc.Close()
	}
	return errors.Join(errs...)
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// untar extracts regular files and directories of a tar stream under dir,
// refusing paths that would leave it. Links and devices are skipped.
func untar(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		target := filepath.Join(dir, filepath.FromSlash(hdr.Name))
		if !strings.HasPrefix(target, filepath.Clean(dir)+string(filepath.Separator)) {
			continue
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
			if err != nil {
				return err
			}
			_, cerr := io.Copy(f, tr)
			if err := f.Close(); cerr == nil {
				cerr = err
			}
			if cerr != nil {
				return cerr
			}
		}
	}
}
