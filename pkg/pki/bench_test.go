package pki

import (
	"net"
	"testing"
)

func benchCluster(alg KeyAlgorithm) ClusterOptions {
	return ClusterOptions{
		ClusterName:   "kind",
		ControlPlanes: []NodeInfo{{Name: "kind-control-plane", IPs: []net.IP{net.ParseIP("172.18.0.2")}}},
		Workers: []NodeInfo{
			{Name: "kind-worker", IPs: []net.IP{net.ParseIP("172.18.0.3")}},
			{Name: "kind-worker2", IPs: []net.IP{net.ParseIP("172.18.0.4")}},
		},
		KeyAlgorithm: alg,
	}
}

// BenchmarkGenerateClusterPKI measures the whole tree for 1 control plane
// + 2 workers (3 CAs, the SA key and 18 leaf certificates). Compare with
// BenchmarkIssueOne (the baseline: one key + one signature, same run).
func BenchmarkGenerateClusterPKI(b *testing.B) {
	for _, alg := range []KeyAlgorithm{ECDSAP256, RSA2048} {
		b.Run(string(alg), func(b *testing.B) {
			if alg == RSA2048 && testing.Short() {
				b.Skip("RSA is slow; run without -short")
			}
			for b.Loop() {
				if _, err := GenerateClusterPKI(benchCluster(alg)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGenerateAndWrite adds serializing every file of the init node
// to disk.
func BenchmarkGenerateAndWrite(b *testing.B) {
	dir := b.TempDir()
	for b.Loop() {
		p, err := GenerateClusterPKI(benchCluster(ECDSAP256))
		if err != nil {
			b.Fatal(err)
		}
		if err := p.WriteTo(dir); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIssueOne is the baseline: a single leaf certificate.
func BenchmarkIssueOne(b *testing.B) {
	for _, alg := range []KeyAlgorithm{ECDSAP256, RSA2048} {
		b.Run(string(alg), func(b *testing.B) {
			ca, err := NewCA("kubernetes", Options{KeyAlgorithm: alg})
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := ca.Issue(ClientSpec("x")); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
