package nodestatus

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

// Machine is what the node reports about its hardware and OS. Probe reads
// it from this machine; tests fill it in.
type Machine struct {
	CPUMilli        int64
	MemoryBytes     int64
	MemAvailable    int64
	DiskBytes       int64
	DiskAvailable   int64
	PIDMax          int64
	PIDsInUse       int64
	OSImage         string
	KernelVersion   string
	MachineID       string
	SystemUUID      string
	BootID          string
	Architecture    string
	OperatingSystem string
}

// Probe reads the machine's real limits: CPUs (cgroup quota if lower than
// nproc), memory (cgroup limit if lower than MemTotal), the filesystem of
// diskPath, pid_max, /etc/os-release, the kernel release and ids.
func Probe(diskPath string) Machine {
	m := Machine{Architecture: runtime.GOARCH, OperatingSystem: runtime.GOOS}
	m.CPUMilli = int64(runtime.NumCPU()) * 1000
	if q := cgroupCPUMilli(); q > 0 && q < m.CPUMilli {
		m.CPUMilli = q
	}
	mem := meminfo()
	m.MemoryBytes, m.MemAvailable = mem["MemTotal"], mem["MemAvailable"]
	if l := cgroupMemoryLimit(); l > 0 && l < m.MemoryBytes {
		m.MemoryBytes = l
		if m.MemAvailable > l {
			m.MemAvailable = l
		}
	}
	var fs syscall.Statfs_t
	if syscall.Statfs(diskPath, &fs) == nil {
		m.DiskBytes = int64(fs.Blocks) * fs.Bsize
		m.DiskAvailable = int64(fs.Bavail) * fs.Bsize
	}
	m.PIDMax = readInt("/proc/sys/kernel/pid_max")
	if entries, err := os.ReadDir("/proc"); err == nil {
		for _, e := range entries {
			if _, err := strconv.Atoi(e.Name()); err == nil {
				m.PIDsInUse++
			}
		}
	}
	m.OSImage = osImage()
	var uts syscall.Utsname
	if syscall.Uname(&uts) == nil {
		m.KernelVersion = utsString(uts.Release[:])
	}
	m.MachineID = readTrim("/etc/machine-id")
	m.SystemUUID = readTrim("/sys/class/dmi/id/product_uuid")
	m.BootID = readTrim("/proc/sys/kernel/random/boot_id")
	return m
}

func utsString(b []int8) string {
	var buf []byte
	for _, c := range b {
		if c == 0 {
			break
		}
		buf = append(buf, byte(c))
	}
	return string(buf)
}

func readTrim(p string) string {
	b, _ := os.ReadFile(p)
	return strings.TrimSpace(string(b))
}

func readInt(p string) int64 {
	n, _ := strconv.ParseInt(readTrim(p), 10, 64)
	return n
}

func meminfo() map[string]int64 {
	out := map[string]int64{}
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 {
			n, _ := strconv.ParseInt(fields[1], 10, 64)
			out[strings.TrimSuffix(fields[0], ":")] = n * 1024
		}
	}
	return out
}

// cgroupCPUMilli is the CPU quota of our cgroup in millicores (0: none).
func cgroupCPUMilli() int64 {
	if b, err := os.ReadFile("/sys/fs/cgroup/cpu.max"); err == nil { // v2
		f := strings.Fields(string(b))
		if len(f) == 2 && f[0] != "max" {
			q, _ := strconv.ParseInt(f[0], 10, 64)
			p, _ := strconv.ParseInt(f[1], 10, 64)
			if p > 0 {
				return q * 1000 / p
			}
		}
		return 0
	}
	q, p := readInt("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"), readInt("/sys/fs/cgroup/cpu/cpu.cfs_period_us")
	if q > 0 && p > 0 {
		return q * 1000 / p
	}
	return 0
}

// cgroupMemoryLimit is our cgroup's memory limit in bytes (0: none).
func cgroupMemoryLimit() int64 {
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if s := strings.TrimSpace(string(b)); s != "max" {
			n, _ := strconv.ParseInt(s, 10, 64)
			return n
		}
		return 0
	}
	n := readInt("/sys/fs/cgroup/memory/memory.limit_in_bytes")
	if n >= 1<<62 {
		return 0
	}
	return n
}

func osImage() string {
	b, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return "Unknown"
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("PRETTY_NAME=")); ok {
			return strings.Trim(string(v), `"`)
		}
	}
	return "Unknown"
}
