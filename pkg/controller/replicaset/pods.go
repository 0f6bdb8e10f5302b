package replicaset

import (
	"math"
	"sort"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
)

// PodDeletionCostAnnotation ranks pods for deletion on a scale down: lower
// cost goes first (upstream's controller.kubernetes.io/pod-deletion-cost).
const PodDeletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost"

// IsPodActive reports whether p counts as a replica: not Succeeded, not
// Failed and not being deleted.
func IsPodActive(p *corev1.Pod) bool {
	return p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed && p.DeletionTimestamp == nil
}

// IsPodTerminating reports whether p is being deleted and has not reached
// a terminal phase.
func IsPodTerminating(p *corev1.Pod) bool {
	return p.DeletionTimestamp != nil && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
}

// readyCondition returns p's Ready condition, or nil.
func readyCondition(p *corev1.Pod) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == corev1.PodReady {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

// IsPodReady reports whether p's Ready condition is True.
func IsPodReady(p *corev1.Pod) bool {
	c := readyCondition(p)
	return c != nil && c.Status == corev1.ConditionTrue
}

// IsPodAvailable reports whether p has been Ready for at least
// minReadySeconds at now (strictly longer, as upstream).
func IsPodAvailable(p *corev1.Pod, minReadySeconds int32, now time.Time) bool {
	if !IsPodReady(p) {
		return false
	}
	if minReadySeconds == 0 {
		return true
	}
	c := readyCondition(p)
	return !c.LastTransitionTime.IsZero() && c.LastTransitionTime.Add(time.Duration(minReadySeconds)*time.Second).Before(now)
}

// nextAvailabilityCheck returns how long until the first of pods that is
// Ready but not yet available becomes available, or false when none is.
func nextAvailabilityCheck(pods []*corev1.Pod, minReadySeconds int32, now time.Time) (time.Duration, bool) {
	var best time.Duration
	found := false
	for _, p := range pods {
		if !IsPodReady(p) || IsPodAvailable(p, minReadySeconds, now) {
			continue
		}
		c := readyCondition(p)
		d := c.LastTransitionTime.Add(time.Duration(minReadySeconds) * time.Second).Sub(now)
		d = max(d, 0) + time.Second/10 // strictly after, as IsPodAvailable wants
		if !found || d < best {
			best, found = d, true
		}
	}
	return best, found
}

// podFromTemplate returns the pod a ReplicaSet creates from its template:
// the template's labels, annotations, finalizers and spec, the generate
// name "<rs>-" (or "<rs>" when the dash would make the prefix invalid) and
// ref as its only owner reference.
func podFromTemplate(template *corev1.PodTemplateSpec, rsName string, ref *metav1.OwnerReference) *corev1.Pod {
	prefix := rsName + "-"
	if len(validation.IsDNS1123Subdomain(rsName+"a")) != 0 {
		prefix = rsName
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		GenerateName:    prefix,
		Labels:          copyMap(template.Labels),
		Annotations:     copyMap(template.Annotations),
		Finalizers:      append([]string{}, template.Finalizers...),
		OwnerReferences: []metav1.OwnerReference{*ref},
	}}
	pod.Spec = *template.Spec.DeepCopy()
	return pod
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// podsToDelete returns the diff pods of active (its order changed) to
// delete first, ranked as upstream's ActivePodsWithRanks: related are the
// active pods of every ReplicaSet with the same owner, whose count per
// node ranks doubled-up pods first.
func podsToDelete(active, related []*corev1.Pod, diff int, now time.Time) []*corev1.Pod {
	if diff < len(active) {
		onNode := map[string]int{}
		for _, p := range related {
			if IsPodActive(p) {
				onNode[p.Spec.NodeName]++
			}
		}
		ranks := make([]int, len(active))
		for i, p := range active {
			ranks[i] = onNode[p.Spec.NodeName]
		}
		sort.Sort(rankedPods{pods: active, rank: ranks, now: now})
	}
	return active[:diff]
}

// rankedPods sorts pods so that the ones to delete first come first:
//  1. unassigned before assigned;
//  2. Pending before Unknown before Running;
//  3. not ready before ready;
//  4. lower pod-deletion-cost before higher;
//  5. higher rank (more active pods of the same owner on its node) first;
//  6. both ready: ready for less time first;
//  7. more container restarts first;
//  8. newer before older (empty creation time first).
//
// Times in 6 and 8 compare on a log2 scale of their age, equal ranks by
// UID, which spreads deletions among pods of about the same age.
type rankedPods struct {
	pods []*corev1.Pod
	rank []int
	now  time.Time
}

func (s rankedPods) Len() int { return len(s.pods) }
func (s rankedPods) Swap(i, j int) {
	s.pods[i], s.pods[j] = s.pods[j], s.pods[i]
	s.rank[i], s.rank[j] = s.rank[j], s.rank[i]
}

var phaseOrdinal = map[corev1.PodPhase]int{corev1.PodPending: 0, corev1.PodUnknown: 1, corev1.PodRunning: 2}

func (s rankedPods) Less(i, j int) bool {
	pi, pj := s.pods[i], s.pods[j]
	if pi.Spec.NodeName != pj.Spec.NodeName && (pi.Spec.NodeName == "" || pj.Spec.NodeName == "") {
		return pi.Spec.NodeName == ""
	}
	if oi, oj := phaseOrdinal[pi.Status.Phase], phaseOrdinal[pj.Status.Phase]; oi != oj {
		return oi < oj
	}
	ri, rj := IsPodReady(pi), IsPodReady(pj)
	if ri != rj {
		return !ri
	}
	if ci, cj := deletionCost(pi), deletionCost(pj); ci != cj {
		return ci < cj
	}
	if s.rank[i] != s.rank[j] {
		return s.rank[i] > s.rank[j]
	}
	if ri && rj {
		ti, tj := readyTime(pi), readyTime(pj)
		if !ti.Equal(tj) {
			if ti.IsZero() || tj.IsZero() {
				return afterOrZero(ti, tj)
			}
			if d := logRankDiff(ti, tj, s.now); d != 0 {
				return d < 0
			}
			return pi.UID < pj.UID
		}
	}
	if res, ok := compareRestarts(pi, pj); ok {
		return res
	}
	ci, cj := pi.CreationTimestamp.Time, pj.CreationTimestamp.Time
	if !ci.Equal(cj) {
		if ci.IsZero() || cj.IsZero() {
			return afterOrZero(ci, cj)
		}
		if d := logRankDiff(ci, cj, s.now); d != 0 {
			return d < 0
		}
		return pi.UID < pj.UID
	}
	return false
}

// deletionCost reads the pod-deletion-cost annotation (0 when absent or
// not an int32).
func deletionCost(p *corev1.Pod) int32 {
	v, err := strconv.ParseInt(p.Annotations[PodDeletionCostAnnotation], 10, 32)
	if err != nil {
		return 0
	}
	return int32(v)
}

func readyTime(p *corev1.Pod) time.Time {
	if c := readyCondition(p); c != nil && c.Status == corev1.ConditionTrue {
		return c.LastTransitionTime.Time
	}
	return time.Time{}
}

// afterOrZero: t1 is after t2, a zero time being after any other.
func afterOrZero(t1, t2 time.Time) bool {
	if t1.IsZero() || t2.IsZero() {
		return t1.IsZero()
	}
	return t1.After(t2)
}

// logRankDiff compares the base-2 logarithms of the ages of t1 and t2.
func logRankDiff(t1, t2, now time.Time) int64 {
	r := func(t time.Time) int64 {
		if d := now.Sub(t); d > 0 {
			return int64(math.Log2(float64(d)))
		}
		return -1
	}
	return r(t1) - r(t2)
}

// compareRestarts: the pod whose containers restarted most comes first;
// regular containers first, then restartable init containers (sidecars).
func compareRestarts(pi, pj *corev1.Pod) (bool, bool) {
	ri, si := maxRestarts(pi)
	rj, sj := maxRestarts(pj)
	if ri != rj {
		return ri > rj, true
	}
	if si != sj {
		return si > sj, true
	}
	return false, false
}

func maxRestarts(p *corev1.Pod) (regular, sidecar int32) {
	for _, c := range p.Status.ContainerStatuses {
		regular = max(regular, c.RestartCount)
	}
	sidecars := sets.New[string]()
	for _, c := range p.Spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sidecars.Insert(c.Name)
		}
	}
	for _, c := range p.Status.InitContainerStatuses {
		if sidecars.Has(c.Name) {
			sidecar = max(sidecar, c.RestartCount)
		}
	}
	return regular, sidecar
}
