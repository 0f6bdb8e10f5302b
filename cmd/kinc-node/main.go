// Command kinc-node runs kinc's own chores inside a node container, as
// systemd services of the node image:
//
//	kinc-node readdress   at boot, before the kubelet (kinc-readdress.service):
//	                      move the node's configuration and certificates to
//	                      the address Docker gave the container this time
//	kinc-node routes      route the other nodes' pod ranges through them, and
//	                      write this node's CNI configuration once the
//	                      node-ipam-controller gave its Node a pod range
//	                      (kinc-routes.service, enabled by kinc create cluster
//	                      unless the default CNI is disabled): kindnetd's jobs
//	kinc-node etcd-peer   at boot of a control plane (kinc-etcd-peer.service):
//	                      once etcd answers, make its member advertise the
//	                      peer URL etcd.yaml now names
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kinc-dev/kinc/pkg/daemon"
	kexec "github.com/kinc-dev/kinc/pkg/exec"
	"github.com/kinc-dev/kinc/pkg/nodeagent/cniconfig"
	"github.com/kinc-dev/kinc/pkg/nodeagent/etcdpeer"
	"github.com/kinc-dev/kinc/pkg/nodeagent/podroutes"
	"github.com/kinc-dev/kinc/pkg/nodeagent/readdress"
	"github.com/kinc-dev/kinc/pkg/pki"
	"github.com/kinc-dev/kinc/pkg/version"
)

const usage = `kinc-node runs kinc's chores inside a node container.

Usage:
  kinc-node readdress [--interface eth0] [--root /]
  kinc-node routes [--pod-subnet CIDR] [--cni-config /etc/cni/net.d/10-kinc.conflist] [--kubeconfig /etc/kubernetes/kinc-node.conf] [--node-name NAME] [--resync 1m]
  kinc-node etcd-peer [--manifest /etc/kubernetes/manifests/etcd.yaml] [--pki-dir /etc/kubernetes/pki/etcd] [--timeout 5m]
  kinc-node version

Every command also takes -v/--v N (log verbosity), --version and --help.
`

func main() {
	ctx, stop := daemon.SignalContext()
	code := execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// execute runs the command args[0] names with the rest of args and
// returns the exit code, daemon.Command's: 0 done (or help or version
// asked), 1 the chore failed, 2 no, or an unknown, command, flag or
// argument.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		fmt.Fprintln(stderr, "kinc-node: no command given")
		return daemon.ExitUsage
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return daemon.ExitOK
	case "--version":
		fmt.Fprintln(stdout, versionLine())
		return daemon.ExitOK
	}
	c := command(args[0])
	if c == nil {
		fmt.Fprint(stderr, usage)
		if strings.HasPrefix(args[0], "-") {
			fmt.Fprintf(stderr, "kinc-node: unknown flag: %s (flags go after the command)\n", args[0])
		} else {
			fmt.Fprintf(stderr, "kinc-node: unknown command %q\n", args[0])
		}
		return daemon.ExitUsage
	}
	return c.Execute(ctx, args[1:], stdout, stderr)
}

// versionLine is what version and --version print: kinc's version, which
// kinc-node, having no upstream counterpart, is released with.
func versionLine() string {
	return "kinc-node " + version.Version()
}

// command returns the command name names, nil when there is none.
func command(name string) *daemon.Command {
	c := &daemon.Command{Name: "kinc-node " + name, Version: versionLine()}
	switch name {
	case "readdress":
		iface, root := new(string), new(string)
		c.Short = "readdress moves the node's configuration and certificates to the address Docker gave the container this boot."
		c.AddFlags = func(fs *pflag.FlagSet) {
			fs.StringVar(iface, "interface", "eth0", "the interface whose IPv4 address is the node's")
			fs.StringVar(root, "root", "/", "the node's filesystem root")
		}
		c.Run = func(_ context.Context, env daemon.Env) error {
			return runReaddress(*root, *iface, env.Logger)
		}
	case "routes":
		var o routesOptions
		c.Short = "routes routes the other nodes' pod ranges through them, masquerades traffic leaving the pod network, and writes this node's CNI configuration from its pod range."
		c.AddFlags = o.addFlags
		c.Run = func(ctx context.Context, env daemon.Env) error { return o.run(ctx, env.Logger) }
	case "etcd-peer":
		manifest, pkiDir, timeout := new(string), new(string), new(time.Duration)
		c.Short = "etcd-peer waits for the local etcd, then makes its member advertise the peer URL etcd.yaml names."
		c.AddFlags = func(fs *pflag.FlagSet) {
			fs.StringVar(manifest, "manifest", "/etc/kubernetes/manifests/etcd.yaml", "the etcd static pod manifest (its --name, --initial-advertise-peer-urls, --listen-client-urls)")
			fs.StringVar(pkiDir, "pki-dir", "/etc/kubernetes/pki/etcd", "etcd's CA and the healthcheck client certificate")
			fs.DurationVar(timeout, "timeout", 5*time.Minute, "how long to wait for etcd")
		}
		c.Run = func(ctx context.Context, env daemon.Env) error {
			return syncEtcdPeer(ctx, *manifest, *pkiDir, *timeout, env.Logger)
		}
	case "version":
		c.Short = "version prints kinc-node's version."
		c.Run = func(_ context.Context, env daemon.Env) error {
			_, err := fmt.Fprintln(env.Stdout, versionLine())
			return err
		}
	default:
		return nil
	}
	return c
}

// runReaddress moves the node under root to the address of iface.
func runReaddress(root, iface string, logger *slog.Logger) error {
	res, err := readdress.Run(readdress.Options{Root: root, Logger: logger,
		CurrentIP: func() (net.IP, error) { return readdress.InterfaceIP(iface) }})
	if err != nil {
		return fmt.Errorf("readdress: %w (the node keeps its old address in its configuration; its kubelet or control plane may fail to start)", err)
	}
	if res.Changed() {
		logger.Info("node moved", "old", res.Old, "new", res.New, "files", len(res.Files), "certificates", len(res.Renewed))
	}
	return nil
}

// routesOptions are kinc-node routes' flags.
type routesOptions struct {
	kubeconfig, nodeName, podSubnet, cniConfig string
	resync                                     time.Duration
}

func (o *routesOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.kubeconfig, "kubeconfig", "/etc/kubernetes/kinc-node.conf", "credentials to watch nodes with (kinc:node-agent:<node>, which may read every Node; a kubelet may read only its own)")
	fs.StringVar(&o.nodeName, "node-name", "", "this node's name; default the host name, as the kubelet's")
	fs.DurationVar(&o.resync, "resync", time.Minute, "how often every route is written again")
	fs.StringVar(&o.podSubnet, "pod-subnet", "", "the cluster's pod network: traffic leaving it is masqueraded (empty: no masquerading)")
	fs.StringVar(&o.cniConfig, "cni-config", cniconfig.DefaultPath, "the CNI configuration file written from this node's spec.podCIDR (empty: none written)")
}

// run routes pod ranges, and keeps the CNI configuration, until ctx ends,
// once the kubeconfig exists. Either failing stops both.
func (o *routesOptions) run(ctx context.Context, logger *slog.Logger) error {
	var subnet *net.IPNet
	if o.podSubnet != "" {
		_, n, err := net.ParseCIDR(o.podSubnet)
		if err != nil {
			return fmt.Errorf("--pod-subnet: %w", err)
		}
		subnet = n
	}
	nodeName := o.nodeName
	if nodeName == "" {
		h, err := os.Hostname()
		if err != nil {
			return err
		}
		nodeName = strings.ToLower(h)
	}
	client, err := waitForClient(ctx, o.kubeconfig, logger)
	if err != nil || client == nil {
		return err
	}
	if !waitForAPIServer(ctx, client, nodeName, logger) {
		return nil
	}
	cmder := kexec.LocalCmder{}
	routes := podroutes.New(podroutes.Options{NodeName: nodeName, Client: client, Resync: o.resync, Logger: logger,
		Router: podroutes.IPRouter{Cmder: cmder}, PodSubnet: subnet, NAT: podroutes.IPTables{Cmder: cmder}})
	if o.cniConfig == "" {
		return routes.Run(ctx)
	}
	cni := cniconfig.New(cniconfig.Options{NodeName: nodeName, Client: client, Path: o.cniConfig, Logger: logger})
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, 2)
	for _, run := range []func(context.Context) error{routes.Run, cni.Run} {
		go func() {
			err := run(ctx)
			cancel() // one stopped: stop the other, the service restarts both
			errs <- err
		}()
	}
	return errors.Join(<-errs, <-errs)
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
	cfg, err := daemon.ClientOptions{Kubeconfig: path, UserAgent: "kinc-node/" + version.Version()}.RESTConfig(ctx, logger)
	if err != nil {
		return nil, err
	}
	return daemon.NewClientset(cfg, "")
}

// waitForAPIServer polls the apiserver every second until it answers (the
// node's own Node, or an API error about it), so that the informers start
// with a list that succeeds rather than with client-go's backoff, which
// grows to 30 s while the control plane boots and would delay the CNI
// configuration (and so the node's readiness) as much. It returns false
// when ctx ends first.
func waitForAPIServer(ctx context.Context, client kubernetes.Interface, nodeName string, logger *slog.Logger) bool {
	logged := false
	for {
		_, err := client.CoreV1().Nodes().Get(ctx, nodeName, metav1.GetOptions{})
		var status apierrors.APIStatus
		if err == nil || errors.As(err, &status) {
			return true
		}
		if !logged {
			logger.Info("waiting for the apiserver", "err", err)
			logged = true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(time.Second):
		}
	}
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
	pool, err := pki.CertPoolFromFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		return nil, fmt.Errorf("etcd CA: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}
