package version

import "strings"

// This file is the one home of every version and image reference kinc ships:
// the image builder (pkg/build/nodeimage) preloads exactly ComponentImages()
// into the node image and points containerd's sandbox_image at PauseImage; the
// cluster code (pkg/cluster) writes the same references into the static pod
// manifests and defaults nodes to NodeImage(); the e2e framework looks for the
// same node images. images_test.go ties the versions to the modules kinc is
// built from.

// EtcdVersion is the version of the go.etcd.io/etcd/server/v3 module kinc's
// etcd binary is built from (etcdmain.Main), without the leading "v".
const EtcdVersion = "3.7.3"

// PauseVersion is the tag of the pause image, as kubeadm of KubernetesVersion
// pins it.
const PauseVersion = "3.10"

// ImageRegistry is the registry part of the component image references.
// It is only a name: the images are built locally from kinc's binaries and
// preloaded; nothing is ever pulled.
const ImageRegistry = "registry.k8s.io"

// The control-plane components that have an image of their own, named as
// upstream names binaries and images.
const (
	KubeAPIServer         = "kube-apiserver"
	KubeControllerManager = "kube-controller-manager"
	KubeScheduler         = "kube-scheduler"
)

// Component image references, as kubeadm of KubernetesVersion names them.
const (
	PauseImage             = ImageRegistry + "/pause:" + PauseVersion
	EtcdImage              = ImageRegistry + "/etcd:" + EtcdVersion + "-0"
	APIServerImage         = ImageRegistry + "/" + KubeAPIServer + ":" + KubernetesVersion
	ControllerManagerImage = ImageRegistry + "/" + KubeControllerManager + ":" + KubernetesVersion
	SchedulerImage         = ImageRegistry + "/" + KubeScheduler + ":" + KubernetesVersion
)

// KubeImage returns the image of a Kubernetes component, e.g.
// registry.k8s.io/kube-apiserver:v1.37.2.
func KubeImage(component string) string {
	return ImageRegistry + "/" + component + ":" + KubernetesVersion
}

// ComponentImages returns every image the node image preloads, in the order
// the builder imports them: pause, etcd, then the Kubernetes components.
func ComponentImages() []string {
	return []string{PauseImage, EtcdImage, APIServerImage, ControllerManagerImage, SchedulerImage}
}

// NodeImageRepository is the repository of node images.
const NodeImageRepository = "kinc/node"

// LatestNodeImage is the tag every node image build also sets; used when the
// image of this exact kinc version is missing.
const LatestNodeImage = NodeImageRepository + ":latest"

// NodeImage returns the default node image of this kinc version:
// kinc/node:<Version()>, as `kinc build node-image` tags it.
func NodeImage() string { return NodeImageFor(Version()) }

// NodeImageFor returns the node image of a kinc version: characters a tag
// cannot hold become '-', and the tag is cut at 128 characters.
func NodeImageFor(kincVersion string) string {
	tag := strings.Map(func(r rune) rune {
		if r == '_' || r == '.' || r == '-' || r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return r
		}
		return '-'
	}, kincVersion)
	if len(tag) > 128 {
		tag = tag[:128]
	}
	return NodeImageRepository + ":" + tag
}
