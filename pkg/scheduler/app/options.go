// Package app is the kube-scheduler process: upstream's flags and the
// configuration file, on pkg/daemon's client connections, leader election
// on a Lease and secure serving of the health checks and metrics.
package app

import (
	"github.com/spf13/pflag"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/daemon"
	"github.com/kinc-dev/kinc/pkg/daemon/delegated"
	"github.com/kinc-dev/kinc/pkg/scheduler/config"
)

// Options are the command line. Flags set explicitly override the
// configuration file (--config); unset flags leave it alone.
type Options struct {
	ConfigFile string
	Kubeconfig string
	Master     string

	// Options are the delegated authentication and authorization of the
	// secure port: --authentication-kubeconfig, --authorization-kubeconfig,
	// --client-ca-file, the webhook cache TTLs and
	// --authorization-always-allow-paths (/healthz, /readyz, /livez).
	delegated.Options

	// SecureServingOptions are --bind-address, --secure-port (upstream's
	// 10259), --cert-dir and --tls-cert-file/--tls-private-key-file; the
	// self-signed pair is kept in --cert-dir as kube-scheduler.crt/.key.
	daemon.SecureServingOptions
	// LeaderElectionOptions are the --leader-elect* flags, whose defaults
	// are the configuration file's.
	daemon.LeaderElectionOptions

	KubeAPIQPS         float32
	KubeAPIBurst       int32
	KubeAPIContentType string

	// set records which flags were given, by name.
	set map[string]bool
}

// NewOptions returns upstream's defaults.
func NewOptions() *Options {
	d := config.Default()
	le, cc := d.LeaderElection, d.ClientConnection
	return &Options{
		Options:              delegated.NewOptions(),
		SecureServingOptions: daemon.NewSecureServingOptions(10259, "kube-scheduler"),
		LeaderElectionOptions: daemon.LeaderElectionOptions{LeaderElect: *le.LeaderElect, LeaseDuration: le.LeaseDuration.Duration,
			RenewDeadline: le.RenewDeadline.Duration, RetryPeriod: le.RetryPeriod.Duration, ResourceLock: le.ResourceLock,
			ResourceName: le.ResourceName, ResourceNamespace: le.ResourceNamespace},
		KubeAPIQPS: cc.QPS, KubeAPIBurst: cc.Burst, KubeAPIContentType: cc.ContentType,
		set: map[string]bool{},
	}
}

// AddFlags registers upstream's flag names for what kinc implements;
// -v/--v, --version and --help are the daemon base's (pkg/daemon.Command).
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.ConfigFile, "config", o.ConfigFile, "The path to the configuration file (a kubescheduler.config.k8s.io/v1 KubeSchedulerConfiguration).")
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "Path to kubeconfig file with authorization and master location information.")
	fs.StringVar(&o.Master, "master", o.Master, "The address of the Kubernetes API server (overrides any value in kubeconfig).")
	o.Options.AddFlags(fs)
	o.SecureServingOptions.AddFlags(fs)
	o.LeaderElectionOptions.AddFlags(fs)
	fs.Float32Var(&o.KubeAPIQPS, "kube-api-qps", o.KubeAPIQPS, "QPS to use while talking with kubernetes apiserver.")
	fs.Int32Var(&o.KubeAPIBurst, "kube-api-burst", o.KubeAPIBurst, "Burst to use while talking with kubernetes apiserver.")
	fs.StringVar(&o.KubeAPIContentType, "kube-api-content-type", o.KubeAPIContentType, "Content type of requests sent to apiserver.")
}

// MarkSet records the flags the user gave (call after parsing).
func (o *Options) MarkSet(fs *pflag.FlagSet) {
	fs.Visit(func(f *pflag.Flag) { o.set[f.Name] = true })
}

// Config loads --config (or the defaults) and applies explicitly set flags.
func (o *Options) Config() (*config.KubeSchedulerConfiguration, error) {
	cfg := config.Default()
	if o.ConfigFile != "" {
		var err error
		if cfg, err = config.Load(o.ConfigFile); err != nil {
			return nil, err
		}
	}
	// Without --config every flag applies (its default is upstream's).
	given := func(name string) bool { return o.ConfigFile == "" || o.set[name] }
	le, cc := cfg.LeaderElection, cfg.ClientConnection
	if given("leader-elect") {
		le.LeaderElect = ptr.To(o.LeaderElect)
	}
	if given("leader-elect-lease-duration") {
		le.LeaseDuration.Duration = o.LeaseDuration
	}
	if given("leader-elect-renew-deadline") {
		le.RenewDeadline.Duration = o.RenewDeadline
	}
	if given("leader-elect-retry-period") {
		le.RetryPeriod.Duration = o.RetryPeriod
	}
	if given("leader-elect-resource-lock") {
		le.ResourceLock = o.ResourceLock
	}
	if given("leader-elect-resource-name") {
		le.ResourceName = o.ResourceName
	}
	if given("leader-elect-resource-namespace") {
		le.ResourceNamespace = o.ResourceNamespace
	}
	if o.Kubeconfig != "" && (cc.Kubeconfig == "" || o.set["kubeconfig"]) {
		cc.Kubeconfig = o.Kubeconfig
	}
	if given("kube-api-qps") {
		cc.QPS = o.KubeAPIQPS
	}
	if given("kube-api-burst") {
		cc.Burst = o.KubeAPIBurst
	}
	if given("kube-api-content-type") {
		cc.ContentType = o.KubeAPIContentType
	}
	if err := config.Validate(cfg); err != nil {
		return nil, err
	}
	if err := o.SecureServingOptions.Validate(); err != nil {
		return nil, err
	}
	if err := o.Options.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}
