// Package nodeutils holds helpers over nodes.Node: selecting nodes by role
// or name, writing files into a node and importing images into its
// containerd.
package nodeutils

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/kinc-dev/kinc/pkg/cluster/constants"
	"github.com/kinc-dev/kinc/pkg/cluster/nodes"
)

// File is one file to put into a node, at an absolute path.
type File struct {
	Path string
	Mode fs.FileMode
	Data []byte
}

// WriteFiles writes files into node with one tar stream rooted at /, making
// parent directories (mode 0755) as needed and replacing existing files.
func WriteFiles(ctx context.Context, node nodes.Node, files []File) error {
	if len(files) == 0 {
		return nil
	}
	data, err := Tar(files)
	if err != nil {
		return err
	}
	if err := node.CopyInto(ctx, "/", bytes.NewReader(data)); err != nil {
		return fmt.Errorf("write files into %s: %w", node, err)
	}
	return nil
}

// Tar makes a tar archive of files with their parent directories; paths
// inside are relative to /.
func Tar(files []File) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	for _, f := range files {
		if !path.IsAbs(f.Path) {
			return nil, fmt.Errorf("tar: %q is not an absolute path", f.Path)
		}
		rel := strings.TrimPrefix(path.Clean(f.Path), "/")
		var parents []string
		for d := path.Dir(rel); d != "." && !dirs[d]; d = path.Dir(d) {
			parents = append(parents, d)
			dirs[d] = true
		}
		for i := len(parents) - 1; i >= 0; i-- {
			if err := tw.WriteHeader(&tar.Header{Name: parents[i] + "/", Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
				return nil, err
			}
		}
		hdr := &tar.Header{Name: rel, Typeflag: tar.TypeReg, Mode: int64(f.Mode.Perm()), Size: int64(len(f.Data))}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.Data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ControlPlane returns the (first, by name) control-plane node.
func ControlPlane(all []nodes.Node) (nodes.Node, error) {
	cps := ByRole(all, constants.ControlPlaneRole)
	if len(cps) == 0 {
		return nil, fmt.Errorf("no control-plane node among %d nodes", len(all))
	}
	return cps[0], nil
}

// ByRole returns the nodes with role, sorted by name.
func ByRole(all []nodes.Node, role string) []nodes.Node {
	var out []nodes.Node
	for _, n := range all {
		if n.Role() == role {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// ByName returns the nodes named in names (all when names is empty), or an
// error naming one that does not exist.
func ByName(all []nodes.Node, names []string) ([]nodes.Node, error) {
	if len(names) == 0 {
		return all, nil
	}
	index := map[string]nodes.Node{}
	for _, n := range all {
		index[n.String()] = n
	}
	var out []nodes.Node
	for _, name := range names {
		n, ok := index[name]
		if !ok {
			return nil, fmt.Errorf("unknown node %q", name)
		}
		out = append(out, n)
	}
	return out, nil
}

// LoadImageArchive imports an image archive (docker save format) from r
// into the node's containerd, in the k8s.io namespace the kubelet uses.
func LoadImageArchive(ctx context.Context, node nodes.Node, r io.Reader) error {
	cmd := node.CommandContext(ctx, "ctr", "--namespace=k8s.io", "images", "import", "--digests", "--snapshotter=overlayfs", "-")
	if err := cmd.SetStdin(r).Run(); err != nil {
		return fmt.Errorf("import images into %s: %w", node, err)
	}
	return nil
}
