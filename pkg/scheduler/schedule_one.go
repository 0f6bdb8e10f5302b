package scheduler

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/util/workqueue"

	"github.com/kinc-dev/kinc/pkg/scheduler/framework"
	"github.com/kinc-dev/kinc/pkg/scheduler/metrics"
	"github.com/kinc-dev/kinc/pkg/scheduler/queue"
)

// parallelFilterThreshold is the node count from which Filter runs in
// parallel: below it, spreading the work costs more CPU than it saves
// (BenchmarkSchedulingAlgorithm, 200 nodes, 2 cores: about 40µs per pod
// sequential, 65µs with 16 goroutines).
const parallelFilterThreshold = 1000

// upstream's bounds on how many feasible nodes to look for.
const (
	minFeasibleNodesToFind           = 100
	minFeasibleNodesPercentageToFind = 5
)

// scheduleOne decides one pod: it pops it, finds its node, assumes it there
// and binds it asynchronously. It returns false once the queue is closed.
func (s *Scheduler) scheduleOne(ctx context.Context) bool {
	pInfo, err := s.queue.Pop()
	if err != nil {
		return false
	}
	pod := pInfo.Pod
	fwk, ok := s.profiles[pod.Spec.SchedulerName]
	if !ok || pod.DeletionTimestamp != nil || s.cache.Has(pod) {
		return true
	}
	start := s.clock.Now()
	cycle := s.queue.SchedulingCycle()
	state := framework.NewCycleState()
	s.cache.UpdateSnapshot(s.snapshot)
	host, err := s.schedulePod(ctx, fwk, state, pod)
	if err != nil {
		s.handleSchedulingFailure(ctx, fwk, pInfo, err, cycle, start)
		return true
	}
	assumed := pod.DeepCopy()
	assumed.Spec.NodeName = host
	if err := s.cache.AssumePod(assumed); err != nil {
		s.handleSchedulingFailure(ctx, fwk, pInfo, err, cycle, start)
		return true
	}
	select {
	case s.bindSem <- struct{}{}:
	case <-ctx.Done():
		_ = s.cache.ForgetPod(assumed)
		return false
	}
	go func() {
		defer func() { <-s.bindSem }()
		s.bind(ctx, fwk, pInfo, assumed, cycle, start)
	}()
	return true
}

// bind POSTs the binding; on failure it forgets the assumed pod and
// requeues the pod.
func (s *Scheduler) bind(ctx context.Context, fwk *framework.Framework, pInfo *queue.QueuedPodInfo, assumed *v1.Pod, cycle int64, start time.Time) {
	binding := &v1.Binding{
		ObjectMeta: metav1.ObjectMeta{Namespace: assumed.Namespace, Name: assumed.Name, UID: assumed.UID},
		Target:     v1.ObjectReference{Kind: "Node", Name: assumed.Spec.NodeName},
	}
	if err := s.client.CoreV1().Pods(assumed.Namespace).Bind(ctx, binding, metav1.CreateOptions{}); err != nil {
		if ferr := s.cache.ForgetPod(assumed); ferr != nil {
			// The pod was deleted (or confirmed) meanwhile.
			s.logger.Debug("forgetting assumed pod", "pod", queue.Key(assumed), "err", ferr)
		}
		if ctx.Err() != nil {
			return // stopping (or no longer leading): the next leader retries
		}
		s.queue.MoveAllToActiveOrBackoffQueue(nil) // the assumed pod's resources are free again
		s.handleSchedulingFailure(ctx, fwk, pInfo, err, cycle, start)
		return
	}
	s.cache.FinishBinding(assumed)
	s.metrics.ObserveAttempt(fwk.ProfileName(), metrics.ResultScheduled, s.clock.Since(start))
	s.logger.Debug("bound pod", "pod", queue.Key(assumed), "node", assumed.Spec.NodeName)
	s.recorders[fwk.ProfileName()].Eventf(assumed, v1.EventTypeNormal, "Scheduled",
		"Successfully assigned %v/%v to %v", assumed.Namespace, assumed.Name, assumed.Spec.NodeName)
}

// schedulePod returns the best node for pod, or a *FitError when none fits.
func (s *Scheduler) schedulePod(ctx context.Context, fwk *framework.Framework, state *framework.CycleState, pod *v1.Pod) (string, error) {
	all := s.snapshot.List()
	if len(all) == 0 {
		return "", ErrNoNodesAvailable
	}
	feasible, diagnosis, err := s.findNodesThatFitPod(ctx, fwk, state, pod, all)
	if err != nil {
		return "", err
	}
	if len(feasible) == 0 {
		diagnosis.PostFilterMsg = preemptionMessage(pod, diagnosis.NodeToStatus, s.snapshot, len(all))
		return "", &FitError{Pod: pod, NumAllNodes: len(all), Diagnosis: diagnosis}
	}
	if len(feasible) == 1 || !fwk.HasScorePlugins() {
		return feasible[0].Node().Name, nil
	}
	if st := fwk.RunPreScorePlugins(ctx, state, pod, feasible); !st.IsSuccess() {
		return "", st.AsError()
	}
	scores, st := fwk.RunScorePlugins(ctx, state, pod, feasible)
	if !st.IsSuccess() {
		return "", st.AsError()
	}
	return s.selectHost(scores), nil
}

// selectHost picks a highest score, breaking ties uniformly at random.
func (s *Scheduler) selectHost(scores framework.NodeScoreList) string {
	best, ties := 0, 1
	for i := 1; i < len(scores); i++ {
		switch {
		case scores[i].Score > scores[best].Score:
			best, ties = i, 1
		case scores[i].Score == scores[best].Score:
			ties++
			if s.rand.IntN(ties) == 0 {
				best = i
			}
		}
	}
	return scores[best].Name
}

// numFeasibleNodesToFind is upstream's rule: all nodes below 100; else a
// percentage (adaptive by default: 50% − 1% per 125 nodes, at least 5%)
// but at least 100.
func numFeasibleNodesToFind(percentage int32, numAllNodes int) int {
	if numAllNodes < minFeasibleNodesToFind {
		return numAllNodes
	}
	if percentage <= 0 {
		percentage = max(50-int32(numAllNodes/125), minFeasibleNodesPercentageToFind)
	}
	return max(numAllNodes*int(percentage)/100, minFeasibleNodesToFind)
}

// findNodesThatFitPod runs PreFilter, then Filter over the nodes in
// parallel, starting where the previous cycle stopped, until enough
// feasible nodes are found.
func (s *Scheduler) findNodesThatFitPod(ctx context.Context, fwk *framework.Framework, state *framework.CycleState, pod *v1.Pod, all []*framework.NodeInfo) ([]*framework.NodeInfo, Diagnosis, error) {
	diagnosis := Diagnosis{NodeToStatus: map[string]*framework.Status{}, UnschedulablePlugins: sets.New[string]()}
	if st := fwk.RunPreFilterPlugins(ctx, state, pod); !st.IsSuccess() {
		if !st.IsRejected() {
			return nil, diagnosis, st.AsError()
		}
		for _, n := range all {
			diagnosis.NodeToStatus[n.Node().Name] = st
		}
		diagnosis.PreFilterMsg = st.Message()
		diagnosis.UnschedulablePlugins.Insert(st.Plugin())
		return nil, diagnosis, nil
	}
	n, start := len(all), s.nextStartNodeIndex
	want := numFeasibleNodesToFind(fwk.PercentageOfNodesToScore(), n)
	feasible := make([]*framework.NodeInfo, want)
	statuses := make([]*framework.Status, n)
	var found, processed atomic.Int32
	var firstErr error
	var errOnce sync.Once
	checkCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	check := func(i int) {
		ni := all[(start+i)%n]
		st := fwk.RunFilterPlugins(checkCtx, state, pod, ni)
		processed.Add(1)
		switch {
		case st.IsSuccess():
			if k := found.Add(1); int(k) <= want {
				feasible[k-1] = ni
			} else {
				cancel()
			}
		case st.IsRejected():
			statuses[i] = st
		default:
			errOnce.Do(func() { firstErr = st.AsError(); cancel() })
		}
	}
	if n < s.parallelFilterThreshold || s.parallelism == 1 {
		for i := 0; i < n && checkCtx.Err() == nil; i++ {
			check(i)
		}
	} else {
		workqueue.ParallelizeUntil(checkCtx, s.parallelism, n, check)
	}
	if firstErr != nil {
		return nil, diagnosis, firstErr
	}
	feasible = feasible[:min(int(found.Load()), want)]
	s.nextStartNodeIndex = (start + int(processed.Load())) % n
	for i, st := range statuses {
		if st != nil {
			diagnosis.NodeToStatus[all[(start+i)%n].Node().Name] = st
			diagnosis.UnschedulablePlugins.Insert(st.Plugin())
		}
	}
	if errors.Is(ctx.Err(), context.Canceled) && len(feasible) == 0 {
		return nil, diagnosis, ctx.Err()
	}
	return feasible, diagnosis, nil
}
