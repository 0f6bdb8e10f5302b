package manager

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/kinc-dev/kinc/pkg/controller/cronjob"
	"github.com/kinc-dev/kinc/pkg/controller/daemonset"
	"github.com/kinc-dev/kinc/pkg/controller/deployment"
	"github.com/kinc-dev/kinc/pkg/controller/disruption"
	"github.com/kinc-dev/kinc/pkg/controller/endpoints"
	"github.com/kinc-dev/kinc/pkg/controller/endpointslice"
	"github.com/kinc-dev/kinc/pkg/controller/garbagecollector"
	"github.com/kinc-dev/kinc/pkg/controller/job"
	"github.com/kinc-dev/kinc/pkg/controller/namespace"
	"github.com/kinc-dev/kinc/pkg/controller/nodelifecycle"
	"github.com/kinc-dev/kinc/pkg/controller/podgc"
	"github.com/kinc-dev/kinc/pkg/controller/replicaset"
	"github.com/kinc-dev/kinc/pkg/controller/statefulset"
	"github.com/kinc-dev/kinc/pkg/controller/ttlafterfinished"
	"github.com/kinc-dev/kinc/pkg/daemon"
	"github.com/kinc-dev/kinc/pkg/daemon/delegated"
	"github.com/kinc-dev/kinc/pkg/pki"
)

// Name is the component's name: its binary, its Lease in kube-system and
// its self-signed serving pair in --cert-dir.
const Name = "kube-controller-manager"

// SecurePort is upstream's --secure-port default.
const SecurePort = 10257

// Options are kube-controller-manager's command line: upstream's flag
// names, for what kinc implements or validates for a controller to come.
type Options struct {
	Kubeconfig string
	// Options are the secure port's delegated authentication and
	// authorization: --authentication-kubeconfig,
	// --authorization-kubeconfig, --client-ca-file, the webhook cache TTLs
	// and --authorization-always-allow-paths (/healthz, /readyz, /livez).
	delegated.Options
	// RequestHeaderClientCAFile is loaded and checked, as upstream, but
	// front-proxy request headers are not trusted yet.
	RequestHeaderClientCAFile string

	// SecureServingOptions are --bind-address, --secure-port (10257),
	// --cert-dir and --tls-cert-file/--tls-private-key-file; the
	// self-signed pair is kept in --cert-dir as kube-controller-manager.crt/.key.
	daemon.SecureServingOptions
	// LeaderElectionOptions are the --leader-elect* flags, on the Lease
	// kube-system/kube-controller-manager.
	daemon.LeaderElectionOptions

	KubeAPIQPS   float32
	KubeAPIBurst int32

	// Controllers is --controllers (see Enabled).
	Controllers []string
	// ClusterName is --cluster-name, the cluster's instance prefix.
	ClusterName string
	// ClusterSigningCertFile and ClusterSigningKeyFile are the CA the
	// certificatesigningrequest-signing-controller signs with for every
	// built-in signer; checked to be a matching pair.
	ClusterSigningCertFile string
	ClusterSigningKeyFile  string
	// CSRSigningOptions are the per-signer CA flags and
	// --cluster-signing-duration.
	CSRSigningOptions
	// RootCAFile is what root-ca-cert-publisher publishes.
	RootCAFile string
	// ServiceAccountPrivateKeyFile is the key the
	// serviceaccount-token-controller (to come, issue 12) signs with;
	// checked to hold a private key.
	ServiceAccountPrivateKeyFile string
	// UseServiceAccountCredentials gives each controller the credentials
	// of its own service account in kube-system (see
	// ServiceAccountCredentials) instead of the kubeconfig's.
	UseServiceAccountCredentials bool
	// AllocateNodeCIDRs, ClusterCIDR, ServiceClusterIPRange and
	// NodeCIDRMaskSize are for the node-ipam-controller (to come); checked
	// as it will use them.
	AllocateNodeCIDRs     bool
	ClusterCIDR           string
	ServiceClusterIPRange string
	NodeCIDRMaskSize      int32

	// ConcurrentNamespaceSyncs and NamespaceSyncPeriod are the
	// namespace-controller's workers and resync period.
	ConcurrentNamespaceSyncs int32
	NamespaceSyncPeriod      time.Duration
	// ConcurrentReplicaSetSyncs and ConcurrentDeploymentSyncs are the
	// replicaset-controller's and deployment-controller's workers.
	ConcurrentReplicaSetSyncs int32
	ConcurrentDeploymentSyncs int32
	// ConcurrentJobSyncs is the job-controller's workers.
	ConcurrentJobSyncs int32
	// ConcurrentCronJobSyncs and ConcurrentTTLSyncs are the
	// cronjob-controller's and ttl-after-finished-controller's workers.
	ConcurrentCronJobSyncs int32
	ConcurrentTTLSyncs     int32
	// ConcurrentDisruptionSyncs is the disruption-controller's workers.
	ConcurrentDisruptionSyncs int32
	// ConcurrentDaemonSetSyncs and ConcurrentStatefulSetSyncs are the
	// daemonset-controller's and statefulset-controller's workers.
	ConcurrentDaemonSetSyncs   int32
	ConcurrentStatefulSetSyncs int32
	// ConcurrentGCSyncs and EnableGarbageCollector are the
	// garbage-collector-controller's workers and whether it runs.
	ConcurrentGCSyncs      int32
	EnableGarbageCollector bool
	// ConcurrentEndpointSyncs and EndpointUpdatesBatchPeriod are the
	// endpoints-controller's workers and pod-change batching;
	// ConcurrentServiceEndpointSyncs, MaxEndpointsPerSlice and
	// EndpointSliceUpdatesBatchPeriod the endpointslice-controller's.
	ConcurrentEndpointSyncs         int32
	EndpointUpdatesBatchPeriod      time.Duration
	ConcurrentServiceEndpointSyncs  int32
	MaxEndpointsPerSlice            int32
	EndpointSliceUpdatesBatchPeriod time.Duration

	// NodeMonitorPeriod, NodeMonitorGracePeriod, NodeStartupGracePeriod,
	// NodeEvictionRate, SecondaryNodeEvictionRate,
	// LargeClusterSizeThreshold and UnhealthyZoneThreshold are the
	// node-lifecycle-controller's (see nodelifecycle.Options).
	NodeMonitorPeriod         time.Duration
	NodeMonitorGracePeriod    time.Duration
	NodeStartupGracePeriod    time.Duration
	NodeEvictionRate          float32
	SecondaryNodeEvictionRate float32
	LargeClusterSizeThreshold int32
	UnhealthyZoneThreshold    float32
	// TerminatedPodGCThreshold is the pod-garbage-collector-controller's
	// (<= 0 disables the collection of terminated pods).
	TerminatedPodGCThreshold int32

	// Identity is this instance's leader election identity (not a flag);
	// empty means "<hostname>_<random UUID>", as upstream.
	Identity string
}

// NewOptions returns upstream's defaults.
func NewOptions() *Options {
	return &Options{
		Options:               delegated.NewOptions(),
		SecureServingOptions:  daemon.NewSecureServingOptions(SecurePort, Name),
		LeaderElectionOptions: daemon.NewLeaderElectionOptions(Name),
		KubeAPIQPS:            20,
		KubeAPIBurst:          30,
		Controllers:           []string{"*"},
		ClusterName:           "kubernetes",
		CSRSigningOptions:     NewCSRSigningOptions(),

		ConcurrentNamespaceSyncs:   namespace.DefaultConcurrentSyncs,
		NamespaceSyncPeriod:        namespace.DefaultResyncPeriod,
		ConcurrentReplicaSetSyncs:  replicaset.DefaultConcurrentSyncs,
		ConcurrentDeploymentSyncs:  deployment.DefaultConcurrentSyncs,
		ConcurrentJobSyncs:         job.DefaultConcurrentSyncs,
		ConcurrentCronJobSyncs:     cronjob.DefaultConcurrentSyncs,
		ConcurrentTTLSyncs:         ttlafterfinished.DefaultConcurrentSyncs,
		ConcurrentDisruptionSyncs:  disruption.DefaultConcurrentSyncs,
		ConcurrentDaemonSetSyncs:   daemonset.DefaultConcurrentSyncs,
		ConcurrentStatefulSetSyncs: statefulset.DefaultConcurrentSyncs,
		ConcurrentGCSyncs:          garbagecollector.DefaultConcurrentSyncs,
		EnableGarbageCollector:     true,

		NodeMonitorPeriod:         nodelifecycle.DefaultNodeMonitorPeriod,
		NodeMonitorGracePeriod:    nodelifecycle.DefaultNodeMonitorGracePeriod,
		NodeStartupGracePeriod:    nodelifecycle.DefaultNodeStartupGracePeriod,
		NodeEvictionRate:          nodelifecycle.DefaultNodeEvictionRate,
		SecondaryNodeEvictionRate: nodelifecycle.DefaultSecondaryNodeEvictionRate,
		LargeClusterSizeThreshold: nodelifecycle.DefaultLargeClusterSizeThreshold,
		UnhealthyZoneThreshold:    nodelifecycle.DefaultUnhealthyZoneThreshold,
		TerminatedPodGCThreshold:  podgc.DefaultTerminatedPodGCThreshold,

		ConcurrentEndpointSyncs:        endpoints.DefaultConcurrentSyncs,
		ConcurrentServiceEndpointSyncs: endpointslice.DefaultConcurrentSyncs,
		MaxEndpointsPerSlice:           endpointslice.DefaultMaxEndpointsPerSlice,
	}
}

// AddFlags registers upstream's flag names for what kinc implements;
// -v/--v, --version and --help are the daemon base's (pkg/daemon.Command).
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "Path to kubeconfig file with authorization and master location information.")
	o.Options.AddFlags(fs)
	fs.StringVar(&o.RequestHeaderClientCAFile, "requestheader-client-ca-file", o.RequestHeaderClientCAFile, "Root certificate bundle to use to verify client certificates on incoming requests before trusting usernames in headers (checked; not enforced yet).")
	o.SecureServingOptions.AddFlags(fs)
	o.LeaderElectionOptions.AddFlags(fs)
	fs.Float32Var(&o.KubeAPIQPS, "kube-api-qps", o.KubeAPIQPS, "QPS to use while talking with kubernetes apiserver.")
	fs.Int32Var(&o.KubeAPIBurst, "kube-api-burst", o.KubeAPIBurst, "Burst to use while talking with kubernetes apiserver.")
	var all, off []string
	for _, d := range Known() {
		all = append(all, d.Name)
		if d.DisabledByDefault {
			off = append(off, d.Name)
		}
	}
	fs.StringSliceVar(&o.Controllers, "controllers", o.Controllers, fmt.Sprintf("A list of controllers to enable. '*' enables all on-by-default controllers, 'foo' enables the controller named 'foo', '-foo' disables the controller named 'foo'.\n"+
		"All controllers: %s\nDisabled-by-default controllers: %s\nImplemented by kinc so far: %s", strings.Join(all, ", "), strings.Join(off, ", "), strings.Join(implemented(), ", ")))
	fs.StringVar(&o.ClusterName, "cluster-name", o.ClusterName, "The instance prefix for the cluster.")
	fs.StringVar(&o.ClusterSigningCertFile, "cluster-signing-cert-file", o.ClusterSigningCertFile, "Filename containing a PEM-encoded X509 CA certificate used to issue cluster-scoped certificates.")
	fs.StringVar(&o.ClusterSigningKeyFile, "cluster-signing-key-file", o.ClusterSigningKeyFile, "Filename containing a PEM-encoded RSA or ECDSA private key used to sign cluster-scoped certificates.")
	o.CSRSigningOptions.AddFlags(fs)
	fs.StringVar(&o.RootCAFile, "root-ca-file", o.RootCAFile, "If set, this root certificate authority will be included in service account's token secret. This must be a valid PEM-encoded CA bundle.")
	fs.StringVar(&o.ServiceAccountPrivateKeyFile, "service-account-private-key-file", o.ServiceAccountPrivateKeyFile, "Filename containing a PEM-encoded private RSA or ECDSA key used to sign service account tokens.")
	fs.BoolVar(&o.UseServiceAccountCredentials, "use-service-account-credentials", o.UseServiceAccountCredentials, "If true, use individual service account credentials for each controller.")
	fs.BoolVar(&o.AllocateNodeCIDRs, "allocate-node-cidrs", o.AllocateNodeCIDRs, "Should CIDRs for Pods be allocated and set on the cloud provider. Requires --cluster-cidr.")
	fs.StringVar(&o.ClusterCIDR, "cluster-cidr", o.ClusterCIDR, "CIDR Range for Pods in cluster. Only used when --allocate-node-cidrs=true; if false, this option will be ignored.")
	fs.StringVar(&o.ServiceClusterIPRange, "service-cluster-ip-range", o.ServiceClusterIPRange, "CIDR Range for Services in cluster. Only used when --allocate-node-cidrs=true; if false, this option will be ignored.")
	fs.Int32Var(&o.NodeCIDRMaskSize, "node-cidr-mask-size", o.NodeCIDRMaskSize, "Mask size for node cidr in cluster. Default is 24 for IPv4 and 64 for IPv6.")
	fs.Int32Var(&o.ConcurrentNamespaceSyncs, "concurrent-namespace-syncs", o.ConcurrentNamespaceSyncs, "The number of namespace objects that are allowed to sync concurrently. Larger number = more responsive namespace termination, but more CPU (and network) load")
	fs.DurationVar(&o.NamespaceSyncPeriod, "namespace-sync-period", o.NamespaceSyncPeriod, "The period for syncing namespace life-cycle updates")
	fs.Int32Var(&o.ConcurrentReplicaSetSyncs, "concurrent-replicaset-syncs", o.ConcurrentReplicaSetSyncs, "The number of replica sets that are allowed to sync concurrently. Larger number = more responsive replica management, but more CPU (and network) load")
	fs.Int32Var(&o.ConcurrentDeploymentSyncs, "concurrent-deployment-syncs", o.ConcurrentDeploymentSyncs, "The number of deployment objects that are allowed to sync concurrently. Larger number = more responsive deployments, but more CPU (and network) load")
	fs.Int32Var(&o.ConcurrentEndpointSyncs, "concurrent-endpoint-syncs", o.ConcurrentEndpointSyncs, "The number of endpoint syncing operations that will be done concurrently. Larger number = faster endpoint updating, but more CPU (and network) load")
	fs.DurationVar(&o.EndpointUpdatesBatchPeriod, "endpoint-updates-batch-period", o.EndpointUpdatesBatchPeriod, "The length of endpoint updates batching period. Processing of pod changes will be delayed by this duration to join them with potential upcoming updates and reduce the overall number of endpoints updates. Larger number = higher endpoint programming latency, but lower number of endpoints revision generated")
	fs.Int32Var(&o.ConcurrentServiceEndpointSyncs, "concurrent-service-endpoint-syncs", o.ConcurrentServiceEndpointSyncs, "The number of service endpoint syncing operations that will be done concurrently. Larger number = faster endpoint slice updating, but more CPU (and network) load. Defaults to 5.")
	fs.Int32Var(&o.MaxEndpointsPerSlice, "max-endpoints-per-slice", o.MaxEndpointsPerSlice, "The maximum number of endpoints that will be added to an EndpointSlice. More endpoints per slice will result in less endpoint slices, but larger resources. Defaults to 100.")
	fs.DurationVar(&o.EndpointSliceUpdatesBatchPeriod, "endpointslice-updates-batch-period", o.EndpointSliceUpdatesBatchPeriod, "The length of endpoint slice updates batching period. Processing of pod changes will be delayed by this duration to join them with potential upcoming updates and reduce the overall number of endpoints updates. Larger number = higher endpoint programming latency, but lower number of endpoints revision generated")
	fs.DurationVar(&o.NodeMonitorPeriod, "node-monitor-period", o.NodeMonitorPeriod, "The period for syncing NodeStatus in NodeLifecycleController.")
	fs.DurationVar(&o.NodeMonitorGracePeriod, "node-monitor-grace-period", o.NodeMonitorGracePeriod, "Amount of time which we allow running Node to be unresponsive before marking it unhealthy. Must be N times more than kubelet's nodeStatusUpdateFrequency, where N means number of retries allowed for kubelet to post node status. This value should also be greater than the sum of HTTP2_PING_TIMEOUT_SECONDS and HTTP2_READ_IDLE_TIMEOUT_SECONDS")
	fs.DurationVar(&o.NodeStartupGracePeriod, "node-startup-grace-period", o.NodeStartupGracePeriod, "Amount of time which we allow starting Node to be unresponsive before marking it unhealthy.")
	fs.Float32Var(&o.NodeEvictionRate, "node-eviction-rate", o.NodeEvictionRate, "Number of nodes per second on which pods are deleted in case of node failure when a zone is healthy (see --unhealthy-zone-threshold for definition of healthy/unhealthy). Zone refers to entire cluster in non-multizone clusters.")
	fs.Float32Var(&o.SecondaryNodeEvictionRate, "secondary-node-eviction-rate", o.SecondaryNodeEvictionRate, "Number of nodes per second on which pods are deleted in case of node failure when a zone is unhealthy (see --unhealthy-zone-threshold for definition of healthy/unhealthy). Zone refers to entire cluster in non-multizone clusters. This value is implicitly overridden to 0 if the cluster size is smaller than --large-cluster-size-threshold.")
	fs.Int32Var(&o.LargeClusterSizeThreshold, "large-cluster-size-threshold", o.LargeClusterSizeThreshold, "Number of nodes from which node-lifecycle-controller treats the cluster as large for the eviction logic purposes. --secondary-node-eviction-rate is implicitly overridden to 0 for clusters this size or smaller. Notice: If nodes reside in multiple zones, this threshold will be considered as zone node size threshold for each zone to determine node eviction rate independently.")
	fs.Float32Var(&o.UnhealthyZoneThreshold, "unhealthy-zone-threshold", o.UnhealthyZoneThreshold, "Fraction of Nodes in a zone which needs to be not Ready (minimum 3) for zone to be treated as unhealthy. ")
	fs.Int32Var(&o.TerminatedPodGCThreshold, "terminated-pod-gc-threshold", o.TerminatedPodGCThreshold, "Number of terminated pods that can exist before the terminated pod garbage collector starts deleting terminated pods. If <= 0, the terminated pod garbage collector is disabled.")
	fs.Int32Var(&o.ConcurrentJobSyncs, "concurrent-job-syncs", o.ConcurrentJobSyncs, "The number of job objects that are allowed to sync concurrently. Larger number = more responsive jobs, but more CPU (and network) load")
	fs.Int32Var(&o.ConcurrentCronJobSyncs, "concurrent-cron-job-syncs", o.ConcurrentCronJobSyncs, "The number of cron job objects that are allowed to sync concurrently. Larger number = more responsive jobs, but more CPU (and network) load")
	fs.Int32Var(&o.ConcurrentTTLSyncs, "concurrent-ttl-after-finished-syncs", o.ConcurrentTTLSyncs, "The number of ttl-after-finished-controller workers that are allowed to sync concurrently.")
	fs.Int32Var(&o.ConcurrentDisruptionSyncs, "concurrent-disruption-syncs", o.ConcurrentDisruptionSyncs, "The number of PDB objects that are allowed to sync concurrently. Larger number = more responsive PDB updates, but more CPU (and network) load")
	fs.Int32Var(&o.ConcurrentGCSyncs, "concurrent-gc-syncs", o.ConcurrentGCSyncs, "The number of garbage collector workers that are allowed to sync concurrently.")
	fs.BoolVar(&o.EnableGarbageCollector, "enable-garbage-collector", o.EnableGarbageCollector, "Enables the generic garbage collector. MUST be synced with the corresponding flag of the kube-apiserver.")
	fs.Int32Var(&o.ConcurrentDaemonSetSyncs, "concurrent-daemonset-syncs", o.ConcurrentDaemonSetSyncs, "The number of daemonset objects that are allowed to sync concurrently. Larger number = more responsive daemonsets, but more CPU (and network) load")
	fs.Int32Var(&o.ConcurrentStatefulSetSyncs, "concurrent-statefulset-syncs", o.ConcurrentStatefulSetSyncs, "The number of statefulset objects that are allowed to sync concurrently. Larger number = more responsive statefulsets, but more CPU (and network) load")
}

// implemented returns the canonical names of the controllers kinc has.
func implemented() []string {
	var out []string
	for _, d := range Known() {
		if d.New != nil {
			out = append(out, d.Name)
		}
	}
	return out
}

// Validate checks every value, naming the flag at fault, and reads the
// files the flags name (kubeconfigs, CA bundles, keys) to check that they
// hold what they must. It returns all the problems found.
func (o *Options) Validate() error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	add(o.SecureServingOptions.Validate())
	add(o.LeaderElectionOptions.Validate())
	_, err := Enabled(Known(), o.Controllers)
	add(err)
	if o.KubeAPIQPS < 0 || o.KubeAPIBurst < 0 {
		add(errors.New("--kube-api-qps and --kube-api-burst must not be negative"))
	}
	if o.ConcurrentNamespaceSyncs < 1 {
		add(fmt.Errorf("--concurrent-namespace-syncs %d must be at least 1", o.ConcurrentNamespaceSyncs))
	}
	if o.ConcurrentReplicaSetSyncs < 1 {
		add(fmt.Errorf("--concurrent-replicaset-syncs %d must be at least 1", o.ConcurrentReplicaSetSyncs))
	}
	if o.ConcurrentDeploymentSyncs < 1 {
		add(fmt.Errorf("--concurrent-deployment-syncs %d must be at least 1", o.ConcurrentDeploymentSyncs))
	}
	add(o.validateEndpoints())
	add(o.nodeLifecycleOptions().Validate())
	if o.ConcurrentJobSyncs < 1 {
		add(fmt.Errorf("--concurrent-job-syncs %d must be at least 1", o.ConcurrentJobSyncs))
	}
	if o.ConcurrentCronJobSyncs < 1 {
		add(fmt.Errorf("--concurrent-cron-job-syncs %d must be at least 1", o.ConcurrentCronJobSyncs))
	}
	if o.ConcurrentTTLSyncs < 1 {
		add(fmt.Errorf("--concurrent-ttl-after-finished-syncs %d must be at least 1", o.ConcurrentTTLSyncs))
	}
	if o.ConcurrentDisruptionSyncs < 1 {
		add(fmt.Errorf("--concurrent-disruption-syncs %d must be at least 1", o.ConcurrentDisruptionSyncs))
	}
	if o.ConcurrentGCSyncs < 1 {
		add(fmt.Errorf("--concurrent-gc-syncs %d must be at least 1", o.ConcurrentGCSyncs))
	}
	if o.ConcurrentDaemonSetSyncs < 1 {
		add(fmt.Errorf("--concurrent-daemonset-syncs %d must be at least 1", o.ConcurrentDaemonSetSyncs))
	}
	if o.ConcurrentStatefulSetSyncs < 1 {
		add(fmt.Errorf("--concurrent-statefulset-syncs %d must be at least 1", o.ConcurrentStatefulSetSyncs))
	}
	if o.NamespaceSyncPeriod <= 0 {
		add(fmt.Errorf("--namespace-sync-period %s must be positive", o.NamespaceSyncPeriod))
	}
	add(o.Options.Validate())
	type fileFlag struct{ flag, file string }
	for _, f := range []fileFlag{{"--requestheader-client-ca-file", o.RequestHeaderClientCAFile}, {"--root-ca-file", o.RootCAFile}} {
		if f.file != "" {
			_, err := readCertificates(f.flag, f.file)
			add(err)
		}
	}
	if f := o.ServiceAccountPrivateKeyFile; f != "" {
		data, err := os.ReadFile(f)
		if err == nil {
			_, err = pki.ParsePrivateKeyPEM(data)
		}
		if err != nil {
			add(fmt.Errorf("--service-account-private-key-file: %w", err))
		}
	}
	add(o.validateSigningPair())
	add(o.validateCSRSigning())
	add(o.validateNetworks())
	return errors.Join(errs...)
}

// validateEndpoints checks the endpoints and endpointslice controllers'
// flags: at least one worker (upstream's endpointslice bounds: 1 to 50),
// 1 to 1000 endpoints per slice, batch periods not negative.
func (o *Options) validateEndpoints() error {
	var errs []error
	if o.ConcurrentEndpointSyncs < 1 {
		errs = append(errs, fmt.Errorf("--concurrent-endpoint-syncs %d must be at least 1", o.ConcurrentEndpointSyncs))
	}
	if o.ConcurrentServiceEndpointSyncs < 1 || o.ConcurrentServiceEndpointSyncs > 50 {
		errs = append(errs, fmt.Errorf("--concurrent-service-endpoint-syncs %d must be between 1 and 50", o.ConcurrentServiceEndpointSyncs))
	}
	if o.MaxEndpointsPerSlice < 1 || o.MaxEndpointsPerSlice > 1000 {
		errs = append(errs, fmt.Errorf("--max-endpoints-per-slice %d must be between 1 and 1000", o.MaxEndpointsPerSlice))
	}
	if o.EndpointUpdatesBatchPeriod < 0 {
		errs = append(errs, fmt.Errorf("--endpoint-updates-batch-period %s must not be negative", o.EndpointUpdatesBatchPeriod))
	}
	if o.EndpointSliceUpdatesBatchPeriod < 0 {
		errs = append(errs, fmt.Errorf("--endpointslice-updates-batch-period %s must not be negative", o.EndpointSliceUpdatesBatchPeriod))
	}
	return errors.Join(errs...)
}

// validateSigningPair checks that --cluster-signing-cert-file and
// --cluster-signing-key-file come together and match.
func (o *Options) validateSigningPair() error {
	certFile, keyFile := o.ClusterSigningCertFile, o.ClusterSigningKeyFile
	if certFile == "" && keyFile == "" {
		return nil
	}
	if certFile == "" || keyFile == "" {
		return errors.New("--cluster-signing-cert-file and --cluster-signing-key-file go together")
	}
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return fmt.Errorf("--cluster-signing-cert-file: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return fmt.Errorf("--cluster-signing-key-file: %w", err)
	}
	if _, err := pki.ParseKeyPair(certPEM, keyPEM); err != nil {
		return fmt.Errorf("--cluster-signing-cert-file/--cluster-signing-key-file: %w", err)
	}
	return nil
}

// validateNetworks checks the CIDR flags as upstream's node-ipam-controller
// reads them: one CIDR, or two of different families (dual-stack); and,
// when allocating node CIDRs, a cluster CIDR that node CIDRs of
// --node-cidr-mask-size (default /24 and /64) fit in, at most 2^16 of them.
func (o *Options) validateNetworks() error {
	var errs []error
	clusterCIDRs, err := parseCIDRs("--cluster-cidr", o.ClusterCIDR)
	if err != nil {
		errs = append(errs, err)
	}
	if _, err := parseCIDRs("--service-cluster-ip-range", o.ServiceClusterIPRange); err != nil {
		errs = append(errs, err)
	}
	if o.NodeCIDRMaskSize < 0 {
		errs = append(errs, fmt.Errorf("--node-cidr-mask-size %d must not be negative", o.NodeCIDRMaskSize))
	}
	if !o.AllocateNodeCIDRs || err != nil || o.NodeCIDRMaskSize < 0 {
		return errors.Join(errs...)
	}
	if len(clusterCIDRs) == 0 {
		return errors.Join(append(errs, errors.New("--allocate-node-cidrs requires --cluster-cidr"))...)
	}
	if len(clusterCIDRs) > 1 && o.NodeCIDRMaskSize != 0 {
		return errors.Join(append(errs, errors.New("--node-cidr-mask-size is not allowed with a dual-stack --cluster-cidr"))...)
	}
	for _, c := range clusterCIDRs {
		prefix, bits := c.Mask.Size()
		mask := int(o.NodeCIDRMaskSize)
		if mask == 0 {
			mask = map[int]int{32: 24, 128: 64}[bits]
		}
		switch {
		case mask < prefix || mask > bits:
			errs = append(errs, fmt.Errorf("--node-cidr-mask-size %d does not fit --cluster-cidr %s", mask, c))
		case mask-prefix > 16:
			errs = append(errs, fmt.Errorf("--node-cidr-mask-size %d would split --cluster-cidr %s into more than 2^16 node CIDRs", mask, c))
		}
	}
	return errors.Join(errs...)
}

// parseCIDRs parses a flag's comma-separated CIDRs: none, one, or two of
// different IP families.
func parseCIDRs(flag, value string) ([]*net.IPNet, error) {
	if strings.TrimSpace(value) == "" {
		return nil, nil
	}
	var out []*net.IPNet
	v4 := 0
	for _, s := range strings.Split(value, ",") {
		_, cidr, err := net.ParseCIDR(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", flag, value, err)
		}
		if cidr.IP.To4() != nil {
			v4++
		}
		out = append(out, cidr)
	}
	if len(out) > 2 || (len(out) == 2 && v4 != 1) {
		return nil, fmt.Errorf("%s %q: at most two CIDRs, one IPv4 and one IPv6", flag, value)
	}
	return out, nil
}

// readCertificates reads file, named by flag, and checks that it holds
// PEM certificates.
func readCertificates(flag, file string) ([]byte, error) {
	data, err := os.ReadFile(file)
	if err == nil {
		_, err = pki.ParseCertsPEM(data)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	return data, nil
}
