//go:build e2e

package framework

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/kinc-dev/kinc/internal/testenv"
)

// BusyboxImage is the workload image: Debian's static busybox, imported
// with docker import (no registry), loaded with `kinc load docker-image`.
const BusyboxImage = "kinc-e2e/busybox:1"

// busyboxApplets are the commands the image links to /bin/busybox.
var busyboxApplets = []string{"sh", "echo", "sleep", "cat", "env", "httpd", "wget", "ls", "ps", "true", "false", "kill", "hostname", "id", "nc", "tar", "mkdir", "sha256sum"}

// ImportBusybox makes BusyboxImage in the local engine: a rootfs of a
// static /bin/busybox and links to it, given to docker import.
func ImportBusybox(ctx context.Context, tb testing.TB, cli *client.Client) {
	tb.Helper()
	bin, err := os.ReadFile(staticBusybox(ctx, tb))
	if err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	write := func(h *tar.Header, data []byte) {
		h.ModTime = time.Unix(0, 0)
		if err := tw.WriteHeader(h); err != nil {
			tb.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			tb.Fatal(err)
		}
	}
	for _, d := range []string{"bin/", "etc/", "tmp/", "proc/", "sys/", "dev/", "var/", "root/"} {
		mode := int64(0o755)
		if d == "tmp/" {
			mode = 0o1777
		}
		write(&tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: mode}, nil)
	}
	write(&tar.Header{Name: "bin/busybox", Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(bin))}, bin)
	for _, a := range busyboxApplets {
		write(&tar.Header{Name: "bin/" + a, Typeflag: tar.TypeSymlink, Linkname: "busybox"}, nil)
	}
	passwd := []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
	write(&tar.Header{Name: "etc/passwd", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(passwd))}, passwd)
	if err := tw.Close(); err != nil {
		tb.Fatal(err)
	}
	rc, err := cli.ImageImport(ctx, image.ImportSource{Source: &buf, SourceName: "-"}, BusyboxImage,
		image.ImportOptions{Changes: []string{`CMD ["/bin/sh"]`, `ENV PATH=/bin`}})
	if err != nil {
		tb.Fatalf("docker import %s: %v", BusyboxImage, err)
	}
	_, _ = io.Copy(io.Discard, rc)
	rc.Close()
}

// staticBusybox returns the path of a statically linked busybox, installing
// Debian's busybox-static with apt when it is missing and this is root on
// Debian; elsewhere tb is skipped, or fails under CI (testenv.Missing).
func staticBusybox(ctx context.Context, tb testing.TB) string {
	tb.Helper()
	const path = "/bin/busybox"
	if isStatic(path) {
		return path
	}
	if _, err := os.Stat("/etc/debian_version"); err != nil || os.Geteuid() != 0 {
		testenv.Missing(tb, "no static %s and not root on Debian: install busybox-static (apt-get install -y busybox-static) to build the workload image", path)
	}
	tb.Logf("installing busybox-static with apt")
	install := func() error {
		cmd := exec.CommandContext(ctx, "apt-get", "install", "-y", "-qq", "busybox-static")
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("apt-get install busybox-static: %v\n%s", err, out)
		}
		return nil
	}
	if err := install(); err != nil {
		update := exec.CommandContext(ctx, "apt-get", "update", "-qq")
		if out, uerr := update.CombinedOutput(); uerr != nil {
			testenv.Missing(tb, "%v; apt-get update: %v\n%s", err, uerr, out)
		}
		if err := install(); err != nil {
			testenv.Missing(tb, "%v", err)
		}
	}
	if !isStatic(path) {
		tb.Fatalf("%s is still not a static binary after installing busybox-static", path)
	}
	return path
}

// isStatic reports whether path is an ELF executable without an
// interpreter (statically linked).
func isStatic(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false
		}
	}
	return true
}
