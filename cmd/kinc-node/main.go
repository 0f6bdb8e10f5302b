// Command kinc-node runs kinc's own chores inside a node container, as
// systemd services of the node image:
//
//	kinc-node readdress   at boot, before the kubelet (kinc-readdress.service):
//	                      move the node's configuration and certificates to
//	                      the address Docker gave the container this time
//	kinc-node routes      route the other nodes' pod ranges through them
//	                      (kinc-routes.service, enabled by kinc create cluster
//	                      unless the default CNI is disabled)
//	kinc-node etcd-peer   at boot of a control plane (kinc-etcd-peer.service):
//	                      once etcd answers, make its member advertise the
//	                      peer URL etcd.yaml now names
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kinc-dev/kinc/pkg/daemon"
	kexec "github.com/kinc-dev/kinc/pkg/exec"
	"github.com/kinc-dev/kinc/pkg/nodeagent/etcdpeer"
	"github.com/kinc-dev/kinc/pkg/nodeagent/podroutes"
	"github.com/kinc-dev/kinc/pkg/nodeagent/readdress"
	"github.com/kinc-dev/kinc/pkg/version"
)

const usage = `kinc-node runs kinc's chores inside a node container.

Usage:
  kinc-node readdress [--interface eth0]
  kinc-node routes [--pod-subnet CIDR] [--kubeconfig /etc/kubernetes/kubelet.conf] [--node-name NAME]
  kinc-node etcd-peer [--manifest /etc/kubernetes/manifests/etcd.yaml]
  kinc-node version
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "kinc-node:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cmd, args := args[0], args[1:]
	fs := pflag.NewFlagSet("kinc-node "+cmd, pflag.ContinueOnError)
	fs.SetOutput(stderr)
	verbosity := fs.IntP("v", "v", 0, "log verbosity")
	switch cmd {
	case "readdress":
		iface := fs.String("interface", "eth0", "the interface whose IPv4 address is the node's")
		root := fs.String("root", "/", "the node's filesystem root")
		if err := parse(fs, args); err != nil {
			return err
		}
		logger := daemon.NewLogger(stderr, *verbosity)
		res, err := readdress.Run(readdress.Options{Root: *root, Logger: logger,
			CurrentIP: func() (net.IP, error) { return readdress.InterfaceIP(*iface) }})
		if err != nil {
			return fmt.Errorf("readdress: %w (the node keeps its old address in its configuration; its kubelet or control plane may fail to start)", err)
		}
		if res.Changed() {
			logger.Info("node moved", "old", res.Old, "new", res.New, "files", len(res.Files), "certificates", len(res.Renewed))
		}
		return nil
	case "routes":
		kubeconfig := fs.String("kubeconfig", "/etc/kubernetes/kubelet.conf", "credentials to watch nodes with (the kubelet's)")
		nodeName := fs.String("node-name", "", "this node's name; default the host name, as the kubelet's")
		resync := fs.Duration("resync", time.Minute, "how often every route is written again")
		podSubnet := fs.String("pod-subnet", "", "the cluster's pod network: traffic leaving it is masqueraded (empty: no masquerading)")
		if err := parse(fs, args); err != nil {
			return err
		}
		var subnet *net.IPNet
		if *podSubnet != "" {
			_, n, err := net.ParseCIDR(*podSubnet)
			if err != nil {
				return fmt.Errorf("--pod-subnet: %w", err)
			}
			subnet = n
		}
		logger := daemon.NewLogger(stderr, *verbosity)
		if *nodeName == "" {
			h, err := os.Hostname()
			if err != nil {
				return err
			}
			*nodeName = strings.ToLower(h)
		}
		client, err := waitForClient(ctx, *kubeconfig, logger)
		if err != nil || client == nil {
			return err
		}
		cmder := kexec.LocalCmder{}
		return podroutes.New(podroutes.Options{NodeName: *nodeName, Client: client, Resync: *resync, Logger: logger,
			Router: podroutes.IPRouter{Cmder: cmder}, PodSubnet: subnet, NAT: podroutes.IPTables{Cmder: cmder}}).Run(ctx)
	case "etcd-peer":
		manifest := fs.String("manifest", "/etc/kubernetes/manifests/etcd.yaml", "the etcd static pod manifest (its --name, --initial-advertise-peer-urls, --listen-client-urls)")
		pkiDir := fs.String("pki-dir", "/etc/kubernetes/pki/etcd", "etcd's CA and the healthcheck client certificate")
		timeout := fs.Duration("timeout", 5*time.Minute, "how long to wait for etcd")
		if err := parse(fs, args); err != nil {
			return err
		}
		return syncEtcdPeer(ctx, *manifest, *pkiDir, *timeout, daemon.NewLogger(stderr, *verbosity))
	case "version":
		if err := parse(fs, args); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "kinc-node %s\n", version.Version())
		return nil
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

func parse(fs *pflag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return nil
}

// waitForClient waits for the kubeconfig, which kinc create cluster writes
// after the node has booted, and returns a client from it; nil when ctx
// ends first.
func waitForClient(ctx context.Context, path string, logger *slog.Logger) (kubernetes.Interface, error) {
	logged := false
	for {
		if _, err := os.Stat(path); err == nil {
			break
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		if !logged {
			logger.Info("waiting for the kubeconfig", "path", path)
			logged = true
		}
		select {
		case <-ctx.Done():
			return nil, nil
		case <-time.After(time.Second):
		}
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	cfg.UserAgent = "kinc-node/" + version.Version()
	return kubernetes.NewForConfig(cfg)
}

// syncEtcdPeer waits for the local etcd and makes its member's peer URL the
// one etcd.yaml names. A node without the manifest is not a control plane:
// nothing to do.
func syncEtcdPeer(ctx context.Context, manifest, pkiDir string, timeout time.Duration, logger *slog.Logger) error {
	m, err := etcdpeer.FromManifest(manifest)
	if errors.Is(err, os.ErrNotExist) {
		logger.Info("no etcd manifest, not a control plane", "manifest", manifest)
		return nil
	}
	if err != nil {
		return err
	}
	tlsConfig, err := etcdClientTLS(pkiDir)
	if err != nil {
		return err
	}
	client := etcdpeer.HTTPCluster{Endpoint: m.ClientURL, Client: &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig}}}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		attempt, done := context.WithTimeout(ctx, 5*time.Second)
		old, err := etcdpeer.Sync(attempt, client, m)
		done()
		switch {
		case err == nil && old != nil:
			logger.Info("etcd member moved to the node's address", "member", m.Name, "old", strings.Join(old, ","), "new", m.PeerURL)
			return nil
		case err == nil:
			logger.Info("etcd member advertises the node's address", "member", m.Name, "peer", m.PeerURL)
			return nil
		}
		logger.Debug("etcd not ready yet", "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("etcd at %s did not answer within %s: %w (its member keeps its old peer URL; see journalctl -u kubelet and crictl ps -a)", m.ClientURL, timeout, err)
		case <-time.After(2 * time.Second):
		}
	}
}

// etcdClientTLS is the healthcheck client's identity (kubeadm's
// etcd/healthcheck-client.{crt,key}) trusting etcd's CA.
func etcdClientTLS(dir string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "healthcheck-client.crt"), filepath.Join(dir, "healthcheck-client.key"))
	if err != nil {
		return nil, fmt.Errorf("etcd client certificate: %w", err)
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		return nil, fmt.Errorf("etcd CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("etcd CA %s: no certificate", filepath.Join(dir, "ca.crt"))
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}
