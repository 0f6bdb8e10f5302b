package nodeimage

import (
	"slices"
	"strings"
	"testing"

	"github.com/kinc-dev/kinc/images"
	"github.com/kinc-dev/kinc/pkg/version"
)

// TestComponentsAreTheVersionImages ties what the node image preloads to the
// one list of component images the cluster code also uses.
func TestComponentsAreTheVersionImages(t *testing.T) {
	t.Parallel()
	refs := Images()
	if want := version.ComponentImages(); !slices.Equal(refs, want) {
		t.Errorf("the node image preloads %v, want version.ComponentImages() %v", refs, want)
	}
}

// TestSandboxImageIsPreloaded: containerd's sandbox_image must name the pause
// image the node image preloads, or every pod sandbox would try a pull.
func TestSandboxImageIsPreloaded(t *testing.T) {
	t.Parallel()
	out, err := renderContainerdConfig(images.ContainerdConfigTemplate(), "systemd")
	if err != nil {
		t.Fatal(err)
	}
	if want := `sandbox_image = "` + version.PauseImage + `"`; !strings.Contains(string(out), want) {
		t.Errorf("containerd config lacks %s", want)
	}
	if !slices.Contains(Images(), version.PauseImage) {
		t.Errorf("the pause image %s is not preloaded", version.PauseImage)
	}
}
