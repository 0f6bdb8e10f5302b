// Package server assembles kinc's kube-apiserver: flags, etcd storage for
// every resource, the filter chain, discovery, OpenAPI and health endpoints,
// and the bootstrap objects (namespaces, the kubernetes service).
package server

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/spf13/pflag"

	"github.com/kinc-dev/kinc/pkg/apiserver/audit"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/core/pod"
)

// Options are kube-apiserver's flags, with upstream's names and defaults.
type Options struct {
	EtcdServers            []string
	EtcdCAFile             string
	EtcdCertFile           string
	EtcdKeyFile            string
	EtcdPrefix             string
	EtcdCompactionInterval time.Duration
	// EncryptionProviderConfig is the apiserver.config.k8s.io/v1
	// EncryptionConfiguration that encrypts resources at rest in etcd; none
	// when empty.
	EncryptionProviderConfig string

	SecurePort        int
	BindAddress       string
	AdvertiseAddress  string
	TLSCertFile       string
	TLSPrivateKeyFile string

	ClientCAFile      string
	TokenAuthFile     string
	AnonymousAuth     bool
	AuthorizationMode string

	// Service-account tokens: the issuers (the first one is written into
	// new tokens, every one is accepted), the public keys that verify
	// tokens, the private key that signs them, the audiences the apiserver
	// accepts (default: the issuers), the longest expiry a TokenRequest may
	// ask for (0: no limit), and whether tokens are checked against the
	// objects they name (the ServiceAccount, and the pod or secret they
	// are bound to) on every request.
	ServiceAccountIssuers            []string
	ServiceAccountKeyFiles           []string
	ServiceAccountSigningKeyFile     string
	APIAudiences                     []string
	ServiceAccountMaxTokenExpiration time.Duration
	ServiceAccountLookup             bool
	// EnableBootstrapTokenAuth accepts bootstrap tokens (Secrets of type
	// bootstrap.kubernetes.io/token in kube-system) as bearer tokens.
	EnableBootstrapTokenAuth bool

	// Front-proxy (request header) authentication: a client certificate
	// signed by RequestheaderClientCAFile, with a common name in
	// RequestheaderAllowedNames (any when empty), may name the user in
	// headers; ProxyClientCertFile/KeyFile is what the apiserver presents
	// to aggregated API servers.
	RequestheaderClientCAFile       string
	RequestheaderAllowedNames       []string
	RequestheaderUsernameHeaders    []string
	RequestheaderUIDHeaders         []string
	RequestheaderGroupHeaders       []string
	RequestheaderExtraHeadersPrefix []string
	ProxyClientCertFile             string
	ProxyClientKeyFile              string

	// EnableAdmissionPlugins and DisableAdmissionPlugins adjust the
	// default admission chain, as upstream's flags.
	EnableAdmissionPlugins  []string
	DisableAdmissionPlugins []string
	// AllowPrivileged allows privileged containers (kubeadm sets it).
	AllowPrivileged bool

	ServiceClusterIPRange string

	MaxRequestsInflight         int
	MaxMutatingRequestsInflight int

	KubeletClientCertificate string
	KubeletClientKey         string

	// DefaultNotReadyTolerationSeconds and
	// DefaultUnreachableTolerationSeconds are the tolerationSeconds of the
	// NoExecute tolerations of node.kubernetes.io/not-ready and
	// node.kubernetes.io/unreachable that the DefaultTolerationSeconds
	// admission plugin gives every pod without one (300 each, as upstream).
	DefaultNotReadyTolerationSeconds    int64
	DefaultUnreachableTolerationSeconds int64

	Profiling bool

	// AuditPolicyFile is the audit.k8s.io/v1 Policy; without it (or
	// without AuditLogPath) nothing is audited, as upstream.
	AuditPolicyFile string
	// AuditLogPath ("-" for standard output) and the rotation and format
	// of the audit log.
	AuditLogPath       string
	AuditLogMaxAge     int
	AuditLogMaxBackups int
	AuditLogMaxSize    int
	AuditLogFormat     string
}

// NewOptions returns the defaults.
func NewOptions() *Options {
	return &Options{
		EtcdPrefix:                  "/registry",
		EtcdCompactionInterval:      5 * time.Minute,
		SecurePort:                  6443,
		BindAddress:                 "0.0.0.0",
		AnonymousAuth:               true,
		AuthorizationMode:           "AlwaysAllow",
		ServiceAccountLookup:        true,
		ServiceClusterIPRange:       "10.96.0.0/12",
		MaxRequestsInflight:         400,
		MaxMutatingRequestsInflight: 200,
		Profiling:                   true,
		AuditLogFormat:              audit.FormatJSON,

		DefaultNotReadyTolerationSeconds:    pod.DefaultTolerationSeconds,
		DefaultUnreachableTolerationSeconds: pod.DefaultTolerationSeconds,
	}
}

// AddFlags registers the flags on fs; -v/--v, --version and --help are
// the daemon base's (pkg/daemon.Command).
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringSliceVar(&o.EtcdServers, "etcd-servers", o.EtcdServers, "List of etcd servers to connect with (scheme://ip:port), comma separated.")
	fs.StringVar(&o.EtcdCAFile, "etcd-cafile", o.EtcdCAFile, "SSL Certificate Authority file used to secure etcd communication.")
	fs.StringVar(&o.EtcdCertFile, "etcd-certfile", o.EtcdCertFile, "SSL certification file used to secure etcd communication.")
	fs.StringVar(&o.EtcdKeyFile, "etcd-keyfile", o.EtcdKeyFile, "SSL key file used to secure etcd communication.")
	fs.StringVar(&o.EtcdPrefix, "etcd-prefix", o.EtcdPrefix, "The prefix to prepend to all resource paths in etcd.")
	fs.DurationVar(&o.EtcdCompactionInterval, "etcd-compaction-interval", o.EtcdCompactionInterval, "The interval of compaction requests. If 0, the compaction request from apiserver is disabled.")
	fs.StringVar(&o.EncryptionProviderConfig, "encryption-provider-config", o.EncryptionProviderConfig, "The file containing configuration for encryption providers to be used for storing secrets in etcd")
	fs.IntVar(&o.SecurePort, "secure-port", o.SecurePort, "The port on which to serve HTTPS with authentication and authorization.")
	fs.StringVar(&o.BindAddress, "bind-address", o.BindAddress, "The IP address on which to listen for the --secure-port port.")
	fs.StringVar(&o.AdvertiseAddress, "advertise-address", o.AdvertiseAddress, "The IP address on which to advertise the apiserver to members of the cluster.")
	fs.StringVar(&o.TLSCertFile, "tls-cert-file", o.TLSCertFile, "File containing the default x509 Certificate for HTTPS.")
	fs.StringVar(&o.TLSPrivateKeyFile, "tls-private-key-file", o.TLSPrivateKeyFile, "File containing the default x509 private key matching --tls-cert-file.")
	fs.StringVar(&o.ClientCAFile, "client-ca-file", o.ClientCAFile, "If set, any request presenting a client certificate signed by one of the authorities in the client-ca-file is authenticated with an identity corresponding to the CommonName of the client certificate.")
	fs.StringVar(&o.TokenAuthFile, "token-auth-file", o.TokenAuthFile, "If set, the file that will be used to secure the secure port of the API server via token authentication.")
	fs.BoolVar(&o.AnonymousAuth, "anonymous-auth", o.AnonymousAuth, "Enables anonymous requests to the secure port of the API server.")
	fs.StringVar(&o.AuthorizationMode, "authorization-mode", o.AuthorizationMode, "Ordered list of plug-ins to do authorization on secure port. Supported: AlwaysAllow, AlwaysDeny.")
	fs.StringSliceVar(&o.ServiceAccountIssuers, "service-account-issuer", o.ServiceAccountIssuers, "Identifier of the service account token issuer. The issuer will assert this identifier in \"iss\" claim of issued tokens. When this flag is specified multiple times, the first is used to generate tokens and all are used to determine which issuers are accepted.")
	fs.StringSliceVar(&o.ServiceAccountKeyFiles, "service-account-key-file", o.ServiceAccountKeyFiles, "File containing PEM-encoded x509 RSA or ECDSA private or public keys, used to verify ServiceAccount tokens. The specified file can contain multiple keys, and the flag can be specified multiple times with different files.")
	fs.StringVar(&o.ServiceAccountSigningKeyFile, "service-account-signing-key-file", o.ServiceAccountSigningKeyFile, "Path to the file that contains the current private key of the service account token issuer. The issuer will sign issued ID tokens with this private key.")
	fs.StringSliceVar(&o.APIAudiences, "api-audiences", o.APIAudiences, "Identifiers of the API. The service account token authenticator will validate that tokens used against the API are bound to at least one of these audiences. If unset, the first --service-account-issuer is used.")
	fs.DurationVar(&o.ServiceAccountMaxTokenExpiration, "service-account-max-token-expiration", o.ServiceAccountMaxTokenExpiration, "The maximum validity duration of a token created by the service account token issuer. If an otherwise valid TokenRequest with a validity duration larger than this value is requested, a token will be issued with a validity duration of this value.")
	fs.BoolVar(&o.ServiceAccountLookup, "service-account-lookup", o.ServiceAccountLookup, "If true, validate ServiceAccount tokens exist in etcd as part of authentication.")
	fs.BoolVar(&o.EnableBootstrapTokenAuth, "enable-bootstrap-token-auth", o.EnableBootstrapTokenAuth, "Enable to allow secrets of type 'bootstrap.kubernetes.io/token' in the 'kube-system' namespace to be used for TLS bootstrapping authentication.")
	fs.StringVar(&o.RequestheaderClientCAFile, "requestheader-client-ca-file", o.RequestheaderClientCAFile, "Root certificate bundle to use to verify client certificates on incoming requests before trusting usernames in headers specified by --requestheader-username-headers.")
	fs.StringSliceVar(&o.RequestheaderAllowedNames, "requestheader-allowed-names", o.RequestheaderAllowedNames, "List of client certificate common names to allow to provide usernames in headers specified by --requestheader-username-headers. If empty, any client certificate validated by the authorities in --requestheader-client-ca-file is allowed.")
	fs.StringSliceVar(&o.RequestheaderUsernameHeaders, "requestheader-username-headers", o.RequestheaderUsernameHeaders, "List of request headers to inspect for usernames. X-Remote-User is common.")
	fs.StringSliceVar(&o.RequestheaderUIDHeaders, "requestheader-uid-headers", o.RequestheaderUIDHeaders, "List of request headers to inspect for UIDs. X-Remote-Uid is suggested.")
	fs.StringSliceVar(&o.RequestheaderGroupHeaders, "requestheader-group-headers", o.RequestheaderGroupHeaders, "List of request headers to inspect for groups. X-Remote-Group is suggested.")
	fs.StringSliceVar(&o.RequestheaderExtraHeadersPrefix, "requestheader-extra-headers-prefix", o.RequestheaderExtraHeadersPrefix, "List of request header prefixes to inspect. X-Remote-Extra- is suggested.")
	fs.StringVar(&o.ProxyClientCertFile, "proxy-client-cert-file", o.ProxyClientCertFile, "Client certificate used to prove the identity of the aggregator or kube-apiserver when it must call out during a request.")
	fs.StringVar(&o.ProxyClientKeyFile, "proxy-client-key-file", o.ProxyClientKeyFile, "Private key for the client certificate used to prove the identity of the aggregator or kube-apiserver when it must call out during a request.")
	fs.StringSliceVar(&o.EnableAdmissionPlugins, "enable-admission-plugins", o.EnableAdmissionPlugins, "admission plugins that should be enabled in addition to default enabled ones.")
	fs.StringSliceVar(&o.DisableAdmissionPlugins, "disable-admission-plugins", o.DisableAdmissionPlugins, "admission plugins that should be disabled although they are in the default enabled plugins list.")
	fs.BoolVar(&o.AllowPrivileged, "allow-privileged", o.AllowPrivileged, "If true, allow privileged containers.")
	fs.StringVar(&o.ServiceClusterIPRange, "service-cluster-ip-range", o.ServiceClusterIPRange, "A CIDR notation IP range from which to assign service cluster IPs.")
	fs.IntVar(&o.MaxRequestsInflight, "max-requests-inflight", o.MaxRequestsInflight, "The maximum number of non-mutating requests in flight at a given time. 0 means no limit.")
	fs.IntVar(&o.MaxMutatingRequestsInflight, "max-mutating-requests-inflight", o.MaxMutatingRequestsInflight, "The maximum number of mutating requests in flight at a given time. 0 means no limit.")
	fs.StringVar(&o.KubeletClientCertificate, "kubelet-client-certificate", o.KubeletClientCertificate, "Path to a client cert file for TLS to kubelets.")
	fs.StringVar(&o.KubeletClientKey, "kubelet-client-key", o.KubeletClientKey, "Path to a client key file for TLS to kubelets.")
	fs.Int64Var(&o.DefaultNotReadyTolerationSeconds, "default-not-ready-toleration-seconds", o.DefaultNotReadyTolerationSeconds, "Indicates the tolerationSeconds of the toleration for notReady:NoExecute that is added by default to every pod that does not already have such a toleration.")
	fs.Int64Var(&o.DefaultUnreachableTolerationSeconds, "default-unreachable-toleration-seconds", o.DefaultUnreachableTolerationSeconds, "Indicates the tolerationSeconds of the toleration for unreachable:NoExecute that is added by default to every pod that does not already have such a toleration.")
	fs.BoolVar(&o.Profiling, "profiling", o.Profiling, "Enable profiling via web interface host:port/debug/pprof/")
	fs.StringVar(&o.AuditPolicyFile, "audit-policy-file", o.AuditPolicyFile, "Path to the file that defines the audit policy configuration.")
	fs.StringVar(&o.AuditLogPath, "audit-log-path", o.AuditLogPath, "If set, all requests coming to the apiserver will be logged to this file.  '-' means standard out.")
	fs.IntVar(&o.AuditLogMaxAge, "audit-log-maxage", o.AuditLogMaxAge, "The maximum number of days to retain old audit log files based on the timestamp encoded in their filename.")
	fs.IntVar(&o.AuditLogMaxBackups, "audit-log-maxbackup", o.AuditLogMaxBackups, "The maximum number of old audit log files to retain. Setting a value of 0 will mean there's no restriction on the number of files.")
	fs.IntVar(&o.AuditLogMaxSize, "audit-log-maxsize", o.AuditLogMaxSize, "The maximum size in megabytes of the audit log file before it gets rotated.")
	fs.StringVar(&o.AuditLogFormat, "audit-log-format", o.AuditLogFormat, "Format of saved audits. Known formats are: json (legacy is not supported by kinc).")
}

// Validate reports every problem of the options at once.
func (o *Options) Validate() error {
	var errs []error
	if len(o.EtcdServers) == 0 {
		errs = append(errs, errors.New("--etcd-servers must be specified"))
	}
	if o.TLSCertFile == "" || o.TLSPrivateKeyFile == "" {
		errs = append(errs, errors.New("--tls-cert-file and --tls-private-key-file are required: kinc's apiserver serves TLS only"))
	}
	if o.SecurePort <= 0 || o.SecurePort > 65535 {
		errs = append(errs, fmt.Errorf("--secure-port %d must be between 1 and 65535", o.SecurePort))
	}
	if net.ParseIP(o.BindAddress) == nil {
		errs = append(errs, fmt.Errorf("--bind-address %q is not an IP address", o.BindAddress))
	}
	if o.AdvertiseAddress != "" && net.ParseIP(o.AdvertiseAddress) == nil {
		errs = append(errs, fmt.Errorf("--advertise-address %q is not an IP address", o.AdvertiseAddress))
	}
	if _, _, err := net.ParseCIDR(o.ServiceClusterIPRange); err != nil {
		errs = append(errs, fmt.Errorf("--service-cluster-ip-range: %w", err))
	}
	if (o.EtcdCertFile == "") != (o.EtcdKeyFile == "") {
		errs = append(errs, errors.New("--etcd-certfile and --etcd-keyfile go together"))
	}
	if (o.KubeletClientCertificate == "") != (o.KubeletClientKey == "") {
		errs = append(errs, errors.New("--kubelet-client-certificate and --kubelet-client-key go together"))
	}
	if o.MaxRequestsInflight < 0 || o.MaxMutatingRequestsInflight < 0 {
		errs = append(errs, errors.New("in-flight limits must not be negative"))
	}
	if err := o.auditLogOptions().Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (o *Options) auditLogOptions() audit.LogOptions {
	return audit.LogOptions{Path: o.AuditLogPath, MaxAge: o.AuditLogMaxAge, MaxBackups: o.AuditLogMaxBackups,
		MaxSize: o.AuditLogMaxSize, Format: o.AuditLogFormat}
}
