package nodeimage

import (
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/kinc-dev/kinc/pkg/build/nodeimage/internal/imagearchive"
	"github.com/kinc-dev/kinc/pkg/version"
)

// component is one image built from one of our binaries.
type component struct {
	binary   string // file name in the bin directory
	ref      string
	path     string // where the binary sits in the image
	required bool   // the build fails without it
}

// components lists the component images in the order they are imported:
// version.ComponentImages(), each with the binary it is built from. The
// references are only names: nothing is ever pulled.
func components() []component {
	kube := func(name string) component {
		return component{binary: name, ref: version.KubeImage(name), path: "usr/local/bin/" + name}
	}
	return []component{
		{binary: "pause", ref: version.PauseImage, path: "pause", required: true},
		{binary: "etcd", ref: version.EtcdImage, path: "usr/local/bin/etcd", required: true},
		kube(version.KubeAPIServer),
		kube(version.KubeControllerManager),
		kube(version.KubeScheduler),
	}
}

// Images returns the references of the component images the node image
// preloads, in import order (version.ComponentImages()).
func Images() []string {
	var refs []string
	for _, c := range components() {
		refs = append(refs, c.ref)
	}
	return refs
}

// imagePath is the PATH of every component image: manifests name the binary
// ("command: [kube-apiserver, …]"), which the runtime finds on PATH.
const imagePath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// componentImage describes c's image around binary data.
func componentImage(c component, arch string, data []byte) imagearchive.Image {
	return imagearchive.Image{
		RepoTags:     []string{c.ref},
		OS:           "linux",
		Architecture: arch,
		Entrypoint:   []string{"/" + c.path},
		Env:          []string{imagePath},
		WorkingDir:   "/",
		Files: []imagearchive.File{
			{Path: c.path, Mode: 0o755, Data: data},
			{Path: "tmp", Mode: 0o1777, Dir: true},
		},
	}
}

// errMissing marks an optional binary that is not there.
var errMissing = errors.New("not found")

// checkBinary returns the path of a Linux executable for arch in dir. A
// missing file is errMissing; a file for another platform is an error that
// says how to fix it.
func checkBinary(dir, name, arch string) (string, error) {
	p := filepath.Join(dir, name)
	f, err := elf.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%s: %w", p, errMissing)
	}
	if err != nil {
		return "", fmt.Errorf("%s is not a Linux executable (build it with GOOS=linux, e.g. make build on Linux): %w", p, err)
	}
	defer f.Close()
	if want := elfMachine(arch); want != elf.EM_NONE && f.Machine != want {
		return "", fmt.Errorf("%s is built for %s, not %s: rebuild it with GOARCH=%s", p, f.Machine, arch, arch)
	}
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return "", fmt.Errorf("%s is not an executable", p)
	}
	return p, nil
}

func elfMachine(arch string) elf.Machine {
	switch arch {
	case "amd64":
		return elf.EM_X86_64
	case "arm64":
		return elf.EM_AARCH64
	case "arm":
		return elf.EM_ARM
	case "ppc64le":
		return elf.EM_PPC64
	case "s390x":
		return elf.EM_S390
	case "riscv64":
		return elf.EM_RISCV
	}
	return elf.EM_NONE
}
