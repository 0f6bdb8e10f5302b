package nodeimage

import (
	"github.com/kinc-dev/kinc/pkg/exec"
	"github.com/kinc-dev/kinc/pkg/log"
)

// Option configures Build.
type Option func(*builder)

// WithImage sets the name:tag of the image to build. Without it the image is
// DefaultImage(), also tagged kinc/node:latest.
func WithImage(ref string) Option {
	return func(b *builder) {
		if ref != "" {
			b.image, b.extraTags = ref, nil
		}
	}
}

// WithBaseImage builds the rootfs inside a container of this Debian bookworm
// image instead of with debootstrap (for hosts where debootstrap cannot run:
// no root, macOS, Windows). The image is pulled when it is not present.
func WithBaseImage(ref string) Option { return func(b *builder) { b.baseImage = ref } }

// WithBinDir sets the directory holding our binaries (etcd, pause, kubelet,
// kube-apiserver, …), "bin" by default.
func WithBinDir(dir string) Option {
	return func(b *builder) {
		if dir != "" {
			b.binDir = dir
		}
	}
}

// WithCacheDir sets kinc's cache directory; the builder uses its node-image
// subdirectory. The default is $XDG_CACHE_HOME/kinc (~/.cache/kinc on Linux).
func WithCacheDir(dir string) Option {
	return func(b *builder) {
		if dir != "" {
			b.cacheRoot = dir
		}
	}
}

// WithForce rebuilds and re-imports the image even when an image of the same
// name was built from the same inputs. The cached rootfs is still used.
func WithForce(force bool) Option { return func(b *builder) { b.force = force } }

// WithLogger sets where progress lines go (default: nowhere).
func WithLogger(l log.Logger) Option { return func(b *builder) { b.logger = l } }

// WithCmder sets how commands run (default: on this machine).
func WithCmder(c exec.Cmder) Option { return func(b *builder) { b.cmder = c } }
