// Package app is the kube-scheduler process: upstream's flags, the
// configuration file, client connections, leader election on a Lease and
// the secure serving port with health checks and metrics.
package app

import (
	"fmt"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/scheduler/config"
)

// Options are the command line. Flags set explicitly override the
// configuration file (--config); unset flags leave it alone.
type Options struct {
	ConfigFile               string
	Kubeconfig               string
	Master                   string
	AuthenticationKubeconfig string
	AuthorizationKubeconfig  string
	BindAddress              string
	SecurePort               int
	CertDir                  string
	TLSCertFile              string
	TLSPrivateKeyFile        string

	LeaderElect        bool
	LeaseDuration      time.Duration
	RenewDeadline      time.Duration
	RetryPeriod        time.Duration
	ResourceLock       string
	ResourceName       string
	ResourceNamespace  string
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
		BindAddress: "0.0.0.0", SecurePort: 10259,
		LeaderElect: *le.LeaderElect, LeaseDuration: le.LeaseDuration.Duration, RenewDeadline: le.RenewDeadline.Duration,
		RetryPeriod: le.RetryPeriod.Duration, ResourceLock: le.ResourceLock, ResourceName: le.ResourceName,
		ResourceNamespace: le.ResourceNamespace, KubeAPIQPS: cc.QPS, KubeAPIBurst: cc.Burst, KubeAPIContentType: cc.ContentType,
		set: map[string]bool{},
	}
}

// AddFlags registers upstream's flag names for what kinc implements;
// -v/--v, --version and --help are the daemon base's (pkg/daemon.Command).
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.ConfigFile, "config", o.ConfigFile, "The path to the configuration file (a kubescheduler.config.k8s.io/v1 KubeSchedulerConfiguration).")
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "Path to kubeconfig file with authorization and master location information.")
	fs.StringVar(&o.Master, "master", o.Master, "The address of the Kubernetes API server (overrides any value in kubeconfig).")
	fs.StringVar(&o.AuthenticationKubeconfig, "authentication-kubeconfig", o.AuthenticationKubeconfig, "kubeconfig file pointing at the 'core' kubernetes server with enough rights to create tokenreviews.authentication.k8s.io.")
	fs.StringVar(&o.AuthorizationKubeconfig, "authorization-kubeconfig", o.AuthorizationKubeconfig, "kubeconfig file pointing at the 'core' kubernetes server with enough rights to create subjectaccessreviews.authorization.k8s.io.")
	fs.StringVar(&o.BindAddress, "bind-address", o.BindAddress, "The IP address on which to listen for the --secure-port port.")
	fs.IntVar(&o.SecurePort, "secure-port", o.SecurePort, "The port on which to serve HTTPS with authentication and authorization. If 0, don't serve HTTPS at all.")
	fs.StringVar(&o.CertDir, "cert-dir", o.CertDir, "The directory where the TLS certs are located. If --tls-cert-file and --tls-private-key-file are provided, this flag will be ignored.")
	fs.StringVar(&o.TLSCertFile, "tls-cert-file", o.TLSCertFile, "File containing the default x509 Certificate for HTTPS.")
	fs.StringVar(&o.TLSPrivateKeyFile, "tls-private-key-file", o.TLSPrivateKeyFile, "File containing the default x509 private key matching --tls-cert-file.")
	fs.BoolVar(&o.LeaderElect, "leader-elect", o.LeaderElect, "Start a leader election client and gain leadership before executing the main loop.")
	fs.DurationVar(&o.LeaseDuration, "leader-elect-lease-duration", o.LeaseDuration, "The duration that non-leader candidates will wait after observing a leadership renewal until attempting to acquire leadership.")
	fs.DurationVar(&o.RenewDeadline, "leader-elect-renew-deadline", o.RenewDeadline, "The interval between attempts by the acting master to renew a leadership slot before it stops leading.")
	fs.DurationVar(&o.RetryPeriod, "leader-elect-retry-period", o.RetryPeriod, "The duration the clients should wait between attempting acquisition and renewal of a leadership.")
	fs.StringVar(&o.ResourceLock, "leader-elect-resource-lock", o.ResourceLock, "The type of resource object that is used for locking during leader election. Supported options are 'leases'.")
	fs.StringVar(&o.ResourceName, "leader-elect-resource-name", o.ResourceName, "The name of resource object that is used for locking during leader election.")
	fs.StringVar(&o.ResourceNamespace, "leader-elect-resource-namespace", o.ResourceNamespace, "The namespace of resource object that is used for locking during leader election.")
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
	if o.SecurePort < 0 || o.SecurePort > 65535 {
		return nil, fmt.Errorf("--secure-port %d must be between 0 and 65535", o.SecurePort)
	}
	return cfg, nil
}
