package nodeimage

import (
	"bytes"
	"fmt"
	"text/template"

	"github.com/kinc-dev/kinc/pkg/version"
)

// Where a node's containerd finds CNI: Debian's containernetworking-plugins
// install into /usr/lib/cni; configurations go to /etc/cni/net.d.
const (
	cniBinDir  = "/usr/lib/cni"
	cniConfDir = "/etc/cni/net.d"
)

// containerdConfig holds the fields of images/containerd/config.toml.tmpl.
type containerdConfig struct {
	CgroupDriver  string // "cgroupfs" or "systemd"
	SystemdCgroup bool   // runc's cgroup driver: true for "systemd"
	SandboxImage  string
	Snapshotter   string
	CNIBinDir     string
	CNIConfDir    string
}

// renderContainerdConfig renders the node's containerd config for a cgroup
// driver. The image carries both renderings; kinc-node-setup installs the one
// matching the host's cgroup version at boot (systemd on v2, cgroupfs on v1).
func renderContainerdConfig(tmpl, driver string) ([]byte, error) {
	if driver != "cgroupfs" && driver != "systemd" {
		return nil, fmt.Errorf("unknown cgroup driver %q (want cgroupfs or systemd)", driver)
	}
	t, err := template.New("config.toml").Option("missingkey=error").Parse(tmpl)
	if err != nil {
		return nil, fmt.Errorf("parse the containerd config template: %w", err)
	}
	var out bytes.Buffer
	err = t.Execute(&out, containerdConfig{
		CgroupDriver:  driver,
		SystemdCgroup: driver == "systemd",
		SandboxImage:  version.PauseImage,
		Snapshotter:   "overlayfs",
		CNIBinDir:     cniBinDir,
		CNIConfDir:    cniConfDir,
	})
	if err != nil {
		return nil, fmt.Errorf("render the containerd config: %w", err)
	}
	return out.Bytes(), nil
}
