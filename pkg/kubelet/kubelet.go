package kubelet

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/kubelet/config"
	"github.com/kinc-dev/kinc/pkg/kubelet/cri"
	"github.com/kinc-dev/kinc/pkg/kubelet/kubeletconfig"
	"github.com/kinc-dev/kinc/pkg/kubelet/kuberuntime"
	"github.com/kinc-dev/kinc/pkg/kubelet/nodestatus"
	"github.com/kinc-dev/kinc/pkg/kubelet/podworkers"
	"github.com/kinc-dev/kinc/pkg/kubelet/prober"
	"github.com/kinc-dev/kinc/pkg/kubelet/status"
)

// relistPeriod is how often every pod is re-synced against the runtime
// (upstream's PLEG relist period).
const relistPeriod = time.Second

// Kubelet ties the pod sources, the pod workers, the runtime manager and
// the apiserver-facing loops together.
type Kubelet struct {
	nodeName string
	cfg      *kubeletconfig.KubeletConfiguration
	logger   *slog.Logger
	clock    clock.Clock
	runtime  cri.Runtime
	rm       *kuberuntime.Manager
	prober   *prober.Manager
	workers  podworkers.PodWorkers

	// API side; all nil in standalone mode (no --kubeconfig).
	client    kubernetes.Interface
	statusMgr status.Manager
	nodeCtl   *nodestatus.Controller
	mirror    *config.MirrorClient
	podLister corelisters.PodLister
	podSynced func() bool

	mu sync.Mutex // guards the maps below
	// staticPods are the manifests' pods by UID.
	staticPods map[types.UID]*v1.Pod
	// apiPods are the (non-mirror) pods bound to this node, by namespace/name.
	apiPods map[string]*v1.Pod
	// known are the pods handed to pod workers and not yet killed, by UID.
	known map[types.UID]*v1.Pod
	// killing are pods whose KillPod is queued or running.
	killing map[types.UID]bool
	// statuses are the latest computed statuses, by UID.
	statuses map[types.UID]v1.PodStatus
	// netNotReady is why the runtime's network is not ready ("" when it is).
	netNotReady string
	// staticSynced is set once the static pod source delivered its first set
	// (true from the start when there is no staticPodPath).
	staticSynced bool
	// firstSeen is when each known pod was first handed to a pod worker.
	firstSeen map[types.UID]time.Time

	// podStarted is told how long each pod took from first seen to running
	// (kubelet_pod_start_duration_seconds); nil: nobody.
	podStarted func(time.Duration)
}

// networkNotReady returns why the pod network is not ready, "" when it is.
func (k *Kubelet) networkNotReady() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.netNotReady
}

// updateRuntimeStatus records the runtime's NetworkReady condition.
func (k *Kubelet) updateRuntimeStatus(ctx context.Context) {
	msg := ""
	st, err := k.runtime.Status(ctx)
	if err != nil {
		msg = "container runtime status check failed: " + err.Error()
	} else {
		for _, c := range st.GetConditions() {
			if c.Type == runtimeapi.NetworkReady && !c.Status {
				msg = fmt.Sprintf("container runtime network not ready: NetworkReady=false reason:%s message:%s", c.Reason, c.Message)
			}
		}
	}
	k.mu.Lock()
	changed := k.netNotReady != msg
	k.netNotReady = msg
	k.mu.Unlock()
	if changed && msg != "" {
		k.logger.Warn("pod network not ready", "reason", msg)
	} else if changed {
		k.logger.Info("pod network ready")
	}
}

// sourcesSynced reports whether every pod source delivered its full set, so
// that sandboxes of unknown pods really are orphans.
func (k *Kubelet) sourcesSynced() bool {
	k.mu.Lock()
	static := k.staticSynced
	k.mu.Unlock()
	return static && (k.podSynced == nil || k.podSynced())
}

// desiredPods returns the pods that should run: static pods and API pods
// not being deleted (terminal ones included: syncPod leaves them alone).
func (k *Kubelet) desiredPods() []*v1.Pod {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]*v1.Pod, 0, len(k.staticPods)+len(k.apiPods))
	for _, p := range k.staticPods {
		out = append(out, p)
	}
	for _, p := range k.apiPods {
		if p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out
}

// relist hands every desired pod to its worker and kills pods that are no
// longer desired (or are being deleted).
func (k *Kubelet) relist() {
	desired := k.desiredPods()
	want := map[types.UID]bool{}
	for _, p := range desired {
		want[p.UID] = true
	}
	k.mu.Lock()
	// API pods being deleted that no worker knows (the kubelet restarted
	// mid-deletion) still need their kill and final delete.
	for _, p := range k.apiPods {
		if _, ok := k.known[p.UID]; !ok && p.DeletionTimestamp != nil {
			k.known[p.UID] = p
		}
	}
	// A pod replacing another of the same name (an edited static pod, a
	// re-created API pod) starts only once the old one is gone.
	dying := map[string]bool{}
	for uid, p := range k.known {
		if !want[uid] {
			dying[p.Namespace+"/"+p.Name] = true
		}
	}
	var start []*v1.Pod
	for _, p := range desired {
		if _, ok := k.known[p.UID]; ok || !dying[p.Namespace+"/"+p.Name] {
			if _, seen := k.firstSeen[p.UID]; !seen {
				k.firstSeen[p.UID] = k.clock.Now()
			}
			k.known[p.UID] = p
			start = append(start, p)
		}
	}
	k.mu.Unlock()
	for _, p := range start {
		k.workers.UpdatePod(podworkers.Update{Pod: p, Type: podworkers.SyncPod})
	}
	k.mu.Lock()
	var kill []*v1.Pod
	for uid, p := range k.known {
		if !want[uid] && !k.killing[uid] {
			k.killing[uid] = true
			if cur, ok := k.apiPods[p.Namespace+"/"+p.Name]; ok && cur.UID == uid {
				p = cur // carries deletionTimestamp and grace period
			}
			kill = append(kill, p)
		}
		if k.killing[uid] {
			want[uid] = true // keep its worker until the kill is done
		}
	}
	k.mu.Unlock()
	for _, p := range kill {
		k.logger.Info("killing pod", "pod", p.Namespace+"/"+p.Name, "uid", p.UID)
		k.workers.UpdatePod(podworkers.Update{Pod: p, Type: podworkers.KillPod})
	}
	k.workers.ForgetNonExistingPodWorkers(want)
}

// syncPod is the pod workers' SyncFunc.
func (k *Kubelet) syncPod(ctx context.Context, u podworkers.Update) error {
	pod := u.Pod
	if u.Type == podworkers.KillPod {
		return k.killPod(ctx, pod, u.GracePeriod)
	}
	apiPod := k.apiPodFor(pod)
	if apiPod != nil && (apiPod.Status.Phase == v1.PodSucceeded || apiPod.Status.Phase == v1.PodFailed) && !config.IsStaticPod(pod) {
		return nil // terminal pods never run again
	}
	var err error
	if netErr := k.networkNotReady(); netErr != "" && !pod.Spec.HostNetwork {
		// Upstream starts no pod-network pod until the network plugin is
		// ready. Not an error to log every second: the status says it.
		k.rm.SetWaiting(pod, "ContainerCreating", "network is not ready: "+netErr)
	} else {
		err = k.rm.SyncPod(ctx, pod)
	}
	state, serr := k.rm.GetPodState(ctx, pod.UID)
	if serr != nil {
		return serr
	}
	k.prober.Update(ctx, pod.UID, probeTargets(pod, state, k.rm.PodIPs(pod, state)))
	withStatus := pod.DeepCopy()
	if apiPod != nil {
		withStatus.Status = apiPod.Status
	} else {
		k.mu.Lock()
		withStatus.Status = k.statuses[pod.UID]
		k.mu.Unlock()
	}
	st := k.rm.PodStatus(withStatus, state)
	k.mu.Lock()
	prev := k.statuses[pod.UID]
	k.statuses[pod.UID] = st
	firstSeen, seen := k.firstSeen[pod.UID]
	k.mu.Unlock()
	if k.podStarted != nil && seen && st.Phase == v1.PodRunning && prev.Phase != v1.PodRunning && withStatus.Status.Phase != v1.PodRunning {
		k.podStarted(k.clock.Since(firstSeen))
	}
	if apiPod != nil && k.statusMgr != nil {
		k.statusMgr.SetPodStatus(apiPod, st)
	}
	return err
}

func (k *Kubelet) killPod(ctx context.Context, pod *v1.Pod, grace *int64) error {
	if err := k.rm.KillPod(ctx, pod, grace); err != nil {
		k.mu.Lock()
		delete(k.killing, pod.UID) // retried on the next relist
		k.mu.Unlock()
		return err
	}
	if pod.DeletionTimestamp != nil && k.statusMgr != nil && !config.IsStaticPod(pod) {
		if err := k.statusMgr.DeletePod(ctx, pod); err != nil {
			k.logger.Warn("final pod delete failed", "pod", pod.Namespace+"/"+pod.Name, "err", err)
		}
	}
	k.prober.Forget(pod.UID)
	k.mu.Lock()
	delete(k.known, pod.UID)
	delete(k.killing, pod.UID)
	delete(k.statuses, pod.UID)
	delete(k.firstSeen, pod.UID)
	k.mu.Unlock()
	k.logger.Info("pod killed", "pod", pod.Namespace+"/"+pod.Name, "uid", pod.UID)
	return nil
}

// apiPodFor returns the apiserver object of pod: itself for API pods, the
// current mirror pod for static pods, or nil.
func (k *Kubelet) apiPodFor(pod *v1.Pod) *v1.Pod {
	if !config.IsStaticPod(pod) {
		k.mu.Lock()
		defer k.mu.Unlock()
		if cur, ok := k.apiPods[pod.Namespace+"/"+pod.Name]; ok && cur.UID == pod.UID {
			return cur
		}
		return nil
	}
	if k.podLister == nil {
		return nil
	}
	m, err := k.podLister.Pods(pod.Namespace).Get(pod.Name)
	if err != nil || !config.IsMirrorPod(m) || !config.MirrorMatches(pod, m) {
		return nil
	}
	return m
}

// setStaticPods replaces the static pod set (from the file source).
func (k *Kubelet) setStaticPods(pods []*v1.Pod) {
	m := make(map[types.UID]*v1.Pod, len(pods))
	for _, p := range pods {
		m[p.UID] = p
	}
	k.mu.Lock()
	k.staticPods = m
	k.staticSynced = true
	k.mu.Unlock()
	k.logger.Info("static pods updated", "count", len(pods))
	k.relist()
}

// runRelist relists every relistPeriod, and cleans up orphans once the pod
// sources are complete.
func (k *Kubelet) runRelist(ctx context.Context) {
	for {
		k.updateRuntimeStatus(ctx)
		k.relist()
		if k.sourcesSynced() {
			k.cleanupOrphans(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-k.clock.After(relistPeriod):
		}
	}
}
