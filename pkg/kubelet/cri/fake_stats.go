package cri

import (
	"context"
	"sort"

	"google.golang.org/protobuf/proto"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

var _ Stats = &Fake{}

// SetUsage sets the cpu, memory and writable-layer figures
// ListContainerStats and ListPodSandboxStats report for a container (its
// Attributes are filled in by the Fake).
func (f *Fake) SetUsage(id string, stats *runtimeapi.ContainerStats) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.usage == nil {
		f.usage = map[string]*runtimeapi.ContainerStats{}
	}
	f.usage[id] = stats
}

// containerStatsLocked returns a container's stats: what SetUsage set (or
// none) with the container's attributes.
func (f *Fake) containerStatsLocked(id string) *runtimeapi.ContainerStats {
	c := f.containers[id]
	out := &runtimeapi.ContainerStats{}
	if u := f.usage[id]; u != nil {
		out = proto.Clone(u).(*runtimeapi.ContainerStats)
	}
	out.Attributes = &runtimeapi.ContainerAttributes{Id: id, Metadata: c.Metadata, Labels: c.Labels, Annotations: c.Annotations}
	return out
}

func (f *Fake) ListContainerStats(_ context.Context, filter *runtimeapi.ContainerStatsFilter) ([]*runtimeapi.ContainerStats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("ListContainerStats")
	var out []*runtimeapi.ContainerStats
	for _, c := range f.sortedContainersLocked() {
		if filter != nil && ((filter.Id != "" && filter.Id != c.Id) || (filter.PodSandboxId != "" && filter.PodSandboxId != f.sandboxOf[c.Id]) ||
			!matches(filter.LabelSelector, c.Labels)) {
			continue
		}
		out = append(out, f.containerStatsLocked(c.Id))
	}
	return out, nil
}

// ListPodSandboxStats reports ready sandboxes, each with its running
// containers' stats, and cpu and memory summed over them.
func (f *Fake) ListPodSandboxStats(_ context.Context, filter *runtimeapi.PodSandboxStatsFilter) ([]*runtimeapi.PodSandboxStats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("ListPodSandboxStats")
	var out []*runtimeapi.PodSandboxStats
	for id, sb := range f.sandboxes {
		st := sb.status
		if st.State != runtimeapi.PodSandboxState_SANDBOX_READY ||
			(filter != nil && ((filter.Id != "" && filter.Id != id) || !matches(filter.LabelSelector, st.Labels))) {
			continue
		}
		ls := &runtimeapi.LinuxPodSandboxStats{Cpu: &runtimeapi.CpuUsage{}, Memory: &runtimeapi.MemoryUsage{}}
		var cpu, nanoCores, ws uint64
		for _, c := range f.sortedContainersLocked() {
			if f.sandboxOf[c.Id] != id || c.State != runtimeapi.ContainerState_CONTAINER_RUNNING {
				continue
			}
			cs := f.containerStatsLocked(c.Id)
			ls.Containers = append(ls.Containers, cs)
			cpu += cs.GetCpu().GetUsageCoreNanoSeconds().GetValue()
			nanoCores += cs.GetCpu().GetUsageNanoCores().GetValue()
			ws += cs.GetMemory().GetWorkingSetBytes().GetValue()
		}
		ts := f.now()
		ls.Cpu = &runtimeapi.CpuUsage{Timestamp: ts, UsageCoreNanoSeconds: &runtimeapi.UInt64Value{Value: cpu},
			UsageNanoCores: &runtimeapi.UInt64Value{Value: nanoCores}}
		ls.Memory = &runtimeapi.MemoryUsage{Timestamp: ts, WorkingSetBytes: &runtimeapi.UInt64Value{Value: ws}}
		out = append(out, &runtimeapi.PodSandboxStats{
			Attributes: &runtimeapi.PodSandboxAttributes{Id: id, Metadata: st.Metadata, Labels: st.Labels, Annotations: st.Annotations},
			Linux:      ls})
	}
	return out, nil
}

func (f *Fake) ImageFsInfo(context.Context) (*runtimeapi.ImageFsInfoResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("ImageFsInfo")
	if f.ImageFs == nil {
		return &runtimeapi.ImageFsInfoResponse{}, nil
	}
	return proto.Clone(f.ImageFs).(*runtimeapi.ImageFsInfoResponse), nil
}

// sortedContainersLocked returns the containers oldest first.
func (f *Fake) sortedContainersLocked() []*runtimeapi.ContainerStatus {
	out := make([]*runtimeapi.ContainerStatus, 0, len(f.containers))
	for _, c := range f.containers {
		out = append(out, c)
	}
	sortStatuses(out)
	return out
}

func sortStatuses(s []*runtimeapi.ContainerStatus) {
	sort.Slice(s, func(i, j int) bool {
		return s[i].CreatedAt < s[j].CreatedAt || (s[i].CreatedAt == s[j].CreatedAt && s[i].Id < s[j].Id)
	})
}
