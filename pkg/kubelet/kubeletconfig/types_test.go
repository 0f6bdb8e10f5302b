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

func TestParseErrors(t *testing.T) {
	t.Parallel()
	head := "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
	for _, tc := range []struct{ name, doc, want string }{
		{"unknown field", head + "evictionHard: {}\n", `unknown field "evictionHard"`},
		{"unknown nested field", head + "authentication:\n  webhook:\n    enabled: true\n", `unknown field "webhook"`},
		{"wrong kind", "apiVersion: v1\nkind: Pod\n", "want apiVersion"},
		{"bad driver", head + "cgroupDriver: foo\n", "cgroupDriver"},
		{"anonymous", head + "authentication:\n  anonymous:\n    enabled: true\n", "anonymous"},
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
