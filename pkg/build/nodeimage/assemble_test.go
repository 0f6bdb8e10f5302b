package nodeimage

import (
	"archive/tar"
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
)

func TestWriteNodeTar(t *testing.T) {
	t.Parallel()
	rootfs := testRootfs(t, "./", "./etc/", "./etc/containerd/", "./etc/containerd/config-systemd.toml", ".dockerenv", "./usr/", "./usr/bin/")
	files := []layerFile{
		{path: "etc/containerd/config-systemd.toml", mode: 0o644, data: []byte("new")},
		{path: "usr/bin/crictl", mode: 0o755, data: []byte("crictl")},
		{path: "kinc/images/etcd.tar", mode: 0o644, data: []byte("etcd")},
	}
	var out bytes.Buffer
	mtime := time.Unix(1700000000, 0)
	if err := writeNodeTar(&out, bytes.NewReader(rootfs), files, mtime); err != nil {
		t.Fatal(err)
	}
	var names []string
	headers := map[string]*tar.Header{}
	contents := map[string]string{}
	tr := tar.NewReader(&out)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		names = append(names, hdr.Name)
		headers[cleanName(hdr.Name)] = hdr
		contents[cleanName(hdr.Name)] = string(data)
	}
	want := []string{"./", "./etc/", "./etc/containerd/", "./usr/", "./usr/bin/",
		"etc/containerd/config-systemd.toml", "usr/bin/crictl", "kinc/", "kinc/images/", "kinc/images/etcd.tar"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("entries\n%v\nwant\n%v", names, want)
	}
	if contents["etc/containerd/config-systemd.toml"] != "new" {
		t.Error("replaced file kept its old content")
	}
	if h := headers["usr/bin/crictl"]; h.Mode != 0o755 || h.Uid != 0 || !h.ModTime.Equal(mtime) {
		t.Errorf("crictl header %+v", h)
	}
}

func TestCleanName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"./etc/x": "etc/x", "etc/x/": "etc/x", "/etc/x": "etc/x", "./": "", ".": ""} {
		if got := cleanName(in); got != want {
			t.Errorf("cleanName(%q) = %q, want %q", in, got, want)
		}
	}
}
