package testimages

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/kinc-dev/kinc/pkg/build/workdir"
	"github.com/kinc-dev/kinc/pkg/exec"
	"github.com/kinc-dev/kinc/pkg/log"
)

// Names of the binaries Build takes in Options.Binaries.
const (
	BinaryAgnhost         = "agnhost"          // k8s.io/kubernetes/test/images/agnhost
	BinaryNonewprivs      = "nonewprivs"       // k8s.io/kubernetes/test/images/nonewprivs
	BinarySampleAPIServer = "sample-apiserver" // k8s.io/sample-apiserver
	BinaryEtcd            = "etcd"             // an etcd server (kinc's bin/etcd)
	BinaryPause           = "pause"            // a pause that exits on SIGTERM (kinc's bin/pause)
)

// BinaryNames returns the names Options.Binaries must hold, sorted.
func BinaryNames() []string {
	names := []string{BinaryAgnhost, BinaryNonewprivs, BinarySampleAPIServer, BinaryEtcd, BinaryPause}
	sort.Strings(names)
	return names
}

// Options configures Build.
type Options struct {
	// Cmder runs docker, debootstrap and tar; nil runs them on this machine.
	Cmder exec.Cmder
	// Logger receives progress lines (step/done) at V(0) and the commands'
	// output at V(1); nil discards them.
	Logger log.Logger
	// CacheDir holds the archives and, while a build runs, its work
	// directory (e.g. ~/.cache/kinc/conformance). Required. Archives of
	// other inputs found there are removed after a successful build.
	CacheDir string
	// Binaries maps every name of BinaryNames to the path of a static
	// linux binary for this machine's architecture. Each is copied into its
	// image(s); its content is part of the archive's cache key.
	Binaries map[string]string
	// Now is the clock for the timings in progress lines; nil is time.Now.
	Now func() time.Time
}

// Result is what Build produced.
type Result struct {
	// Archive is the `docker save` archive holding every image of Images,
	// ready for `docker load` or `ctr images import`.
	Archive string
	// Images are the references in the archive, as Images returns them.
	Images []string
}

// Build returns the archive of every test image for these inputs: the cached
// one when it exists ("Using cached test images", no command runs), else it
// builds the images (a few minutes; the first build also runs debootstrap)
// and saves them. The images stay tagged in the local Docker engine too.
// Errors say what to do (a missing binary, debootstrap or Docker engine).
// Concurrent Builds into one CacheDir are not supported.
func Build(ctx context.Context, opts Options) (Result, error) {
	b, err := newBuilder(opts)
	if err != nil {
		return Result{}, err
	}
	return b.build(ctx)
}

// builder holds one build's settings.
type builder struct {
	cmder    exec.Cmder
	logger   log.Logger
	cacheDir string
	binaries map[string]string
	now      func() time.Time
	geteuid  func() int
	check    func(name, path string) error // checkBinary
	mounts   func() ([]string, error)      // mount points of this machine
}

func newBuilder(opts Options) (*builder, error) {
	b := &builder{cmder: opts.Cmder, logger: opts.Logger, now: opts.Now, geteuid: os.Geteuid, check: checkBinary, mounts: workdir.ReadMounts}
	if b.cmder == nil {
		b.cmder = exec.LocalCmder{}
	}
	if b.logger == nil {
		b.logger = log.NoopLogger{}
	}
	if b.now == nil {
		b.now = time.Now
	}
	if opts.CacheDir == "" {
		return nil, errors.New("testimages: no cache directory given (Options.CacheDir)")
	}
	dir, err := filepath.Abs(opts.CacheDir)
	if err != nil {
		return nil, err
	}
	b.cacheDir = dir
	b.binaries = map[string]string{}
	var missing, unknown []string
	for _, name := range BinaryNames() {
		if opts.Binaries[name] == "" {
			missing = append(missing, name)
		}
	}
	for name, path := range opts.Binaries {
		if !isBinaryName(name) {
			unknown = append(unknown, name)
			continue
		}
		if b.binaries[name], err = filepath.Abs(path); err != nil {
			return nil, err
		}
	}
	sort.Strings(unknown)
	if len(unknown) > 0 {
		return nil, fmt.Errorf("testimages: unknown binaries %s (want %s)", strings.Join(unknown, ", "), strings.Join(BinaryNames(), ", "))
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("testimages: no path given for binaries %s (build them first)", strings.Join(missing, ", "))
	}
	return b, nil
}

func isBinaryName(name string) bool {
	for _, n := range BinaryNames() {
		if n == name {
			return true
		}
	}
	return false
}

func (b *builder) archivePath(key string) string {
	return filepath.Join(b.cacheDir, "test-images-"+key[:16]+".tar")
}

func (b *builder) build(ctx context.Context) (Result, error) {
	sums, err := hashBinaries(b.binaries)
	if err != nil {
		return Result{}, err
	}
	for _, name := range BinaryNames() {
		if err := b.check(name, b.binaries[name]); err != nil {
			return Result{}, err
		}
	}
	r := newRecipe()
	key := r.key(sums)
	archive := b.archivePath(key)
	res := Result{Archive: archive, Images: Images()}
	if _, err := os.Stat(archive); err == nil {
		b.done("Using cached test images %s (%s)", key[:12], archive)
		return res, nil
	}
	start := b.now()
	b.step("Building %d conformance test images (recipe %s); this takes a few minutes", len(res.Images), key[:12])
	if err := b.checkDocker(ctx); err != nil {
		return Result{}, err
	}
	if err := os.MkdirAll(b.cacheDir, 0o755); err != nil {
		return Result{}, fmt.Errorf("create the cache directory: %w", err)
	}
	work, err := os.MkdirTemp(b.cacheDir, "work-")
	if err != nil {
		return Result{}, fmt.Errorf("create a work directory: %w", err)
	}
	defer b.removeWorkDir(ctx, work)
	if err := b.ensureBase(ctx, r, work); err != nil {
		return Result{}, err
	}
	previous := b.imageIDs(ctx, res.Images)
	for _, img := range r.images {
		if err := b.buildImage(ctx, img, work); err != nil {
			return Result{}, err
		}
	}
	if err := b.save(ctx, res.Images, archive); err != nil {
		return Result{}, err
	}
	b.prune(ctx, archive, r.baseRef, previous, b.imageIDs(ctx, res.Images))
	if fi, err := os.Stat(archive); err == nil {
		b.done("Built test images in %s: %s (%d MB)", b.since(start), archive, fi.Size()>>20)
	}
	return res, nil
}

// checkDocker makes sure a Docker engine answers.
func (b *builder) checkDocker(ctx context.Context) error {
	err := b.cmder.CommandContext(ctx, "docker", "version", "--format", "{{.Server.APIVersion}}").Run()
	if notFound(err) {
		return errors.New("docker not found: install Docker (on Debian as root: apt-get install -y docker.io, or run hack/ensure-docker.sh)")
	}
	if err != nil {
		return fmt.Errorf("the Docker engine does not answer (start it: hack/ensure-docker.sh, or systemctl start docker): %w", err)
	}
	return nil
}

// buildImage runs `docker build` of one image from its generated context.
func (b *builder) buildImage(ctx context.Context, img spec, work string) error {
	dir := filepath.Join(work, img.name)
	if err := img.writeContext(dir, b.binaries); err != nil {
		return fmt.Errorf("prepare the %s image: %w", img.name, err)
	}
	start := b.now()
	args := []string{"build", "--force-rm"}
	for _, ref := range img.refs {
		args = append(args, "-t", ref)
	}
	args = append(args, dir)
	// The classic builder: engines as old as 20.10 have it, and it needs no
	// buildx plugin.
	if err := b.command(ctx, "docker", args...).SetEnv("DOCKER_BUILDKIT=0").Run(); err != nil {
		return fmt.Errorf("docker build of %s failed (its output follows): %w", img.refs[0], err)
	}
	b.done("Built %s in %s", strings.Join(img.refs, ", "), b.since(start))
	return nil
}

// save writes every reference into archive with `docker save`, atomically.
func (b *builder) save(ctx context.Context, refs []string, archive string) error {
	start := b.now()
	b.step("Saving %d images into %s", len(refs), archive)
	tmp := archive + ".tmp"
	args := append([]string{"save", "-o", tmp}, refs...)
	if err := b.command(ctx, "docker", args...).Run(); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("docker save of the test images failed: %w", err)
	}
	if err := os.Rename(tmp, archive); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("cache the test images archive: %w", err)
	}
	b.done("Saved the archive in %s", b.since(start))
	return nil
}

// imageIDs returns the image ID each reference names now, for those that
// exist.
func (b *builder) imageIDs(ctx context.Context, refs []string) map[string]string {
	ids := map[string]string{}
	for _, ref := range refs {
		lines, err := exec.OutputLines(b.cmder.CommandContext(ctx, "docker", "image", "inspect", "--format", "{{.Id}}", ref))
		if err == nil && len(lines) == 1 {
			ids[ref] = lines[0]
		}
	}
	return ids
}

// prune removes what an earlier build left and nothing reads any more, as
// it is large: archives of other inputs, the images our references named
// before this build (children first, so parents are free to go), and base
// images of other recipes. Images still in use (tagged, or a container's)
// stay: docker image rm refuses them.
func (b *builder) prune(ctx context.Context, keepArchive, keepBase string, before, after map[string]string) {
	old, _ := filepath.Glob(filepath.Join(b.cacheDir, "test-images-*.tar"))
	for _, p := range old {
		if p != keepArchive {
			_ = os.Remove(p)
		}
	}
	refs := Images()
	removed := map[string]bool{}
	for i := len(refs) - 1; i >= 0; i-- {
		id := before[refs[i]]
		if id == "" || id == after[refs[i]] || removed[id] {
			continue
		}
		removed[id] = true
		_ = b.cmder.CommandContext(ctx, "docker", "image", "rm", id).Run()
	}
	bases, err := exec.OutputLines(b.cmder.CommandContext(ctx, "docker", "image", "ls",
		"--format", "{{.Repository}}:{{.Tag}}", baseRepository))
	if err != nil {
		return
	}
	for _, ref := range bases {
		if ref != keepBase && strings.HasPrefix(ref, baseRepository+":") {
			_ = b.cmder.CommandContext(ctx, "docker", "image", "rm", ref).Run()
		}
	}
}
