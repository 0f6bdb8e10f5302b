package kubelet

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunRefusesInvalidConfig: a KubeletConfiguration with values that
// would spin the status and lease loops, or addresses that are not IPs,
// stops the kubelet before it starts anything, naming every field.
func TestRunRefusesInvalidConfig(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "config.yaml")
	doc := `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
nodeStatusUpdateFrequency: -10s
nodeLeaseDurationSeconds: -40
clusterDNS: [10.96.0.10, not-an-ip]
podCIDR: 10.244.0.0/99
`
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := NewOptions()
	opts.ConfigFile = path
	// A runtime endpoint nobody serves: reaching it would mean the config
	// was accepted.
	opts.ContainerRuntimeEndpoint = "unix://" + filepath.Join(t.TempDir(), "none.sock")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err := Run(ctx, opts, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil {
		t.Fatal("Run accepted the config")
	}
	for _, want := range []string{
		path,
		`nodeStatusUpdateFrequency: Invalid value: "-10s": must be greater than or equal to 0`,
		"nodeLeaseDurationSeconds: Invalid value: -40: must be greater than 0",
		`clusterDNS[1]: Invalid value: "not-an-ip"`,
		`podCIDR: Invalid value: "10.244.0.0/99"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}
