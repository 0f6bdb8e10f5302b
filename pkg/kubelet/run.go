package kubelet

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/daemon/delegated"
	"github.com/kinc-dev/kinc/pkg/kubelet/config"
	"github.com/kinc-dev/kinc/pkg/kubelet/cri"
	"github.com/kinc-dev/kinc/pkg/kubelet/kubeletconfig"
	"github.com/kinc-dev/kinc/pkg/kubelet/kuberuntime"
	"github.com/kinc-dev/kinc/pkg/kubelet/nodestatus"
	"github.com/kinc-dev/kinc/pkg/kubelet/podworkers"
	"github.com/kinc-dev/kinc/pkg/kubelet/prober"
	"github.com/kinc-dev/kinc/pkg/kubelet/server"
	"github.com/kinc-dev/kinc/pkg/kubelet/status"
	"github.com/kinc-dev/kinc/pkg/pki"
	"github.com/kinc-dev/kinc/pkg/version"
)

// Run runs the kubelet until ctx ends. Without --kubeconfig it runs static
// pods only; with it, static pods still start before the apiserver answers.
func Run(ctx context.Context, opts *Options, logger *slog.Logger) error {
	cfg, err := opts.LoadConfig()
	if err != nil {
		return err
	}
	nodeName, err := opts.NodeName()
	if err != nil {
		return err
	}
	nodeIPs, err := opts.NodeIPs(nodeName)
	if err != nil {
		return err
	}
	taints, err := opts.Taints()
	if err != nil {
		return err
	}
	if err := bootstrap(ctx, opts, nodeName, logger); err != nil {
		return err
	}
	kubeconfig, err := opts.KubeconfigPath()
	if err != nil {
		return err
	}
	endpoint := opts.ContainerRuntimeEndpoint
	if endpoint == "" {
		endpoint = cfg.ContainerRuntimeEndpoint
	}
	metrics := server.NewMetrics()
	rt, err := cri.Dial(endpoint, cri.WithObserver(metrics.ObserveRuntimeOperation))
	if err != nil {
		return err
	}
	defer rt.Close()
	logger = logger.With("node", nodeName)
	logger.Info("starting kubelet", "version", version.KubernetesVersion, "runtime", endpoint, "nodeIPs", nodeIPs)
	if err := cri.WaitReady(ctx, rt, time.Second); err != nil {
		return err
	}

	var client kubernetes.Interface
	var rotateCerts func(context.Context) error
	if kubeconfig != "" {
		restCfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err != nil {
			return fmt.Errorf("load kubeconfig: %w", err)
		}
		restCfg.UserAgent = "kubelet/" + version.KubernetesVersion + " (linux) kinc"
		restCfg.QPS, restCfg.Burst = 50, 100 // upstream's kubeAPIQPS/kubeAPIBurst defaults, not client-go's 5/10
		if cfg.RotateCertificates {
			if rotateCerts, err = rotateClientCertificate(restCfg, opts.CertDirectory, nodeName, clock.RealClock{}, logger); err != nil {
				return fmt.Errorf("client certificate rotation: %w", err)
			}
		}
		if client, err = kubernetes.NewForConfig(restCfg); err != nil {
			return err
		}
	}
	var tlsCfg *tls.Config
	var auth *delegated.Filter
	if cfg.Port > 0 {
		cert, key := cfg.TLSCertFile, cfg.TLSPrivateKeyFile
		if cert == "" {
			// As upstream without tlsCertFile: a self-signed pair for the
			// node, kept in <root-dir>/pki and reused across restarts.
			dir := filepath.Join(opts.RootDir, "pki")
			cert, key = filepath.Join(dir, "kubelet.crt"), filepath.Join(dir, "kubelet.key")
			if _, err := pki.LoadOrCreateSelfSigned(cert, key, pki.Options{}, nodeName); err != nil {
				return fmt.Errorf("kubelet serving certificate: %w", err)
			}
		}
		if tlsCfg, err = server.TLSConfig(cert, key); err != nil {
			return err
		}
		authn, authz := cfg.Authentication, cfg.Authorization
		if auth, err = (server.Auth{NodeName: nodeName, ClientCAFile: authn.X509.ClientCAFile, Anonymous: *authn.Anonymous.Enabled,
			Webhook: *authn.Webhook.Enabled, WebhookCacheTTL: authn.Webhook.CacheTTL.Duration,
			Mode: authz.Mode, AllowTTL: authz.Webhook.CacheAuthorizedTTL.Duration, DenyTTL: authz.Webhook.CacheUnauthorizedTTL.Duration,
			Client: client, Logger: logger}).Filter(); err != nil {
			return fmt.Errorf("kubelet API authentication and authorization: %w", err)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	k, wait := newKubelet(ctx, deps{
		nodeName: nodeName, nodeIPs: nodeIPs, labels: opts.NodeLabels, taints: taints, cfg: cfg, rootDir: opts.RootDir,
		runtime: rt, client: client, clock: clock.RealClock{}, logger: logger, oomScoreAdjFloor: ownOOMScoreAdj(),
		cgroupFSRoot: "/sys/fs/cgroup", machine: func() nodestatus.Machine { return nodestatus.Probe(opts.RootDir) },
		podStarted: metrics.ObservePodStart,
	})
	defer func() { cancel(); wait() }()
	k.start(ctx)
	if *cfg.HealthzPort > 0 {
		go serveHealthz(ctx, server.HostPort(cfg.HealthzBindAddress, *cfg.HealthzPort), logger)
	}
	if tlsCfg != nil {
		go func() {
			node := server.Node{Name: nodeName, Runtime: rt, Metrics: metrics, Config: cfg, Spec: func() server.MachineInfo {
				m := nodestatus.Probe(opts.RootDir)
				return server.MachineInfo{NumCores: int((m.CPUMilli + 999) / 1000), MemoryCapacity: uint64(m.MemoryBytes),
					MachineID: m.MachineID, SystemUUID: m.SystemUUID, BootID: m.BootID}
			}, RootDir: opts.RootDir, LogDir: "/var/log", PodLogDir: cfg.PodLogsDir, CgroupRoot: "/sys/fs/cgroup", ProcRoot: "/proc"}
			h := auth.Wrap(server.NewNodeHandler(k, rt, node, logger))
			if err := server.Serve(ctx, server.HostPort(cfg.Address, cfg.Port), tlsCfg, h, logger); err != nil {
				logger.Error("kubelet API stopped", "err", err)
			}
		}()
	}
	failed := make(chan error, 1)
	if rotateCerts != nil {
		go func() {
			if err := rotateCerts(ctx); err != nil {
				failed <- err
			}
		}()
	}
	select {
	case <-ctx.Done():
	case err := <-failed:
		logger.Error("kubelet stopping", "err", err)
		return err
	}
	logger.Info("kubelet stopping")
	return nil
}

// deps are what a Kubelet is built from; tests pass fakes.
type deps struct {
	nodeName         string
	nodeIPs          []string
	labels           map[string]string
	taints           []v1.Taint
	cfg              *kubeletconfig.KubeletConfiguration
	rootDir          string
	runtime          cri.Runtime
	client           kubernetes.Interface // nil: standalone
	clock            clock.Clock
	logger           *slog.Logger
	oomScoreAdjFloor int64
	cgroupFSRoot     string
	machine          func() nodestatus.Machine
	podStarted       func(time.Duration) // nil: pod start durations are not recorded
}

// newKubelet wires a Kubelet; its pod workers stop when ctx ends (wait for
// them with the returned function). Nothing runs until start.
func newKubelet(ctx context.Context, d deps) (*Kubelet, func()) {
	cfg := d.cfg
	machine := d.machine()
	var objects kuberuntime.ObjectGetter
	if d.client != nil {
		objects = apiObjects{client: d.client}
	}
	rm := kuberuntime.NewManager(kuberuntime.Config{
		NodeName: d.nodeName, NodeIPs: func() []string { return d.nodeIPs }, RootDir: d.rootDir, PodLogsDir: cfg.PodLogsDir,
		ClusterDNS: cfg.ClusterDNS, ClusterDomain: cfg.ClusterDomain, ResolvConf: cfg.ResolvConf,
		CgroupDriver: cfg.CgroupDriver, CgroupRoot: cfg.CgroupRoot, CgroupFSRoot: d.cgroupFSRoot, OOMScoreAdjFloor: d.oomScoreAdjFloor,
		NodeMemoryBytes: machine.MemoryBytes, NodeCPUMilli: machine.CPUMilli, VolumeRefresh: cfg.SyncFrequency.Duration,
	}, d.runtime, objects, d.clock, d.logger)
	k := &Kubelet{nodeName: d.nodeName, cfg: cfg, logger: d.logger, clock: d.clock, runtime: d.runtime, rm: rm, client: d.client,
		staticPods: map[types.UID]*v1.Pod{}, apiPods: map[string]*v1.Pod{}, known: map[types.UID]*v1.Pod{},
		killing: map[types.UID]bool{}, statuses: map[types.UID]v1.PodStatus{}, staticSynced: cfg.StaticPodPath == "",
		firstSeen: map[types.UID]time.Time{}, podStarted: d.podStarted}
	var recorder record.EventRecorder
	if d.client != nil {
		events := record.NewBroadcaster(record.WithContext(ctx))
		events.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: d.client.CoreV1().Events("")})
		go func() { <-ctx.Done(); events.Shutdown() }()
		recorder = events.NewRecorder(scheme.Scheme, v1.EventSource{Component: "kubelet", Host: d.nodeName})
		rm.SetRecorder(recorder)
	}
	k.prober = prober.NewManager(d.runtime, d.clock, k.killUnhealthy, recorder, d.logger)
	rm.SetProbeResults(k.prober)
	rm.SetHookRunner(hookRunner{p: k.prober})
	workers, wait := podworkers.New(ctx, k.syncPod, d.logger)
	k.workers = workers
	if d.client != nil {
		k.statusMgr = status.NewManager(d.client, d.logger)
		k.mirror = &config.MirrorClient{Client: d.client, NodeName: d.nodeName}
		k.nodeCtl = nodestatus.New(nodestatus.Config{NodeName: d.nodeName, NodeIPs: d.nodeIPs, Labels: d.labels, Taints: d.taints,
			KubeletPort: cfg.Port, PodCIDR: cfg.PodCIDR, MaxPods: cfg.MaxPods, KubeletVersion: version.KubernetesVersion,
			LeaseDuration:   cfg.NodeLeaseDurationSeconds,
			MemoryAvailable: cfg.EvictionThreshold(kubeletconfig.SignalMemoryAvailable),
			NodeFsAvailable: cfg.EvictionThreshold(kubeletconfig.SignalNodeFsAvailable)}, d.client, d.runtime, d.clock, d.machine, d.logger)
	}
	return k, wait
}

// start runs the pod sources, the relist loop and (with an apiserver) the
// node, mirror pod and status loops, until ctx ends.
func (k *Kubelet) start(ctx context.Context) {
	cfg := k.cfg
	if k.client != nil {
		k.startAPISource(ctx)
		go k.nodeCtl.Run(ctx, cfg.NodeStatusUpdateFrequency.Duration, cfg.NodeStatusReportFrequency.Duration)
		go k.runMirrorAndStatus(ctx)
	}
	if cfg.StaticPodPath != "" {
		src := &config.FileSource{Dir: cfg.StaticPodPath, NodeName: k.nodeName, Interval: min(cfg.FileCheckFrequency.Duration, 5*time.Second),
			Clock: k.clock, Logger: k.logger}
		go src.Run(ctx, k.setStaticPods)
	}
	go k.runRelist(ctx)
}

func serveHealthz(ctx context.Context, addr string, logger *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "ok") })
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		logger.Warn("healthz server", "addr", addr, "err", err)
	}
}

// ownOOMScoreAdj is this process's oom_score_adj: containers never get a
// lower one (lowering needs CAP_SYS_RESOURCE).
func ownOOMScoreAdj() int64 {
	b, err := os.ReadFile("/proc/self/oom_score_adj")
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return n
}
