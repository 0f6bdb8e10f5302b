package pki

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// Defaults applied by GenerateClusterPKI to zero ClusterOptions fields.
const (
	DefaultServiceCIDR   = "10.96.0.0/16" // kind's; kubeadm's is 10.96.0.0/12, same first IP
	DefaultDNSDomain     = "cluster.local"
	DefaultHostAddress   = "127.0.0.1"
	DefaultAPIServerPort = 6443
)

// NodeInfo names a node and the IPs its certificates must be valid for.
type NodeInfo struct {
	// Name is the node name, also its hostname (container name in kinc).
	Name string
	// IPs are the node's addresses; they may be empty when unknown, in which
	// case certificates carry names only. Node IPs can change across
	// restarts: see ClusterPKI.ReissueNode.
	IPs []net.IP
}

// ClusterOptions describe the cluster whose PKI GenerateClusterPKI builds.
type ClusterOptions struct {
	// ClusterName names the cluster entry of the in-node kubeconfigs (kind
	// uses its cluster name, e.g. "kind"; plain kubeadm uses "kubernetes").
	// Required.
	ClusterName string
	// ControlPlanes are the control-plane nodes, at least one; the first is
	// the "kubeadm init" node, the only one given super-admin.conf.
	ControlPlanes []NodeInfo
	// Workers are the worker nodes.
	Workers []NodeInfo
	// ServiceCIDR is the service network; its first IP (10.96.0.1) is an
	// apiserver SAN. A comma-separated dual-stack value uses its first CIDR,
	// like kubeadm. Default DefaultServiceCIDR.
	ServiceCIDR string
	// DNSDomain is the cluster DNS domain. Default DefaultDNSDomain.
	DNSDomain string
	// CertSANs are extra apiserver SANs: entries that parse as IPs become IP
	// SANs, the rest DNS SANs.
	CertSANs []string
	// ControlPlaneEndpoint is the host:port nodes use to reach the apiserver
	// (the server of admin.conf, super-admin.conf and kubelet.conf). Its host
	// becomes an apiserver SAN. Default "<ControlPlanes[0].Name>:6443".
	ControlPlaneEndpoint string
	// HostAddress is the address the apiserver is published on the host
	// (kubectl on the host connects to it); it and "localhost" are always
	// apiserver SANs. Default DefaultHostAddress.
	HostAddress string
	// KeyAlgorithm is the type of every generated key. Default ECDSAP256.
	KeyAlgorithm KeyAlgorithm
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// withDefaults returns a copy of o with zero fields defaulted, or an error
// when o is invalid.
func (o ClusterOptions) withDefaults() (ClusterOptions, error) {
	if o.ClusterName == "" {
		return o, errors.New("cluster options: cluster name is empty")
	}
	if len(o.ControlPlanes) == 0 {
		return o, errors.New("cluster options: no control-plane node")
	}
	seen := map[string]bool{}
	for _, n := range append(append([]NodeInfo{}, o.ControlPlanes...), o.Workers...) {
		if n.Name == "" {
			return o, errors.New("cluster options: node with empty name")
		}
		if seen[n.Name] {
			return o, fmt.Errorf("cluster options: duplicate node %q", n.Name)
		}
		seen[n.Name] = true
	}
	o.ControlPlanes = cloneNodes(o.ControlPlanes)
	o.Workers = cloneNodes(o.Workers)
	o.CertSANs = append([]string(nil), o.CertSANs...)
	if o.ServiceCIDR == "" {
		o.ServiceCIDR = DefaultServiceCIDR
	}
	if _, err := FirstIP(o.ServiceCIDR); err != nil {
		return o, fmt.Errorf("cluster options: %w", err)
	}
	if o.DNSDomain == "" {
		o.DNSDomain = DefaultDNSDomain
	}
	if o.HostAddress == "" {
		o.HostAddress = DefaultHostAddress
	}
	if o.ControlPlaneEndpoint == "" {
		o.ControlPlaneEndpoint = net.JoinHostPort(o.ControlPlanes[0].Name, strconv.Itoa(DefaultAPIServerPort))
	}
	if _, _, err := net.SplitHostPort(o.ControlPlaneEndpoint); err != nil {
		return o, fmt.Errorf("cluster options: control-plane endpoint: %w", err)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o, nil
}

// caOptions returns the options for the CAs of the cluster.
func (o ClusterOptions) caOptions() Options {
	return Options{KeyAlgorithm: o.KeyAlgorithm, Now: o.Now}
}

// FirstIP returns the first usable address of a CIDR (network + 1), e.g.
// 10.96.0.1 for 10.96.0.0/16: the ClusterIP of the "kubernetes" service.
// For a comma-separated list the first CIDR is used.
func FirstIP(cidr string) (net.IP, error) {
	primary, _, _ := strings.Cut(cidr, ",")
	_, ipnet, err := net.ParseCIDR(strings.TrimSpace(primary))
	if err != nil {
		return nil, fmt.Errorf("parse service cidr %q: %w", cidr, err)
	}
	ip := ipnet.IP.To4()
	if ip == nil {
		ip = ipnet.IP.To16()
	}
	first := append(net.IP(nil), ip...)
	for i := len(first) - 1; i >= 0; i-- {
		first[i]++
		if first[i] != 0 {
			break
		}
	}
	if !ipnet.Contains(first) {
		return nil, fmt.Errorf("service cidr %q has no usable address", cidr)
	}
	return first, nil
}

// splitHostsIPs sorts addresses into IPs and DNS names.
func splitHostsIPs(hosts ...string) (dns []string, ips []net.IP) {
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			ips = append(ips, ip)
		} else if h != "" {
			dns = append(dns, h)
		}
	}
	return dns, ips
}

// cloneNodes deep-copies a node list so defaulted options share nothing
// with the caller's.
func cloneNodes(nodes []NodeInfo) []NodeInfo {
	out := make([]NodeInfo, len(nodes))
	for i, n := range nodes {
		out[i] = NodeInfo{Name: n.Name, IPs: append([]net.IP(nil), n.IPs...)}
	}
	return out
}
