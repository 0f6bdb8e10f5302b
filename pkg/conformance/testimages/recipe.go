package testimages

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// recipeVersion changes when the build changes in a way the hashed texts do
// not show (e.g. how the base rootfs is slimmed).
const recipeVersion = "testimages/1"

// suite is the Debian release of the base image.
const suite = "bookworm"

// baseRepository names the local base image; its tag is a hash of the base
// recipe. ".invalid" cannot be a registry: the name never leaves this engine.
const baseRepository = "kinc.invalid/conformance-base"

// basePackages are installed into the base rootfs on top of Debian's minbase
// (which has bash, coreutils, getent from libc-bin, mount, useradd, …): the
// tools the specs run inside agnhost and glibc-dns-testing containers (dig,
// nslookup, curl, nc, socat, ip and ss, iperf), a static busybox (the busybox
// image, and agnhost's fallback for commands Debian lacks: wget, ping, …) and
// nginx.
var basePackages = []string{
	"bind9-dnsutils",
	"busybox-static",
	"curl",
	"iperf",
	"iproute2",
	"netcat-openbsd",
	"nginx-light",
	"procps",
	"socat",
}

// envPath is the PATH of the images that start FROM scratch or from the
// imported base (neither has an environment of its own).
const envPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Upstream names of the images.
const (
	refAgnhost         = "registry.k8s.io/e2e-test-images/agnhost:2.66.1"
	refAgnhostPrev     = "registry.k8s.io/e2e-test-images/agnhost:2.55"
	refBusybox         = "registry.k8s.io/e2e-test-images/busybox:1.37.0-2"
	refPause           = "registry.k8s.io/pause:3.10.2"
	refNginx           = "registry.k8s.io/e2e-test-images/nginx:1.27.0-2"
	refGlibcDNSTesting = "registry.k8s.io/e2e-test-images/glibc-dns-testing:2.1.1"
	refNautilus        = "registry.k8s.io/e2e-test-images/nautilus:1.8"
	refKitten          = "registry.k8s.io/e2e-test-images/kitten:1.8"
	refNonewprivs      = "registry.k8s.io/e2e-test-images/nonewprivs:1.4"
	refNonroot         = "registry.k8s.io/e2e-test-images/nonroot:1.5"
	refSampleAPIServer = "registry.k8s.io/e2e-test-images/sample-apiserver:1.29.2"
	refEtcd            = "registry.k8s.io/etcd:3.7.0-0"
)

// Images returns the references Build puts into its archive, in a stable
// order: those of k8s.io/kubernetes v1.37.2's test/utils/image that the
// conformance specs run.
func Images() []string {
	return []string{
		refAgnhost, refAgnhostPrev, refBusybox, refPause, refNginx, refGlibcDNSTesting,
		refNautilus, refKitten, refNonewprivs, refNonroot, refSampleAPIServer, refEtcd,
	}
}

// recipe is everything a build makes, as data: the base image and each
// image's Dockerfile and context.
type recipe struct {
	baseRef string
	images  []spec // in build order: an image comes after the one it starts FROM
}

// spec is one `docker build`: its context directory name, the references
// it is tagged with, and its context.
type spec struct {
	name       string
	refs       []string
	dockerfile string
	files      []file
}

// file is one file of a build context: fixed data, a copy of one of the
// caller's binaries, or data generated when the context is written (not
// part of the cache key but for its description).
type file struct {
	name     string
	mode     os.FileMode
	data     []byte
	binary   string                 // a key of Options.Binaries
	generate func() ([]byte, error) // with describe: made at build time
	describe string
}

func newRecipe() recipe {
	base := baseRepository + ":" + baseKey()[:16]
	from := "FROM " + base + "\n"
	tls := &tlsPair{}
	return recipe{baseRef: base, images: []spec{
		{name: "agnhost", refs: []string{refAgnhost, refAgnhostPrev}, dockerfile: from + agnhostDockerfile, files: []file{
			{name: "agnhost", mode: 0o755, binary: BinaryAgnhost},
			{name: "localhost.crt", mode: 0o644, generate: tls.cert, describe: tlsDescription},
			{name: "localhost.key", mode: 0o644, generate: tls.key, describe: tlsDescription},
		}},
		demoImage("nautilus", refNautilus, demoColors{0x1f, 0x4e, 0x79}),
		demoImage("kitten", refKitten, demoColors{0xc0, 0x7a, 0x2c}),
		{name: "busybox", refs: []string{refBusybox}, dockerfile: "FROM " + base + " AS debian\n" + busyboxDockerfile, files: []file{
			{name: "passwd", mode: 0o644, data: []byte(busyboxPasswd)},
			{name: "group", mode: 0o644, data: []byte(busyboxGroup)},
		}},
		{name: "pause", refs: []string{refPause}, dockerfile: pauseDockerfile, files: []file{
			{name: "pause", mode: 0o755, binary: BinaryPause},
		}},
		{name: "nginx", refs: []string{refNginx}, dockerfile: from + nginxDockerfile, files: []file{
			{name: "nginx.conf", mode: 0o644, data: []byte(nginxConf)},
			{name: "default.conf", mode: 0o644, data: []byte(nginxSite)},
			{name: "index.html", mode: 0o644, data: []byte(nginxIndex)},
			{name: "50x.html", mode: 0o644, data: []byte(nginx50x)},
		}},
		{name: "glibc-dns-testing", refs: []string{refGlibcDNSTesting}, dockerfile: from + glibcDNSTestingDockerfile},
		{name: "nonewprivs", refs: []string{refNonewprivs}, dockerfile: from + nonewprivsDockerfile, files: []file{
			{name: "nnp", mode: 0o755, binary: BinaryNonewprivs},
		}},
		{name: "nonroot", refs: []string{refNonroot}, dockerfile: from + nonrootDockerfile},
		{name: "sample-apiserver", refs: []string{refSampleAPIServer}, dockerfile: from + sampleAPIServerDockerfile, files: []file{
			{name: "sample-apiserver", mode: 0o755, binary: BinarySampleAPIServer},
		}},
		{name: "etcd", refs: []string{refEtcd}, dockerfile: from + etcdDockerfile, files: []file{
			{name: "etcd", mode: 0o755, binary: BinaryEtcd},
		}},
	}}
}

// baseKey hashes how the base image is made.
func baseKey() string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\ndebootstrap --variant=minbase %s\n%s\nslim %s\n", recipeVersion, suite,
		strings.Join(basePackages, ","), strings.Join(slimPaths, ","))
	for _, c := range baseChanges {
		fmt.Fprintf(h, "change %s\n", c)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// key hashes the whole recipe and the sha256 of every binary (by name).
func (r recipe) key(binarySums map[string]string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\nbase %s\n", recipeVersion, r.baseRef)
	for _, img := range r.images {
		fmt.Fprintf(h, "image %s %s\n%s\n", img.name, strings.Join(img.refs, " "), img.dockerfile)
		for _, f := range img.files {
			fmt.Fprintf(h, "file %s %o ", f.name, f.mode)
			switch {
			case f.binary != "":
				fmt.Fprintf(h, "binary %s sha256:%s\n", f.binary, binarySums[f.binary])
			case f.generate != nil:
				fmt.Fprintf(h, "generated %s\n", f.describe)
			default:
				s := sha256.Sum256(f.data)
				fmt.Fprintf(h, "data sha256:%x\n", s)
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// writeContext writes the image's Dockerfile and files into dir, copying
// (or hard-linking) binaries from their paths.
func (img spec) writeContext(dir string, binaries map[string]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(img.dockerfile), 0o644); err != nil {
		return err
	}
	for _, f := range img.files {
		dst := filepath.Join(dir, f.name)
		if f.binary != "" {
			if err := copyFile(binaries[f.binary], dst, f.mode); err != nil {
				return fmt.Errorf("copy the %s binary: %w", f.binary, err)
			}
			continue
		}
		data := f.data
		if f.generate != nil {
			var err error
			if data, err = f.generate(); err != nil {
				return fmt.Errorf("generate %s: %w", f.name, err)
			}
		}
		if err := os.WriteFile(dst, data, f.mode); err != nil {
			return err
		}
		// WriteFile's mode is masked by the umask; the image keeps what the
		// context holds.
		if err := os.Chmod(dst, f.mode); err != nil {
			return err
		}
	}
	return nil
}

// copyFile copies src to dst with mode.
func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chmod(dst, mode)
}

// hashBinaries returns the sha256 of each binary, checking that each is a
// regular file.
func hashBinaries(paths map[string]string) (map[string]string, error) {
	names := make([]string, 0, len(paths))
	for n := range paths {
		names = append(names, n)
	}
	sort.Strings(names)
	sums := map[string]string{}
	for _, n := range names {
		sum, err := hashFile(paths[n])
		if err != nil {
			return nil, fmt.Errorf("the %s binary: %w (build it first)", n, err)
		}
		sums[n] = sum
	}
	return sums, nil
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", path)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
