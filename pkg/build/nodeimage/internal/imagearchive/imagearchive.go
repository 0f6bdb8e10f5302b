// Package imagearchive writes single-layer container images as tarballs that
// both `docker load` and `ctr images import` accept: a Docker archive
// (manifest.json with RepoTags) that is also an OCI image layout (oci-layout,
// index.json naming each tag with io.containerd.image.name), as `docker save`
// writes them since Docker 25. Output is deterministic: the same Image gives
// the same bytes and digests.
package imagearchive

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"
)

// Media types and annotations of the archive.
const (
	MediaTypeManifest = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeConfig   = "application/vnd.oci.image.config.v1+json"
	MediaTypeLayer    = "application/vnd.oci.image.layer.v1.tar"
	MediaTypeIndex    = "application/vnd.oci.image.index.v1+json"

	annotationImageName = "io.containerd.image.name"
	annotationRefName   = "org.opencontainers.image.ref.name"
)

// epoch returns the modification time of every entry and the image's
// creation time, so archives are reproducible.
func epoch() time.Time { return time.Unix(0, 0).UTC() }

// Image is a one-layer image.
type Image struct {
	// RepoTags are full references, e.g. "registry.k8s.io/etcd:3.7.3-0".
	// At least one is required.
	RepoTags []string
	// OS and Architecture of the image config ("linux", "amd64").
	OS, Architecture string
	Entrypoint       []string
	Cmd              []string
	Env              []string
	WorkingDir       string
	// Files make up the layer; parent directories are added as needed.
	Files []File
}

// File is one regular file or directory of the layer.
type File struct {
	Path string // relative, slash-separated: "usr/local/bin/etcd"
	Mode int64  // permission bits, e.g. 0o755
	Dir  bool
	Data []byte // content of a regular file
}

// Descriptor points at a blob of the archive.
type Descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Platform    *Platform         `json:"platform,omitempty"`
}

// Platform is an OCI platform.
type Platform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
}

// Written describes an archive that Write produced.
type Written struct {
	Manifest Descriptor // the image manifest; its digest identifies the image
	Config   Descriptor
	Layer    Descriptor // the uncompressed layer: its digest is the diff ID
}

// Write writes img as an image archive to w.
func Write(w io.Writer, img Image) (Written, error) {
	if len(img.RepoTags) == 0 {
		return Written{}, fmt.Errorf("image has no tag")
	}
	if img.OS == "" || img.Architecture == "" {
		return Written{}, fmt.Errorf("image %s: OS and architecture are required", img.RepoTags[0])
	}
	layer, err := layerTar(img.Files)
	if err != nil {
		return Written{}, fmt.Errorf("image %s: %w", img.RepoTags[0], err)
	}
	layerDesc := describe(MediaTypeLayer, layer)
	config, err := json.Marshal(configOf(img, layerDesc.Digest))
	if err != nil {
		return Written{}, err
	}
	configDesc := describe(MediaTypeConfig, config)
	manifest, err := json.Marshal(struct {
		SchemaVersion int          `json:"schemaVersion"`
		MediaType     string       `json:"mediaType"`
		Config        Descriptor   `json:"config"`
		Layers        []Descriptor `json:"layers"`
	}{2, MediaTypeManifest, configDesc, []Descriptor{layerDesc}})
	if err != nil {
		return Written{}, err
	}
	manifestDesc := describe(MediaTypeManifest, manifest)

	index, dockerManifest, err := indexes(img, manifestDesc, configDesc, layerDesc)
	if err != nil {
		return Written{}, err
	}
	tw := tar.NewWriter(w)
	entries := []struct {
		name string
		data []byte
	}{
		{"blobs/", nil},
		{"blobs/sha256/", nil},
		{blobPath(layerDesc), layer},
		{blobPath(configDesc), config},
		{blobPath(manifestDesc), manifest},
		{"index.json", index},
		{"manifest.json", dockerManifest},
		{"oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)},
	}
	for _, e := range entries {
		if err := writeEntry(tw, e.name, e.data); err != nil {
			return Written{}, err
		}
	}
	if err := tw.Close(); err != nil {
		return Written{}, err
	}
	return Written{Manifest: manifestDesc, Config: configDesc, Layer: layerDesc}, nil
}

func writeEntry(tw *tar.Writer, name string, data []byte) error {
	hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: epoch(), Typeflag: tar.TypeReg, Format: tar.FormatPAX}
	if strings.HasSuffix(name, "/") {
		hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeDir, 0o755, 0
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if _, err := tw.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

func describe(mediaType string, data []byte) Descriptor {
	sum := sha256.Sum256(data)
	return Descriptor{MediaType: mediaType, Digest: "sha256:" + hex.EncodeToString(sum[:]), Size: int64(len(data))}
}

func blobPath(d Descriptor) string {
	return "blobs/sha256/" + strings.TrimPrefix(d.Digest, "sha256:")
}

// layerTar builds the layer: files sorted by path, each parent directory
// once, owned by root, at the epoch.
func layerTar(files []File) ([]byte, error) {
	entries := map[string]File{}
	for _, f := range files {
		p := path.Clean(strings.TrimPrefix(f.Path, "/"))
		if p == "." || strings.HasPrefix(p, "../") {
			return nil, fmt.Errorf("invalid layer path %q", f.Path)
		}
		f.Path = p
		entries[p] = f
		for dir := path.Dir(p); dir != "."; dir = path.Dir(dir) {
			if _, ok := entries[dir]; !ok {
				entries[dir] = File{Path: dir, Mode: 0o755, Dir: true}
			}
		}
	}
	names := make([]string, 0, len(entries))
	for p := range entries {
		names = append(names, p)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, p := range names {
		f := entries[p]
		hdr := &tar.Header{Name: p, Mode: f.Mode, ModTime: epoch(), Typeflag: tar.TypeReg, Size: int64(len(f.Data)), Format: tar.FormatPAX}
		if f.Dir {
			hdr.Name, hdr.Typeflag, hdr.Size = p+"/", tar.TypeDir, 0
		}
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
