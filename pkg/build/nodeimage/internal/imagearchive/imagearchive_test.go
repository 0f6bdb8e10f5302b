package imagearchive

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

func testImage() Image {
	return Image{
		RepoTags:     []string{"registry.k8s.io/etcd:3.7.3-0"},
		OS:           "linux",
		Architecture: "amd64",
		Entrypoint:   []string{"/usr/local/bin/etcd"},
		Env:          []string{"PATH=/usr/local/bin:/usr/bin:/bin"},
		Files: []File{
			{Path: "usr/local/bin/etcd", Mode: 0o755, Data: []byte("#!binary")},
			{Path: "tmp", Mode: 0o1777, Dir: true},
		},
	}
}

// readTar returns the regular files of a tarball by name, and the order of
// all entry names.
func readTar(t *testing.T, data []byte) (map[string][]byte, map[string]*tar.Header, []string) {
	t.Helper()
	files := map[string][]byte{}
	headers := map[string]*tar.Header{}
	var order []string
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[hdr.Name] = b
		headers[hdr.Name] = hdr
		order = append(order, hdr.Name)
	}
	return files, headers, order
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func TestWriteArchive(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	written, err := Write(&buf, testImage())
	if err != nil {
		t.Fatal(err)
	}
	files, _, _ := readTar(t, buf.Bytes())

	// Every blob is stored under its digest.
	for _, d := range []Descriptor{written.Manifest, written.Config, written.Layer} {
		blob, ok := files[blobPath(d)]
		if !ok {
			t.Fatalf("blob %s missing", d.Digest)
		}
		if digestOf(blob) != d.Digest || int64(len(blob)) != d.Size {
			t.Fatalf("blob %s: digest or size mismatch", d.Digest)
		}
	}

	// Docker's manifest.json names the config, the layer and the tags.
	var docker []dockerManifestEntry
	if err := json.Unmarshal(files["manifest.json"], &docker); err != nil {
		t.Fatal(err)
	}
	if len(docker) != 1 || docker[0].Config != blobPath(written.Config) ||
		len(docker[0].Layers) != 1 || docker[0].Layers[0] != blobPath(written.Layer) ||
		docker[0].RepoTags[0] != "registry.k8s.io/etcd:3.7.3-0" {
		t.Fatalf("manifest.json: %+v", docker)
	}

	// The OCI index names the image for containerd.
	if string(files["oci-layout"]) != `{"imageLayoutVersion":"1.0.0"}` {
		t.Fatalf("oci-layout: %s", files["oci-layout"])
	}
	var index struct {
		Manifests []Descriptor `json:"manifests"`
	}
	if err := json.Unmarshal(files["index.json"], &index); err != nil {
		t.Fatal(err)
	}
	if len(index.Manifests) != 1 {
		t.Fatalf("index: %+v", index)
	}
	m := index.Manifests[0]
	if m.Digest != written.Manifest.Digest || m.Annotations[annotationImageName] != "registry.k8s.io/etcd:3.7.3-0" ||
		m.Annotations[annotationRefName] != "3.7.3-0" || m.Platform == nil || m.Platform.Architecture != "amd64" {
		t.Fatalf("index manifest: %+v", m)
	}

	// The config carries the entrypoint and the layer's diff ID.
	var cfg imageConfig
	if err := json.Unmarshal(files[blobPath(written.Config)], &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.RootFS.DiffIDs[0] != written.Layer.Digest || cfg.Config.Entrypoint[0] != "/usr/local/bin/etcd" ||
		cfg.OS != "linux" || cfg.Architecture != "amd64" {
		t.Fatalf("config: %+v", cfg)
	}
}

func TestLayerContent(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	written, err := Write(&buf, testImage())
	if err != nil {
		t.Fatal(err)
	}
	files, _, _ := readTar(t, buf.Bytes())
	layer, headers, order := readTar(t, files[blobPath(written.Layer)])
	want := []string{"tmp/", "usr/", "usr/local/", "usr/local/bin/", "usr/local/bin/etcd"}
	if strings.Join(order, ",") != strings.Join(want, ",") {
		t.Fatalf("layer entries %v, want %v", order, want)
	}
	bin := headers["usr/local/bin/etcd"]
	if bin.Mode != 0o755 || bin.Uid != 0 || bin.Typeflag != tar.TypeReg || string(layer["usr/local/bin/etcd"]) != "#!binary" {
		t.Fatalf("binary entry %+v", bin)
	}
	if headers["tmp/"].Mode != 0o1777 || headers["tmp/"].Typeflag != tar.TypeDir {
		t.Fatalf("tmp entry %+v", headers["tmp/"])
	}
}

func TestWriteIsDeterministic(t *testing.T) {
	t.Parallel()
	var a, b bytes.Buffer
	img := testImage()
	if _, err := Write(&a, img); err != nil {
		t.Fatal(err)
	}
	// Same files in another order: same bytes.
	img.Files = []File{img.Files[1], img.Files[0]}
	if _, err := Write(&b, img); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two writes of the same image differ")
	}
}

func TestWriteRejects(t *testing.T) {
	t.Parallel()
	for name, mutate := range map[string]func(*Image){
		"no tag":      func(i *Image) { i.RepoTags = nil },
		"no platform": func(i *Image) { i.Architecture = "" },
		"escape":      func(i *Image) { i.Files = []File{{Path: "../etc/passwd"}} },
	} {
		img := testImage()
		mutate(&img)
		if _, err := Write(io.Discard, img); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}

func TestTagOf(t *testing.T) {
	t.Parallel()
	for ref, want := range map[string]string{
		"registry.k8s.io/pause:3.10": "3.10",
		"localhost:5000/x":           "latest",
		"kinc/node":                  "latest",
	} {
		if got := tagOf(ref); got != want {
			t.Errorf("tagOf(%q) = %q, want %q", ref, got, want)
		}
	}
}
