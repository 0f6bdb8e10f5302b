package create

import (
	"context"
	"strings"
	"testing"

	"github.com/kinc-dev/kinc/pkg/cluster/config"
	"github.com/kinc-dev/kinc/pkg/cluster/internal/providers/fake"
	"github.com/kinc-dev/kinc/pkg/log"
)

// TestCreateRefusesBadKubeletConfigBeforeTouchingTheEngine: a
// KubeletConfiguration patch the kubelet would refuse (negative periods,
// a non-IP address, a bad podCIDR or clusterDNS entry) fails the create
// with every field path named, before the provider is asked anything: no
// node container is created.
func TestCreateRefusesBadKubeletConfigBeforeTouchingTheEngine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, patch string
		want        []string
	}{
		{"negative periods", "fileCheckFrequency: -20s\nnodeStatusUpdateFrequency: -10s\nsyncFrequency: -1m\n", []string{
			`fileCheckFrequency: Invalid value: "-20s": must be greater than or equal to 0`,
			`nodeStatusUpdateFrequency: Invalid value: "-10s": must be greater than or equal to 0`,
			`syncFrequency: Invalid value: "-1m0s": must be greater than or equal to 0`}},
		{"lease duration", "nodeLeaseDurationSeconds: -40\n", []string{"nodeLeaseDurationSeconds: Invalid value: -40: must be greater than 0"}},
		{"address", "address: my-node\n", []string{`address: Invalid value: "my-node": must be a valid IP address`}},
		{"podCIDR", "podCIDR: 10.244.1.0/40\n", []string{`podCIDR: Invalid value: "10.244.1.0/40": must be a valid CIDR`}},
		{"clusterDNS", "clusterDNS:\n- kube-dns.kube-system\n", []string{`clusterDNS[0]: Invalid value: "kube-dns.kube-system"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			indented := "  " + strings.ReplaceAll(strings.TrimSuffix(tc.patch, "\n"), "\n", "\n  ")
			cfg, err := config.Load([]byte("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n" +
				"kubeadmConfigPatches:\n- |\n  kind: KubeletConfiguration\n" + indented + "\n"))
			if err != nil {
				t.Fatal(err)
			}
			p := &fake.Provider{Images: map[string]string{image: "sha256:1"}, Handler: nodeHandler}
			err = Cluster(context.Background(), log.NoopLogger{}, p, Options{Config: cfg, DefaultNodeImage: image})
			if err == nil {
				t.Fatal("create accepted the config")
			}
			for _, w := range append(tc.want, "invalid cluster config", "kubeadmConfigPatches[0]: KubeletConfiguration") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if calls := p.Calls(); len(calls) > 0 {
				t.Errorf("the provider was called before the config was refused: %v", calls)
			}
			if clusters, _ := p.ListClusters(context.Background()); len(clusters) > 0 {
				t.Errorf("nodes were created for %v", clusters)
			}
		})
	}
}
