package nodeimage

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	osexec "os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/kinc-dev/kinc/images"
	"github.com/kinc-dev/kinc/pkg/build/workdir"
	"github.com/kinc-dev/kinc/pkg/exec"
	"github.com/kinc-dev/kinc/pkg/log"
	"github.com/kinc-dev/kinc/pkg/version"
)

// ImageRepository is the repository of node images kinc builds.
const ImageRepository = version.NodeImageRepository

// DefaultImage returns the default node image reference, version.NodeImage():
// kinc/node:<kinc version>, with characters a tag cannot hold replaced by '-'.
func DefaultImage() string { return version.NodeImage() }

// Result describes a build.
type Result struct {
	Image      string   // the reference built, e.g. kinc/node:v0.1.0-alpha
	ExtraTags  []string // other references pointing at it (kinc/node:latest)
	ID         string   // Docker image ID
	Size       int64    // bytes, as Docker reports it
	Digest     string   // digest of all inputs, kept in the image's io.kinc.node-image.digest label
	RecipeHash string   // key of the cached rootfs
	UpToDate   bool     // the image was already built from these inputs: nothing was done
	Components []string // component images shipped in /kinc/images
	Kubelet    bool     // /usr/bin/kubelet is in the image
}

// Build builds the node image (see the package comment). Progress goes to
// the logger given with WithLogger; errors say what to do next.
func Build(ctx context.Context, opts ...Option) (*Result, error) {
	b := newBuilder(opts...)
	if b.cacheRoot == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("no cache directory (set XDG_CACHE_HOME, or HOME): %w", err)
		}
		b.cacheRoot = filepath.Join(dir, "kinc")
	}
	// Commands run in other directories (go -C, chroot): paths must be absolute.
	var err error
	if b.cacheRoot, err = filepath.Abs(b.cacheRoot); err != nil {
		return nil, err
	}
	if b.binDir, err = filepath.Abs(b.binDir); err != nil {
		return nil, err
	}
	return b.build(ctx)
}

// builder holds one build's settings and the seams its tests replace.
type builder struct {
	logger    log.Logger
	cmder     exec.Cmder
	image     string
	extraTags []string
	baseImage string
	binDir    string
	cacheRoot string
	force     bool
	arch      string // GOARCH of the node image: the host's
	api       apiVersion
	recipe    fs.FS
	template  string // containerd config template

	lookPath func(string) (string, error)
	geteuid  func() int
	now      func() time.Time
	mounts   func() ([]string, error) // mount points of this machine
}

func newBuilder(opts ...Option) *builder {
	b := &builder{
		logger:    log.NoopLogger{},
		cmder:     exec.LocalCmder{},
		image:     DefaultImage(),
		extraTags: []string{version.LatestNodeImage},
		binDir:    "bin",
		arch:      runtime.GOARCH,
		recipe:    images.Recipe(),
		template:  images.ContainerdConfigTemplate(),
		lookPath:  lookPath,
		geteuid:   os.Geteuid,
		now:       time.Now,
		mounts:    workdir.ReadMounts,
	}
	for _, o := range opts {
		o(b)
	}
	return b
}

// lookPath finds a command on PATH, or in the sbin directories that a
// non-login root shell may lack (debootstrap and chroot live there).
func lookPath(name string) (string, error) {
	if p, err := osexec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found", name)
}

func (b *builder) cacheDir() string { return filepath.Join(b.cacheRoot, "node-image") }

func (b *builder) build(ctx context.Context) (*Result, error) {
	start := b.now()
	var err error
	if b.api, err = b.checkDocker(ctx); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(b.cacheDir(), 0o755); err != nil {
		return nil, fmt.Errorf("create cache directory: %w", err)
	}
	rootfsKey, err := b.rootfsKey(ctx)
	if err != nil {
		return nil, err
	}
	recipeHash, err := hashRecipe(b.recipe, rootfsKey)
	if err != nil {
		return nil, err
	}
	layer, err := b.prepareLayer(ctx, recipeHash)
	if err != nil {
		return nil, err
	}
	defer layer.cleanup()
	res := &Result{
		Image: b.image, ExtraTags: b.extraTags, Digest: layer.digest, RecipeHash: recipeHash,
		Components: layer.components, Kubelet: layer.kubelet,
	}
	previous, current := b.imageCurrent(ctx, layer.digest)
	if current && !b.force {
		if err := b.tag(ctx, previous); err != nil {
			return nil, err
		}
		res.ID, res.UpToDate = previous, true
		res.Size, _ = b.imageSize(ctx)
		b.done("Image %s is up to date (built from the same inputs; --force rebuilds it)", b.image)
		return res, nil
	}
	rootfs, err := b.ensureRootfs(ctx, recipeHash)
	if err != nil {
		return nil, err
	}
	crictl, err := b.ensureCrictl(ctx)
	if err != nil {
		return nil, err
	}
	layer.addFile("usr/bin/crictl", 0o755, crictl)
	imported, err := b.importImage(ctx, rootfs, layer)
	if err != nil {
		return nil, err
	}
	if res.ID, err = b.preload(ctx, imported, layer); err != nil {
		return nil, err
	}
	if err := b.tag(ctx, res.ID); err != nil {
		return nil, err
	}
	if previous != "" && previous != res.ID {
		// The image this build replaces, unless a container or another tag
		// still uses it (then Docker refuses, and it stays).
		_ = b.cmder.CommandContext(ctx, "docker", "image", "rm", previous).Run()
	}
	res.Size, _ = b.imageSize(ctx)
	also := ""
	if len(b.extraTags) > 0 {
		also = " (also " + strings.Join(b.extraTags, ", ") + ")"
	}
	b.done("Image %s%s built in %s, %s", b.image, also, b.since(start), humanSize(res.Size))
	b.pruneRootfs(rootfs)
	return res, nil
}

func humanSize(n int64) string {
	if n <= 0 {
		return "size unknown"
	}
	return fmt.Sprintf("%.0f MB", float64(n)/1e6)
}
