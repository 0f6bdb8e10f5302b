package kuberuntime

import (
	"context"
	"os"
	"path/filepath"
	"strings"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// deadContainersPerName is how many attempts of each container are kept:
// the current one and the previous (for `kubectl logs --previous` and
// lastState), as upstream's MaxPerPodContainer=1 dead plus the live one.
const deadContainersPerName = 2

// garbageCollect removes exited containers (and their log files) beyond
// the newest two attempts of each container, and stopped sandboxes other
// than the newest that no kept container lives in. state is updated to
// what remains.
func (m *Manager) garbageCollect(ctx context.Context, state *PodState) {
	keep := map[string]bool{}
	seen := map[string]int{}
	for _, c := range state.Containers { // newest first
		name := c.GetMetadata().GetName()
		if seen[name] < deadContainersPerName || !exited(c) {
			keep[c.Id] = true
		}
		seen[name]++
	}
	var containers []*runtimeapi.ContainerStatus
	for _, c := range state.Containers {
		if keep[c.Id] {
			containers = append(containers, c)
			continue
		}
		if err := m.runtime.RemoveContainer(ctx, c.Id); err != nil {
			m.logger.Warn("remove dead container", "id", c.Id, "err", err)
			containers = append(containers, c)
			continue
		}
		if c.LogPath != "" {
			_ = os.Remove(c.LogPath)
		}
	}
	state.Containers = containers
	used := map[string]bool{}
	for _, c := range containers {
		used[c.Labels[sandboxLabel]] = true
	}
	var sandboxes []*runtimeapi.PodSandboxStatus
	for i, sb := range state.Sandboxes {
		if i == 0 || sb.State == runtimeapi.PodSandboxState_SANDBOX_READY || used[sb.Id] {
			sandboxes = append(sandboxes, sb)
			continue
		}
		if err := m.runtime.RemovePodSandbox(ctx, sb.Id); err != nil {
			m.logger.Warn("remove dead sandbox", "id", sb.Id, "err", err)
			sandboxes = append(sandboxes, sb)
		}
	}
	state.Sandboxes = sandboxes
}

// RemoveOrphanDirs removes pod directories (<root>/pods/<uid>) and pod log
// directories (<logs>/<ns>_<name>_<uid>) of pods for which active reports
// false: left over from pods removed while the kubelet was down. Nothing is
// mounted in them (volumes are bind-mounted by the runtime from there), so
// removing them is safe once the pod's sandboxes are gone.
func (m *Manager) RemoveOrphanDirs(active func(uid string) bool) {
	if entries, err := os.ReadDir(filepath.Join(m.cfg.RootDir, "pods")); err == nil {
		for _, e := range entries {
			if e.IsDir() && !active(e.Name()) {
				m.logger.Info("removing orphaned pod directory", "uid", e.Name())
				_ = os.RemoveAll(filepath.Join(m.cfg.RootDir, "pods", e.Name()))
			}
		}
	}
	if entries, err := os.ReadDir(m.cfg.PodLogsDir); err == nil {
		for _, e := range entries {
			i := strings.LastIndex(e.Name(), "_")
			if e.IsDir() && i > 0 && !active(e.Name()[i+1:]) {
				_ = os.RemoveAll(filepath.Join(m.cfg.PodLogsDir, e.Name()))
			}
		}
	}
}
