package nodeimage

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kinc-dev/kinc/pkg/cmd"
)

// fakeHost is a machine for the builder: a bin directory, a cache, a fake
// Docker with at most one image, and fake debootstrap/chroot/tar/go.
type fakeHost struct {
	t        *testing.T
	binDir   string
	cache    string
	cmder    *fakeCmder
	log      *bytes.Buffer
	imported map[string][]byte // entries of the last `docker import` stream
	preload  map[string][]byte // entries copied into the preload container
	label    string            // digest label of the image in Docker ("" = none)
	euid     int
	api      string          // engine API version
	missing  map[string]bool // commands lookPath does not find
}

func newFakeHost(t *testing.T, binaries ...string) *fakeHost {
	t.Helper()
	h := &fakeHost{t: t, binDir: t.TempDir(), cache: t.TempDir(), log: &bytes.Buffer{}, missing: map[string]bool{}, api: "1.41"}
	// The test binary is a real ELF executable of this platform.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range binaries {
		if err := os.WriteFile(filepath.Join(h.binDir, b), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	h.cmder = &fakeCmder{handle: h.handle}
	return h
}

func (h *fakeHost) builder(opts ...Option) *builder {
	opts = append([]Option{WithCmder(h.cmder), WithBinDir(h.binDir), WithCacheDir(h.cache),
		WithLogger(cmd.NewLogger(h.log, 0)), WithImage("kinc/node:test")}, opts...)
	b := newBuilder(opts...)
	b.arch = runtimeArch()
	b.geteuid = func() int { return h.euid }
	b.lookPath = func(name string) (string, error) {
		if h.missing[name] {
			return "", errors.New("not found")
		}
		return "/usr/bin/" + name, nil
	}
	b.mounts = func() ([]string, error) { return nil, nil }
	b.now = func() time.Time { return time.Unix(1700000000, 0) }
	return b
}

func (h *fakeHost) build(opts ...Option) (*Result, error) {
	return h.builder(opts...).build(context.Background())
}

// handle answers the builder's commands.
func (h *fakeHost) handle(c *fakeCall) error {
	a := c.args
	switch {
	case c.line() == "docker version --format {{.Server.APIVersion}}":
		fmt.Fprintln(c.stdout, h.api)
		return nil
	case c.line() == "docker build --quiet -":
		data, _ := io.ReadAll(c.stdin)
		if !strings.HasPrefix(string(data), "FROM sha256:imported\nSTOPSIGNAL SIGRTMIN+3\n") {
			return fmt.Errorf("unexpected Dockerfile %q", data)
		}
		fmt.Fprintln(c.stdout, "sha256:built")
		return nil
	case len(a) > 2 && a[0] == "docker" && a[1] == "image" && a[2] == "inspect":
		ref, format := a[len(a)-1], a[4]
		switch {
		case strings.HasPrefix(ref, "debian:"):
			fmt.Fprintln(c.stdout, "sha256:base")
		case h.label == "":
			return errors.New("no such image")
		case format == "{{.Size}}":
			fmt.Fprintln(c.stdout, "123000000")
		default:
			fmt.Fprintln(c.stdout, "sha256:node "+h.label)
		}
		return nil
	case a[0] == "debootstrap":
		root := a[len(a)-1]
		return os.MkdirAll(filepath.Join(root, "etc", "containerd"), 0o755)
	case a[0] == "chroot":
		if _, err := os.Stat(filepath.Join(a[1], recipeDir, recipeScript)); err != nil {
			return fmt.Errorf("recipe not in the chroot: %w", err)
		}
		return nil
	case a[0] == "tar":
		return os.WriteFile(a[5], testRootfs(h.t, "./", "./etc/", "./etc/containerd/", "./etc/containerd/config-cgroupfs.toml"), 0o644)
	case a[0] == "docker" && a[1] == "export":
		return os.WriteFile(a[3], testRootfs(h.t, ".dockerenv", "etc/", "etc/containerd/"), 0o644)
	case a[0] == "docker" && a[1] == "cp" && strings.HasPrefix(a[3], "kinc-build-preload-"):
		if !strings.HasSuffix(a[3], ":/kinc/images/") {
			return fmt.Errorf("archives copied to %s", a[3])
		}
		h.preload = readTarEntries(h.t, c.stdin)
		return nil
	case a[0] == "docker" && a[1] == "cp":
		entries := readTarEntries(h.t, c.stdin)
		if _, ok := entries[recipeDir+"/"+recipeScript]; !ok {
			return errors.New("recipe.sh not copied")
		}
		return nil
	case a[0] == "docker" && a[1] == "commit":
		fmt.Fprintln(c.stdout, "sha256:committed")
		return nil
	case a[0] == "go" && a[3] == "build":
		for i, arg := range a {
			if arg == "-o" {
				return os.WriteFile(a[i+1], []byte("crictl"), 0o755)
			}
		}
		return errors.New("no -o")
	case a[0] == "docker" && a[1] == "import":
		h.imported = readTarEntries(h.t, c.stdin)
		fmt.Fprintln(c.stdout, "sha256:imported")
		return nil
	}
	return nil
}

// testRootfs returns a tarball of the named entries (directories end in /).
func testRootfs(t *testing.T, names ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		hdr := &tar.Header{Name: n, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len("old " + n))}
		if strings.HasSuffix(n, "/") {
			hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeDir, 0o755, 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if hdr.Size > 0 {
			if _, err := tw.Write([]byte("old " + n)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// readTarEntries reads a whole tarball into name → content (names cleaned,
// a duplicate is a test failure).
func readTarEntries(t *testing.T, r io.Reader) map[string][]byte {
	t.Helper()
	entries := map[string][]byte{}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return entries
		}
		if err != nil {
			t.Errorf("read tar: %v", err)
			return entries
		}
		data, _ := io.ReadAll(tr)
		name := cleanName(hdr.Name)
		if _, dup := entries[name]; dup {
			t.Errorf("duplicate entry %s", name)
		}
		entries[name] = data
	}
}
