// Package status keeps the apiserver's view of this node's pods current:
// it sends a pod's status through pods/status only when it changed, and
// performs the final delete (grace 0, uid precondition) of pods the kubelet
// has finished killing.
package status

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// Manager caches the latest status of each pod and syncs it to the
// apiserver. Safe for concurrent use.
type Manager interface {
	// SetPodStatus records pod's status (pod is the apiserver object: the
	// mirror pod for a static pod). It is sent on the next Sync if it
	// differs from what was last sent.
	SetPodStatus(pod *v1.Pod, status v1.PodStatus)
	// Sync sends every changed status; errors are retried on the next Sync.
	Sync(ctx context.Context) error
	// DeletePod deletes pod from the apiserver for good (grace 0, uid
	// precondition) and forgets its status. A pod already gone is not an error.
	DeletePod(ctx context.Context, pod *v1.Pod) error
	// Forget drops pods not in keep.
	Forget(keep map[types.UID]bool)
}

type entry struct {
	pod    *v1.Pod
	status v1.PodStatus
	sent   bool
}

type manager struct {
	client kubernetes.Interface
	logger *slog.Logger

	mu       sync.Mutex // guards statuses
	statuses map[types.UID]*entry
}

// NewManager returns a Manager writing through client.
func NewManager(client kubernetes.Interface, logger *slog.Logger) Manager {
	return &manager{client: client, logger: logger, statuses: map[types.UID]*entry{}}
}

func (m *manager) SetPodStatus(pod *v1.Pod, st v1.PodStatus) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.statuses[pod.UID]
	if ok && apiequality.Semantic.DeepEqual(normalize(e.status), normalize(st)) {
		e.pod = pod
		return
	}
	m.statuses[pod.UID] = &entry{pod: pod, status: st}
}

// normalize drops what does not make a status "changed".
func normalize(st v1.PodStatus) v1.PodStatus {
	st = *st.DeepCopy()
	for i := range st.Conditions {
		st.Conditions[i].LastTransitionTime = metav1.Time{}
		st.Conditions[i].LastProbeTime = metav1.Time{}
	}
	st.StartTime = nil
	return st
}

func (m *manager) Sync(ctx context.Context) error {
	m.mu.Lock()
	var todo []*entry
	for _, e := range m.statuses {
		if !e.sent {
			todo = append(todo, &entry{pod: e.pod, status: e.status})
		}
	}
	m.mu.Unlock()
	var firstErr error
	for _, e := range todo {
		err := m.send(ctx, e.pod, e.status)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		m.mu.Lock()
		if cur, ok := m.statuses[e.pod.UID]; ok && apiequality.Semantic.DeepEqual(cur.status, e.status) {
			cur.sent = true
		}
		m.mu.Unlock()
	}
	return firstErr
}

// send writes st to the pod's status, keeping conditions the kubelet does
// not own (e.g. DisruptionTarget) and the original startTime.
func (m *manager) send(ctx context.Context, pod *v1.Pod, st v1.PodStatus) error {
	pods := m.client.CoreV1().Pods(pod.Namespace)
	cur, err := pods.Get(ctx, pod.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	if cur.UID != pod.UID {
		return nil // replaced by another pod of the same name
	}
	next := cur.DeepCopy()
	owned := map[v1.PodConditionType]bool{}
	for _, c := range st.Conditions {
		owned[c.Type] = true
	}
	conds := append([]v1.PodCondition(nil), st.Conditions...)
	for _, c := range cur.Status.Conditions {
		if !owned[c.Type] {
			conds = append(conds, c)
		}
	}
	next.Status = st
	next.Status.Conditions = conds
	if cur.Status.StartTime != nil {
		next.Status.StartTime = cur.Status.StartTime
	}
	next.Status.NominatedNodeName = cur.Status.NominatedNodeName
	if apiequality.Semantic.DeepEqual(cur.Status, next.Status) {
		return nil
	}
	if _, err := pods.UpdateStatus(ctx, next, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("update status of pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	m.logger.Debug("pod status updated", "pod", pod.Namespace+"/"+pod.Name, "phase", st.Phase)
	return nil
}

func (m *manager) DeletePod(ctx context.Context, pod *v1.Pod) error {
	grace := int64(0)
	uid := pod.UID
	err := m.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: &grace,
		Preconditions: &metav1.Preconditions{UID: &uid}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("delete pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	m.mu.Lock()
	delete(m.statuses, pod.UID)
	m.mu.Unlock()
	return nil
}

func (m *manager) Forget(keep map[types.UID]bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for uid := range m.statuses {
		if !keep[uid] {
			delete(m.statuses, uid)
		}
	}
}

// Run calls Sync every interval until ctx ends.
func Run(ctx context.Context, m Manager, interval time.Duration, logger *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := m.Sync(ctx); err != nil && ctx.Err() == nil {
			logger.Warn("pod status sync", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
