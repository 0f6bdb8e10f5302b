package kubeletconfig

import (
	"strings"
	"testing"
)

// TestParseRejectsInvalidValues: each bad value is refused with its field
// path, in apimachinery's field.Error wording.
func TestParseRejectsInvalidValues(t *testing.T) {
	t.Parallel()
	head := "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
	for _, tc := range []struct{ name, doc, want string }{
		{"negative fileCheckFrequency", "fileCheckFrequency: -20s\n", `fileCheckFrequency: Invalid value: "-20s": must be greater than or equal to 0`},
		{"negative nodeStatusUpdateFrequency", "nodeStatusUpdateFrequency: -10s\n", `nodeStatusUpdateFrequency: Invalid value: "-10s": must be greater than or equal to 0`},
		{"negative nodeStatusReportFrequency", "nodeStatusReportFrequency: -1m\n", `nodeStatusReportFrequency: Invalid value: "-1m0s"`},
		{"negative syncFrequency", "syncFrequency: -1s\n", `syncFrequency: Invalid value: "-1s": must be greater than or equal to 0`},
		{"negative nodeLeaseDurationSeconds", "nodeLeaseDurationSeconds: -40\n", "nodeLeaseDurationSeconds: Invalid value: -40: must be greater than 0"},
		{"non-IP address", "address: localhost\n", `address: Invalid value: "localhost": must be a valid IP address`},
		{"non-IP healthzBindAddress", "healthzBindAddress: 127.0.0.300\n", `healthzBindAddress: Invalid value: "127.0.0.300"`},
		{"port out of range", "port: 70000\n", "port: Invalid value: 70000"},
		{"negative healthzPort", "healthzPort: -1\n", "healthzPort: Invalid value: -1"},
		{"invalid podCIDR", "podCIDR: 10.244.0.0/33\n", `podCIDR: Invalid value: "10.244.0.0/33": must be a valid CIDR`},
		{"podCIDR without mask", "podCIDR: 10.244.0.0\n", `podCIDR: Invalid value: "10.244.0.0"`},
		{"invalid clusterDNS entry", "clusterDNS:\n- 10.96.0.10\n- kube-dns\n", `clusterDNS[1]: Invalid value: "kube-dns": must be a valid IP address`},
		{"invalid clusterDomain", "clusterDomain: Cluster_Local\n", `clusterDomain: Invalid value: "Cluster_Local"`},
		{"negative maxPods", "maxPods: -1\n", "maxPods: Invalid value: -1"},
		{"relative podLogsDir", "podLogsDir: logs\n", `podLogsDir: Invalid value: "logs": must be an absolute path`},
		{"cgroupDriver", "cgroupDriver: foo\n", `cgroupDriver: Unsupported value: "foo": supported values: "cgroupfs", "systemd"`},
		{"authorization mode", "authorization:\n  mode: RBAC\n", `authorization.mode: Unsupported value: "RBAC"`},
		{"negative token cache", "authentication:\n  webhook:\n    cacheTTL: -1s\n", `authentication.webhook.cacheTTL: Invalid value: "-1s"`},
		{"negative deny cache", "authorization:\n  webhook:\n    cacheUnauthorizedTTL: -30s\n", `authorization.webhook.cacheUnauthorizedTTL: Invalid value: "-30s"`},
		{"duplicate key", "syncFrequency: 1s\nsyncFrequency: 2s\n", `key "syncFrequency" already set`},
		{"second document", "syncFrequency: 1s\n---\n" + head, "a second YAML document starts at line 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(head + tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestValidateReportsEveryError: one pass names every bad field.
func TestValidateReportsEveryError(t *testing.T) {
	t.Parallel()
	c := &KubeletConfiguration{Address: "x", PodCIDR: "y", ClusterDNS: []string{"z"}, NodeLeaseDurationSeconds: -1}
	Default(c)
	c.SyncFrequency.Duration = -1
	errs := ValidateFields(c)
	got := map[string]bool{}
	for _, e := range errs {
		got[e.Field] = true
	}
	for _, f := range []string{"address", "podCIDR", "clusterDNS[0]", "nodeLeaseDurationSeconds", "syncFrequency"} {
		if !got[f] {
			t.Errorf("no error for %s in %v", f, errs)
		}
	}
	if len(errs) != 5 {
		t.Errorf("%d errors, want 5: %v", len(errs), errs)
	}
}

// TestDefaultsAreValid: the defaults and an explicit zero period (meaning
// "default") pass.
func TestDefaultsAreValid(t *testing.T) {
	t.Parallel()
	c := &KubeletConfiguration{}
	Default(c)
	if err := Validate(c); err != nil {
		t.Fatalf("defaults rejected: %v", err)
	}
	if _, err := Parse([]byte("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nsyncFrequency: 0s\naddress: \"::\"\nhealthzPort: 0\n---\n")); err != nil {
		t.Fatalf("valid config rejected: %v", err)
	}
}
