package kubelet

import (
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/spf13/pflag"
	v1 "k8s.io/api/core/v1"

	"github.com/kinc-dev/kinc/pkg/kubelet/kubeletconfig"
)

// Options are the kubelet's flags, with upstream's names and defaults.
type Options struct {
	ConfigFile               string
	Kubeconfig               string
	BootstrapKubeconfig      string
	CertDirectory            string
	ContainerRuntimeEndpoint string
	NodeIP                   string
	NodeLabels               map[string]string
	RegisterWithTaints       []string
	HostnameOverride         string
	RootDir                  string
}

// NewOptions returns the defaults.
func NewOptions() *Options {
	return &Options{ContainerRuntimeEndpoint: "unix:///run/containerd/containerd.sock", RootDir: "/var/lib/kubelet",
		CertDirectory: "/var/lib/kubelet/pki", NodeLabels: map[string]string{}}
}

// AddFlags registers the flags on fs; -v/--v, --version and --help are
// the daemon base's (pkg/daemon.Command).
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.ConfigFile, "config", o.ConfigFile, "The kubelet's KubeletConfiguration file.")
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "Path to a kubeconfig file for the apiserver. Without it the kubelet runs static pods only (standalone mode).")
	fs.StringVar(&o.BootstrapKubeconfig, "bootstrap-kubeconfig", o.BootstrapKubeconfig, "Path to a kubeconfig used to request the kubelet's client certificate (a CertificateSigningRequest) when --kubeconfig does not exist or its certificate is expired or unreadable; --kubeconfig is then written to use it.")
	fs.StringVar(&o.CertDirectory, "cert-dir", o.CertDirectory, "Directory of the kubelet's client certificates (kubelet-client-current.pem).")
	fs.StringVar(&o.ContainerRuntimeEndpoint, "container-runtime-endpoint", o.ContainerRuntimeEndpoint, "The CRI endpoint (unix:///path).")
	fs.StringVar(&o.NodeIP, "node-ip", o.NodeIP, "Comma-separated IP addresses of the node. Default: the address the hostname resolves to, else the first non-loopback address.")
	fs.StringToStringVar(&o.NodeLabels, "node-labels", o.NodeLabels, "Labels to add when registering the node (key=value,…).")
	fs.StringSliceVar(&o.RegisterWithTaints, "register-with-taints", o.RegisterWithTaints, "Taints to register the node with (key=value:Effect,…).")
	fs.StringVar(&o.HostnameOverride, "hostname-override", o.HostnameOverride, "The node name to use instead of the hostname.")
	fs.StringVar(&o.RootDir, "root-dir", o.RootDir, "Directory for kubelet files (pod volumes).")
}

// NodeName is --hostname-override or the hostname, lower-cased.
func (o *Options) NodeName() (string, error) {
	name := o.HostnameOverride
	if name == "" {
		h, err := os.Hostname()
		if err != nil {
			return "", fmt.Errorf("hostname: %w", err)
		}
		name = h
	}
	return strings.ToLower(strings.TrimSpace(name)), nil
}

// LoadConfig reads --config, or returns the defaults without one.
func (o *Options) LoadConfig() (*kubeletconfig.KubeletConfiguration, error) {
	if o.ConfigFile == "" {
		cfg := &kubeletconfig.KubeletConfiguration{}
		kubeletconfig.Default(cfg)
		return cfg, nil
	}
	return kubeletconfig.Load(o.ConfigFile)
}

// KubeconfigPath returns the kubeconfig to use ("" in standalone mode),
// after the TLS bootstrap has run when --bootstrap-kubeconfig is set. A
// --kubeconfig that does not exist is an error (systemd restarts the
// kubelet until it is written).
func (o *Options) KubeconfigPath() (string, error) {
	if o.Kubeconfig == "" {
		return "", nil
	}
	if _, err := os.Stat(o.Kubeconfig); err == nil {
		return o.Kubeconfig, nil
	}
	return "", fmt.Errorf("--kubeconfig %s does not exist", o.Kubeconfig)
}

// Taints parses --register-with-taints.
func (o *Options) Taints() ([]v1.Taint, error) {
	var out []v1.Taint
	for _, s := range o.RegisterWithTaints {
		kv, effect, ok := strings.Cut(s, ":")
		if !ok {
			return nil, fmt.Errorf("--register-with-taints: %q has no effect (key=value:Effect)", s)
		}
		switch v1.TaintEffect(effect) {
		case v1.TaintEffectNoSchedule, v1.TaintEffectPreferNoSchedule, v1.TaintEffectNoExecute:
		default:
			return nil, fmt.Errorf("--register-with-taints: invalid effect %q", effect)
		}
		key, value, _ := strings.Cut(kv, "=")
		out = append(out, v1.Taint{Key: key, Value: value, Effect: v1.TaintEffect(effect)})
	}
	return out, nil
}

// NodeIPs parses --node-ip or detects the node's address.
func (o *Options) NodeIPs(nodeName string) ([]string, error) {
	if o.NodeIP != "" {
		var out []string
		for _, s := range strings.Split(o.NodeIP, ",") {
			ip := net.ParseIP(strings.TrimSpace(s))
			if ip == nil {
				return nil, fmt.Errorf("--node-ip: invalid IP %q", s)
			}
			out = append(out, ip.String())
		}
		return out, nil
	}
	if ips, err := net.LookupIP(nodeName); err == nil {
		for _, ip := range ips {
			if !ip.IsLoopback() && ip.To4() != nil {
				return []string{ip.String()}, nil
			}
		}
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, err
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.IsGlobalUnicast() && n.IP.To4() != nil {
			return []string{n.IP.String()}, nil
		}
	}
	return nil, fmt.Errorf("cannot determine the node IP; set --node-ip")
}
