package replicaset

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
)

// SlowStartInitialBatchSize is the size of the first batch of creates;
// each batch that fully succeeds doubles the next (upstream's
// controller.SlowStartInitialBatchSize).
const SlowStartInitialBatchSize = 1

// PodControllerIndex is the name of the pod informer index AddPodControllerIndex adds.
const PodControllerIndex = "kinc.controllerUID"

// AddPodControllerIndex adds to a pod informer (if it lacks it) an index of
// pods by "namespace/UID of their controller", orphans under
// "namespace/". The replicaset and deployment controllers share it.
func AddPodControllerIndex(inf cache.SharedIndexInformer) error {
	if _, ok := inf.GetIndexer().GetIndexers()[PodControllerIndex]; ok {
		return nil
	}
	err := inf.AddIndexers(cache.Indexers{PodControllerIndex: func(obj any) ([]string, error) {
		pod, ok := obj.(*corev1.Pod)
		if !ok {
			return nil, nil
		}
		uid := ""
		if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
			uid = string(ref.UID)
		}
		return []string{pod.Namespace + "/" + uid}, nil
	}})
	if err != nil {
		return fmt.Errorf("adding the pod controller index: %w", err)
	}
	return nil
}

// PodsControlledBy returns the pods of namespace ns whose controller has
// uid, from an indexer with PodControllerIndex.
func PodsControlledBy(indexer cache.Indexer, ns string, uid types.UID) ([]*corev1.Pod, error) {
	objs, err := indexer.ByIndex(PodControllerIndex, ns+"/"+string(uid))
	if err != nil {
		return nil, err
	}
	out := make([]*corev1.Pod, 0, len(objs))
	for _, obj := range objs {
		if p, ok := obj.(*corev1.Pod); ok {
			out = append(out, p)
		}
	}
	return out, nil
}

// PodsOwnedOrOrphaned returns the pods of ns controlled by uid and those
// without a controller.
func PodsOwnedOrOrphaned(indexer cache.Indexer, ns string, uid types.UID) ([]*corev1.Pod, error) {
	owned, err := PodsControlledBy(indexer, ns, uid)
	if err != nil {
		return nil, err
	}
	orphans, err := PodsControlledBy(indexer, ns, "")
	if err != nil {
		return nil, err
	}
	return append(owned, orphans...), nil
}

// claimPods adopts the orphans among pods that selector matches, releases
// the owned ones it does not match, and returns the pods rs owns after
// that (as upstream's PodControllerRefManager.ClaimPods). A 404 on a pod
// is not an error; the first other error is returned after trying all.
func (c *Controller) claimPods(ctx context.Context, rs *appsv1.ReplicaSet, selector labels.Selector, pods []*corev1.Pod) ([]*corev1.Pod, error) {
	var claimed []*corev1.Pod
	var errs []error
	var canAdopt *error // checked once, only if an adoption is tried
	for _, pod := range pods {
		ref := metav1.GetControllerOfNoCopy(pod)
		matches := selector.Matches(labels.Set(pod.Labels))
		switch {
		case ref != nil && ref.UID != rs.UID:
			// Someone else's.
		case ref != nil && matches:
			claimed = append(claimed, pod)
		case ref != nil:
			if rs.DeletionTimestamp != nil {
				continue
			}
			if err := c.releasePod(ctx, rs, pod); err != nil {
				errs = append(errs, err)
			}
		case rs.DeletionTimestamp != nil || !matches || pod.DeletionTimestamp != nil || pod.Namespace != rs.Namespace:
		default:
			if canAdopt == nil {
				err := c.recheckDeletion(ctx, rs)
				canAdopt = &err
			}
			if *canAdopt != nil {
				errs = append(errs, fmt.Errorf("can't adopt Pod %s/%s (%s): %w", pod.Namespace, pod.Name, pod.UID, *canAdopt))
				continue
			}
			err := c.adoptPod(ctx, rs, pod)
			switch {
			case err == nil:
				claimed = append(claimed, pod)
			case apierrors.IsNotFound(err):
			default:
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return claimed, errs[0]
	}
	return claimed, nil
}

// recheckDeletion reads rs from the API (not the cache) and fails if it is
// gone, replaced or being deleted: an adoption must not race its deletion.
func (c *Controller) recheckDeletion(ctx context.Context, rs *appsv1.ReplicaSet) error {
	fresh, err := c.client.AppsV1().ReplicaSets(rs.Namespace).Get(ctx, rs.Name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("can't recheck DeletionTimestamp: %w", err)
	}
	if fresh.UID != rs.UID {
		return fmt.Errorf("original ReplicaSet %s/%s is gone: got uid %s, wanted %s", rs.Namespace, rs.Name, fresh.UID, rs.UID)
	}
	if fresh.DeletionTimestamp != nil {
		return fmt.Errorf("%s/%s has just been deleted at %v", rs.Namespace, rs.Name, fresh.DeletionTimestamp)
	}
	return nil
}

// ControllerRef returns the ownerReference a controller sets on what it
// owns: controller=true, blockOwnerDeletion=true.
func ControllerRef(owner metav1.Object, kind string, apiVersion string) metav1.OwnerReference {
	yes := true
	return metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: owner.GetName(), UID: owner.GetUID(),
		Controller: &yes, BlockOwnerDeletion: &yes}
}

// AdoptPatch is the strategic merge patch that makes owner the controller
// of the object whose UID is uid (the UID guards against a recreated
// object of the same name).
func AdoptPatch(ref metav1.OwnerReference, uid types.UID) []byte {
	patch := map[string]any{"metadata": map[string]any{"ownerReferences": []metav1.OwnerReference{ref}, "uid": uid}}
	data, _ := json.Marshal(patch) // cannot fail: plain types
	return data
}

// ReleasePatch is the strategic merge patch that removes the ownerReference
// to ownerUID from the object whose UID is uid.
func ReleasePatch(ownerUID, uid types.UID) []byte {
	patch := map[string]any{"metadata": map[string]any{
		"ownerReferences": []map[string]string{{"$patch": "delete", "uid": string(ownerUID)}}, "uid": uid}}
	data, _ := json.Marshal(patch)
	return data
}

func (c *Controller) adoptPod(ctx context.Context, rs *appsv1.ReplicaSet, pod *corev1.Pod) error {
	ref := ControllerRef(rs, Kind.Kind, Kind.GroupVersion().String())
	_, err := c.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, AdoptPatch(ref, pod.UID), metav1.PatchOptions{})
	return err
}

func (c *Controller) releasePod(ctx context.Context, rs *appsv1.ReplicaSet, pod *corev1.Pod) error {
	_, err := c.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, ReleasePatch(rs.UID, pod.UID), metav1.PatchOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsInvalid(err) {
		// Gone, or recreated with another UID, or not ours any more.
		return nil
	}
	return err
}

// manageReplicas creates or deletes pods so that active (rs's pods) count
// spec.replicas, at most c.burst per call.
func (c *Controller) manageReplicas(ctx context.Context, key string, active []*corev1.Pod, rs *appsv1.ReplicaSet) error {
	diff := len(active) - int(derefReplicas(rs))
	switch {
	case diff < 0:
		n := min(-diff, c.burst)
		c.expectations.ExpectCreations(key, n)
		c.Logger().Debug("too few replicas", "replicaSet", key, "need", derefReplicas(rs), "creating", n)
		ref := ControllerRef(rs, Kind.Kind, Kind.GroupVersion().String())
		ok, err := slowStartBatch(n, SlowStartInitialBatchSize, c.inFlight, func() error {
			err := c.createPod(ctx, rs, &ref)
			if err != nil && apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
				return nil // every create would fail; the namespace goes away
			}
			return err
		})
		// Creates never attempted will never be observed.
		for range n - ok {
			c.expectations.CreationObserved(key)
		}
		return err
	case diff > 0:
		n := min(diff, c.burst)
		c.Logger().Debug("too many replicas", "replicaSet", key, "need", derefReplicas(rs), "deleting", n)
		related := c.relatedPods(rs)
		victims := podsToDelete(active, related, n, c.clock.Now())
		keys := make([]string, len(victims))
		for i, p := range victims {
			keys[i] = p.Namespace + "/" + p.Name
		}
		c.expectations.ExpectDeletions(key, keys)
		errCh := make(chan error, len(victims))
		sem := make(chan struct{}, c.inFlight)
		var wg sync.WaitGroup
		for _, p := range victims {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				if err := c.deletePodOf(ctx, rs, p.Name); err != nil {
					c.expectations.DeletionObserved(key, p.Namespace+"/"+p.Name)
					if !apierrors.IsNotFound(err) {
						errCh <- err
					}
				}
			})
		}
		wg.Wait()
		select {
		case err := <-errCh:
			return err
		default:
		}
	}
	return nil
}

func derefReplicas(rs *appsv1.ReplicaSet) int32 {
	if rs.Spec.Replicas == nil {
		return 1
	}
	return *rs.Spec.Replicas
}

// createPod creates one pod from rs's template and records the event.
func (c *Controller) createPod(ctx context.Context, rs *appsv1.ReplicaSet, ref *metav1.OwnerReference) error {
	pod := podFromTemplate(&rs.Spec.Template, rs.Name, ref)
	if len(pod.Labels) == 0 {
		return errors.New("unable to create pods, no labels")
	}
	created, err := c.client.CoreV1().Pods(rs.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		if !apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			c.recorder.Eventf(rs, corev1.EventTypeWarning, ReasonFailedCreate, "Error creating: %v", err)
		}
		return err
	}
	c.recorder.Eventf(rs, corev1.EventTypeNormal, ReasonSuccessfulCreate, "Created pod: %v", created.Name)
	return nil
}

// deletePodOf deletes pod name of rs and records the event.
func (c *Controller) deletePodOf(ctx context.Context, rs *appsv1.ReplicaSet, name string) error {
	err := c.client.CoreV1().Pods(rs.Namespace).Delete(ctx, name, metav1.DeleteOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) {
			return err
		}
		c.recorder.Eventf(rs, corev1.EventTypeWarning, ReasonFailedDelete, "Error deleting: %v", err)
		return fmt.Errorf("unable to delete pods: %w", err)
	}
	c.recorder.Eventf(rs, corev1.EventTypeNormal, ReasonSuccessfulDelete, "Deleted pod: %v", name)
	return nil
}

// relatedPods returns the pods of every ReplicaSet controlled by rs's
// controller (rs itself when it has none), each once.
func (c *Controller) relatedPods(rs *appsv1.ReplicaSet) []*corev1.Pod {
	rss := []*appsv1.ReplicaSet{rs}
	if ref := metav1.GetControllerOfNoCopy(rs); ref != nil {
		all, err := c.rsLister.ReplicaSets(rs.Namespace).List(labels.Everything())
		if err == nil {
			rss = rss[:0]
			for _, other := range all {
				if o := metav1.GetControllerOfNoCopy(other); o != nil && o.UID == ref.UID {
					rss = append(rss, other)
				}
			}
		}
	}
	seen := map[types.UID]bool{}
	var out []*corev1.Pod
	for _, other := range rss {
		sel, err := metav1.LabelSelectorAsSelector(other.Spec.Selector)
		if err != nil {
			continue
		}
		pods, err := c.podLister.Pods(other.Namespace).List(sel)
		if err != nil {
			continue
		}
		for _, p := range pods {
			if !seen[p.UID] {
				seen[p.UID] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// slowStartBatch calls fn count times: batches of initial, then twice the
// previous batch while every call of a batch succeeded; the calls of one
// batch run concurrently, at most inFlight at a time. It returns the
// number of successful calls and the first error, after which no further
// batch starts.
func slowStartBatch(count, initial, inFlight int, fn func() error) (int, error) {
	remaining, successes := count, 0
	sem := make(chan struct{}, max(inFlight, 1))
	for batch := min(remaining, initial); batch > 0; batch = min(2*batch, remaining) {
		errCh := make(chan error, batch)
		var wg sync.WaitGroup
		for range batch {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				if err := fn(); err != nil {
					errCh <- err
				}
			})
		}
		wg.Wait()
		successes += batch - len(errCh)
		if len(errCh) > 0 {
			return successes, <-errCh
		}
		remaining -= batch
	}
	return successes, nil
}
