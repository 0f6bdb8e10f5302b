package daemonset

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"github.com/kinc-dev/kinc/pkg/controller/internal/controllerref"
	"github.com/kinc-dev/kinc/pkg/controller/replicaset"
)

// sync brings the DaemonSet named key to its pods, revisions and status.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	ds, err := c.dsLister.DaemonSets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.expectations.forget(key)
		return nil
	}
	if err != nil {
		return err
	}
	nodes, err := c.nodeLister.List(labels.Everything())
	if err != nil {
		return err
	}
	if ds.Spec.Selector == nil || (len(ds.Spec.Selector.MatchLabels) == 0 && len(ds.Spec.Selector.MatchExpressions) == 0) {
		c.recorder.Eventf(ds, corev1.EventTypeWarning, ReasonSelectingAll, "This daemon set is selecting all pods. A non-empty selector is required.")
		return nil
	}
	if _, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector); err != nil {
		c.Logger().Error("invalid selector", "daemonSet", key, "err", err)
		return nil // validation forbids it: nothing to retry
	}
	if ds.DeletionTimestamp != nil {
		return nil
	}
	cur, old, err := c.constructHistory(ctx, ds)
	if err != nil {
		return fmt.Errorf("failed to construct revisions of DaemonSet: %w", err)
	}
	hash := cur.Labels[HashLabel]
	if !c.expectations.satisfied(key) {
		return c.updateStatus(ctx, ds, nodes, hash, false)
	}
	err = c.update(ctx, key, ds, nodes, hash, old)
	statusErr := c.updateStatus(ctx, ds, nodes, hash, true)
	if err != nil {
		return err
	}
	return statusErr
}

// update creates and deletes pods, rolls out the template and trims the
// history.
func (c *Controller) update(ctx context.Context, key string, ds *appsv1.DaemonSet, nodes []*corev1.Node, hash string, old []*appsv1.ControllerRevision) error {
	if err := c.manage(ctx, key, ds, nodes, hash); err != nil {
		return err
	}
	if c.expectations.satisfied(key) && ds.Spec.UpdateStrategy.Type == appsv1.RollingUpdateDaemonSetStrategyType {
		if err := c.rollingUpdate(ctx, key, ds, nodes, hash); err != nil {
			return err
		}
	}
	if err := c.cleanupHistory(ctx, ds, old); err != nil {
		return fmt.Errorf("failed to clean up revisions of DaemonSet: %w", err)
	}
	return nil
}

// daemonPods returns the pods ds controls after adopting the orphans its
// selector matches and releasing those it no longer matches.
func (c *Controller) daemonPods(ctx context.Context, ds *appsv1.DaemonSet) ([]*corev1.Pod, error) {
	sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil {
		return nil, err
	}
	pods, err := replicaset.PodsOwnedOrOrphaned(c.podIndexer, ds.Namespace, ds.UID)
	if err != nil {
		return nil, err
	}
	return controllerref.Claim(ctx, controllerref.Claimer{
		Owner: ds, Kind: Kind, Selector: sel,
		Recheck: controllerref.Recheck("DaemonSet", ds.Namespace, ds.Name, ds.UID, func(ctx context.Context) (metav1.Object, error) {
			return c.client.AppsV1().DaemonSets(ds.Namespace).Get(ctx, ds.Name, metav1.GetOptions{})
		}),
		Patch: func(ctx context.Context, name string, patch []byte) error {
			_, err := c.client.CoreV1().Pods(ds.Namespace).Patch(ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
			return err
		},
	}, pods)
}

// nodesToDaemonPods maps node names to ds's pods for them; terminal pods
// being deleted are left out unless includeDeletedTerminal.
func (c *Controller) nodesToDaemonPods(ctx context.Context, ds *appsv1.DaemonSet, includeDeletedTerminal bool) (map[string][]*corev1.Pod, error) {
	pods, err := c.daemonPods(ctx, ds)
	if err != nil {
		return nil, err
	}
	out := map[string][]*corev1.Pod{}
	for _, pod := range pods {
		terminal := pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded
		if !includeDeletedTerminal && terminal && pod.DeletionTimestamp != nil {
			continue
		}
		node, err := targetNodeName(pod)
		if err != nil {
			continue
		}
		out[node] = append(out[node], pod)
	}
	return out, nil
}

// manage creates the missing daemon pods and deletes the excess, failed
// and misplaced ones.
func (c *Controller) manage(ctx context.Context, key string, ds *appsv1.DaemonSet, nodes []*corev1.Node, hash string) error {
	byNode, err := c.nodesToDaemonPods(ctx, ds, false)
	if err != nil {
		return fmt.Errorf("couldn't get node to daemon pod mapping for daemon set %q: %w", ds.Name, err)
	}
	var create, del []string
	for _, node := range nodes {
		n, d := c.podsShouldBeOnNode(node, byNode, ds, hash)
		create = append(create, n...)
		del = append(del, d...)
	}
	// Unscheduled pods meant for nodes that are gone.
	known := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		known[n.Name] = true
	}
	for node, pods := range byNode {
		if known[node] {
			continue
		}
		for _, p := range pods {
			if p.Spec.NodeName == "" && p.DeletionTimestamp == nil {
				del = append(del, p.Name)
			}
		}
	}
	return c.syncNodes(ctx, key, ds, del, create, hash)
}

// podsShouldBeOnNode returns whether node needs a daemon pod, and which of
// its daemon pods to delete.
func (c *Controller) podsShouldBeOnNode(node *corev1.Node, byNode map[string][]*corev1.Pod, ds *appsv1.DaemonSet, hash string) (create, del []string) {
	run, cont := shouldRun(node, ds)
	pods, exists := byNode[node.Name]
	switch {
	case run && !exists:
		create = append(create, node.Name)
	case cont:
		var running []*corev1.Pod
		for _, pod := range pods {
			if pod.DeletionTimestamp != nil {
				continue
			}
			switch pod.Status.Phase {
			case corev1.PodFailed:
				bkey := ds.Namespace + "/" + ds.Name + "/" + string(ds.UID) + "/" + node.Name
				now := c.clock.Now()
				if c.backoff.IsInBackOffSinceUpdate(bkey, now) {
					c.EnqueueAfter(ds, c.backoff.Get(bkey))
					continue
				}
				c.backoff.Next(bkey, now)
				c.recorder.Eventf(ds, corev1.EventTypeWarning, ReasonFailedDaemonPod, "Found failed daemon pod %s/%s on node %s, will try to kill it", pod.Namespace, pod.Name, node.Name)
				del = append(del, pod.Name)
			case corev1.PodSucceeded:
				c.recorder.Eventf(ds, corev1.EventTypeNormal, ReasonSucceededDaemonPod, "Found succeeded daemon pod %s/%s on node %s, will try to delete it", pod.Namespace, pod.Name, node.Name)
				del = append(del, pod.Name)
			default:
				running = append(running, pod)
			}
		}
		sort.Sort(byCreationAndPhase(running))
		if !allowsSurge(ds) {
			for _, p := range running[min(1, len(running)):] {
				del = append(del, p.Name)
			}
			break
		}
		if len(running) <= 1 {
			if len(running) == 0 && run {
				create = append(create, node.Name)
			}
			break
		}
		// With surge, keep the oldest updated and the oldest old pod, and
		// the old one only until the new one is available.
		var newest, oldest *corev1.Pod
		for _, p := range running {
			if p.Labels[appsv1.ControllerRevisionHashLabelKey] == hash {
				if newest == nil {
					newest = p
					continue
				}
			} else if oldest == nil {
				oldest = p
				continue
			}
			del = append(del, p.Name)
		}
		if newest != nil && oldest != nil {
			if !replicaset.IsPodReady(oldest) || replicaset.IsPodAvailable(newest, ds.Spec.MinReadySeconds, c.clock.Now()) {
				del = append(del, oldest.Name)
			}
		}
	case exists:
		for _, p := range pods {
			if p.DeletionTimestamp == nil {
				del = append(del, p.Name)
			}
		}
	}
	return create, del
}

// syncNodes deletes podsToDelete and creates a pod for each node of
// nodesNeeding, at most BurstReplicas of each, creates in slow-start
// batches, under expectations.
func (c *Controller) syncNodes(ctx context.Context, key string, ds *appsv1.DaemonSet, podsToDelete, nodesNeeding []string, hash string) error {
	nCreate := min(len(nodesNeeding), BurstReplicas)
	nDelete := min(len(podsToDelete), BurstReplicas)
	c.expectations.set(key, nCreate, nDelete)
	var mu sync.Mutex
	var errs []error
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	template := podTemplate(ds, hash)
	ref := replicaset.ControllerRef(ds, Kind.Kind, Kind.GroupVersion().String())
	// At most replicaset.DefaultMaxInFlight calls at once: a larger burst
	// exceeds the apiserver's mutating in-flight limit and gets 429s.
	sem := make(chan struct{}, replicaset.DefaultMaxInFlight)
	for pos, batch := 0, min(nCreate, 1); pos < nCreate; pos, batch = pos+batch, min(2*batch, nCreate-(pos+batch)) {
		before := len(errs)
		var wg sync.WaitGroup
		for i := pos; i < pos+batch; i++ {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				if err := c.createPod(ctx, ds, template, &ref, nodesNeeding[i]); err != nil {
					if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
						return // observed as never coming
					}
					c.expectations.creationObserved(key)
					fail(err)
				}
			})
		}
		wg.Wait()
		if skipped := nCreate - (pos + batch); len(errs) > before && skipped > 0 {
			c.expectations.lower(key, skipped, 0)
			break
		}
	}
	var wg sync.WaitGroup
	for _, name := range podsToDelete[:nDelete] {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := c.deletePodOf(ctx, ds, name); err != nil {
				c.expectations.deletionObserved(key)
				if !apierrors.IsNotFound(err) {
					fail(err)
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// createPod creates ds's pod for node and records the event.
func (c *Controller) createPod(ctx context.Context, ds *appsv1.DaemonSet, template *corev1.PodTemplateSpec, ref *metav1.OwnerReference, node string) error {
	t := template.DeepCopy()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		GenerateName:    ds.Name + "-",
		Labels:          t.Labels,
		Annotations:     t.Annotations,
		Finalizers:      t.Finalizers,
		OwnerReferences: []metav1.OwnerReference{*ref},
	}, Spec: t.Spec}
	pod.Spec.Affinity = nodeNameAffinity(pod.Spec.Affinity, node)
	created, err := c.client.CoreV1().Pods(ds.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		if !apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			c.recorder.Eventf(ds, corev1.EventTypeWarning, ReasonFailedCreate, "Error creating: %v", err)
		}
		return err
	}
	c.recorder.Eventf(ds, corev1.EventTypeNormal, ReasonSuccessfulCreate, "Created pod: %v", created.Name)
	return nil
}

// deletePodOf deletes ds's pod name and records the event.
func (c *Controller) deletePodOf(ctx context.Context, ds *appsv1.DaemonSet, name string) error {
	err := c.client.CoreV1().Pods(ds.Namespace).Delete(ctx, name, metav1.DeleteOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) {
			return err
		}
		c.recorder.Eventf(ds, corev1.EventTypeWarning, ReasonFailedDelete, "Error deleting: %v", err)
		return fmt.Errorf("unable to delete pods: %w", err)
	}
	c.recorder.Eventf(ds, corev1.EventTypeNormal, ReasonSuccessfulDelete, "Deleted pod: %v", name)
	return nil
}

// byCreationAndPhase orders a node's daemon pods: scheduled before not,
// running before not, then oldest first (upstream's
// podByCreationTimestampAndPhase).
type byCreationAndPhase []*corev1.Pod

func (o byCreationAndPhase) Len() int      { return len(o) }
func (o byCreationAndPhase) Swap(i, j int) { o[i], o[j] = o[j], o[i] }
func (o byCreationAndPhase) Less(i, j int) bool {
	if (o[i].Spec.NodeName == "") != (o[j].Spec.NodeName == "") {
		return o[i].Spec.NodeName != ""
	}
	if ri, rj := o[i].Status.Phase == corev1.PodRunning, o[j].Status.Phase == corev1.PodRunning; ri != rj {
		return ri
	}
	if o[i].CreationTimestamp.Equal(&o[j].CreationTimestamp) {
		return o[i].Name < o[j].Name
	}
	return o[i].CreationTimestamp.Before(&o[j].CreationTimestamp)
}

// updateStatus computes and writes ds's status counts; observedGeneration
// only when updateObservedGen.
func (c *Controller) updateStatus(ctx context.Context, ds *appsv1.DaemonSet, nodes []*corev1.Node, hash string, updateObservedGen bool) error {
	byNode, err := c.nodesToDaemonPods(ctx, ds, false)
	if err != nil {
		return fmt.Errorf("couldn't get node to daemon pod mapping for daemon set %q: %w", ds.Name, err)
	}
	now := c.clock.Now()
	gen := templateGeneration(ds)
	var s appsv1.DaemonSetStatus
	for _, node := range nodes {
		run, _ := shouldRun(node, ds)
		pods := byNode[node.Name]
		if !run {
			if len(pods) > 0 {
				s.NumberMisscheduled++
			}
			continue
		}
		s.DesiredNumberScheduled++
		if len(pods) == 0 {
			continue
		}
		s.CurrentNumberScheduled++
		sorted := append([]*corev1.Pod(nil), pods...)
		sort.Sort(byCreationAndPhase(sorted))
		pod := sorted[0]
		if replicaset.IsPodReady(pod) {
			s.NumberReady++
			if replicaset.IsPodAvailable(pod, ds.Spec.MinReadySeconds, now) {
				s.NumberAvailable++
			}
		}
		if isPodUpdated(pod, hash, gen) {
			s.UpdatedNumberScheduled++
		}
	}
	s.NumberUnavailable = s.DesiredNumberScheduled - s.NumberAvailable
	if err := c.storeStatus(ctx, ds, s, updateObservedGen); err != nil {
		return fmt.Errorf("error storing status for daemon set %s/%s: %w", ds.Namespace, ds.Name, err)
	}
	if ds.Spec.MinReadySeconds > 0 && s.NumberReady != s.NumberAvailable {
		c.EnqueueAfter(ds, time.Duration(ds.Spec.MinReadySeconds)*time.Second)
	}
	return nil
}

// statusUpdateRetries is upstream's StatusUpdateRetries.
const statusUpdateRetries = 1

func sameCounts(a, b *appsv1.DaemonSetStatus) bool {
	return a.DesiredNumberScheduled == b.DesiredNumberScheduled && a.CurrentNumberScheduled == b.CurrentNumberScheduled &&
		a.NumberMisscheduled == b.NumberMisscheduled && a.NumberReady == b.NumberReady &&
		a.UpdatedNumberScheduled == b.UpdatedNumberScheduled && a.NumberAvailable == b.NumberAvailable &&
		a.NumberUnavailable == b.NumberUnavailable
}

// storeStatus writes s's counts when they (or observedGeneration) are out
// of date, retrying a failure once on a fresh read.
func (c *Controller) storeStatus(ctx context.Context, ds *appsv1.DaemonSet, s appsv1.DaemonSetStatus, updateObservedGen bool) error {
	if sameCounts(&ds.Status, &s) && ds.Status.ObservedGeneration >= ds.Generation {
		return nil
	}
	client := c.client.AppsV1().DaemonSets(ds.Namespace)
	toUpdate := ds.DeepCopy()
	for i := 0; ; i++ {
		if updateObservedGen {
			toUpdate.Status.ObservedGeneration = ds.Generation
		}
		st := &toUpdate.Status
		st.DesiredNumberScheduled, st.CurrentNumberScheduled, st.NumberMisscheduled = s.DesiredNumberScheduled, s.CurrentNumberScheduled, s.NumberMisscheduled
		st.NumberReady, st.UpdatedNumberScheduled, st.NumberAvailable, st.NumberUnavailable = s.NumberReady, s.UpdatedNumberScheduled, s.NumberAvailable, s.NumberUnavailable
		_, err := client.UpdateStatus(ctx, toUpdate, metav1.UpdateOptions{})
		if err == nil || i >= statusUpdateRetries {
			return err
		}
		fresh, getErr := client.Get(ctx, ds.Name, metav1.GetOptions{})
		if getErr != nil {
			return getErr
		}
		if fresh.UID != ds.UID {
			return nil // replaced: its own sync follows
		}
		toUpdate = fresh
	}
}
