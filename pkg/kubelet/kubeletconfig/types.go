// Package kubeletconfig reads the kubelet's KubeletConfiguration file
// (kubelet.config.k8s.io/v1beta1) into our own struct with upstream's field
// names, strictly: a field we do not implement is an error naming it.
package kubeletconfig

import (
	"fmt"
	"os"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/internal/strictyaml"
)

// APIVersion and Kind identify a KubeletConfiguration document.
const (
	APIVersion = "kubelet.config.k8s.io/v1beta1"
	Kind       = "KubeletConfiguration"
)

// KubeletConfiguration is the subset of upstream's KubeletConfiguration
// that kinc's kubelet implements. Zero values mean "kubelet default"
// (filled in by Default).
type KubeletConfiguration struct {
	metav1.TypeMeta `json:",inline"`

	// Address and Port are where the kubelet API listens (0.0.0.0:10250).
	Address string `json:"address,omitempty"`
	Port    int32  `json:"port,omitempty"`
	// HealthzBindAddress and HealthzPort serve plain-HTTP /healthz
	// (127.0.0.1:10248); port 0 after defaulting disables it.
	HealthzBindAddress string `json:"healthzBindAddress,omitempty"`
	HealthzPort        *int32 `json:"healthzPort,omitempty"`

	// StaticPodPath is the directory of static pod manifests; empty: none.
	StaticPodPath string `json:"staticPodPath,omitempty"`
	// FileCheckFrequency is how often StaticPodPath is re-read (20s).
	FileCheckFrequency metav1.Duration `json:"fileCheckFrequency,omitempty"`

	ClusterDNS    []string `json:"clusterDNS,omitempty"`
	ClusterDomain string   `json:"clusterDomain,omitempty"`
	// ResolvConf is the host resolver file pods with dnsPolicy Default use.
	ResolvConf string `json:"resolvConf,omitempty"`

	// CgroupDriver is "cgroupfs" or "systemd" and must match the runtime's.
	CgroupDriver string `json:"cgroupDriver,omitempty"`
	// CgroupRoot is the parent of the kubepods hierarchy ("/").
	CgroupRoot string `json:"cgroupRoot,omitempty"`

	Authentication Authentication `json:"authentication,omitempty"`
	Authorization  Authorization  `json:"authorization,omitempty"`

	TLSCertFile       string `json:"tlsCertFile,omitempty"`
	TLSPrivateKeyFile string `json:"tlsPrivateKeyFile,omitempty"`

	// RotateCertificates renews the kubelet's client certificate through
	// a CertificateSigningRequest at 70–90% of its life (false by default,
	// as upstream; kubeadm sets it).
	RotateCertificates bool `json:"rotateCertificates,omitempty"`

	NodeStatusUpdateFrequency metav1.Duration `json:"nodeStatusUpdateFrequency,omitempty"`
	NodeStatusReportFrequency metav1.Duration `json:"nodeStatusReportFrequency,omitempty"`
	NodeLeaseDurationSeconds  int32           `json:"nodeLeaseDurationSeconds,omitempty"`
	SyncFrequency             metav1.Duration `json:"syncFrequency,omitempty"`

	MaxPods int32  `json:"maxPods,omitempty"`
	PodCIDR string `json:"podCIDR,omitempty"`

	// PodLogsDir is where container logs go (/var/log/pods).
	PodLogsDir string `json:"podLogsDir,omitempty"`

	// ContainerRuntimeEndpoint is the CRI socket; the flag wins when set.
	ContainerRuntimeEndpoint string `json:"containerRuntimeEndpoint,omitempty"`

	// EvictionHard maps eviction signals (memory.available,
	// nodefs.available, …) to thresholds ("100Mi", "10%"). kinc's kubelet
	// does not evict pods: it reports the node's MemoryPressure and
	// DiskPressure conditions from these thresholds, as upstream's does
	// before it evicts. Unset, upstream's defaults apply; set, only the
	// signals given count, and a "0%" threshold never triggers (kind's
	// clusters set nodefs and imagefs to "0%").
	EvictionHard map[string]string `json:"evictionHard,omitempty"`
}

// Authentication configures who may call the kubelet API, as upstream's
// KubeletAuthentication: client certificates signed by X509.ClientCAFile,
// bearer tokens checked with a TokenReview (Webhook), and, when
// Anonymous.Enabled, requests without credentials as system:anonymous.
type Authentication struct {
	X509      X509Authentication      `json:"x509,omitempty"`
	Webhook   WebhookAuthentication   `json:"webhook,omitempty"`
	Anonymous AnonymousAuthentication `json:"anonymous,omitempty"`
}

// X509Authentication: client certificates signed by ClientCAFile are
// accepted (user = CN, groups = O); empty: none are.
type X509Authentication struct {
	ClientCAFile string `json:"clientCAFile,omitempty"`
}

// WebhookAuthentication: bearer tokens are checked with the apiserver's
// TokenReview (Enabled, true by default, needs a kubeconfig), and the
// answers cached for CacheTTL (2m).
type WebhookAuthentication struct {
	Enabled  *bool           `json:"enabled,omitempty"`
	CacheTTL metav1.Duration `json:"cacheTTL,omitempty"`
}

// AnonymousAuthentication: requests without credentials are allowed as
// system:anonymous (false by default, as upstream's v1beta1).
type AnonymousAuthentication struct {
	Enabled *bool `json:"enabled,omitempty"`
}

// Authorization configures what callers of the kubelet API may do: Mode
// "Webhook" (the default) asks the apiserver with a SubjectAccessReview
// (nodes/proxy, nodes/stats, nodes/log…), "AlwaysAllow" lets every
// authenticated caller do anything.
type Authorization struct {
	Mode    string               `json:"mode,omitempty"`
	Webhook WebhookAuthorization `json:"webhook,omitempty"`
}

// WebhookAuthorization are how long allowed (5m) and denied (30s)
// answers are cached.
type WebhookAuthorization struct {
	CacheAuthorizedTTL   metav1.Duration `json:"cacheAuthorizedTTL,omitempty"`
	CacheUnauthorizedTTL metav1.Duration `json:"cacheUnauthorizedTTL,omitempty"`
}

// Authorization modes.
const (
	AuthorizationModeWebhook     = "Webhook"
	AuthorizationModeAlwaysAllow = "AlwaysAllow"
)

// Load reads and strictly decodes path, then applies defaults and validates.
func Load(path string) (*KubeletConfiguration, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read kubelet config: %w", err)
	}
	cfg, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("kubelet config %s: %w", path, err)
	}
	return cfg, nil
}

// Parse strictly decodes a KubeletConfiguration document (one document; an
// unknown or duplicated field is an error), defaults and validates it.
func Parse(data []byte) (*KubeletConfiguration, error) {
	cfg := &KubeletConfiguration{}
	if err := strictyaml.Unmarshal(data, cfg); err != nil {
		return nil, err
	}
	if cfg.APIVersion != APIVersion || cfg.Kind != Kind {
		return nil, fmt.Errorf("want apiVersion %s and kind %s, got %q and %q", APIVersion, Kind, cfg.APIVersion, cfg.Kind)
	}
	Default(cfg)
	if err := Validate(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Default fills zero values with upstream's kubelet defaults.
func Default(c *KubeletConfiguration) {
	if c.APIVersion == "" {
		c.APIVersion, c.Kind = APIVersion, Kind
	}
	if c.Address == "" {
		c.Address = "0.0.0.0"
	}
	if c.Port == 0 {
		c.Port = 10250
	}
	if c.HealthzBindAddress == "" {
		c.HealthzBindAddress = "127.0.0.1"
	}
	if c.HealthzPort == nil {
		p := int32(10248)
		c.HealthzPort = &p
	}
	durations := []struct {
		d   *metav1.Duration
		def time.Duration
	}{
		{&c.FileCheckFrequency, 20 * time.Second},
		{&c.NodeStatusUpdateFrequency, 10 * time.Second},
		{&c.NodeStatusReportFrequency, 5 * time.Minute},
		{&c.SyncFrequency, time.Minute},
	}
	for _, d := range durations {
		if d.d.Duration == 0 {
			d.d.Duration = d.def
		}
	}
	if c.PodLogsDir == "" {
		c.PodLogsDir = "/var/log/pods"
	}
	if c.ClusterDomain == "" {
		c.ClusterDomain = "cluster.local"
	}
	if c.ResolvConf == "" {
		c.ResolvConf = "/etc/resolv.conf"
	}
	if c.CgroupDriver == "" {
		c.CgroupDriver = "cgroupfs"
	}
	if c.CgroupRoot == "" {
		c.CgroupRoot = "/"
	}
	if c.NodeLeaseDurationSeconds == 0 {
		c.NodeLeaseDurationSeconds = 40
	}
	if c.MaxPods == 0 {
		c.MaxPods = 110
	}
	if c.EvictionHard == nil {
		c.EvictionHard = DefaultEvictionHard()
	}
	authn, authz := &c.Authentication, &c.Authorization
	if authn.Anonymous.Enabled == nil {
		authn.Anonymous.Enabled = ptr.To(false)
	}
	if authn.Webhook.Enabled == nil {
		authn.Webhook.Enabled = ptr.To(true)
	}
	if authz.Mode == "" {
		authz.Mode = AuthorizationModeWebhook
	}
	// As upstream, 0s (what kubeadm writes) means the default.
	for _, d := range []struct {
		d   *metav1.Duration
		def time.Duration
	}{
		{&authn.Webhook.CacheTTL, 2 * time.Minute},
		{&authz.Webhook.CacheAuthorizedTTL, 5 * time.Minute},
		{&authz.Webhook.CacheUnauthorizedTTL, 30 * time.Second},
	} {
		if d.d.Duration == 0 {
			d.d.Duration = d.def
		}
	}
}
