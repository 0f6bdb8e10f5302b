// Package disruption is kinc's "disruption" controller (upstream's
// disruption-controller): it keeps the status of every policy/v1
// PodDisruptionBudget, which the eviction API reads to allow or refuse a
// voluntary disruption.
//
// Per sync of a PodDisruptionBudget, as upstream:
//   - the pods its selector matches in its namespace are listed (none: a
//     Normal NoPods "No matching pods found" event);
//   - expectedPods is the number of matching pods when spec.minAvailable is
//     an integer; otherwise (a minAvailable percentage, or maxUnavailable)
//     it is the sum of the scales of the pods' controllers: a ReplicaSet's
//     spec.replicas (a Deployment's when the ReplicaSet has one), a
//     StatefulSet's, or for any other kind the scale subresource found
//     through discovery. Pods without a controller are counted as none and
//     reported by a Warning UnmanagedPods event; a pod whose controller is
//     not found fails the sync (Warning CalculateExpectedPodCountFailed);
//   - desiredHealthy is minAvailable, or expectedPods - maxUnavailable
//     (at least 0), percentages of expectedPods rounded up;
//   - currentHealthy counts Ready pods that are not being deleted and not
//     listed in status.disruptedPods (by the eviction API) for less than
//     DeletionTimeout; entries older than that, or of pods being deleted or
//     gone, are dropped (a Warning NotDeleted event on a pod still there)
//     and the PDB is synced again when the next entry expires;
//   - disruptionsAllowed is currentHealthy - desiredHealthy, 0 when that is
//     negative or expectedPods is 0, with the DisruptionAllowed condition
//     (True SufficientPods, or False InsufficientPods) and
//     observedGeneration.
//
// The status is written through /status only when it changed. A conflict
// is retried (requeued); any other failure writes the fail-safe status
// (disruptionsAllowed 0, DisruptionAllowed False with reason SyncFailed and
// the error as message).
//
// It also resets stale DisruptionTarget pod conditions as upstream: a pod
// not being deleted and not in a terminal phase whose DisruptionTarget
// condition is True (not set by the kubelet) for
// StalePodDisruptionTimeout gets it set to False. Those pods are queued
// under keys StalePodKeyPrefix + "namespace/name".
package disruption

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	appsinformers "k8s.io/client-go/informers/apps/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	policyinformers "k8s.io/client-go/informers/policy/v1"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	policylisters "k8s.io/client-go/listers/policy/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/controller"
	"github.com/kinc-dev/kinc/pkg/controller/internal/podstatus"
	"github.com/kinc-dev/kinc/pkg/controller/replicaset"
)

// Name is the controller's short name, as --controllers spells it too
// (upstream's canonical name is "disruption-controller").
const Name = "disruption"

// Component is the event source upstream's controller records events as.
const Component = "controllermanager"

// DefaultConcurrentSyncs is upstream's --concurrent-disruption-syncs.
const DefaultConcurrentSyncs = 1

// DeletionTimeout is how long an entry of status.disruptedPods (a pod the
// eviction API allowed to go) keeps the pod out of currentHealthy while
// the pod is not seen being deleted; upstream's value.
const DeletionTimeout = 2 * time.Minute

// DefaultStalePodDisruptionTimeout is how long a pod not being deleted
// keeps a True DisruptionTarget condition before it is reset; upstream's.
const DefaultStalePodDisruptionTimeout = 2 * time.Minute

// StalePodKeyPrefix prefixes the queue keys of pods whose DisruptionTarget
// condition is to be checked (namespaces cannot contain ':').
const StalePodKeyPrefix = "stale-pod:"

// Event reasons, as upstream's.
const (
	ReasonNoPods                          = "NoPods"
	ReasonCalculateExpectedPodCountFailed = "CalculateExpectedPodCountFailed"
	ReasonUnmanagedPods                   = "UnmanagedPods"
	ReasonNotDeleted                      = "NotDeleted"
	ReasonMultiplePodDisruptionBudgets    = "MultiplePodDisruptionBudgets"
)

// Options configure a Controller.
type Options struct {
	// Logger receives the loop's lines; nil discards them.
	Logger *slog.Logger
	// Clock drives retries, rechecks and condition times; nil means the
	// real clock.
	Clock clock.WithTicker
	// Recorder records the events; nil records none.
	Recorder record.EventRecorder
	// StalePodDisruptionTimeout overrides
	// DefaultStalePodDisruptionTimeout when positive.
	StalePodDisruptionTimeout time.Duration
}

// Controller is the disruption controller. Its queue keys are
// "namespace/name" of PodDisruptionBudgets, and StalePodKeyPrefix +
// "namespace/name" of pods. Run (from the embedded Loop) runs it.
type Controller struct {
	*controller.Loop
	client       kubernetes.Interface
	pdbLister    policylisters.PodDisruptionBudgetLister
	podLister    corelisters.PodLister
	rsLister     appslisters.ReplicaSetLister
	dLister      appslisters.DeploymentLister
	ssLister     appslisters.StatefulSetLister
	recorder     record.EventRecorder
	clock        clock.WithTicker
	staleTimeout time.Duration
}

// New returns a Controller reading PodDisruptionBudgets, pods and the
// pods' controllers through the given informers (whose factory the caller
// starts) and writing through client.
func New(client kubernetes.Interface, pods coreinformers.PodInformer, pdbs policyinformers.PodDisruptionBudgetInformer,
	rss appsinformers.ReplicaSetInformer, deployments appsinformers.DeploymentInformer, sss appsinformers.StatefulSetInformer,
	opts Options) *Controller {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Recorder == nil {
		opts.Recorder = &record.FakeRecorder{}
	}
	if opts.StalePodDisruptionTimeout <= 0 {
		opts.StalePodDisruptionTimeout = DefaultStalePodDisruptionTimeout
	}
	c := &Controller{client: client, pdbLister: pdbs.Lister(), podLister: pods.Lister(), rsLister: rss.Lister(),
		dLister: deployments.Lister(), ssLister: sss.Lister(), recorder: opts.Recorder, clock: opts.Clock,
		staleTimeout: opts.StalePodDisruptionTimeout}
	c.Loop = controller.New(controller.Config{Name: Name, Sync: c.sync, Logger: opts.Logger, Clock: opts.Clock,
		Synced: []cache.InformerSynced{pods.Informer().HasSynced, pdbs.Informer().HasSynced, rss.Informer().HasSynced,
			deployments.Informer().HasSynced, sss.Informer().HasSynced}})
	_, _ = pdbs.Informer().AddEventHandler(c.Handler(controller.HandlerOptions{}))
	_, _ = pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { c.podChanged(obj, true) },
		UpdateFunc: func(_, obj any) { c.podChanged(obj, true) },
		DeleteFunc: func(obj any) { c.podChanged(obj, false) },
	})
	return c
}

// podChanged enqueues the PDB of pod and, when checkStale, the pod itself
// for when its DisruptionTarget condition becomes stale.
func (c *Controller) podChanged(obj any, checkStale bool) {
	pod, ok := controller.Object[*corev1.Pod](obj)
	if !ok {
		return
	}
	if pdb := c.pdbForPod(pod); pdb != nil {
		c.Enqueue(pdb)
	}
	if !checkStale {
		return
	}
	if stale, after := c.staleDisruptionCondition(pod); stale {
		c.EnqueueKeyAfter(StalePodKeyPrefix+pod.Namespace+"/"+pod.Name, after)
	}
}

// pdbForPod returns the first PDB selecting pod, or nil; several get a
// Warning event on the pod, as upstream.
func (c *Controller) pdbForPod(pod *corev1.Pod) *policyv1.PodDisruptionBudget {
	pdbs, err := c.pdbLister.GetPodPodDisruptionBudgets(pod)
	if err != nil || len(pdbs) == 0 {
		return nil
	}
	if len(pdbs) > 1 {
		msg := fmt.Sprintf("Pod %q/%q matches multiple PodDisruptionBudgets.  Chose %q arbitrarily.", pod.Namespace, pod.Name, pdbs[0].Name)
		c.Logger().Info(msg)
		c.recorder.Event(pod, corev1.EventTypeWarning, ReasonMultiplePodDisruptionBudgets, msg)
	}
	return pdbs[0]
}

func (c *Controller) sync(ctx context.Context, key string) error {
	if podKey, ok := strings.CutPrefix(key, StalePodKeyPrefix); ok {
		return c.syncStalePod(ctx, podKey)
	}
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return err
	}
	pdb, err := c.pdbLister.PodDisruptionBudgets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	err = c.trySync(ctx, pdb)
	if err == nil || apierrors.IsConflict(err) {
		return err // a conflict: retried from the next cache state, no fail-safe
	}
	c.Logger().Error("failed to sync PDB", "pdb", key, "err", err)
	return c.failSafe(ctx, pdb, err)
}

func (c *Controller) trySync(ctx context.Context, pdb *policyv1.PodDisruptionBudget) error {
	pods, err := c.podsFor(pdb)
	if err != nil {
		c.recorder.Eventf(pdb, corev1.EventTypeWarning, ReasonNoPods, "Failed to get pods: %v", err)
		return err
	}
	if len(pods) == 0 {
		c.recorder.Eventf(pdb, corev1.EventTypeNormal, ReasonNoPods, "No matching pods found")
	}
	expected, desired, unmanaged, err := c.expectedPodCount(ctx, pdb, pods)
	if err != nil {
		c.recorder.Eventf(pdb, corev1.EventTypeWarning, ReasonCalculateExpectedPodCountFailed,
			"Failed to calculate the number of expected pods: %v", err)
		return err
	}
	if len(unmanaged) > 0 {
		c.Logger().Debug("unmanaged pods selected by a PDB", "pdb", pdb.Namespace+"/"+pdb.Name, "pods", unmanaged)
		c.recorder.Eventf(pdb, corev1.EventTypeWarning, ReasonUnmanagedPods, "Pods selected by this PodDisruptionBudget (selector: %v) were found "+
			"to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. "+
			"To account for these pods please set \".spec.minAvailable\" "+
			"field of the PDB to an integer value.", pdb.Spec.Selector)
	}
	now := c.clock.Now()
	disrupted, recheck := c.disruptedPods(pods, pdb, now)
	healthy := countHealthy(pods, disrupted, now)
	if err := c.updateStatus(ctx, pdb, healthy, desired, expected, disrupted); err != nil {
		return err
	}
	if recheck != nil {
		c.EnqueueAfter(pdb, recheck.Sub(now))
	}
	return nil
}

// podsFor lists the pods pdb's selector matches (never to be mutated).
func (c *Controller) podsFor(pdb *policyv1.PodDisruptionBudget) ([]*corev1.Pod, error) {
	sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
	if err != nil {
		return nil, err
	}
	return c.podLister.Pods(pdb.Namespace).List(sel)
}

// expectedPodCount returns expectedPods and desiredHealthy of pdb, and the
// names of the pods without a controller when the count needed scales.
func (c *Controller) expectedPodCount(ctx context.Context, pdb *policyv1.PodDisruptionBudget, pods []*corev1.Pod) (expected, desired int32, unmanaged []string, err error) {
	switch {
	case pdb.Spec.MaxUnavailable != nil:
		expected, unmanaged, err = c.expectedScale(ctx, pods)
		if err != nil {
			return 0, 0, nil, err
		}
		maxUnavailable, err := intstr.GetScaledValueFromIntOrPercent(pdb.Spec.MaxUnavailable, int(expected), true)
		if err != nil {
			return 0, 0, nil, err
		}
		desired = max(expected-int32(maxUnavailable), 0)
	case pdb.Spec.MinAvailable != nil && pdb.Spec.MinAvailable.Type == intstr.Int:
		desired = pdb.Spec.MinAvailable.IntVal
		expected = int32(len(pods))
	case pdb.Spec.MinAvailable != nil && pdb.Spec.MinAvailable.Type == intstr.String:
		expected, unmanaged, err = c.expectedScale(ctx, pods)
		if err != nil {
			return 0, 0, nil, err
		}
		minAvailable, err := intstr.GetScaledValueFromIntOrPercent(pdb.Spec.MinAvailable, int(expected), true)
		if err != nil {
			return 0, 0, nil, err
		}
		desired = int32(minAvailable)
	}
	return expected, desired, unmanaged, nil
}

// expectedScale sums the scales of the distinct controllers of pods; pods
// without a controller are returned by name.
func (c *Controller) expectedScale(ctx context.Context, pods []*corev1.Pod) (int32, []string, error) {
	scales := map[string]int32{} // by controller uid
	var unmanaged []string
	for _, pod := range pods {
		ref := metav1.GetControllerOfNoCopy(pod)
		if ref == nil {
			unmanaged = append(unmanaged, pod.Name)
			continue
		}
		if _, seen := scales[string(ref.UID)]; seen {
			continue
		}
		found, err := c.findController(ctx, ref, pod.Namespace)
		if err != nil {
			return 0, nil, err
		}
		if found == nil {
			return 0, nil, fmt.Errorf("found no controllers for pod %q", pod.Name)
		}
		scales[string(found.uid)] = found.scale
	}
	var sum int32
	for _, n := range scales {
		sum += n
	}
	return sum, unmanaged, nil
}

// countHealthy counts the Ready pods not being deleted and not disrupted
// for less than DeletionTimeout.
func countHealthy(pods []*corev1.Pod, disrupted map[string]metav1.Time, now time.Time) int32 {
	var n int32
	for _, pod := range pods {
		if pod.DeletionTimestamp != nil {
			continue
		}
		if t, ok := disrupted[pod.Name]; ok && t.Add(DeletionTimeout).After(now) {
			continue
		}
		if replicaset.IsPodReady(pod) {
			n++
		}
	}
	return n
}

// disruptedPods returns the entries of pdb's status.disruptedPods still
// pending (their pod is there, not being deleted, and DeletionTimeout has
// not passed), and when the first of them expires.
func (c *Controller) disruptedPods(pods []*corev1.Pod, pdb *policyv1.PodDisruptionBudget, now time.Time) (map[string]metav1.Time, *time.Time) {
	result := map[string]metav1.Time{}
	var recheck *time.Time
	if pdb.Status.DisruptedPods == nil {
		return result, nil
	}
	for _, pod := range pods {
		if pod.DeletionTimestamp != nil {
			continue
		}
		t, ok := pdb.Status.DisruptedPods[pod.Name]
		if !ok {
			continue
		}
		expected := t.Add(DeletionTimeout)
		if expected.Before(now) {
			c.Logger().Info("pod was expected to be deleted but it wasn't, updating PDB",
				"pod", pod.Namespace+"/"+pod.Name, "deletionTime", t, "pdb", pdb.Namespace+"/"+pdb.Name)
			// Upstream's message names the PDB's namespace twice.
			c.recorder.Eventf(pod, corev1.EventTypeWarning, ReasonNotDeleted, "Pod was expected by PDB %s/%s to be deleted but it wasn't",
				pdb.Namespace, pdb.Namespace)
			continue
		}
		if recheck == nil || expected.Before(*recheck) {
			recheck = &expected
		}
		result[pod.Name] = t
	}
	return result, recheck
}

// failSafe writes disruptionsAllowed 0 and DisruptionAllowed False
// (SyncFailed, err) after a failed sync, so that the eviction API refuses
// evictions while the status cannot be computed.
func (c *Controller) failSafe(ctx context.Context, pdb *policyv1.PodDisruptionBudget, err error) error {
	next := pdb.DeepCopy()
	next.Status.DisruptionsAllowed = 0
	if next.Status.Conditions == nil {
		next.Status.Conditions = []metav1.Condition{}
	}
	changed := apimeta.SetStatusCondition(&next.Status.Conditions, metav1.Condition{
		Type: policyv1.DisruptionAllowedCondition, Status: metav1.ConditionFalse, Reason: policyv1.SyncFailedReason,
		Message: err.Error(), ObservedGeneration: next.Status.ObservedGeneration, LastTransitionTime: metav1.NewTime(c.clock.Now()),
	})
	if !changed && pdb.Status.DisruptionsAllowed == 0 {
		return nil // already written: no write loop on our own update event
	}
	return c.writeStatus(ctx, next)
}

// updateStatus writes pdb's status from the computed counts when it
// differs from the current one.
func (c *Controller) updateStatus(ctx context.Context, pdb *policyv1.PodDisruptionBudget, healthy, desired, expected int32,
	disrupted map[string]metav1.Time) error {
	// expectedPods must be positive: a PDB that matched no pods is safe
	// when its first pods appear before this controller saw them.
	allowed := healthy - desired
	if expected <= 0 || allowed <= 0 {
		allowed = 0
	}
	st := pdb.Status
	if st.CurrentHealthy == healthy && st.DesiredHealthy == desired && st.ExpectedPods == expected &&
		st.DisruptionsAllowed == allowed && apiequality.Semantic.DeepEqual(st.DisruptedPods, disrupted) &&
		st.ObservedGeneration == pdb.Generation && conditionUpToDate(pdb) {
		return nil
	}
	next := pdb.DeepCopy()
	next.Status = policyv1.PodDisruptionBudgetStatus{
		CurrentHealthy: healthy, DesiredHealthy: desired, ExpectedPods: expected, DisruptionsAllowed: allowed,
		DisruptedPods: disrupted, ObservedGeneration: pdb.Generation, Conditions: next.Status.Conditions,
	}
	if next.Status.Conditions == nil {
		next.Status.Conditions = []metav1.Condition{}
	}
	apimeta.SetStatusCondition(&next.Status.Conditions, disruptionAllowedCondition(next.Status, c.clock.Now()))
	return c.writeStatus(ctx, next)
}

// disruptionAllowedCondition is the DisruptionAllowed condition st's
// disruptionsAllowed calls for.
func disruptionAllowedCondition(st policyv1.PodDisruptionBudgetStatus, now time.Time) metav1.Condition {
	cond := metav1.Condition{Type: policyv1.DisruptionAllowedCondition, Status: metav1.ConditionFalse,
		Reason: policyv1.InsufficientPodsReason, ObservedGeneration: st.ObservedGeneration, LastTransitionTime: metav1.NewTime(now)}
	if st.DisruptionsAllowed > 0 {
		cond.Status, cond.Reason = metav1.ConditionTrue, policyv1.SufficientPodsReason
	}
	return cond
}

// conditionUpToDate reports whether pdb's DisruptionAllowed condition
// matches its disruptionsAllowed for its current generation.
func conditionUpToDate(pdb *policyv1.PodDisruptionBudget) bool {
	cond := apimeta.FindStatusCondition(pdb.Status.Conditions, policyv1.DisruptionAllowedCondition)
	if cond == nil || pdb.Status.ObservedGeneration != pdb.Generation {
		return false
	}
	want := disruptionAllowedCondition(pdb.Status, time.Time{})
	return cond.Status == want.Status && cond.Reason == want.Reason
}

// writeStatus writes pdb's status through /status; a failure (a conflict
// among them) is returned for the queue to retry.
func (c *Controller) writeStatus(ctx context.Context, pdb *policyv1.PodDisruptionBudget) error {
	_, err := c.client.PolicyV1().PodDisruptionBudgets(pdb.Namespace).UpdateStatus(ctx, pdb, metav1.UpdateOptions{})
	return err
}

// staleDisruptionCondition reports whether pod has a DisruptionTarget
// condition that becomes stale, and in how long (0: now).
func (c *Controller) staleDisruptionCondition(pod *corev1.Pod) (bool, time.Duration) {
	if pod.DeletionTimestamp != nil {
		return false, 0
	}
	var cond *corev1.PodCondition
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == corev1.DisruptionTarget {
			cond = &pod.Status.Conditions[i]
			break
		}
	}
	// The kubelet's conditions are never stale (the pod may take long to
	// terminate); neither are those of pods in a terminal phase.
	if cond == nil || cond.Status != corev1.ConditionTrue || cond.Reason == corev1.PodReasonTerminationByKubelet ||
		pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return false, 0
	}
	return true, max(c.staleTimeout-c.clock.Since(cond.LastTransitionTime.Time), 0)
}

// syncStalePod sets the pod's stale DisruptionTarget condition to False.
func (c *Controller) syncStalePod(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return err
	}
	pod, err := c.podLister.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	stale, after := c.staleDisruptionCondition(pod)
	if !stale {
		return nil
	}
	if after > 0 {
		c.EnqueueKeyAfter(StalePodKeyPrefix+key, after)
		return nil
	}
	status := *pod.Status.DeepCopy()
	if !podstatus.SetCondition(&status, corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionFalse,
		ObservedGeneration: pod.Generation}, metav1.NewTime(c.clock.Now())) {
		return nil
	}
	if err := podstatus.Patch(ctx, c.client.CoreV1().Pods(ns), pod, status); err != nil {
		return err
	}
	c.Logger().Info("reset stale DisruptionTarget condition to False", "pod", key)
	return nil
}
