package nodeimage

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"
)

// importImage streams the cached rootfs plus the layer into `docker import`
// and returns the (unnamed) image's ID.
func (b *builder) importImage(ctx context.Context, rootfs string, l *layer) (string, error) {
	start := b.now()
	b.step("Importing the node filesystem into Docker")
	withStopSignal := b.api.atLeast(1, 42)
	changes := importChanges(l.digest, l.recipeHash, withStopSignal)
	id, err := b.dockerImport(ctx, changes, func(w io.Writer) error {
		f, err := os.Open(rootfs)
		if err != nil {
			return err
		}
		defer f.Close()
		return writeNodeTar(w, f, l.files, b.now().Truncate(time.Second))
	})
	if err != nil {
		return "", err
	}
	if !withStopSignal {
		if id, err = b.setStopSignal(ctx, id); err != nil {
			return "", err
		}
	}
	b.done("Imported the node filesystem in %s", b.since(start))
	return id, nil
}

// dropped are rootfs entries a node must not have: Docker's marker file of
// the container a --base-image rootfs was exported from.
func dropped(name string) bool { return name == ".dockerenv" }

// writeNodeTar copies the rootfs tarball to w, leaving out entries that
// files replace, then appends files (and any parent directory the rootfs
// lacks), owned by root with modification time mtime.
func writeNodeTar(w io.Writer, rootfs io.Reader, files []layerFile, mtime time.Time) error {
	replaced := map[string]bool{}
	for _, f := range files {
		replaced[f.path] = true
	}
	dirs := map[string]bool{}
	tw := tar.NewWriter(w)
	tr := tar.NewReader(rootfs)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read the rootfs: %w", err)
		}
		name := cleanName(hdr.Name)
		if replaced[name] || dropped(name) {
			continue
		}
		if hdr.Typeflag == tar.TypeDir {
			dirs[name] = true
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("write %s: %w", hdr.Name, err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return fmt.Errorf("copy %s: %w", hdr.Name, err)
		}
	}
	for _, f := range files {
		if err := writeParents(tw, f.path, dirs, mtime); err != nil {
			return err
		}
		if err := writeLayerFile(tw, f, mtime); err != nil {
			return err
		}
	}
	return tw.Close()
}

// cleanName turns "./etc/x", "etc/x/" and "/etc/x" into "etc/x" ("" for the
// root itself).
func cleanName(name string) string {
	name = path.Clean("/" + name)
	return strings.TrimPrefix(name, "/")
}

func writeParents(tw *tar.Writer, p string, dirs map[string]bool, mtime time.Time) error {
	var missing []string
	for d := path.Dir(p); d != "." && d != "/" && !dirs[d]; d = path.Dir(d) {
		missing = append(missing, d)
	}
	for i := len(missing) - 1; i >= 0; i-- {
		d := missing[i]
		hdr := &tar.Header{Name: d + "/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: mtime, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("write %s: %w", d, err)
		}
		dirs[d] = true
	}
	return nil
}

func writeLayerFile(tw *tar.Writer, f layerFile, mtime time.Time) error {
	r, size, err := f.open()
	if err != nil {
		return err
	}
	defer r.Close()
	hdr := &tar.Header{Name: f.path, Typeflag: tar.TypeReg, Mode: f.mode, Size: size, ModTime: mtime, Format: tar.FormatPAX}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	n, err := io.Copy(tw, r)
	if err != nil {
		return fmt.Errorf("copy %s: %w", f.path, err)
	}
	if n != size {
		return fmt.Errorf("copy %s: %d bytes, want %d (did it change during the build?)", f.path, n, size)
	}
	return nil
}
