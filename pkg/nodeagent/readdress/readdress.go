// Package readdress moves a configured node to the IP address its
// container has now. Docker gives a restarted container whatever address is
// free on its network, and a node's configuration names its own address in
// several places: the kubelet's --node-ip, etcd's listen and advertise URLs
// and kube-apiserver's --advertise-address in the static pod manifests, and
// the IP SANs of the apiserver, etcd and kubelet serving certificates.
//
// Run compares the address recorded in kubeadm-flags.env with the
// interface's, and when they differ rewrites those files and renews those
// certificates (same key, same names, the new IP) with the CA keys found on
// the node. It runs at every boot before the kubelet (kinc-readdress.service).
// A worker holds no CA key: its kubelet serving certificate keeps the old IP
// SAN, which nothing verifies (kube-apiserver, like upstream without
// --kubelet-certificate-authority, does not check it).
package readdress

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"

	"github.com/kinc-dev/kinc/pkg/pki"
)

// Paths on a node, relative to Options.Root.
const (
	KubeletFlagsPath = "var/lib/kubelet/kubeadm-flags.env"
	ManifestsDir     = "etc/kubernetes/manifests"
	KubernetesDir    = "etc/kubernetes"
	KubeletDir       = "var/lib/kubelet"
)

// Options configure Run.
type Options struct {
	// Root is the node's filesystem root: "/" on a node, a temporary
	// directory in tests.
	Root string
	// CurrentIP returns the node's address now (InterfaceIP in
	// production).
	CurrentIP func() (net.IP, error)
	// PKI sets the clock of renewed certificates.
	PKI pki.Options
	// Logger receives what Run does; nil discards it.
	Logger *slog.Logger
}

// Result says what Run found and did.
type Result struct {
	// Old and New are the recorded and the current address; Old is empty
	// on a node not configured yet.
	Old, New string
	// Files are the rewritten files and Renewed the renewed certificates,
	// relative to Root.
	Files, Renewed []string
}

// Changed reports whether the node moved.
func (r Result) Changed() bool { return r.Old != "" && r.Old != r.New }

var nodeIPFlag = regexp.MustCompile(`--node-ip=([0-9A-Fa-f.:]+)`)

// Run moves the node's configuration to its current address. A node not
// configured yet (no kubeadm-flags.env, or no --node-ip in it) and a node
// whose address did not change are left alone. The flags file, which
// records the address, is written last, so a Run cut short is redone at the
// next boot.
func Run(opts Options) (Result, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	flagsPath := filepath.Join(opts.Root, KubeletFlagsPath)
	flags, err := os.ReadFile(flagsPath)
	if errors.Is(err, fs.ErrNotExist) {
		log.Info("node not configured yet, nothing to readdress", "missing", "/"+KubeletFlagsPath)
		return Result{}, nil
	}
	if err != nil {
		return Result{}, fmt.Errorf("read the recorded node IP: %w", err)
	}
	m := nodeIPFlag.FindSubmatch(flags)
	if m == nil {
		log.Info("no --node-ip recorded, nothing to readdress", "file", "/"+KubeletFlagsPath)
		return Result{}, nil
	}
	oldIP := net.ParseIP(string(m[1]))
	if oldIP == nil {
		return Result{}, fmt.Errorf("/%s: --node-ip=%s is not an IP address", KubeletFlagsPath, m[1])
	}
	newIP, err := opts.CurrentIP()
	if err != nil {
		return Result{}, fmt.Errorf("find the node's current IP: %w", err)
	}
	res := Result{Old: oldIP.String(), New: newIP.String()}
	if !res.Changed() {
		log.Info("node IP unchanged", "ip", res.New)
		return res, nil
	}
	log.Info("node IP changed, moving the node's configuration", "old", res.Old, "new", res.New)

	renewed, err := renewCertificates(opts, oldIP, newIP, log)
	res.Renewed = renewed
	if err != nil {
		return res, err
	}
	var texts []string
	for _, glob := range []string{filepath.Join(ManifestsDir, "*.yaml"), filepath.Join(KubernetesDir, "*.conf")} {
		matches, err := filepath.Glob(filepath.Join(opts.Root, glob))
		if err != nil {
			return res, err
		}
		for _, m := range matches {
			rel, _ := filepath.Rel(opts.Root, m)
			texts = append(texts, rel)
		}
	}
	sort.Strings(texts)
	texts = append(texts, KubeletFlagsPath) // last: it records the address
	for _, rel := range texts {
		changed, err := rewriteFile(filepath.Join(opts.Root, rel), res.Old, res.New)
		if err != nil {
			return res, err
		}
		if changed {
			res.Files = append(res.Files, rel)
			log.Info("rewrote", "file", "/"+rel)
		}
	}
	return res, nil
}

// certificate is a serving certificate that may name the node's IP, and
// the CA that signs it.
type certificate struct{ cert, key, caCert, caKey string }

func certificates() []certificate {
	k, kl := KubernetesDir, KubeletDir
	ca := func(dir, cert, key string) certificate {
		return certificate{filepath.Join(dir, cert), filepath.Join(dir, key), filepath.Join(k, pki.CACert), filepath.Join(k, pki.CAKey)}
	}
	etcd := func(cert, key string) certificate {
		return certificate{filepath.Join(k, cert), filepath.Join(k, key), filepath.Join(k, pki.EtcdCACert), filepath.Join(k, pki.EtcdCAKey)}
	}
	return []certificate{
		ca(k, pki.APIServerCert, pki.APIServerKey),
		etcd(pki.EtcdServerCert, pki.EtcdServerKey),
		etcd(pki.EtcdPeerCert, pki.EtcdPeerKey),
		ca(kl, pki.KubeletServingCert, pki.KubeletServingKey),
	}
}

// renewCertificates renews each present certificate whose IP SANs hold
// oldIP, with newIP in its place.
func renewCertificates(opts Options, oldIP, newIP net.IP, log *slog.Logger) ([]string, error) {
	var renewed []string
	at := func(rel string) string { return filepath.Join(opts.Root, rel) }
	for _, c := range certificates() {
		certPEM, err := os.ReadFile(at(c.cert))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return renewed, err
		}
		keyPEM, err := os.ReadFile(at(c.key))
		if err != nil {
			return renewed, fmt.Errorf("renew /%s: %w", c.cert, err)
		}
		kp, err := pki.ParseKeyPair(certPEM, keyPEM)
		if err != nil {
			return renewed, fmt.Errorf("renew /%s: %w", c.cert, err)
		}
		ips, found := replaceIP(kp.Cert.IPAddresses, oldIP, newIP)
		if !found {
			continue
		}
		ca, err := pki.LoadCA(at(c.caCert), at(c.caKey), opts.PKI)
		if errors.Is(err, fs.ErrNotExist) {
			log.Warn("no CA key on this node: the certificate keeps its old IP SAN", "cert", "/"+c.cert, "missing", "/"+c.caKey)
			continue
		}
		if err != nil {
			return renewed, fmt.Errorf("renew /%s: %w", c.cert, err)
		}
		next, err := ca.Renew(kp, ips)
		if err != nil {
			return renewed, fmt.Errorf("renew /%s: %w", c.cert, err)
		}
		if err := writeAtomic(at(c.cert), next.CertPEM); err != nil {
			return renewed, err
		}
		renewed = append(renewed, c.cert)
		log.Info("renewed certificate", "cert", "/"+c.cert, "ips", fmt.Sprint(ips))
	}
	return renewed, nil
}

// replaceIP returns ips with old replaced by new, and whether old was
// there.
func replaceIP(ips []net.IP, oldIP, newIP net.IP) ([]net.IP, bool) {
	out := make([]net.IP, len(ips))
	found := false
	for i, ip := range ips {
		out[i] = ip
		if ip.Equal(oldIP) {
			out[i], found = newIP, true
		}
	}
	return out, found
}

// rewriteFile replaces every whole occurrence of oldIP in the file by
// newIP ("10.0.0.2" is not touched inside "10.0.0.23"), keeping its mode.
func rewriteFile(path, oldIP, newIP string) (bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return false, err
	}
	out := ReplaceAddress(data, oldIP, newIP)
	if bytes.Equal(out, data) {
		return false, nil
	}
	return true, writeAtomic(path, out)
}

// ReplaceAddress replaces the whole occurrences of address old in data by
// new: those not preceded or followed by another digit, letter or dot.
func ReplaceAddress(data []byte, old, new string) []byte {
	var out bytes.Buffer
	rest := data
	for {
		i := bytes.Index(rest, []byte(old))
		if i < 0 {
			out.Write(rest)
			return out.Bytes()
		}
		end := i + len(old)
		whole := (i == 0 || !addressByte(rest[i-1])) && (end == len(rest) || !addressByte(rest[end]) ||
			rest[end] == '.' && (end+1 == len(rest) || !addressByte(rest[end+1])))
		out.Write(rest[:i])
		if whole {
			out.WriteString(new)
		} else {
			out.Write(rest[i:end])
		}
		rest = rest[end:]
	}
}

// addressByte reports whether b can continue an IP address or a host name.
func addressByte(b byte) bool {
	return b == '.' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

// writeAtomic replaces path's content, keeping its mode.
func writeAtomic(path string, data []byte) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), fi.Mode().Perm())
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// InterfaceIP returns the first global unicast IPv4 address of the named
// interface (eth0, the node's address on the kinc network).
func InterfaceIP(name string) (net.IP, error) {
	iface, err := net.InterfaceByName(name)
	if err != nil {
		return nil, err
	}
	addrs, err := iface.Addrs()
	if err != nil {
		return nil, fmt.Errorf("addresses of %s: %w", name, err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && n.IP.IsGlobalUnicast() {
			return n.IP.To4(), nil
		}
	}
	return nil, fmt.Errorf("interface %s has no IPv4 address", name)
}
