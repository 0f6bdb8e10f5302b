package kuberuntime

import (
	"bufio"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	v1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// PodLogDir is upstream's per-pod log directory: <root>/<ns>_<name>_<uid>.
func PodLogDir(root string, pod *v1.Pod) string {
	return filepath.Join(root, fmt.Sprintf("%s_%s_%s", pod.Namespace, pod.Name, pod.UID))
}

// PodDir is the pod's directory under the kubelet root (volumes live in it).
func (m *Manager) PodDir(pod *v1.Pod) string {
	return filepath.Join(m.cfg.RootDir, "pods", string(pod.UID))
}

func (m *Manager) sandboxConfig(pod *v1.Pod, attempt uint32) (*runtimeapi.PodSandboxConfig, error) {
	dns, err := m.dnsConfig(pod)
	if err != nil {
		return nil, err
	}
	cfg := &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: pod.Name, Namespace: pod.Namespace, Uid: string(pod.UID), Attempt: attempt},
		LogDirectory: PodLogDir(m.cfg.PodLogsDir, pod),
		DnsConfig:    dns,
		Labels:       podLabels(pod),
		Annotations:  pod.Annotations,
		Linux: &runtimeapi.LinuxPodSandboxConfig{
			CgroupParent: m.cgroupParent(pod),
			SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{NamespaceOptions: namespaceOptions(pod), Privileged: anyPrivileged(pod),
				Seccomp: seccompProfile(pod, nil)},
		},
	}
	if !pod.Spec.HostNetwork {
		cfg.Hostname = pod.Spec.Hostname
		if cfg.Hostname == "" {
			cfg.Hostname = pod.Name
		}
		if len(cfg.Hostname) > 63 {
			cfg.Hostname = strings.TrimRight(cfg.Hostname[:63], "-.")
		}
	}
	if sc := pod.Spec.SecurityContext; sc != nil && len(sc.Sysctls) > 0 {
		cfg.Linux.Sysctls = map[string]string{}
		for _, s := range sc.Sysctls {
			cfg.Linux.Sysctls[s.Name] = s.Value
		}
	}
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			if p.HostPort <= 0 {
				continue
			}
			proto := runtimeapi.Protocol_TCP
			switch p.Protocol {
			case v1.ProtocolUDP:
				proto = runtimeapi.Protocol_UDP
			case v1.ProtocolSCTP:
				proto = runtimeapi.Protocol_SCTP
			}
			cfg.PortMappings = append(cfg.PortMappings, &runtimeapi.PortMapping{Protocol: proto, ContainerPort: p.ContainerPort,
				HostPort: p.HostPort, HostIp: p.HostIP})
		}
	}
	return cfg, nil
}

func namespaceOptions(pod *v1.Pod) *runtimeapi.NamespaceOption {
	ns := &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_POD, Pid: runtimeapi.NamespaceMode_CONTAINER, Ipc: runtimeapi.NamespaceMode_POD}
	if pod.Spec.HostNetwork {
		ns.Network = runtimeapi.NamespaceMode_NODE
	}
	if pod.Spec.HostPID {
		ns.Pid = runtimeapi.NamespaceMode_NODE
	} else if pod.Spec.ShareProcessNamespace != nil && *pod.Spec.ShareProcessNamespace {
		ns.Pid = runtimeapi.NamespaceMode_POD
	}
	if pod.Spec.HostIPC {
		ns.Ipc = runtimeapi.NamespaceMode_NODE
	}
	return ns
}

func anyPrivileged(pod *v1.Pod) bool {
	for _, list := range [][]v1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, c := range list {
			if c.SecurityContext != nil && c.SecurityContext.Privileged != nil && *c.SecurityContext.Privileged {
				return true
			}
		}
	}
	return false
}

// cgroupParent is the pod's cgroup under the kubepods hierarchy of its QoS
// class, in the runtime's cgroup driver's syntax.
func (m *Manager) cgroupParent(pod *v1.Pod) string {
	qos := QOSClass(pod)
	uid := string(pod.UID)
	if m.cfg.CgroupDriver == "systemd" {
		// cgroupRoot /kubelet + kubepods → kubelet-kubepods-….slice, as upstream names slices.
		var parts []string
		for _, p := range strings.Split(strings.Trim(m.cfg.CgroupRoot, "/"), "/") {
			if p != "" {
				parts = append(parts, strings.TrimSuffix(p, ".slice"))
			}
		}
		parts = append(parts, "kubepods")
		if qos != v1.PodQOSGuaranteed {
			parts = append(parts, strings.ToLower(string(qos)))
		}
		parts = append(parts, "pod"+strings.ReplaceAll(uid, "-", "_"))
		return strings.Join(parts, "-") + ".slice"
	}
	p := path.Join(m.cfg.CgroupRoot, "kubepods")
	if qos != v1.PodQOSGuaranteed {
		p = path.Join(p, strings.ToLower(string(qos)))
	}
	return path.Join(p, "pod"+uid)
}

// dnsConfig follows upstream's dnsPolicy rules. ClusterFirst on the host
// network, or without cluster DNS, falls back to Default (the host's resolver).
func (m *Manager) dnsConfig(pod *v1.Pod) (*runtimeapi.DNSConfig, error) {
	policy := pod.Spec.DNSPolicy
	if policy == "" {
		policy = v1.DNSClusterFirst
	}
	if (policy == v1.DNSClusterFirst && pod.Spec.HostNetwork) || ((policy == v1.DNSClusterFirst || policy == v1.DNSClusterFirstWithHostNet) && len(m.cfg.ClusterDNS) == 0) {
		policy = v1.DNSDefault
	}
	cfg := &runtimeapi.DNSConfig{}
	switch policy {
	case v1.DNSClusterFirst, v1.DNSClusterFirstWithHostNet:
		d := m.cfg.ClusterDomain
		cfg.Servers = append(cfg.Servers, m.cfg.ClusterDNS...)
		cfg.Searches = []string{pod.Namespace + ".svc." + d, "svc." + d, d}
		host, err := readResolvConf(m.cfg.ResolvConf)
		if err != nil {
			return nil, err
		}
		cfg.Searches = append(cfg.Searches, host.Searches...)
		cfg.Options = []string{"ndots:5"}
	case v1.DNSDefault:
		host, err := readResolvConf(m.cfg.ResolvConf)
		if err != nil {
			return nil, err
		}
		cfg = host
	case v1.DNSNone:
	}
	if dc := pod.Spec.DNSConfig; dc != nil {
		cfg.Servers = append(cfg.Servers, dc.Nameservers...)
		cfg.Searches = append(cfg.Searches, dc.Searches...)
		for _, o := range dc.Options {
			opt := o.Name
			if o.Value != nil {
				opt += ":" + *o.Value
			}
			cfg.Options = append(cfg.Options, opt)
		}
	}
	return cfg, nil
}

// readResolvConf parses nameserver, search and options lines. A missing
// file is an empty config.
func readResolvConf(file string) (*runtimeapi.DNSConfig, error) {
	cfg := &runtimeapi.DNSConfig{}
	f, err := os.Open(file)
	if os.IsNotExist(err) || file == "" {
		return cfg, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read resolv.conf: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		switch fields[0] {
		case "nameserver":
			cfg.Servers = append(cfg.Servers, fields[1])
		case "search":
			cfg.Searches = append(cfg.Searches, fields[1:]...)
		case "options":
			cfg.Options = append(cfg.Options, fields[1:]...)
		}
	}
	return cfg, sc.Err()
}
