package daemonset

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kinc-dev/kinc/pkg/controller/deployment"
	"github.com/kinc-dev/kinc/pkg/controller/internal/controllerref"
	"github.com/kinc-dev/kinc/pkg/controller/internal/history"
	"github.com/kinc-dev/kinc/pkg/controller/replicaset"
)

// Patch returns what ds's ControllerRevisions hold: the strategic merge
// patch {"spec":{"template":{…,"$patch":"replace"}}} that kubectl rollout
// undo applies to go back to that template.
func Patch(ds *appsv1.DaemonSet) ([]byte, error) {
	raw, err := json.Marshal(ds.Spec.Template)
	if err != nil {
		return nil, err
	}
	var template map[string]any
	if err := json.Unmarshal(raw, &template); err != nil {
		return nil, err
	}
	template["$patch"] = "replace"
	return json.Marshal(map[string]any{"spec": map[string]any{"template": template}})
}

// match reports whether rev holds ds's current template.
func match(ds *appsv1.DaemonSet, rev *appsv1.ControllerRevision) (bool, error) {
	p, err := Patch(ds)
	if err != nil {
		return false, err
	}
	return bytes.Equal(p, rev.Data.Raw), nil
}

// revisions returns the ControllerRevisions ds controls, after adopting
// and releasing by selector.
func (c *Controller) revisions(ctx context.Context, ds *appsv1.DaemonSet) ([]*appsv1.ControllerRevision, error) {
	sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil {
		return nil, err
	}
	all, err := c.revLister.ControllerRevisions(ds.Namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	var candidates []*appsv1.ControllerRevision
	for _, r := range all {
		if ref := metav1.GetControllerOfNoCopy(r); ref == nil || ref.UID == ds.UID {
			candidates = append(candidates, r)
		}
	}
	return controllerref.Claim(ctx, controllerref.Claimer{
		Owner: ds, Kind: Kind, Selector: sel,
		Recheck: controllerref.Recheck("DaemonSet", ds.Namespace, ds.Name, ds.UID, func(ctx context.Context) (metav1.Object, error) {
			return c.client.AppsV1().DaemonSets(ds.Namespace).Get(ctx, ds.Name, metav1.GetOptions{})
		}),
		Patch: func(ctx context.Context, name string, patch []byte) error {
			_, err := c.client.AppsV1().ControllerRevisions(ds.Namespace).Patch(ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
			return err
		},
	}, candidates)
}

// constructHistory returns ds's current revision (created, or renumbered
// to be the newest, as needed) and the old ones.
func (c *Controller) constructHistory(ctx context.Context, ds *appsv1.DaemonSet) (*appsv1.ControllerRevision, []*appsv1.ControllerRevision, error) {
	revs, err := c.revisions(ctx, ds)
	if err != nil {
		return nil, nil, err
	}
	var current, old []*appsv1.ControllerRevision
	for _, r := range revs {
		if _, ok := r.Labels[HashLabel]; !ok {
			// Revisions of old controllers lack the label: their name is it.
			u := r.DeepCopy()
			if u.Labels == nil {
				u.Labels = map[string]string{}
			}
			u.Labels[HashLabel] = u.Name
			if r, err = c.client.AppsV1().ControllerRevisions(ds.Namespace).Update(ctx, u, metav1.UpdateOptions{}); err != nil {
				return nil, nil, err
			}
		}
		ok, err := match(ds, r)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			current = append(current, r)
		} else {
			old = append(old, r)
		}
	}
	next := history.MaxRevision(old) + 1
	var cur *appsv1.ControllerRevision
	if len(current) == 0 {
		if cur, err = c.snapshot(ctx, ds, next); err != nil {
			return nil, nil, err
		}
		return cur, old, nil
	}
	if cur, err = c.dedup(ctx, ds, current); err != nil {
		return nil, nil, err
	}
	if cur.Revision < next {
		// A rollback: the old template is the newest revision again.
		if _, err := history.Renumber(ctx, c.client, cur, next); err != nil {
			return nil, nil, err
		}
	}
	return cur, old, nil
}

// snapshot creates ds's revision number rev of its template, named
// "<ds>-<pod template hash>"; a name taken by another template raises
// status.collisionCount and fails, to be retried with the new name.
func (c *Controller) snapshot(ctx context.Context, ds *appsv1.DaemonSet, rev int64) (*appsv1.ControllerRevision, error) {
	patch, err := Patch(ds)
	if err != nil {
		return nil, err
	}
	hash := deployment.ComputeHash(&ds.Spec.Template, ds.Status.CollisionCount)
	l := make(map[string]string, len(ds.Spec.Template.Labels)+1)
	for k, v := range ds.Spec.Template.Labels {
		l[k] = v
	}
	l[HashLabel] = hash
	cr := &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{
			Name:            ds.Name + "-" + hash,
			Namespace:       ds.Namespace,
			Labels:          l,
			Annotations:     ds.Annotations,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(ds, Kind)},
		},
		Data:     runtime.RawExtension{Raw: patch},
		Revision: rev,
	}
	created, err := c.client.AppsV1().ControllerRevisions(ds.Namespace).Create(ctx, cr, metav1.CreateOptions{})
	if !apierrors.IsAlreadyExists(err) {
		return created, err
	}
	existing, getErr := c.client.AppsV1().ControllerRevisions(ds.Namespace).Get(ctx, cr.Name, metav1.GetOptions{})
	if getErr != nil {
		return nil, getErr
	}
	if ok, _ := match(ds, existing); ok {
		return existing, nil
	}
	fresh, getErr := c.client.AppsV1().DaemonSets(ds.Namespace).Get(ctx, ds.Name, metav1.GetOptions{})
	if getErr != nil {
		return nil, getErr
	}
	if !reflect.DeepEqual(fresh.Status.CollisionCount, ds.Status.CollisionCount) {
		return nil, fmt.Errorf("found a stale collision count of DaemonSet %q while processing; will retry until it is updated", ds.Name)
	}
	n := int32(0)
	if fresh.Status.CollisionCount != nil {
		n = *fresh.Status.CollisionCount
	}
	n++
	fresh.Status.CollisionCount = &n
	if _, err := c.client.AppsV1().DaemonSets(ds.Namespace).UpdateStatus(ctx, fresh, metav1.UpdateOptions{}); err != nil {
		return nil, err
	}
	c.Logger().Info("hash collision for DaemonSet, bumping collisionCount", "daemonSet", ds.Namespace+"/"+ds.Name, "collisionCount", n)
	return nil, err
}

// dedup keeps the newest of several revisions of the current template:
// the pods of the others are relabelled with its hash, the others deleted.
func (c *Controller) dedup(ctx context.Context, ds *appsv1.DaemonSet, current []*appsv1.ControllerRevision) (*appsv1.ControllerRevision, error) {
	if len(current) == 1 {
		return current[0], nil
	}
	keep := current[0]
	for _, r := range current {
		if r.Revision >= keep.Revision {
			keep = r
		}
	}
	pods, err := c.daemonPods(ctx, ds)
	if err != nil {
		return nil, err
	}
	hash := keep.Labels[HashLabel]
	for _, p := range pods {
		if p.Labels[HashLabel] == hash {
			continue
		}
		patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"labels": map[string]string{HashLabel: hash}}})
		if _, err := c.client.CoreV1().Pods(ds.Namespace).Patch(ctx, p.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			return nil, err
		}
	}
	for _, r := range current {
		if r.Name == keep.Name {
			continue
		}
		if err := c.client.AppsV1().ControllerRevisions(ds.Namespace).Delete(ctx, r.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return nil, err
		}
	}
	return keep, nil
}

// cleanupHistory deletes the oldest old revisions past
// revisionHistoryLimit that no pod still runs.
func (c *Controller) cleanupHistory(ctx context.Context, ds *appsv1.DaemonSet, old []*appsv1.ControllerRevision) error {
	limit := 10
	if ds.Spec.RevisionHistoryLimit != nil {
		limit = int(*ds.Spec.RevisionHistoryLimit)
	}
	toKill := len(old) - limit
	if toKill <= 0 {
		return nil
	}
	byNode, err := c.nodesToDaemonPods(ctx, ds, true)
	if err != nil {
		return err
	}
	live := map[string]bool{}
	for _, pods := range byNode {
		for _, p := range pods {
			if h := p.Labels[HashLabel]; h != "" {
				live[h] = true
			}
		}
	}
	sorted := append([]*appsv1.ControllerRevision(nil), old...)
	history.Sort(sorted)
	for _, r := range sorted {
		if toKill <= 0 {
			break
		}
		if live[r.Labels[HashLabel]] {
			continue
		}
		if err := c.client.AppsV1().ControllerRevisions(ds.Namespace).Delete(ctx, r.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		toKill--
	}
	return nil
}

// updatedPodsOnNode splits a node's live daemon pods into the updated and
// the old one; ok is false when there are several of either.
func updatedPodsOnNode(ds *appsv1.DaemonSet, pods []*corev1.Pod, hash string) (newPod, oldPod *corev1.Pod, ok bool) {
	gen := templateGeneration(ds)
	for _, p := range pods {
		if p.DeletionTimestamp != nil {
			continue
		}
		if isPodUpdated(p, hash, gen) {
			if newPod != nil {
				return nil, nil, false
			}
			newPod = p
		} else {
			if oldPod != nil {
				return nil, nil, false
			}
			oldPod = p
		}
	}
	return newPod, oldPod, true
}

// rollingUpdate replaces out-of-date pods: with maxSurge 0 it deletes up
// to maxUnavailable of them (manage creates the new ones); with maxSurge it
// starts new pods next to old ones and deletes the old once the new are
// available.
func (c *Controller) rollingUpdate(ctx context.Context, key string, ds *appsv1.DaemonSet, nodes []*corev1.Node, hash string) error {
	byNode, err := c.nodesToDaemonPods(ctx, ds, false)
	if err != nil {
		return fmt.Errorf("couldn't get node to daemon pod mapping for daemon set %q: %w", ds.Name, err)
	}
	nodeByName := make(map[string]*corev1.Node, len(nodes))
	desired := 0
	for _, n := range nodes {
		nodeByName[n.Name] = n
		if run, _ := shouldRun(n, ds); run {
			desired++
			if _, ok := byNode[n.Name]; !ok {
				byNode[n.Name] = nil
			}
		}
	}
	maxUnavailable, err := unavailableCount(ds, desired)
	if err != nil {
		return fmt.Errorf("invalid value for MaxUnavailable: %w", err)
	}
	maxSurge, err := surgeCount(ds, desired)
	if err != nil {
		return fmt.Errorf("invalid value for MaxSurge: %w", err)
	}
	if desired > 0 && maxUnavailable == 0 && maxSurge == 0 {
		maxUnavailable = 1
	}
	now := c.clock.Now()
	available := func(p *corev1.Pod) bool { return replicaset.IsPodAvailable(p, ds.Spec.MinReadySeconds, now) }
	nodeShouldRun := func(name string) bool {
		n, ok := nodeByName[name]
		if !ok {
			return false
		}
		run, _ := shouldRun(n, ds)
		return run
	}

	if maxSurge == 0 {
		numUnavailable := 0
		var allowed, candidates []string
		for _, pods := range byNode {
			newPod, oldPod, ok := updatedPodsOnNode(ds, pods, hash)
			if !ok {
				numUnavailable++ // excess pods: manage sorts them out
				continue
			}
			switch {
			case oldPod == nil && newPod == nil, oldPod != nil && newPod != nil:
				numUnavailable++
			case newPod != nil:
				if !available(newPod) {
					numUnavailable++
				}
			case !available(oldPod):
				allowed = append(allowed, oldPod.Name)
				numUnavailable++
			case numUnavailable >= maxUnavailable:
			default:
				candidates = append(candidates, oldPod.Name)
			}
		}
		remaining := min(max(maxUnavailable-numUnavailable, 0), len(candidates))
		return c.syncNodes(ctx, key, ds, append(allowed, candidates[:remaining]...), nil, hash)
	}

	var oldToDelete, shouldNotRun, candidateNodes, allowedNodes []string
	numSurge, numAvailable := 0, 0
	for nodeName, pods := range byNode {
		newPod, oldPod, ok := updatedPodsOnNode(ds, pods, hash)
		if !ok {
			numSurge++
			continue
		}
		if oldPod != nil && available(oldPod) || oldPod == nil && newPod != nil && available(newPod) {
			numAvailable++
		}
		switch {
		case oldPod == nil:
		case newPod == nil:
			switch {
			case !available(oldPod):
				if !nodeShouldRun(nodeName) {
					oldToDelete = append(oldToDelete, oldPod.Name)
					continue
				}
				allowedNodes = append(allowedNodes, nodeName)
			default:
				if !nodeShouldRun(nodeName) {
					shouldNotRun = append(shouldNotRun, oldPod.Name)
					continue
				}
				if numSurge >= maxSurge {
					continue
				}
				candidateNodes = append(candidateNodes, nodeName)
			}
		default:
			if !available(newPod) {
				numSurge++
				continue
			}
			oldToDelete = append(oldToDelete, oldPod.Name)
		}
	}
	if deletable := min(numAvailable-desired, len(shouldNotRun)); deletable > 0 {
		oldToDelete = append(oldToDelete, shouldNotRun[:deletable]...)
	}
	remaining := min(max(maxSurge-numSurge, 0), len(candidateNodes))
	return c.syncNodes(ctx, key, ds, oldToDelete, append(allowedNodes, candidateNodes[:remaining]...), hash)
}
