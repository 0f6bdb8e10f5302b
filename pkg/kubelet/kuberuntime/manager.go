package kuberuntime

import (
	"context"
	"log/slog"
	"sync"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/kubelet/cri"
)

// ObjectGetter reads what pods reference from the apiserver. Errors are
// returned as client-go returns them (apierrors.IsNotFound works).
type ObjectGetter interface {
	GetConfigMap(ctx context.Context, namespace, name string) (*v1.ConfigMap, error)
	GetSecret(ctx context.Context, namespace, name string) (*v1.Secret, error)
	// ListServices lists a namespace's services (for service env vars).
	ListServices(ctx context.Context, namespace string) ([]v1.Service, error)
	// CreateToken issues a service account token bound to pod.
	CreateToken(ctx context.Context, namespace, serviceAccount string, req *authenticationv1.TokenRequest) (*authenticationv1.TokenRequest, error)
}

// ProbeResults answers whether running containers passed their probes.
type ProbeResults interface {
	Started(podUID types.UID, containerID string, c *v1.Container) bool
	Ready(podUID types.UID, containerID string, c *v1.Container) bool
}

// HookRunner runs container lifecycle handlers (postStart, preStop).
type HookRunner interface {
	RunHook(ctx context.Context, pod *v1.Pod, c *v1.Container, containerID string, podIPs []string, h *v1.LifecycleHandler) error
}

// Config holds what the Manager needs to know about the node.
type Config struct {
	NodeName string
	// NodeIPs returns the node's addresses (status.hostIP(s), host-network pod IPs).
	NodeIPs func() []string
	// RootDir is the kubelet's directory (/var/lib/kubelet); pod volumes go
	// under RootDir/pods/<uid>/volumes.
	RootDir string
	// PodLogsDir is /var/log/pods.
	PodLogsDir    string
	ClusterDNS    []string
	ClusterDomain string
	ResolvConf    string
	CgroupDriver  string // cgroupfs or systemd
	CgroupRoot    string
	// CgroupFSRoot is where cgroup hierarchies are mounted (/sys/fs/cgroup);
	// empty disables removing pod cgroups.
	CgroupFSRoot string
	// OOMScoreAdjFloor is the lowest oom_score_adj given to a container:
	// the kubelet's own, since without CAP_SYS_RESOURCE it cannot be lowered.
	OOMScoreAdjFloor int64
	// NodeMemoryBytes and NodeCPUMilli are the node's allocatable memory and
	// CPU (Burstable oom_score_adj; resourceFieldRef limits a container lacks).
	NodeMemoryBytes int64
	NodeCPUMilli    int64
	// VolumeRefresh is how often ConfigMap, Secret, downward API and token
	// volumes are rewritten (syncFrequency; 1 min when zero).
	VolumeRefresh time.Duration
}

// Manager syncs and kills pods through a CRI runtime. Safe for concurrent
// use across pods; calls for one pod must not overlap (pod workers ensure it).
type Manager struct {
	cfg     Config
	runtime cri.Runtime
	objects ObjectGetter
	clock   clock.Clock
	logger  *slog.Logger
	backoff *Backoff
	// recorder emits pod events; nil: none.
	recorder record.EventRecorder
	// probes gates started and ready; nil: running means both.
	probes ProbeResults
	// hooks runs lifecycle handlers; nil: they are skipped.
	hooks HookRunner

	mu sync.Mutex // guards waiting
	// waiting holds each pod's containers' waiting reasons from the last
	// sync (ErrImagePull, CrashLoopBackOff, …), by pod UID and container name.
	waiting map[types.UID]map[string]*v1.ContainerStateWaiting
	// volumesAt is when each pod's volumes were last written.
	volumesAt map[types.UID]time.Time
	// tokens caches the projected service-account tokens (nil without
	// an apiserver).
	tokens *tokenManager
}

// NewManager returns a Manager. objects may be nil when no apiserver is
// configured (pods referencing ConfigMaps or Secrets then fail to start).
func NewManager(cfg Config, runtime cri.Runtime, objects ObjectGetter, c clock.Clock, logger *slog.Logger) *Manager {
	if cfg.VolumeRefresh == 0 {
		cfg.VolumeRefresh = time.Minute
	}
	if cfg.NodeIPs == nil {
		cfg.NodeIPs = func() []string { return nil }
	}
	m := &Manager{cfg: cfg, runtime: runtime, objects: objects, clock: c, logger: logger, backoff: NewBackoff(c),
		waiting: map[types.UID]map[string]*v1.ContainerStateWaiting{}, volumesAt: map[types.UID]time.Time{}}
	if objects != nil {
		m.tokens = newTokenManager(c, objects.CreateToken)
	}
	return m
}

// SetRecorder makes the manager emit pod events (Pulling, Created,
// Started, Killing, BackOff, …) through r. Call before the first sync.
func (m *Manager) SetRecorder(r record.EventRecorder) { m.recorder = r }

// SetProbeResults makes container started/ready follow probe results.
// Call before the first sync.
func (m *Manager) SetProbeResults(p ProbeResults) { m.probes = p }

// SetHookRunner makes the manager run postStart and preStop handlers.
// Call before the first sync.
func (m *Manager) SetHookRunner(h HookRunner) { m.hooks = h }

// Runtime returns the CRI runtime the manager drives.
func (m *Manager) Runtime() cri.Runtime { return m.runtime }

func (m *Manager) setWaiting(uid types.UID, name string, w *v1.ContainerStateWaiting) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.waiting[uid] == nil {
		m.waiting[uid] = map[string]*v1.ContainerStateWaiting{}
	}
	if w == nil {
		delete(m.waiting[uid], name)
		return
	}
	m.waiting[uid][name] = w
}

func (m *Manager) waitingFor(uid types.UID, name string) *v1.ContainerStateWaiting {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.waiting[uid][name]
}

// Forget drops the in-memory state of a pod that is gone.
func (m *Manager) Forget(uid types.UID) {
	m.mu.Lock()
	delete(m.waiting, uid)
	delete(m.volumesAt, uid)
	m.mu.Unlock()
	if m.tokens != nil {
		m.tokens.forgetPod(uid)
	}
	m.backoff.Forget(string(uid) + "/")
}

// SetWaiting makes every container of pod that has not started wait with
// reason and message (e.g. while the pod network is not ready).
func (m *Manager) SetWaiting(pod *v1.Pod, reason, message string) {
	for _, list := range [][]v1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, c := range list {
			m.setWaiting(pod.UID, c.Name, &v1.ContainerStateWaiting{Reason: reason, Message: message})
		}
	}
}
