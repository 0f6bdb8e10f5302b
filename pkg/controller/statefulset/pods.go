package statefulset

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kinc-dev/kinc/pkg/controller/replicaset"
)

// Labels upstream puts on stateful pods.
const (
	// PodNameLabel carries the pod's own name, for per-pod Services.
	PodNameLabel = appsv1.StatefulSetPodNameLabel
	// PodIndexLabel carries the pod's ordinal.
	PodIndexLabel = appsv1.PodIndexLabel
	// RevisionLabel names the ControllerRevision a pod was made from.
	RevisionLabel = appsv1.StatefulSetRevisionLabel
)

var podNameRegexp = regexp.MustCompile("(.*)-([0-9]+)$")

// parentAndOrdinal splits "<set>-<ordinal>"; ordinal is -1 when the name
// has no such form.
func parentAndOrdinal(pod *corev1.Pod) (string, int) {
	m := podNameRegexp.FindStringSubmatch(pod.Name)
	if len(m) < 3 {
		return "", -1
	}
	i, err := strconv.ParseInt(m[2], 10, 32)
	if err != nil {
		return m[1], -1
	}
	return m[1], int(i)
}

func ordinalOf(pod *corev1.Pod) int {
	_, o := parentAndOrdinal(pod)
	return o
}

func startOrdinal(set *appsv1.StatefulSet) int {
	if set.Spec.Ordinals != nil {
		return int(set.Spec.Ordinals.Start)
	}
	return 0
}

func replicasOf(set *appsv1.StatefulSet) int {
	if set.Spec.Replicas == nil {
		return 1
	}
	return int(*set.Spec.Replicas)
}

func endOrdinal(set *appsv1.StatefulSet) int { return startOrdinal(set) + replicasOf(set) - 1 }

func inOrdinalRange(pod *corev1.Pod, set *appsv1.StatefulSet) bool {
	o := ordinalOf(pod)
	return o >= startOrdinal(set) && o <= endOrdinal(set)
}

// PodName is the name of set's pod with ordinal: "<set>-<ordinal>".
func PodName(set *appsv1.StatefulSet, ordinal int) string {
	return fmt.Sprintf("%s-%d", set.Name, ordinal)
}

func claimName(set *appsv1.StatefulSet, claim *corev1.PersistentVolumeClaim, ordinal int) string {
	return fmt.Sprintf("%s-%s-%d", claim.Name, set.Name, ordinal)
}

func isMemberOf(set *appsv1.StatefulSet, pod *corev1.Pod) bool {
	parent, _ := parentAndOrdinal(pod)
	return parent == set.Name
}

func identityMatches(set *appsv1.StatefulSet, pod *corev1.Pod) bool {
	parent, o := parentAndOrdinal(pod)
	return o >= 0 && parent == set.Name && pod.Name == PodName(set, o) && pod.Namespace == set.Namespace &&
		pod.Labels[PodNameLabel] == pod.Name
}

func storageMatches(set *appsv1.StatefulSet, pod *corev1.Pod) bool {
	o := ordinalOf(pod)
	if o < 0 {
		return false
	}
	volumes := make(map[string]corev1.Volume, len(pod.Spec.Volumes))
	for _, v := range pod.Spec.Volumes {
		volumes[v.Name] = v
	}
	for i := range set.Spec.VolumeClaimTemplates {
		claim := &set.Spec.VolumeClaimTemplates[i]
		v, ok := volumes[claim.Name]
		if !ok || v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != claimName(set, claim, o) {
			return false
		}
	}
	return true
}

// claimsFor returns the PVCs pod's volumeClaimTemplates ask for, by
// template name, labelled with the set's selector labels.
func claimsFor(set *appsv1.StatefulSet, pod *corev1.Pod) map[string]corev1.PersistentVolumeClaim {
	o := ordinalOf(pod)
	out := make(map[string]corev1.PersistentVolumeClaim, len(set.Spec.VolumeClaimTemplates))
	for i := range set.Spec.VolumeClaimTemplates {
		claim := set.Spec.VolumeClaimTemplates[i].DeepCopy()
		claim.Name = claimName(set, claim, o)
		claim.Namespace = set.Namespace
		if claim.Labels == nil {
			claim.Labels = map[string]string{}
		}
		if set.Spec.Selector != nil {
			for k, v := range set.Spec.Selector.MatchLabels {
				claim.Labels[k] = v
			}
		}
		out[set.Spec.VolumeClaimTemplates[i].Name] = *claim
	}
	return out
}

// updateStorage points pod's volumes named after claim templates at the
// claims, keeping its other volumes.
func updateStorage(set *appsv1.StatefulSet, pod *corev1.Pod) {
	claims := claimsFor(set, pod)
	volumes := make([]corev1.Volume, 0, len(claims)+len(pod.Spec.Volumes))
	for i := range set.Spec.VolumeClaimTemplates {
		name := set.Spec.VolumeClaimTemplates[i].Name
		volumes = append(volumes, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claims[name].Name}}})
	}
	for _, v := range pod.Spec.Volumes {
		if _, ok := claims[v.Name]; !ok {
			volumes = append(volumes, v)
		}
	}
	pod.Spec.Volumes = volumes
}

// updateIdentity gives pod its name, namespace and identity labels.
func updateIdentity(set *appsv1.StatefulSet, pod *corev1.Pod) {
	o := ordinalOf(pod)
	pod.Name = PodName(set, o)
	pod.Namespace = set.Namespace
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	pod.Labels[PodNameLabel] = pod.Name
	pod.Labels[PodIndexLabel] = strconv.Itoa(o)
}

func isRunningAndReady(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodRunning && replicaset.IsPodReady(pod)
}

func isRunningAndAvailable(pod *corev1.Pod, minReadySeconds int32, now time.Time) bool {
	return replicaset.IsPodAvailable(pod, minReadySeconds, now)
}

// isCreated: the pod exists in the API (a placeholder has no phase).
func isCreated(pod *corev1.Pod) bool { return pod.Status.Phase != "" }
func isPending(pod *corev1.Pod) bool { return pod.Status.Phase == corev1.PodPending }
func isTerminal(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded
}

func isTerminating(pod *corev1.Pod) bool { return pod.DeletionTimestamp != nil }

func isUnavailable(pod *corev1.Pod, minReadySeconds int32, now time.Time) bool {
	return !replicaset.IsPodAvailable(pod, minReadySeconds, now) || isTerminating(pod)
}

func podRevision(pod *corev1.Pod) string { return pod.Labels[RevisionLabel] }

// newPod returns set's pod with ordinal from set's template.
func newPod(set *appsv1.StatefulSet, ordinal int) *corev1.Pod {
	t := set.Spec.Template.DeepCopy()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:            PodName(set, ordinal),
			Labels:          t.Labels,
			Annotations:     t.Annotations,
			Finalizers:      t.Finalizers,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(set, Kind)},
		},
		Spec: t.Spec,
	}
	updateIdentity(set, pod)
	pod.Spec.Hostname = pod.Name
	pod.Spec.Subdomain = set.Spec.ServiceName
	updateStorage(set, pod)
	return pod
}

// newVersionedPod returns the pod with ordinal from the current revision
// when it is below the partition (or below currentReplicas without a
// RollingUpdate block), else from the update revision.
func newVersionedPod(currentSet, updateSet *appsv1.StatefulSet, currentRevision, updateRevision string, ordinal int) *corev1.Pod {
	s := currentSet.Spec.UpdateStrategy
	if s.Type == appsv1.RollingUpdateStatefulSetStrategyType &&
		(s.RollingUpdate == nil && ordinal < startOrdinal(currentSet)+int(currentSet.Status.CurrentReplicas)) ||
		(s.RollingUpdate != nil && s.RollingUpdate.Partition != nil && ordinal < startOrdinal(currentSet)+int(*s.RollingUpdate.Partition)) {
		pod := newPod(currentSet, ordinal)
		pod.Labels[RevisionLabel] = currentRevision
		return pod
	}
	pod := newPod(updateSet, ordinal)
	pod.Labels[RevisionLabel] = updateRevision
	return pod
}

// recordPodEvent records upstream's event for verb on pod:
// Successful<Verb> "<Verb> Pod <pod> in StatefulSet <set> successful", or
// Failed<Verb> "<Verb> Pod <pod> in StatefulSet <set> failed error: <err>".
func (c *Controller) recordPodEvent(verb string, set *appsv1.StatefulSet, pod *corev1.Pod, err error) {
	if err == nil {
		c.recorder.Eventf(set, corev1.EventTypeNormal, "Successful"+verb, "%s Pod %s in StatefulSet %s successful", verb, pod.Name, set.Name)
		return
	}
	c.recorder.Eventf(set, corev1.EventTypeWarning, "Failed"+verb, "%s Pod %s in StatefulSet %s failed error: %s", verb, pod.Name, set.Name, err)
}

func (c *Controller) recordClaimEvent(verb string, set *appsv1.StatefulSet, pod *corev1.Pod, claim *corev1.PersistentVolumeClaim, err error) {
	if err == nil {
		c.recorder.Eventf(set, corev1.EventTypeNormal, "Successful"+verb, "%s Claim %s Pod %s in StatefulSet %s success", verb, claim.Name, pod.Name, set.Name)
		return
	}
	c.recorder.Eventf(set, corev1.EventTypeWarning, "Failed"+verb, "%s Claim %s for Pod %s in StatefulSet %s failed error: %s", verb, claim.Name, pod.Name, set.Name, err)
}

// createClaims creates pod's missing PVCs. Claims are read from the API,
// not an informer: the apiserver may not serve PVCs, in which case every
// create fails and the pod waits (FailedCreate events, retried).
func (c *Controller) createClaims(ctx context.Context, set *appsv1.StatefulSet, pod *corev1.Pod) error {
	var errs []error
	for _, claim := range claimsFor(set, pod) {
		pvc, err := c.client.CoreV1().PersistentVolumeClaims(claim.Namespace).Get(ctx, claim.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			_, err := c.client.CoreV1().PersistentVolumeClaims(claim.Namespace).Create(ctx, &claim, metav1.CreateOptions{})
			if err != nil {
				errs = append(errs, fmt.Errorf("failed to create PVC %s: %w", claim.Name, err))
			}
			if err == nil || !apierrors.IsAlreadyExists(err) {
				c.recordClaimEvent("Create", set, pod, &claim, err)
			}
		case err != nil:
			errs = append(errs, fmt.Errorf("failed to retrieve PVC %s: %w", claim.Name, err))
			c.recordClaimEvent("Create", set, pod, &claim, err)
		case pvc.DeletionTimestamp != nil:
			errs = append(errs, fmt.Errorf("pvc %s is being deleted", claim.Name))
		}
	}
	return errors.Join(errs...)
}

// createPod creates pod's claims, then pod.
func (c *Controller) createPod(ctx context.Context, set *appsv1.StatefulSet, pod *corev1.Pod) error {
	if err := c.createClaims(ctx, set, pod); err != nil {
		c.recordPodEvent("Create", set, pod, err)
		return err
	}
	_, err := c.client.CoreV1().Pods(set.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return err
	}
	c.recordPodEvent("Create", set, pod, err)
	return err
}

// updatePod restores pod's identity and storage, retrying conflicts on a
// fresh read.
func (c *Controller) updatePod(ctx context.Context, set *appsv1.StatefulSet, pod *corev1.Pod) error {
	attempted := false
	var err error
	for i := 0; i < 5; i++ {
		consistent := true
		if !identityMatches(set, pod) {
			updateIdentity(set, pod)
			consistent = false
		}
		if !storageMatches(set, pod) {
			updateStorage(set, pod)
			consistent = false
			if err = c.createClaims(ctx, set, pod); err != nil {
				c.recordPodEvent("Update", set, pod, err)
				return err
			}
		}
		if consistent {
			err = nil
			break
		}
		attempted = true
		_, err = c.client.CoreV1().Pods(set.Namespace).Update(ctx, pod, metav1.UpdateOptions{})
		if err == nil || !apierrors.IsConflict(err) {
			break
		}
		fresh, getErr := c.client.CoreV1().Pods(set.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
		if getErr != nil {
			break
		}
		pod = fresh
	}
	if attempted {
		c.recordPodEvent("Update", set, pod, err)
	}
	return err
}

// deletePod deletes pod; a pod already gone counts as deleted.
func (c *Controller) deletePod(ctx context.Context, set *appsv1.StatefulSet, pod *corev1.Pod) error {
	err := c.client.CoreV1().Pods(set.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		c.recordPodEvent("Delete", set, pod, err)
		return err
	}
	c.recordPodEvent("Delete", set, pod, nil)
	return nil
}
