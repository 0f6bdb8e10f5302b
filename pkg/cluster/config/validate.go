package config

import (
	"errors"
	"fmt"
	"net"
	"path"
	"regexp"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/kinc-dev/kinc/pkg/apiserver/encryption"
	"github.com/kinc-dev/kinc/pkg/cluster/internal/tomlpatch"
)

var nameRE = regexp.MustCompile(`^[a-z0-9.-]+$`)

// ValidateName checks a cluster name against kind's rule.
func ValidateName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("name: %q is not a valid cluster name: it must match %s", name, nameRE)
	}
	return nil
}

// Validate checks a defaulted Cluster and reports every problem at once,
// each naming its field. Fields of kind's format that kinc cannot honour yet
// are errors too.
func Validate(c *Cluster) error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if err := ValidateName(c.Name); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, validateNetworking(&c.Networking)...)
	errs = append(errs, unsupported(c)...)

	controlPlanes := 0
	for i := range c.Nodes {
		n := &c.Nodes[i]
		if n.Role == ControlPlaneRole {
			controlPlanes++
		}
		errs = append(errs, validateNode(fmt.Sprintf("nodes[%d]", i), n)...)
	}
	switch {
	case controlPlanes == 0:
		add("nodes: at least one node must have role %q", ControlPlaneRole)
	case controlPlanes > 1:
		add("nodes: %d control-plane nodes: kinc does not support more than one control-plane node yet (no HA control plane)", controlPlanes)
	}
	errs = append(errs, validatePortConflicts(c)...)

	if _, err := ParsePatches(c.KubeadmConfigPatches); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, validateEncryptionAtRest(c)...)
	for i, p := range c.ContainerdConfigPatches {
		if _, err := tomlpatch.Parse(p); err != nil {
			add("containerdConfigPatches[%d]: %w", i, err)
		}
	}
	return errors.Join(errs...)
}

// validateEncryptionAtRest checks the kinc extension: on kinc's apiVersion
// only, a provider and resources an EncryptionConfiguration accepts, and no
// --encryption-provider-config of the user's besides.
func validateEncryptionAtRest(c *Cluster) []error {
	e := c.EncryptionAtRest
	if e == nil {
		return nil
	}
	var errs []error
	if c.APIVersion != APIVersion {
		errs = append(errs, fmt.Errorf("encryptionAtRest: a kinc extension of kind's format: it needs apiVersion %s", APIVersion))
	}
	if err := encryption.CheckGenerated(e.Provider, e.Resources); err != nil {
		errs = append(errs, fmt.Errorf("encryptionAtRest: %w", err))
	}
	docs := append([]string(nil), c.KubeadmConfigPatches...)
	for i := range c.Nodes {
		docs = append(docs, c.Nodes[i].KubeadmConfigPatches...)
	}
	for _, doc := range docs {
		if p, err := ParsePatches([]string{doc}); err == nil {
			if _, ok := p.APIServerArgs["encryption-provider-config"]; ok {
				errs = append(errs, errors.New("encryptionAtRest: kinc writes --encryption-provider-config itself: drop it from the apiServer extraArgs, or drop encryptionAtRest"))
				break
			}
		}
	}
	return errs
}

func unsupported(c *Cluster) []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if len(c.FeatureGates) > 0 {
		add("featureGates: not supported by kinc yet (its components have no feature gates)")
	}
	if len(c.RuntimeConfig) > 0 {
		add("runtimeConfig: not supported by kinc yet (its apiserver has no --runtime-config)")
	}
	if len(c.KubeadmConfigPatchesJSON6902) > 0 {
		add("kubeadmConfigPatchesJSON6902: not supported by kinc (there is no kubeadm config to patch; use kubeadmConfigPatches)")
	}
	if len(c.ContainerdConfigPatchesJSON6902) > 0 {
		add("containerdConfigPatchesJSON6902: not supported by kinc (use containerdConfigPatches)")
	}
	n := c.Networking
	if n.IPFamily != IPv4Family {
		add("networking.ipFamily: %q is not supported by kinc yet (only ipv4)", n.IPFamily)
	}
	if n.KubeProxyMode != "" && n.KubeProxyMode != NoneProxyMode {
		add("networking.kubeProxyMode: %q is not supported: kinc runs no kube-proxy yet (only \"none\")", n.KubeProxyMode)
	}
	if n.DNSSearch != nil {
		add("networking.dnsSearch: not supported by kinc yet")
	}
	return errs
}

func validateNetworking(n *Networking) []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if ip := net.ParseIP(n.APIServerAddress); ip == nil {
		add("networking.apiServerAddress: %q is not an IP address", n.APIServerAddress)
	}
	if n.APIServerPort < -1 || n.APIServerPort > 65535 {
		add("networking.apiServerPort: %d is out of range [-1, 65535]", n.APIServerPort)
	}
	pod, perr := parseIPv4CIDR(n.PodSubnet)
	if perr != nil {
		add("networking.podSubnet: %w", perr)
	}
	svc, serr := parseIPv4CIDR(n.ServiceSubnet)
	if serr != nil {
		add("networking.serviceSubnet: %w", serr)
	}
	if perr == nil && serr == nil && (pod.Contains(svc.IP) || svc.Contains(pod.IP)) {
		add("networking: podSubnet %s and serviceSubnet %s overlap", n.PodSubnet, n.ServiceSubnet)
	}
	if perr == nil {
		if ones, _ := pod.Mask.Size(); ones > 24 {
			add("networking.podSubnet: %s is too small: kinc gives each node a /24 from it", n.PodSubnet)
		}
	}
	return errs
}

func parseIPv4CIDR(s string) (*net.IPNet, error) {
	if strings.Contains(s, ",") {
		return nil, fmt.Errorf("%q: dual-stack subnets are not supported by kinc yet", s)
	}
	ip, ipnet, err := net.ParseCIDR(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a CIDR", s)
	}
	if ip.To4() == nil {
		return nil, fmt.Errorf("%q: IPv6 subnets are not supported by kinc yet", s)
	}
	return ipnet, nil
}

func validateNode(field string, n *Node) []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(field+"."+format, args...)) }
	if n.Role != ControlPlaneRole && n.Role != WorkerRole {
		add("role: %q is not a valid role (%s or %s)", n.Role, ControlPlaneRole, WorkerRole)
	}
	if n.Image == "" {
		add("image: must not be empty")
	}
	keys := make([]string, 0, len(n.Labels))
	for k := range n.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, msg := range validation.IsQualifiedName(k) {
			add("labels: key %q: %s", k, msg)
		}
		for _, msg := range validation.IsValidLabelValue(n.Labels[k]) {
			add("labels[%s]: value %q: %s", k, n.Labels[k], msg)
		}
	}
	for i, m := range n.ExtraMounts {
		if m.HostPath == "" {
			add("extraMounts[%d].hostPath: must not be empty", i)
		}
		if !path.IsAbs(m.ContainerPath) {
			add("extraMounts[%d].containerPath: %q must be an absolute path", i, m.ContainerPath)
		}
		switch m.Propagation {
		case MountPropagationNone, MountPropagationHostToContainer, MountPropagationBidirectional:
		default:
			add("extraMounts[%d].propagation: %q is not None, HostToContainer or Bidirectional", i, m.Propagation)
		}
	}
	for i, pm := range n.ExtraPortMappings {
		if pm.ContainerPort < 1 || pm.ContainerPort > 65535 {
			add("extraPortMappings[%d].containerPort: %d is out of range [1, 65535]", i, pm.ContainerPort)
		}
		if pm.HostPort < -1 || pm.HostPort > 65535 {
			add("extraPortMappings[%d].hostPort: %d is out of range [-1, 65535]", i, pm.HostPort)
		}
		if net.ParseIP(pm.ListenAddress) == nil {
			add("extraPortMappings[%d].listenAddress: %q is not an IP address", i, pm.ListenAddress)
		}
		switch pm.Protocol {
		case PortMappingProtocolTCP, PortMappingProtocolUDP, PortMappingProtocolSCTP:
		default:
			add("extraPortMappings[%d].protocol: %q is not TCP, UDP or SCTP", i, pm.Protocol)
		}
	}
	if len(n.KubeadmConfigPatchesJSON6902) > 0 {
		add("kubeadmConfigPatchesJSON6902: not supported by kinc (use kubeadmConfigPatches)")
	}
	if _, err := ParsePatches(n.KubeadmConfigPatches); err != nil {
		errs = append(errs, fmt.Errorf("%s.%w", field, err))
	}
	return errs
}

// validatePortConflicts rejects host ports published twice, across all
// nodes and the apiserver, including a wildcard address conflicting with a
// specific one. Ports 0 and -1 are picked at creation and never conflict.
func validatePortConflicts(c *Cluster) []error {
	type use struct {
		addr  string
		field string
	}
	seen := map[string][]use{} // "<proto>/<port>" -> uses
	var errs []error
	check := func(field, addr string, port int32, proto PortMappingProtocol) {
		if port <= 0 {
			return
		}
		key := fmt.Sprintf("%s/%d", proto, port)
		for _, u := range seen[key] {
			if u.addr == addr || isWildcard(u.addr) || isWildcard(addr) {
				errs = append(errs, fmt.Errorf("%s: host port %s:%d/%s is already used by %s", field, addr, port, proto, u.field))
				return
			}
		}
		seen[key] = append(seen[key], use{addr: addr, field: field})
	}
	check("networking.apiServerPort", c.Networking.APIServerAddress, c.Networking.APIServerPort, PortMappingProtocolTCP)
	for i, n := range c.Nodes {
		for j, pm := range n.ExtraPortMappings {
			check(fmt.Sprintf("nodes[%d].extraPortMappings[%d]", i, j), pm.ListenAddress, pm.HostPort, pm.Protocol)
		}
	}
	return errs
}

func isWildcard(addr string) bool {
	ip := net.ParseIP(addr)
	return ip != nil && ip.IsUnspecified()
}
