package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kinc-dev/kinc/internal/benchcmp"
)

// Each benchmark measures pkg/pki against the same work done with
// crypto/x509 and os alone, in the same run (internal/benchcmp), and sizes
// its batch so that -benchtime 1x (make bench) is meaningful:
//
//	BenchmarkGenerateClusterPKI: trees for 1 control plane + 2 workers ÷ as
//	    many self-signed CAs, keys and signed leaves, made as concurrently
//	BenchmarkIssueOne:           leaf certificates ÷ key + x509.CreateCertificate
//	BenchmarkWriteTo:            the init node's /etc/kubernetes files rendered
//	    and written ÷ os.WriteFile of the same bytes

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

// batch is how many items one iteration makes: RSA keys cost ~50x ECDSA's.
func batch(alg KeyAlgorithm, ecdsa int) int {
	if alg == RSA2048 {
		return max(ecdsa/20, 1)
	}
	return ecdsa
}

func BenchmarkGenerateClusterPKI(b *testing.B) {
	for _, alg := range []KeyAlgorithm{ECDSAP256, RSA2048} {
		b.Run(string(alg), func(b *testing.B) {
			if alg == RSA2048 && testing.Short() {
				b.Skip("RSA is slow; run without -short")
			}
			trees := batch(alg, 20)
			p, err := GenerateClusterPKI(benchCluster(alg))
			if err != nil {
				b.Fatal(err)
			}
			leaves := len(leafCerts(p))
			var ours, raw time.Duration
			for b.Loop() {
				ours += benchcmp.Time(func() {
					for range trees {
						if _, err := GenerateClusterPKI(benchCluster(alg)); err != nil {
							b.Fatal(err)
						}
					}
				})
				raw += benchcmp.Time(func() {
					for range trees {
						rawTree(b, alg, 3, 1, leaves)
					}
				})
			}
			benchcmp.Times(b, ours, raw)
			b.ReportMetric(float64(trees), "trees/op")
			b.ReportMetric(float64(leaves), "leaves/tree")
		})
	}
}

func BenchmarkIssueOne(b *testing.B) {
	for _, alg := range []KeyAlgorithm{ECDSAP256, RSA2048} {
		b.Run(string(alg), func(b *testing.B) {
			if alg == RSA2048 && testing.Short() {
				b.Skip("RSA is slow; run without -short")
			}
			n := batch(alg, 400)
			ca, err := NewCA("kubernetes", Options{KeyAlgorithm: alg})
			if err != nil {
				b.Fatal(err)
			}
			var ours, raw time.Duration
			for b.Loop() {
				ours += benchcmp.Time(func() {
					for range n {
						if _, err := ca.Issue(ClientSpec("x")); err != nil {
							b.Fatal(err)
						}
					}
				})
				raw += benchcmp.Time(func() {
					for range n {
						rawLeaf(b, alg, ca.Cert, ca.Key)
					}
				})
			}
			benchcmp.Times(b, ours, raw)
			b.ReportMetric(float64(n), "certs/op")
		})
	}
}

func BenchmarkWriteTo(b *testing.B) {
	const writes = 50
	p, err := GenerateClusterPKI(benchCluster(ECDSAP256))
	if err != nil {
		b.Fatal(err)
	}
	files, err := p.KubernetesFiles(p.Options.ControlPlanes[0].Name)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	var ours, raw time.Duration
	for it := 0; b.Loop(); it++ {
		ours += benchcmp.Time(func() {
			for i := range writes {
				if err := p.WriteTo(filepath.Join(dir, fmt.Sprint("ours-", it, "-", i))); err != nil {
					b.Fatal(err)
				}
			}
		})
		raw += benchcmp.Time(func() {
			for i := range writes {
				root := filepath.Join(dir, fmt.Sprint("raw-", it, "-", i))
				for _, f := range files {
					path := filepath.Join(root, filepath.FromSlash(f.Path))
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						b.Fatal(err)
					}
					if err := os.WriteFile(path, f.Data, f.Mode); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
	benchcmp.Times(b, ours, raw)
	b.ReportMetric(float64(len(files)), "files/write")
}

// leafCerts returns every leaf certificate of a tree.
func leafCerts(p *ClusterPKI) []*KeyPair {
	out := []*KeyPair{p.APIServerKubeletClient, p.APIServerEtcdClient, p.FrontProxyClient, p.EtcdHealthcheckClient,
		p.Admin, p.SuperAdmin, p.ControllerManager, p.Scheduler}
	for _, n := range p.Nodes {
		for _, kp := range []*KeyPair{n.APIServer, n.EtcdServer, n.EtcdPeer, n.KubeletClient, n.KubeletServing} {
			if kp != nil {
				out = append(out, kp)
			}
		}
	}
	return out
}

// rawTree makes, with crypto/x509 alone and in GenerateClusterPKI's two
// concurrent phases, cas self-signed CAs and keys more keys, then leaves
// leaf certificates signed by the first CA.
func rawTree(b *testing.B, alg KeyAlgorithm, cas, keys, leaves int) {
	caCerts := make([]*x509.Certificate, cas)
	caKeys := make([]crypto.Signer, cas)
	var wg sync.WaitGroup
	for i := range cas {
		wg.Go(func() { caCerts[i], caKeys[i] = rawCA(b, alg) })
	}
	for range keys {
		wg.Go(func() { rawKey(b, alg) })
	}
	wg.Wait()
	for range leaves {
		wg.Go(func() { rawLeaf(b, alg, caCerts[0], caKeys[0]) })
	}
	wg.Wait()
}

func rawKey(b *testing.B, alg KeyAlgorithm) crypto.Signer {
	key, err := GenerateKey(alg)
	if err != nil {
		b.Error(err)
	}
	return key
}

func rawCA(b *testing.B, alg KeyAlgorithm) (*x509.Certificate, crypto.Signer) {
	key := rawKey(b, alg)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		b.Error(err)
		return nil, key
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		b.Error(err)
	}
	return cert, key
}

func rawLeaf(b *testing.B, alg KeyAlgorithm, ca *x509.Certificate, caKey crypto.Signer) {
	key := rawKey(b, alg)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "x"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		b.Error(err)
		return
	}
	if _, err := x509.ParseCertificate(der); err != nil {
		b.Error(err)
	}
}
