package statefulset

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/kinc-dev/kinc/pkg/controller/replicaset"
)

// MaxBatchSize bounds one slow-start batch of a Parallel StatefulSet.
const MaxBatchSize = 500

// update reconciles set's pods (already claimed) with its revisions and
// writes its status; it trims the history in any case.
func (c *Controller) update(ctx context.Context, set *appsv1.StatefulSet, pods []*corev1.Pod, revs []*appsv1.ControllerRevision, now time.Time) (*appsv1.StatefulSetStatus, error) {
	set = set.DeepCopy()
	current, update, collisionCount, err := c.revisionsFor(ctx, set, revs)
	if err != nil {
		return nil, errors.Join(err, c.truncateHistory(ctx, set, pods, revs, current, update))
	}
	status, err := c.updatePods(ctx, set, current, update, collisionCount, pods, now)
	if err != nil && status == nil {
		return nil, errors.Join(err, c.truncateHistory(ctx, set, pods, revs, current, update))
	}
	statusErr := c.updateStatus(ctx, set, status)
	if err == nil {
		err = statusErr
	} else if statusErr != nil {
		c.Logger().Error("could not update status", "statefulSet", set.Namespace+"/"+set.Name, "err", statusErr)
	}
	return status, errors.Join(err, c.truncateHistory(ctx, set, pods, revs, current, update))
}

// countPods fills status's pod counts from podLists.
func countPods(status *appsv1.StatefulSetStatus, minReadySeconds int32, current, update *appsv1.ControllerRevision, now time.Time, podLists ...[]*corev1.Pod) {
	status.Replicas, status.ReadyReplicas, status.AvailableReplicas, status.CurrentReplicas, status.UpdatedReplicas = 0, 0, 0, 0, 0
	for _, list := range podLists {
		for _, pod := range list {
			if pod == nil {
				continue
			}
			if isCreated(pod) {
				status.Replicas++
			}
			if isRunningAndReady(pod) {
				status.ReadyReplicas++
				if isRunningAndAvailable(pod, minReadySeconds, now) {
					status.AvailableReplicas++
				}
			}
			if isCreated(pod) && !isTerminating(pod) {
				rev := podRevision(pod)
				if rev == current.Name {
					status.CurrentReplicas++
				}
				if rev == update.Name {
					status.UpdatedReplicas++
				}
			}
		}
	}
}

// updatePods is upstream's updateStatefulSet: create or fix the pods of
// the ordinal range, delete the condemned ones above it, then roll out the
// update revision; it returns the resulting status.
func (c *Controller) updatePods(ctx context.Context, set *appsv1.StatefulSet, current, update *appsv1.ControllerRevision, collisionCount int32, pods []*corev1.Pod, now time.Time) (*appsv1.StatefulSetStatus, error) {
	currentSet, err := applyRevision(set, current)
	if err != nil {
		return nil, err
	}
	updateSet, err := applyRevision(set, update)
	if err != nil {
		return nil, err
	}
	switch set.Spec.UpdateStrategy.Type {
	case appsv1.RollingUpdateStatefulSetStrategyType, appsv1.OnDeleteStatefulSetStrategyType, "":
	default:
		// Recreate is alpha and off in upstream 1.37.
		err := fmt.Errorf("statefulset %s/%s uses %s strategy but feature gate StatefulSetRecreateStrategy is disabled", set.Namespace, set.Name, set.Spec.UpdateStrategy.Type)
		c.recorder.Event(set, corev1.EventTypeWarning, "UnknownStrategy", err.Error())
		return nil, err
	}
	status := &appsv1.StatefulSetStatus{
		ObservedGeneration: set.Generation,
		CurrentRevision:    current.Name,
		UpdateRevision:     update.Name,
		CollisionCount:     &collisionCount,
		Conditions:         append([]appsv1.StatefulSetCondition(nil), set.Status.Conditions...),
	}
	minReady := set.Spec.MinReadySeconds
	countPods(status, minReady, current, update, now, pods)

	start, end := startOrdinal(set), endOrdinal(set)
	replicas := make([]*corev1.Pod, replicasOf(set))
	var condemned []*corev1.Pod
	for _, pod := range pods {
		if inOrdinalRange(pod, set) {
			replicas[ordinalOf(pod)-start] = pod
		} else if ordinalOf(pod) >= 0 {
			condemned = append(condemned, pod)
		}
	}
	for o := start; o <= end; o++ {
		if replicas[o-start] == nil {
			replicas[o-start] = newVersionedPod(currentSet, updateSet, current.Name, update.Name, o)
		}
	}
	sort.Slice(condemned, func(i, j int) bool { return ordinalOf(condemned[i]) > ordinalOf(condemned[j]) })

	var firstUnavailable *corev1.Pod
	for _, p := range replicas {
		if isUnavailable(p, minReady, now) && firstUnavailable == nil {
			firstUnavailable = p
		}
	}
	for i := len(condemned) - 1; i >= 0; i-- {
		if isUnavailable(condemned[i], minReady, now) && firstUnavailable == nil {
			firstUnavailable = condemned[i]
		}
	}
	if set.DeletionTimestamp != nil {
		return status, nil
	}
	monotonic := set.Spec.PodManagementPolicy != appsv1.ParallelPodManagement
	recount := func() { countPods(status, minReady, current, update, now, replicas, condemned) }

	processReplica := func(i int) (bool, error) {
		return c.processReplica(ctx, set, updateSet, monotonic, replicas, i, now)
	}
	if exit, err := runForAll(replicas, processReplica, monotonic); exit || err != nil {
		recount()
		return status, err
	}
	processCondemned := func(i int) (bool, error) {
		return c.processCondemned(ctx, set, firstUnavailable, monotonic, condemned, i, now)
	}
	if exit, err := runForAll(condemned, processCondemned, monotonic); exit || err != nil {
		recount()
		return status, err
	}
	recount()
	if set.Spec.UpdateStrategy.Type == appsv1.OnDeleteStatefulSetStrategyType {
		return status, nil
	}
	return c.rollingUpdate(ctx, set, replicas, update, status, now)
}

// processReplica brings replica i to life: a terminal pod is deleted (and
// recreated next sync), a missing one created, a pending one gets its
// claims; a monotonic set stops at the first pod not Running, Ready and
// available. It returns true to stop the pass.
func (c *Controller) processReplica(ctx context.Context, set, updateSet *appsv1.StatefulSet, monotonic bool, replicas []*corev1.Pod, i int, now time.Time) (bool, error) {
	pod := replicas[i]
	if isTerminal(pod) {
		if pod.DeletionTimestamp == nil {
			if err := c.deletePod(ctx, set, pod); err != nil {
				return true, err
			}
		}
		return true, nil
	}
	if !isCreated(pod) {
		if err := c.createPod(ctx, set, pod); err != nil {
			return true, err
		}
		if monotonic {
			return true, nil
		}
	}
	if isPending(pod) && len(set.Spec.VolumeClaimTemplates) > 0 {
		if err := c.createClaims(ctx, set, pod); err != nil {
			return true, err
		}
	}
	if monotonic && (isTerminating(pod) || !isRunningAndReady(pod) || !isRunningAndAvailable(pod, set.Spec.MinReadySeconds, now)) {
		return true, nil
	}
	if identityMatches(set, pod) && storageMatches(set, pod) {
		return false, nil
	}
	return false, c.updatePod(ctx, updateSet, pod.DeepCopy())
}

// processCondemned deletes a pod above the ordinal range; a monotonic set
// deletes one at a time, highest first, and only while every other pod is
// healthy.
func (c *Controller) processCondemned(ctx context.Context, set *appsv1.StatefulSet, firstUnavailable *corev1.Pod, monotonic bool, condemned []*corev1.Pod, i int, now time.Time) (bool, error) {
	pod := condemned[i]
	if isTerminating(pod) {
		return monotonic, nil
	}
	if monotonic && pod != firstUnavailable &&
		(!isRunningAndReady(pod) || !isRunningAndAvailable(pod, set.Spec.MinReadySeconds, now)) {
		return true, nil
	}
	return true, c.deletePod(ctx, set, pod)
}

// runForAll calls fn for each pod: in order, stopping at the first true or
// error, when monotonic; else in slow-start batches.
func runForAll(pods []*corev1.Pod, fn func(i int) (bool, error), monotonic bool) (bool, error) {
	if monotonic {
		for i := range pods {
			if exit, err := fn(i); exit || err != nil {
				return true, err
			}
		}
		return false, nil
	}
	// Batches keep upstream's sizes; at most replicaset.DefaultMaxInFlight
	// calls run at once (more exceed the apiserver's in-flight limit).
	sem := make(chan struct{}, replicaset.DefaultMaxInFlight)
	next, remaining := 0, len(pods)
	for batch := min(remaining, 1); batch > 0; batch = min(2*batch, remaining, MaxBatchSize) {
		errCh := make(chan error, batch)
		var wg sync.WaitGroup
		for range batch {
			i := next
			next++
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				if _, err := fn(i); err != nil {
					errCh <- err
				}
			})
		}
		wg.Wait()
		close(errCh)
		var errs []error
		for err := range errCh {
			errs = append(errs, err)
		}
		if len(errs) > 0 {
			return true, errors.Join(errs...)
		}
		remaining -= batch
	}
	return false, nil
}

// maxUnavailable scales the rolling update's maxUnavailable (default 1)
// to replicas, rounding down, at least 1.
func maxUnavailable(set *appsv1.StatefulSet) (int, error) {
	r := set.Spec.UpdateStrategy.RollingUpdate
	if r == nil {
		return 1, nil
	}
	n, err := intstr.GetScaledValueFromIntOrPercent(intstr.ValueOrDefault(r.MaxUnavailable, intstr.FromInt32(1)), replicasOf(set), false)
	if err != nil {
		return 0, err
	}
	return max(n, 1), nil
}

// rollingUpdate deletes out-of-date pods at or above the partition,
// highest ordinal first, within maxUnavailable (upstream's
// MaxUnavailableStatefulSet, on by default in 1.37); processReplica
// recreates them from the update revision.
func (c *Controller) rollingUpdate(ctx context.Context, set *appsv1.StatefulSet, replicas []*corev1.Pod, update *appsv1.ControllerRevision, status *appsv1.StatefulSetStatus, now time.Time) (*appsv1.StatefulSetStatus, error) {
	minReady := set.Spec.MinReadySeconds
	updateMin := 0
	if r := set.Spec.UpdateStrategy.RollingUpdate; r != nil && r.Partition != nil {
		updateMin = int(*r.Partition)
	}
	maxUnavail, err := maxUnavailable(set)
	if err != nil {
		return status, err
	}
	parallel := set.Spec.PodManagementPolicy == appsv1.ParallelPodManagement
	unavailable, unavailableNeedingUpdate := 0, 0
	for _, pod := range replicas {
		if isUnavailable(pod, minReady, now) {
			unavailable++
			if parallel && podRevision(pod) != update.Name && !isTerminating(pod) {
				unavailableNeedingUpdate++
			}
		}
	}
	if unavailable >= maxUnavail && unavailableNeedingUpdate == 0 {
		return status, nil
	}
	del := func(pod *corev1.Pod) error {
		if err := c.deletePod(ctx, set, pod); err != nil {
			return err
		}
		status.CurrentReplicas--
		return nil
	}
	if parallel {
		for t := len(replicas) - 1; t >= updateMin; t-- {
			pod := replicas[t]
			if podRevision(pod) != update.Name && !isRunningAndAvailable(pod, minReady, now) && !isTerminating(pod) {
				if err := del(pod); err != nil {
					return status, err
				}
			}
		}
		budget := maxUnavail - unavailable
		for t := len(replicas) - 1; t >= updateMin && budget > 0; t-- {
			pod := replicas[t]
			if podRevision(pod) != update.Name && !isUnavailable(pod, minReady, now) {
				if err := del(pod); err != nil {
					return status, err
				}
				budget--
			}
		}
		return status, nil
	}
	toDelete, deleted := maxUnavail-unavailable, 0
	for t := len(replicas) - 1; t >= updateMin && deleted < toDelete; t-- {
		if podRevision(replicas[t]) != update.Name && !isTerminating(replicas[t]) {
			if err := del(replicas[t]); err != nil {
				return status, err
			}
			deleted++
		}
	}
	return status, nil
}

// inconsistent reports whether status differs from set's stored one.
func inconsistent(set *appsv1.StatefulSet, s *appsv1.StatefulSetStatus) bool {
	o := &set.Status
	return s.ObservedGeneration > o.ObservedGeneration || s.Replicas != o.Replicas || s.CurrentReplicas != o.CurrentReplicas ||
		s.ReadyReplicas != o.ReadyReplicas || s.UpdatedReplicas != o.UpdatedReplicas || s.CurrentRevision != o.CurrentRevision ||
		s.AvailableReplicas != o.AvailableReplicas || s.UpdateRevision != o.UpdateRevision ||
		!reflect.DeepEqual(o.Conditions, s.Conditions) || !reflect.DeepEqual(o.CollisionCount, s.CollisionCount)
}

// updateStatus completes a finished rollout (current revision := update
// revision) and writes status when it changed, retrying conflicts from a
// fresh read.
func (c *Controller) updateStatus(ctx context.Context, set *appsv1.StatefulSet, status *appsv1.StatefulSetStatus) error {
	n := int32(replicasOf(set))
	if status.UpdatedReplicas == n && status.ReadyReplicas == n && status.Replicas == n {
		status.CurrentReplicas = status.UpdatedReplicas
		status.CurrentRevision = status.UpdateRevision
	}
	if !inconsistent(set, status) {
		return nil
	}
	client := c.client.AppsV1().StatefulSets(set.Namespace)
	toUpdate := set.DeepCopy()
	for i := 0; ; i++ {
		toUpdate.Status = *status
		_, err := client.UpdateStatus(ctx, toUpdate, metav1.UpdateOptions{})
		if err == nil {
			return nil
		}
		if i >= 4 || !apierrors.IsConflict(err) {
			return err
		}
		fresh, getErr := client.Get(ctx, set.Name, metav1.GetOptions{})
		if getErr != nil {
			return fmt.Errorf("error getting updated StatefulSet %s/%s: %w", set.Namespace, set.Name, getErr)
		}
		if fresh.UID != set.UID {
			return nil
		}
		toUpdate = fresh
	}
}
