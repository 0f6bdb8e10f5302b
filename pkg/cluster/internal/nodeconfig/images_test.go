package nodeconfig

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/kinc-dev/kinc/pkg/build/nodeimage"
	"github.com/kinc-dev/kinc/pkg/version"
)

// TestStaticPodImagesArePreloaded ties the static pod manifests to the node
// image: every image a manifest names is one the node image preloads (nothing
// is ever pulled), and every preloaded control-plane image has its manifest,
// except pause (the sandbox image) and the controller-manager (preloaded when
// its binary is built, and not run yet).
func TestStaticPodImagesArePreloaded(t *testing.T) {
	t.Parallel()
	c, nodes := cluster(t, "kind: Cluster\napiVersion: kinc.dev/v1alpha4\n")
	files, err := StaticPods(c, nodes[0])
	if err != nil {
		t.Fatal(err)
	}
	preloaded := nodeimage.Images()
	var rendered []string
	for _, f := range files {
		var pod corev1.Pod
		if err := yaml.UnmarshalStrict(f.Data, &pod); err != nil {
			t.Fatalf("%s: %v", f.Path, err)
		}
		for _, ctr := range append(pod.Spec.InitContainers, pod.Spec.Containers...) {
			if !slices.Contains(preloaded, ctr.Image) {
				t.Errorf("%s runs %s, which the node image does not preload (%v)", f.Path, ctr.Image, preloaded)
			}
			rendered = append(rendered, ctr.Image)
		}
	}
	for _, img := range preloaded {
		if img == version.PauseImage || img == version.ControllerManagerImage {
			continue
		}
		if !slices.Contains(rendered, img) {
			t.Errorf("the node image preloads %s but no static pod runs it (rendered %v)", img, rendered)
		}
	}
}
