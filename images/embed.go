// Package images embeds the inputs of the kinc node image: the recipe that
// turns a Debian rootfs into a node (node/: recipe.sh, the package list and
// the files it lays, such as systemd units, boot scripts and crictl.yaml) and
// the containerd configuration template that pkg/build/nodeimage renders.
package images

import (
	"embed"
	"io/fs"
)

//go:embed node
var node embed.FS

//go:embed containerd/config.toml.tmpl
var containerdConfigTemplate string

// Recipe returns the node rootfs recipe: recipe.sh, packages and files/…,
// rooted at images/node. Embedded files carry no modes; the recipe sets them.
func Recipe() fs.FS {
	sub, err := fs.Sub(node, "node")
	if err != nil {
		// fs.Sub fails only for an invalid path, and "node" is valid.
		panic(err)
	}
	return sub
}

// ContainerdConfigTemplate returns the text/template of a node's
// /etc/containerd/config.toml (see pkg/build/nodeimage for its fields).
func ContainerdConfigTemplate() string { return containerdConfigTemplate }
