package nodeimage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/kinc-dev/kinc/pkg/build/nodeimage/internal/imagearchive"
	"github.com/kinc-dev/kinc/pkg/version"
)

// layer is what a build adds over the cached rootfs: containerd configs, our
// kubelet and kinc-node, crictl, /kinc/version; and the component image archives, which
// are preloaded into the image's containerd rather than shipped.
type layer struct {
	files      []layerFile
	images     []layerFile // component image archives, named <binary>.tar
	tmpDir     string      // holds the component image archives
	recipeHash string
	digest     string // of the recipe and every file, see digestOf
	components []string
	kubelet    bool
}

// layerFile is one regular file of the layer, from memory or from disk.
type layerFile struct {
	path string // relative, slash-separated: "usr/bin/kubelet"
	mode int64
	data []byte
	src  string // when set, the content is this file's
}

func (l *layer) addData(path string, mode int64, data []byte) {
	l.files = append(l.files, layerFile{path: path, mode: mode, data: data})
}

func (l *layer) addFile(path string, mode int64, src string) {
	l.files = append(l.files, layerFile{path: path, mode: mode, src: src})
}

func (l *layer) cleanup() {
	if l.tmpDir != "" {
		_ = os.RemoveAll(l.tmpDir)
	}
}

// open returns f's content and its size.
func (f layerFile) open() (io.ReadCloser, int64, error) {
	if f.src == "" {
		return io.NopCloser(bytes.NewReader(f.data)), int64(len(f.data)), nil
	}
	r, err := os.Open(f.src)
	if err != nil {
		return nil, 0, err
	}
	fi, err := r.Stat()
	if err != nil {
		r.Close()
		return nil, 0, err
	}
	return r, fi.Size(), nil
}

// prepareLayer builds the component images from the binaries in b.binDir
// (into a temporary directory), renders the containerd configs and computes
// the digest of all inputs. crictl is added later: it is built only when
// the image is not current, and its version is part of the digest.
func (b *builder) prepareLayer(ctx context.Context, recipeHash string) (*layer, error) {
	b.step("Building component images from %s", b.binDir)
	l := &layer{recipeHash: recipeHash}
	tmp, err := os.MkdirTemp(b.cacheDir(), "layer-")
	if err != nil {
		return nil, fmt.Errorf("create a temporary directory: %w", err)
	}
	l.tmpDir = tmp
	if err := b.addComponents(l); err != nil {
		l.cleanup()
		return nil, err
	}
	for _, driver := range []string{"cgroupfs", "systemd"} {
		config, err := renderContainerdConfig(b.template, driver)
		if err != nil {
			l.cleanup()
			return nil, err
		}
		l.addData("etc/containerd/config-"+driver+".toml", 0o644, config)
	}
	// Node binaries whose services stay inactive (a ConditionPathExists)
	// when the binary is missing.
	for _, bin := range []struct{ name, path, without string }{
		{"kubelet", "usr/bin/kubelet", "kubelet.service is installed but stays inactive (ConditionPathExists=/usr/bin/kubelet)"},
		{"kinc-node", "usr/local/bin/kinc-node", "nodes will not survive a restart with new IPs, nor route pods between nodes"},
	} {
		p, err := checkBinary(b.binDir, bin.name, b.arch)
		if errors.Is(err, errMissing) {
			b.note("%s not in %s: %s", bin.name, b.binDir, bin.without)
			continue
		}
		if err != nil {
			l.cleanup()
			return nil, err
		}
		l.addFile(bin.path, 0o755, p)
		l.kubelet = l.kubelet || bin.name == "kubelet"
	}
	l.addData("kinc/version", 0o644, []byte(fmt.Sprintf("kinc %s\nkubernetes %s\nrecipe %s\n",
		version.Version(), version.KubernetesVersion, recipeHash)))
	if l.digest, err = digestOf(recipeHash, append(l.files, l.images...)); err != nil {
		l.cleanup()
		return nil, err
	}
	b.done("Built component images: %s", strings.Join(l.components, ", "))
	return l, ctx.Err()
}

// addComponents writes one image archive per component binary present and
// /kinc/images/digest, the digest of the set, which the preload records in
// the image as imported.
func (b *builder) addComponents(l *layer) error {
	set := sha256.New()
	var missing []string
	for _, c := range components() {
		p, err := checkBinary(b.binDir, c.binary, b.arch)
		if errors.Is(err, errMissing) && !c.required {
			missing = append(missing, c.binary)
			continue
		}
		if errors.Is(err, errMissing) {
			return fmt.Errorf("%s not found: run 'make build' first (or pass --bin-dir)", filepath.Join(b.binDir, c.binary))
		}
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		archive := filepath.Join(l.tmpDir, c.binary+".tar")
		f, err := os.Create(archive)
		if err != nil {
			return err
		}
		written, err := imagearchive.Write(f, componentImage(c, b.arch, data))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("write image %s: %w", c.ref, err)
		}
		fmt.Fprintf(set, "%s %s\n", c.ref, written.Manifest.Digest)
		l.images = append(l.images, layerFile{path: c.binary + ".tar", mode: 0o644, src: archive})
		l.components = append(l.components, c.ref)
	}
	if len(missing) > 0 {
		b.note("not in %s, so without an image: %s", b.binDir, strings.Join(missing, ", "))
	}
	l.addData("kinc/images/digest", 0o644, []byte("sha256:"+hex.EncodeToString(set.Sum(nil))+"\n"))
	return nil
}

// digestOf hashes the recipe, the crictl version and every layer file (path,
// mode, content): equal digests mean equal images.
func digestOf(recipeHash string, files []layerFile) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "kinc node image v1\nrecipe %s\ncrictl %s\n", recipeHash, crictlVersion)
	for _, f := range files {
		r, size, err := f.open()
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "file %s %o %d\n", f.path, f.mode, size)
		_, err = io.Copy(h, r)
		r.Close()
		if err != nil {
			return "", fmt.Errorf("read %s: %w", f.src, err)
		}
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}
