package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/kinc-dev/kinc/pkg/kubelet/cri"
)

// StatsRuntime is the part of the CRI behind /stats/summary and the
// /metrics endpoints.
type StatsRuntime interface {
	cri.Stats
	ListPodSandbox(ctx context.Context, filter *runtimeapi.PodSandboxFilter) ([]*runtimeapi.PodSandbox, error)
	ListContainers(ctx context.Context, filter *runtimeapi.ContainerFilter) ([]*runtimeapi.Container, error)
}

// statsCollector builds Summaries from the node's cgroup and /proc files,
// statfs of the kubelet's directories and the runtime's stats. Safe for
// concurrent use.
type statsCollector struct {
	node       string
	rt         StatsRuntime
	rootDir    string // the node fs: the kubelet's root directory
	podLogDir  string // /var/log/pods
	cgroupRoot string // the node's cgroup (v2 or v1 hierarchies)
	procRoot   string // /proc
	now        func() time.Time

	mu      sync.Mutex
	prevCPU cpuSample // the node's cpu at the previous sample, for usageNanoCores
}

type cpuSample struct {
	at    time.Time
	nanos uint64
}

// containerInfo is what the cadvisor metrics add to a container's stats.
type containerInfo struct {
	id, image string
	pod       PodReference
}

// snapshot is a Summary with the runtime's ids and images of its
// containers, by infoKey.
type snapshot struct {
	summary Summary
	info    map[string]containerInfo
}

func infoKey(pod PodReference, container string) string {
	return pod.Namespace + "/" + pod.Name + "/" + container
}

func newStatsCollector(n Node) *statsCollector {
	c := &statsCollector{node: n.Name, rt: n.Runtime, rootDir: n.RootDir, podLogDir: n.PodLogDir,
		cgroupRoot: n.CgroupRoot, procRoot: n.ProcRoot, now: n.Now}
	if c.now == nil {
		c.now = time.Now
	}
	if nanos, ok := c.nodeCPU(); ok {
		c.prevCPU = cpuSample{at: c.now(), nanos: nanos}
	}
	return c
}

// Summary returns the node's and its running pods' usage. A runtime that
// does not answer leaves the pods out, with the error.
func (c *statsCollector) Summary(ctx context.Context) (*Summary, error) {
	s, err := c.snapshot(ctx)
	return &s.summary, err
}

func (c *statsCollector) snapshot(ctx context.Context) (*snapshot, error) {
	s := &snapshot{info: map[string]containerInfo{}}
	s.summary.Node = c.nodeStats(ctx)
	pods, err := c.podStats(ctx, s)
	s.summary.Pods = pods
	if s.summary.Pods == nil {
		s.summary.Pods = []PodStats{}
	}
	return s, err
}

func u64(v uint64) *uint64 { return &v }

func (c *statsCollector) nodeStats(ctx context.Context) NodeStats {
	now := metav1.NewTime(c.now())
	n := NodeStats{NodeName: c.node, StartTime: metav1.NewTime(c.bootTime())}
	if nanos, ok := c.nodeCPU(); ok {
		cpu := &CPUStats{Time: now, UsageCoreNanoSeconds: u64(nanos)}
		c.mu.Lock()
		if prev := c.prevCPU; !prev.at.IsZero() && nanos >= prev.nanos && now.Sub(prev.at) > 0 {
			cpu.UsageNanoCores = u64(uint64(float64(nanos-prev.nanos) / now.Sub(prev.at).Seconds()))
		}
		if now.Sub(c.prevCPU.at) >= time.Second || c.prevCPU.at.IsZero() {
			c.prevCPU = cpuSample{at: now.Time, nanos: nanos}
		}
		c.mu.Unlock()
		n.CPU = cpu
	}
	n.Memory = c.nodeMemory(now)
	if n.Fs = statfs(c.rootDir, now); n.Fs == nil {
		n.Fs = statfs("/", now)
	}
	n.Network = c.nodeNetwork(now)
	if info, err := c.rt.ImageFsInfo(ctx); err == nil && len(info.GetImageFilesystems()) > 0 {
		u := info.GetImageFilesystems()[0]
		imageFs := statfs(u.GetFsId().GetMountpoint(), now)
		if imageFs == nil {
			imageFs = &FsStats{Time: now}
		}
		imageFs.UsedBytes = u64(u.GetUsedBytes().GetValue())
		if u.GetInodesUsed() != nil {
			imageFs.InodesUsed = u64(u.GetInodesUsed().GetValue())
		}
		n.Runtime = &RuntimeStats{ImageFs: imageFs, ContainerFs: imageFs}
		if cf := info.GetContainerFilesystems(); len(cf) > 0 && cf[0].GetFsId().GetMountpoint() != u.GetFsId().GetMountpoint() {
			if containerFs := statfs(cf[0].GetFsId().GetMountpoint(), now); containerFs != nil {
				containerFs.UsedBytes = u64(cf[0].GetUsedBytes().GetValue())
				n.Runtime.ContainerFs = containerFs
			}
		}
	}
	if maxPID, err := readInt(filepath.Join(c.procRoot, "sys/kernel/pid_max")); err == nil {
		r := &RlimitStats{Time: now, MaxPID: &maxPID}
		if procs, err := countProcs(c.procRoot); err == nil {
			r.NumOfRunningProcesses = &procs
		}
		n.Rlimit = r
	}
	return n
}

// nodeCPU is the node cgroup's cumulative cpu time: cgroup v2 cpu.stat,
// v1 cpuacct.usage, or /proc/stat when neither is readable.
func (c *statsCollector) nodeCPU() (uint64, bool) {
	if kv, err := readKV(filepath.Join(c.cgroupRoot, "cpu.stat")); err == nil {
		if usec, ok := kv["usage_usec"]; ok {
			return usec * 1000, true
		}
	}
	for _, p := range []string{"cpuacct/cpuacct.usage", "cpu,cpuacct/cpuacct.usage"} {
		if n, err := readInt(filepath.Join(c.cgroupRoot, p)); err == nil {
			return uint64(n), true
		}
	}
	b, err := os.ReadFile(filepath.Join(c.procRoot, "stat"))
	if err != nil {
		return 0, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, false
	}
	var ticks uint64
	for i, v := range f[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		n, _ := strconv.ParseUint(v, 10, 64)
		ticks += n
	}
	return ticks * uint64(time.Second/100), true // USER_HZ is 100 on Linux
}

// nodeMemory is the node cgroup's memory (v2 memory.current and
// memory.stat, v1 memory.usage_in_bytes and memory.stat, else
// /proc/meminfo), with the working set as upstream computes it: usage less
// inactive file pages. Available is the machine's memory (or the node
// cgroup's limit when lower) less the working set.
func (c *statsCollector) nodeMemory(now metav1.Time) *MemoryStats {
	meminfo, _ := readKV(filepath.Join(c.procRoot, "meminfo"))
	total := meminfo["MemTotal"] * 1024
	for _, p := range []string{"memory.max", "memory/memory.limit_in_bytes"} { // the node's own limit, when lower
		if limit, err := readInt(filepath.Join(c.cgroupRoot, p)); err == nil && limit > 0 && uint64(limit) < total {
			total = uint64(limit)
		}
	}
	var usage, inactive, rss, faults, major uint64
	var ok bool
	if n, err := readInt(filepath.Join(c.cgroupRoot, "memory.current")); err == nil {
		st, _ := readKV(filepath.Join(c.cgroupRoot, "memory.stat"))
		usage, inactive, rss, faults, major, ok = uint64(n), st["inactive_file"], st["anon"], st["pgfault"], st["pgmajfault"], true
	} else if n, err := readInt(filepath.Join(c.cgroupRoot, "memory/memory.usage_in_bytes")); err == nil {
		st, _ := readKV(filepath.Join(c.cgroupRoot, "memory/memory.stat"))
		usage, inactive, rss, faults, major, ok = uint64(n), st["total_inactive_file"], st["total_rss"], st["total_pgfault"], st["total_pgmajfault"], true
	} else if total > 0 {
		usage, inactive, ok = total-meminfo["MemFree"]*1024, meminfo["Inactive(file)"]*1024, true
	}
	if !ok {
		return nil
	}
	ws := usage
	if inactive < ws {
		ws -= inactive
	} else {
		ws = 0
	}
	m := &MemoryStats{Time: now, UsageBytes: u64(usage), WorkingSetBytes: u64(ws), RSSBytes: u64(rss),
		PageFaults: u64(faults), MajorPageFaults: u64(major)}
	if total > ws {
		m.AvailableBytes = u64(total - ws)
	}
	return m
}

// nodeNetwork is the counters of the node's interfaces but loopback, the
// first (eth0 when present) inline as upstream.
func (c *statsCollector) nodeNetwork(now metav1.Time) *NetworkStats {
	b, err := os.ReadFile(filepath.Join(c.procRoot, "net/dev"))
	if err != nil {
		return nil
	}
	var ifaces []InterfaceStats
	for _, line := range strings.Split(string(b), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "lo" {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 16 {
			continue
		}
		n := func(i int) *uint64 { v, _ := strconv.ParseUint(f[i], 10, 64); return &v }
		ifaces = append(ifaces, InterfaceStats{Name: name, RxBytes: n(0), RxErrors: n(2), TxBytes: n(8), TxErrors: n(10)})
	}
	if len(ifaces) == 0 {
		return nil
	}
	sort.SliceStable(ifaces, func(i, j int) bool { return ifaces[i].Name == "eth0" && ifaces[j].Name != "eth0" })
	return &NetworkStats{Time: now, InterfaceStats: ifaces[0], Interfaces: ifaces}
}

func (c *statsCollector) bootTime() time.Time {
	kv, err := readKV(filepath.Join(c.procRoot, "stat"))
	if err != nil || kv["btime"] == 0 {
		return c.now()
	}
	return time.Unix(int64(kv["btime"]), 0)
}

// podStats is the ready sandboxes' pods (the newest sandbox of each) with
// their running containers, from ListContainerStats, and the pods' own
// cpu, memory and network from ListPodSandboxStats when the runtime has
// it (otherwise their containers' sums).
func (c *statsCollector) podStats(ctx context.Context, s *snapshot) ([]PodStats, error) {
	ready := &runtimeapi.PodSandboxFilter{State: &runtimeapi.PodSandboxStateValue{State: runtimeapi.PodSandboxState_SANDBOX_READY}}
	sandboxes, err := c.rt.ListPodSandbox(ctx, ready)
	if err != nil {
		return nil, fmt.Errorf("list pod sandboxes: %w", err)
	}
	running := &runtimeapi.ContainerFilter{State: &runtimeapi.ContainerStateValue{State: runtimeapi.ContainerState_CONTAINER_RUNNING}}
	containers, err := c.rt.ListContainers(ctx, running)
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	stats, err := c.rt.ListContainerStats(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("list container stats: %w", err)
	}
	byID := map[string]*runtimeapi.ContainerStats{}
	for _, st := range stats {
		byID[st.GetAttributes().GetId()] = st
	}
	sandboxStats := map[string]*runtimeapi.PodSandboxStats{}
	if list, err := c.rt.ListPodSandboxStats(ctx, nil); err == nil {
		for _, st := range list {
			sandboxStats[st.GetAttributes().GetId()] = st
		}
	}
	newest := map[string]*runtimeapi.PodSandbox{} // pod uid → its newest ready sandbox
	for _, sb := range sandboxes {
		uid := sb.GetMetadata().GetUid()
		if cur, ok := newest[uid]; !ok || sb.GetCreatedAt() > cur.GetCreatedAt() {
			newest[uid] = sb
		}
	}
	now := metav1.NewTime(c.now())
	logFs := statfs(c.podLogDir, now)
	rootFs := statfs(c.rootDir, now)
	var pods []PodStats
	for _, sb := range newest {
		md := sb.GetMetadata()
		ref := PodReference{Name: md.GetName(), Namespace: md.GetNamespace(), UID: md.GetUid()}
		p := PodStats{PodRef: ref, StartTime: metav1.NewTime(time.Unix(0, sb.GetCreatedAt())), Containers: []ContainerStats{}}
		var cpuTotal, nanoCores, usage, ws, rss, faults, major, ephemeral uint64
		var haveCPU, haveMem bool
		podLogDir := filepath.Join(c.podLogDir, fmt.Sprintf("%s_%s_%s", ref.Namespace, ref.Name, ref.UID))
		for _, ctr := range containers {
			if ctr.GetPodSandboxId() != sb.GetId() {
				continue
			}
			cs := ContainerStats{Name: ctr.GetMetadata().GetName(), StartTime: metav1.NewTime(time.Unix(0, ctr.GetCreatedAt()))}
			if st := byID[ctr.GetId()]; st != nil {
				cs.CPU, cs.Memory = cpuStats(st.GetCpu()), memoryStats(st.GetMemory())
				if wl := st.GetWritableLayer(); wl != nil {
					cs.Rootfs = withFs(rootFs, wl.GetUsedBytes().GetValue(), wl.GetInodesUsed().GetValue(), wl.GetTimestamp())
					ephemeral += wl.GetUsedBytes().GetValue()
				}
			}
			if used, inodes, err := duDir(filepath.Join(podLogDir, cs.Name)); err == nil {
				cs.Logs = withFs(logFs, used, inodes, 0)
				ephemeral += used
			}
			if cs.CPU != nil {
				haveCPU = true
				cpuTotal += deref(cs.CPU.UsageCoreNanoSeconds)
				nanoCores += deref(cs.CPU.UsageNanoCores)
			}
			if cs.Memory != nil {
				haveMem = true
				usage, ws, rss = usage+deref(cs.Memory.UsageBytes), ws+deref(cs.Memory.WorkingSetBytes), rss+deref(cs.Memory.RSSBytes)
				faults, major = faults+deref(cs.Memory.PageFaults), major+deref(cs.Memory.MajorPageFaults)
			}
			p.Containers = append(p.Containers, cs)
			s.info[infoKey(ref, cs.Name)] = containerInfo{id: ctr.GetId(), image: ctr.GetImage().GetImage(), pod: ref}
		}
		if haveCPU {
			p.CPU = &CPUStats{Time: now, UsageCoreNanoSeconds: u64(cpuTotal), UsageNanoCores: u64(nanoCores)}
		}
		if haveMem {
			p.Memory = &MemoryStats{Time: now, UsageBytes: u64(usage), WorkingSetBytes: u64(ws), RSSBytes: u64(rss),
				PageFaults: u64(faults), MajorPageFaults: u64(major)}
		}
		if st := sandboxStats[sb.GetId()].GetLinux(); st != nil {
			if cpu := cpuStats(st.GetCpu()); cpu != nil && cpu.UsageCoreNanoSeconds != nil {
				if deref(cpu.UsageNanoCores) == 0 && haveCPU {
					// containerd has no rate for a sandbox on its first sample.
					cpu.UsageNanoCores = u64(nanoCores)
				}
				p.CPU = cpu
			}
			if mem := memoryStats(st.GetMemory()); mem != nil && mem.WorkingSetBytes != nil {
				p.Memory = mem
			}
			p.Network = networkStats(st.GetNetwork())
		}
		if rootFs != nil {
			p.EphemeralStorage = withFs(rootFs, ephemeral, 0, 0)
		}
		pods = append(pods, p)
	}
	sort.Slice(pods, func(i, j int) bool {
		a, b := pods[i].PodRef, pods[j].PodRef
		return a.Namespace < b.Namespace || (a.Namespace == b.Namespace && a.Name < b.Name)
	})
	return pods, nil
}

func deref(p *uint64) uint64 {
	if p == nil {
		return 0
	}
	return *p
}

func cpuStats(u *runtimeapi.CpuUsage) *CPUStats {
	if u == nil {
		return nil
	}
	s := &CPUStats{Time: metav1.NewTime(time.Unix(0, u.GetTimestamp()))}
	if v := u.GetUsageCoreNanoSeconds(); v != nil {
		s.UsageCoreNanoSeconds = u64(v.GetValue())
	}
	if v := u.GetUsageNanoCores(); v != nil {
		s.UsageNanoCores = u64(v.GetValue())
	}
	return s
}

func memoryStats(u *runtimeapi.MemoryUsage) *MemoryStats {
	if u == nil {
		return nil
	}
	s := &MemoryStats{Time: metav1.NewTime(time.Unix(0, u.GetTimestamp()))}
	for dst, v := range map[**uint64]*runtimeapi.UInt64Value{&s.AvailableBytes: u.GetAvailableBytes(), &s.UsageBytes: u.GetUsageBytes(),
		&s.WorkingSetBytes: u.GetWorkingSetBytes(), &s.RSSBytes: u.GetRssBytes(), &s.PageFaults: u.GetPageFaults(),
		&s.MajorPageFaults: u.GetMajorPageFaults()} {
		if v != nil && (dst != &s.AvailableBytes || v.GetValue() > 0) { // 0 available: no limit
			*dst = u64(v.GetValue())
		}
	}
	return s
}

func networkStats(u *runtimeapi.NetworkUsage) *NetworkStats {
	if u == nil || u.GetDefaultInterface() == nil {
		return nil
	}
	conv := func(i *runtimeapi.NetworkInterfaceUsage) InterfaceStats {
		return InterfaceStats{Name: i.GetName(), RxBytes: u64(i.GetRxBytes().GetValue()), RxErrors: u64(i.GetRxErrors().GetValue()),
			TxBytes: u64(i.GetTxBytes().GetValue()), TxErrors: u64(i.GetTxErrors().GetValue())}
	}
	n := &NetworkStats{Time: metav1.NewTime(time.Unix(0, u.GetTimestamp())), InterfaceStats: conv(u.GetDefaultInterface())}
	for _, i := range u.GetInterfaces() {
		n.Interfaces = append(n.Interfaces, conv(i))
	}
	return n
}

// withFs is the filesystem fs (capacity, available, inodes) with used
// bytes and inodes of one consumer; nil fs gives only the usage.
func withFs(fs *FsStats, used, inodesUsed uint64, ts int64) *FsStats {
	out := &FsStats{}
	if fs != nil {
		*out = *fs
	}
	if ts != 0 {
		out.Time = metav1.NewTime(time.Unix(0, ts))
	}
	out.UsedBytes, out.InodesUsed = u64(used), u64(inodesUsed)
	return out
}

// statfs is the usage of the filesystem holding path; nil when it cannot
// be read.
func statfs(path string, now metav1.Time) *FsStats {
	if path == "" {
		return nil
	}
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return nil
	}
	bsize := uint64(st.Bsize)
	return &FsStats{Time: now, CapacityBytes: u64(st.Blocks * bsize), AvailableBytes: u64(st.Bavail * bsize),
		UsedBytes: u64((st.Blocks - st.Bfree) * bsize), Inodes: u64(st.Files), InodesFree: u64(st.Ffree),
		InodesUsed: u64(st.Files - st.Ffree)}
}

// duDir is the size and number of the files under dir.
func duDir(dir string) (bytes, inodes uint64, err error) {
	err = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && inodes > 0 {
				return nil // removed while walking (log rotation)
			}
			return err
		}
		inodes++
		if info, err := d.Info(); err == nil && d.Type().IsRegular() {
			bytes += uint64(info.Size())
		}
		return nil
	})
	return bytes, inodes, err
}

// readKV reads "key value" (or "key: value kB") lines into numbers.
func readKV(path string) (map[string]uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]uint64{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		if n, err := strconv.ParseUint(fields[1], 10, 64); err == nil {
			out[strings.TrimSuffix(fields[0], ":")] = n
		}
	}
	return out, sc.Err()
}

func readInt(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
}

// countProcs counts the processes in procRoot.
func countProcs(procRoot string) (int64, error) {
	entries, err := os.ReadDir(procRoot)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err == nil && e.IsDir() {
			n++
		}
	}
	return n, nil
}
