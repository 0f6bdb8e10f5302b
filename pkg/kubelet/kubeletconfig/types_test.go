package kubeletconfig

import (
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	t.Parallel()
	cfg, err := Parse([]byte(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous:
    enabled: false
  x509:
    clientCAFile: /etc/kubernetes/pki/ca.crt
authorization:
  mode: Webhook
cgroupDriver: systemd
clusterDNS:
- 10.96.0.10
clusterDomain: cluster.local
nodeStatusUpdateFrequency: 0s
staticPodPath: /etc/kubernetes/manifests
syncFrequency: 30s
maxPods: 50
podCIDR: 10.244.0.0/24
`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.StaticPodPath != "/etc/kubernetes/manifests" || cfg.CgroupDriver != "systemd" || cfg.ClusterDNS[0] != "10.96.0.10" ||
		cfg.Authentication.X509.ClientCAFile != "/etc/kubernetes/pki/ca.crt" || cfg.MaxPods != 50 || cfg.PodCIDR != "10.244.0.0/24" {
		t.Errorf("unexpected config %+v", cfg)
	}
	if cfg.SyncFrequency.Duration != 30*time.Second || cfg.NodeStatusUpdateFrequency.Duration != 10*time.Second || cfg.Port != 10250 ||
		cfg.NodeLeaseDurationSeconds != 40 {
		t.Errorf("defaults not applied: %+v", cfg)
	}
}

// TestParseAuthDefaults: kubeadm's authentication and authorization (0s
// TTLs) and an empty document get upstream's v1beta1 defaults.
func TestParseAuthDefaults(t *testing.T) {
	t.Parallel()
	head := "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
	for name, doc := range map[string]string{
		"empty": head,
		"kubeadm": head + `authentication:
  anonymous:
    enabled: false
  webhook:
    cacheTTL: 0s
    enabled: true
  x509:
    clientCAFile: /etc/kubernetes/pki/ca.crt
authorization:
  mode: Webhook
  webhook:
    cacheAuthorizedTTL: 0s
    cacheUnauthorizedTTL: 0s
`,
	} {
		cfg, err := Parse([]byte(doc))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		authn, authz := cfg.Authentication, cfg.Authorization
		if *authn.Anonymous.Enabled || !*authn.Webhook.Enabled || authn.Webhook.CacheTTL.Duration != 2*time.Minute ||
			authz.Mode != "Webhook" || authz.Webhook.CacheAuthorizedTTL.Duration != 5*time.Minute || authz.Webhook.CacheUnauthorizedTTL.Duration != 30*time.Second {
			t.Errorf("%s: %+v %+v", name, authn, authz)
		}
	}
	cfg, err := Parse([]byte(head + "authentication:\n  anonymous:\n    enabled: true\n  webhook:\n    enabled: false\nauthorization:\n  mode: AlwaysAllow\n"))
	if err != nil || !*cfg.Authentication.Anonymous.Enabled || *cfg.Authentication.Webhook.Enabled || cfg.Authorization.Mode != "AlwaysAllow" {
		t.Errorf("anonymous AlwaysAllow: %+v %v", cfg, err)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	head := "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
	for _, tc := range []struct{ name, doc, want string }{
		{"unknown field", head + "evictionSoft: {}\n", `unknown field "evictionSoft"`},
		{"unknown eviction signal", head + "evictionHard:\n  disk.available: 1%\n", `evictionHard[disk.available]: Unsupported value`},
		{"bad eviction percentage", head + "evictionHard:\n  nodefs.available: 110%\n", `evictionHard[nodefs.available]: Invalid value: "110%"`},
		{"bad eviction quantity", head + "evictionHard:\n  memory.available: lots\n", `must be a percentage (e.g. 10%) or a quantity`},
		{"unknown nested field", head + "authentication:\n  webhook:\n    enable: true\n", `unknown field "enable"`},
		{"wrong kind", "apiVersion: v1\nkind: Pod\n", "want apiVersion"},
		{"bad driver", head + "cgroupDriver: foo\n", "cgroupDriver"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestEvictionThresholds(t *testing.T) {
	t.Parallel()
	head := "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
	def, err := Parse([]byte(head))
	if err != nil {
		t.Fatal(err)
	}
	// Upstream's defaults: 10% of the node filesystem, 100Mi of memory.
	if disk := def.EvictionThreshold(SignalNodeFsAvailable); !disk.Crossed(9, 100) || disk.Crossed(10, 100) {
		t.Errorf("default nodefs threshold %+v", disk)
	}
	if mem := def.EvictionThreshold(SignalMemoryAvailable); !mem.Crossed(99<<20, 1<<30) || mem.Crossed(100<<20, 1<<30) {
		t.Errorf("default memory threshold %+v", mem)
	}
	// kind's "0%" thresholds never trigger, and signals left out of a set
	// map count no more.
	kind, err := Parse([]byte(head + "evictionHard:\n  nodefs.available: \"0%\"\n  imagefs.available: \"0%\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if kind.EvictionThreshold(SignalNodeFsAvailable).Crossed(0, 100) || kind.EvictionThreshold(SignalMemoryAvailable).Crossed(0, 100) {
		t.Error("a 0% or absent threshold triggered")
	}
	if (Threshold{}).Crossed(0, 0) || (Threshold{Percent: 10}).Crossed(0, 0) {
		t.Error("an unknown capacity crossed a threshold")
	}
}
