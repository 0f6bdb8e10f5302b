package nodeimage

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// crictl is built from source at a pinned release, in a throwaway module, so
// kinc's go.mod never takes on cri-tools' dependencies (k8s.io/kubectl,
// kubelet, …): the build uses the versions cri-tools' own go.mod requires, it
// cross-compiles for the node's architecture (go install with GOBIN cannot),
// and the binary is cached per version. v1.37.0 matches the CRI v1 API of
// k8s.io/cri-api v0.37.x, the one our kubelet speaks.
const (
	crictlModule  = "sigs.k8s.io/cri-tools"
	crictlVersion = "v1.37.0"
)

func (b *builder) crictlPath() string {
	return filepath.Join(b.cacheDir(), fmt.Sprintf("crictl-%s-linux-%s", crictlVersion, b.arch))
}

// ensureCrictl returns the cached crictl binary, building it first when it is
// missing.
func (b *builder) ensureCrictl(ctx context.Context) (string, error) {
	out := b.crictlPath()
	if _, err := os.Stat(out); err == nil {
		b.done("Using cached crictl %s", crictlVersion)
		return out, nil
	}
	if _, err := b.lookPath("go"); err != nil {
		return "", fmt.Errorf("go not found: crictl is built from source (%s@%s); install Go 1.26 or newer", crictlModule, crictlVersion)
	}
	start := b.now()
	b.step("Building crictl %s from %s with the Go module proxy", crictlVersion, crictlModule)
	work, err := os.MkdirTemp(b.cacheDir(), "crictl-build-")
	if err != nil {
		return "", fmt.Errorf("create a work directory: %w", err)
	}
	defer os.RemoveAll(work)
	env := []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + b.arch, "GOFLAGS=-mod=mod", "GOWORK=off"}
	tmp := out + ".tmp"
	steps := [][]string{
		{"-C", work, "mod", "init", "kinc.invalid/crictl-build"},
		{"-C", work, "get", crictlModule + "/cmd/crictl@" + crictlVersion},
		{"-C", work, "build", "-trimpath", "-o", tmp,
			"-ldflags", "-s -w -X " + crictlModule + "/pkg/version.Version=" + crictlVersion,
			crictlModule + "/cmd/crictl"},
	}
	for _, args := range steps {
		if err := b.command(ctx, "go", args...).SetEnv(env...).Run(); err != nil {
			_ = os.Remove(tmp)
			return "", fmt.Errorf("build crictl %s (it needs the Go module proxy): %w", crictlVersion, err)
		}
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", fmt.Errorf("cache crictl: %w", err)
	}
	b.done("Built crictl %s in %s", crictlVersion, b.since(start))
	return out, nil
}
