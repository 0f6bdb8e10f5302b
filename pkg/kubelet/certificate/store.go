// Package certificate is the kubelet's client certificate life cycle, as
// upstream's TLS bootstrap and certificate manager: Bootstrap turns a
// bootstrap kubeconfig (a bootstrap token of system:bootstrappers) into
// the node's own credentials by a CertificateSigningRequest for signer
// kubernetes.io/kube-apiserver-client-kubelet and writes the kubeconfig
// that points at them (kubeadm's kubelet.conf after join); Manager renews
// the certificate at 70–90% of its life (rotateCertificates) with the
// node's own identity; Transport makes a rest.Config present whatever
// certificate the Manager holds and drops its connections on rotation.
//
// Files (upstream's, in --cert-dir, /var/lib/kubelet/pki):
// kubelet-client-<YYYY-MM-DD-HH-MM-SS>.pem holds a certificate and its key,
// kubelet-client-current.pem is a symlink to the newest one, and
// kubelet-client.key.tmp keeps the key of a request still pending across
// restarts.
package certificate

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/utils/clock"
)

// Prefix names the kubelet's client certificate files.
const Prefix = "kubelet-client"

// Store keeps the kubelet's client certificate in a directory. Its methods
// are not safe for concurrent use: the Manager serializes them.
type Store struct {
	// Dir is the certificate directory (--cert-dir).
	Dir string
	// CertFile and KeyFile, when set, are read when there is no current
	// pair yet (the files a kubeconfig names, e.g. a pre-generated
	// kubelet.conf's).
	CertFile, KeyFile string
	// CertData and KeyData, when set, are the pair used when there is
	// neither a current pair nor CertFile (a kubeconfig's embedded
	// client-certificate-data and client-key-data).
	CertData, KeyData []byte
	// Clock stamps new file names; nil means the real clock.
	Clock clock.PassiveClock
}

// CurrentPath is the symlink to the newest pair.
func (s *Store) CurrentPath() string { return filepath.Join(s.Dir, Prefix+"-current.pem") }

// pendingKeyPath holds the key of a request not yet issued.
func (s *Store) pendingKeyPath() string { return filepath.Join(s.Dir, Prefix+".key.tmp") }

// ErrNoCertificate is returned by Current when the store holds no pair.
var ErrNoCertificate = errors.New("no client certificate")

// Current loads the current pair (Leaf set): the current symlink's, else
// CertFile/KeyFile's. It does not check expiry. Without any pair the error
// is ErrNoCertificate.
func (s *Store) Current() (*tls.Certificate, error) {
	current := s.CurrentPath()
	if _, err := os.Stat(current); err == nil {
		return loadPair(current, current)
	}
	if s.CertFile != "" && s.KeyFile != "" {
		if _, err := os.Stat(s.CertFile); err == nil {
			return loadPair(s.CertFile, s.KeyFile)
		}
	}
	if len(s.CertData) > 0 && len(s.KeyData) > 0 {
		return parsePair(s.CertData, s.KeyData)
	}
	return nil, ErrNoCertificate
}

// Update writes certPEM and keyPEM to a new stamped file and points the
// current symlink at it (replaced by rename, so readers never see it
// missing). It returns the loaded pair.
func (s *Store) Update(certPEM, keyPEM []byte) (*tls.Certificate, error) {
	pair, err := parsePair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("new client certificate: %w", err)
	}
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return nil, err
	}
	var c clock.PassiveClock = clock.RealClock{}
	if s.Clock != nil {
		c = s.Clock
	}
	name := Prefix + "-" + c.Now().Format("2006-01-02-15-04-05") + ".pem"
	data := append(append([]byte{}, certPEM...), keyPEM...)
	if err := os.WriteFile(filepath.Join(s.Dir, name), data, 0o600); err != nil {
		return nil, err
	}
	tmp := s.CurrentPath() + ".tmp"
	_ = os.Remove(tmp)
	if err := os.Symlink(name, tmp); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, s.CurrentPath()); err != nil {
		return nil, err
	}
	return pair, nil
}

// parsePair parses a PEM pair and its leaf.
func parsePair(certPEM, keyPEM []byte) (*tls.Certificate, error) {
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	if pair.Leaf == nil {
		if pair.Leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return nil, err
		}
	}
	return &pair, nil
}

// loadPair reads a pair and parses its leaf.
func loadPair(certFile, keyFile string) (*tls.Certificate, error) {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load client certificate: %w", err)
	}
	if pair.Leaf == nil {
		if pair.Leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return nil, fmt.Errorf("load client certificate: %w", err)
		}
	}
	return &pair, nil
}
