package kuberuntime

import (
	"os"
	"path/filepath"
	"strings"
)

// cgroupMounts are the cgroup hierarchies a cgroupfs-driver pod cgroup
// lives in: every v1 controller mount, or the v2 unified root.
func cgroupMounts(root string) []string {
	if _, err := os.Stat(filepath.Join(root, "cgroup.controllers")); err == nil {
		return []string{root}
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, filepath.Join(root, e.Name()))
		}
	}
	return out
}

// removePodCgroups removes the pod's (empty) cgroup under kubepods in every
// hierarchy once its containers are gone: runc removes the containers'
// cgroups but not their parent. Only for the cgroupfs driver; under
// systemd the slice is systemd's to remove.
func (m *Manager) removePodCgroups(uid string) {
	if m.cfg.CgroupDriver == "systemd" || m.cfg.CgroupFSRoot == "" {
		return
	}
	base := filepath.Join(m.cfg.CgroupRoot, "kubepods")
	for _, mount := range cgroupMounts(m.cfg.CgroupFSRoot) {
		for _, qos := range []string{"", "burstable", "besteffort"} {
			dir := filepath.Join(mount, base, qos, "pod"+uid)
			if strings.Contains(uid, "/") {
				continue
			}
			_ = os.Remove(dir) // fails harmlessly when absent or not empty
		}
	}
}
