package job

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"
)

// Event reasons of upstream's pod control (pkg/controller).
const (
	reasonSuccessfulCreate = "SuccessfulCreate"
	reasonFailedCreate     = "FailedCreate"
	reasonSuccessfulDelete = "SuccessfulDelete"
	reasonFailedDelete     = "FailedDelete"
)

// controllerRef is the ownerReference every pod of job carries.
func controllerRef(job *batchv1.Job) *metav1.OwnerReference {
	return metav1.NewControllerRef(job, batchv1.SchemeGroupVersion.WithKind("Job"))
}

// podFromTemplate is upstream's GetPodFromTemplate: the template's labels,
// annotations, finalizers and spec, the Job as controller, and a
// generateName of "<job>-" (or generateName when set).
func podFromTemplate(job *batchv1.Job, template *corev1.PodTemplateSpec, generateName string) *corev1.Pod {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		Namespace:       job.Namespace,
		Labels:          maps(template.Labels),
		Annotations:     maps(template.Annotations),
		Finalizers:      slices.Clone(template.Finalizers),
		GenerateName:    generateName,
		OwnerReferences: []metav1.OwnerReference{*controllerRef(job)},
	}, Spec: *template.Spec.DeepCopy()}
	if pod.GenerateName == "" {
		pod.GenerateName = podsPrefix(job.Name)
	}
	return pod
}

func maps(in map[string]string) map[string]string {
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}

// podsPrefix is "<name>-" when that makes valid pod names, else name.
func podsPrefix(name string) string {
	if len(validation.IsDNS1123Subdomain(name+"-a")) == 0 && len(name)+1 <= maxGeneratedNameLength {
		return name + "-"
	}
	return name
}

// maxGeneratedNameLength is the apiserver's limit on a generateName prefix
// (63 minus the 5 random characters).
const maxGeneratedNameLength = 58

// createPod creates pod for job and records SuccessfulCreate ("Created
// pod: <name>") or FailedCreate ("Error creating: <err>"; none when the
// namespace is terminating), as upstream's RealPodControl.
func (c *Controller) createPod(ctx context.Context, job *batchv1.Job, pod *corev1.Pod) error {
	if len(pod.Labels) == 0 {
		return fmt.Errorf("unable to create pods, no labels")
	}
	created, err := c.client.CoreV1().Pods(job.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		if !apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			c.recorder.Eventf(job, corev1.EventTypeWarning, reasonFailedCreate, "Error creating: %v", err)
		}
		return err
	}
	c.recorder.Eventf(job, corev1.EventTypeNormal, reasonSuccessfulCreate, "Created pod: %v", created.Name)
	return nil
}

// deletePod deletes a pod of job and records SuccessfulDelete ("Deleted
// pod: <name>") or FailedDelete. NotFound is returned unrecorded.
func (c *Controller) deletePod(ctx context.Context, job *batchv1.Job, name string) error {
	err := c.client.CoreV1().Pods(job.Namespace).Delete(ctx, name, metav1.DeleteOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return err
	case err != nil:
		c.recorder.Eventf(job, corev1.EventTypeWarning, reasonFailedDelete, "Error deleting: %v", err)
		return fmt.Errorf("unable to delete pods: %w", err)
	}
	c.recorder.Eventf(job, corev1.EventTypeNormal, reasonSuccessfulDelete, "Deleted pod: %v", name)
	return nil
}

// removeFinalizer removes the tracking finalizer from pod (a strategic
// merge patch deleting it from the finalizers list, as upstream); a pod
// without it is left alone.
func (c *Controller) removeFinalizer(ctx context.Context, pod *corev1.Pod) error {
	if !hasTrackingFinalizer(pod) {
		return nil
	}
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{
		"$deleteFromPrimitiveList/finalizers": []string{batchv1.JobTrackingFinalizer}}})
	_, err := c.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	return err
}

func hasTrackingFinalizer(pod *corev1.Pod) bool {
	return slices.Contains(pod.Finalizers, batchv1.JobTrackingFinalizer)
}

// isActive: not terminated and not being deleted.
func isActive(p *corev1.Pod) bool {
	return p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed && p.DeletionTimestamp == nil
}

// isTerminating: being deleted but not terminated yet.
func isTerminating(p *corev1.Pod) bool {
	return p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed && p.DeletionTimestamp != nil
}

func isReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func readyTime(p *corev1.Pod) metav1.Time {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.LastTransitionTime
		}
	}
	return metav1.Time{}
}

// isFailed is upstream's isPodFailed: phase Failed, or (unless
// podReplacementPolicy is Failed) deleted before succeeding.
func isFailed(p *corev1.Pod, job *batchv1.Job) bool {
	if p.Status.Phase == corev1.PodFailed {
		return true
	}
	if onlyReplaceFailed(job) {
		return false
	}
	return p.DeletionTimestamp != nil && p.Status.Phase != corev1.PodSucceeded
}

func onlyReplaceFailed(job *batchv1.Job) bool {
	return ptr.Deref(job.Spec.PodReplacementPolicy, "") == batchv1.Failed
}

var phaseOrdinal = map[corev1.PodPhase]int{corev1.PodPending: 0, corev1.PodUnknown: 1, corev1.PodRunning: 2}

// lessForDeletion is upstream's ActivePods order: the pod to delete first
// is unscheduled before scheduled, pending < unknown < running, not ready
// before ready, ready for less time first, more restarts first, newer
// first.
func lessForDeletion(a, b *corev1.Pod) bool {
	if a.Spec.NodeName != b.Spec.NodeName && (a.Spec.NodeName == "" || b.Spec.NodeName == "") {
		return a.Spec.NodeName == ""
	}
	if phaseOrdinal[a.Status.Phase] != phaseOrdinal[b.Status.Phase] {
		return phaseOrdinal[a.Status.Phase] < phaseOrdinal[b.Status.Phase]
	}
	if isReady(a) != isReady(b) {
		return !isReady(a)
	}
	if isReady(a) {
		if ta, tb := readyTime(a), readyTime(b); !ta.Equal(&tb) {
			return afterOrZero(ta, tb)
		}
	}
	if ra, rb := maxRestarts(a), maxRestarts(b); ra != rb {
		return ra > rb
	}
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return afterOrZero(a.CreationTimestamp, b.CreationTimestamp)
	}
	return false
}

func afterOrZero(a, b metav1.Time) bool {
	if a.IsZero() || b.IsZero() {
		return a.IsZero()
	}
	return a.After(b.Time)
}

func maxRestarts(p *corev1.Pod) int32 {
	var n int32
	for _, s := range p.Status.ContainerStatuses {
		n = max(n, s.RestartCount)
	}
	return n
}

// podIndex is the name of the pod informer index by namespace and
// controller UID ("<namespace>/" for pods without a controller).
const podIndex = "kinc.job/controller-uid"

func podIndexKey(namespace string, uid types.UID) string { return namespace + "/" + string(uid) }

func indexPodByController(obj any) ([]string, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return nil, nil
	}
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil {
		return []string{podIndexKey(pod.Namespace, "")}, nil
	}
	return []string{podIndexKey(pod.Namespace, ref.UID)}, nil
}

// claimPods returns job's pods: those it controls whose labels still match
// its selector, and orphans that match, which it adopts (ownerReference
// and tracking finalizer added by a patch) unless the Job is being
// deleted, as upstream's PodControllerRefManager. Pods it controls that
// stopped matching are released (their ownerReference removed). candidates
// are the pods it controls and the orphans of its namespace.
func (c *Controller) claimPods(ctx context.Context, job *batchv1.Job, candidates []*corev1.Pod) ([]*corev1.Pod, error) {
	selector, err := metav1.LabelSelectorAsSelector(job.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("couldn't convert Job selector: %w", err)
	}
	var claimed []*corev1.Pod
	var errs []error
	for _, pod := range candidates {
		ref := metav1.GetControllerOfNoCopy(pod)
		matches := selector.Matches(labels.Set(pod.Labels))
		switch {
		case ref != nil && ref.UID == job.UID && matches:
			claimed = append(claimed, pod)
		case ref != nil && ref.UID == job.UID:
			if pod.DeletionTimestamp != nil {
				continue
			}
			if err := c.releasePod(ctx, job, pod); err != nil {
				errs = append(errs, err)
			}
		case ref == nil && matches && pod.DeletionTimestamp == nil && job.DeletionTimestamp == nil && !selector.Empty():
			adopted, err := c.adoptPod(ctx, job, pod)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if adopted {
				p := pod.DeepCopy()
				p.OwnerReferences = append(p.OwnerReferences, *controllerRef(job))
				if !hasTrackingFinalizer(p) {
					p.Finalizers = append(p.Finalizers, batchv1.JobTrackingFinalizer)
				}
				claimed = append(claimed, p)
			}
		}
	}
	if len(errs) > 0 {
		return claimed, fmt.Errorf("claiming pods: %v", errs)
	}
	return claimed, nil
}

// adoptPod makes job the controller of an orphan pod, after re-reading the
// Job (not through the cache) to check that it is not being deleted.
// false without an error means the pod is gone or the Job changed.
func (c *Controller) adoptPod(ctx context.Context, job *batchv1.Job, pod *corev1.Pod) (bool, error) {
	fresh, err := c.client.BatchV1().Jobs(job.Namespace).Get(ctx, job.Name, metav1.GetOptions{})
	if err != nil {
		return false, err
	}
	if fresh.UID != job.UID {
		return false, fmt.Errorf("original Job %s/%s is gone: got uid %s, wanted %s", job.Namespace, job.Name, fresh.UID, job.UID)
	}
	if fresh.DeletionTimestamp != nil {
		return false, nil
	}
	ref := controllerRef(job)
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{
		"ownerReferences": []metav1.OwnerReference{*ref},
		"uid":             pod.UID,
		"finalizers":      []string{batchv1.JobTrackingFinalizer},
	}})
	_, err = c.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsInvalid(err) {
		return false, nil
	}
	return err == nil, err
}

// releasePod removes job's ownerReference from a pod that no longer
// matches its selector.
func (c *Controller) releasePod(ctx context.Context, job *batchv1.Job, pod *corev1.Pod) error {
	patch := fmt.Sprintf(`{"metadata":{"ownerReferences":[{"$patch":"delete","uid":%q}],"uid":%q}}`, job.UID, pod.UID)
	_, err := c.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsInvalid(err) {
		return nil
	}
	return err
}

// generateNameWithIndex is "<job>-<index>-", the job name cut so that the
// prefix fits maxGeneratedNameLength.
func generateNameWithIndex(jobName string, index int) string {
	suffix := fmt.Sprintf("-%d-", index)
	prefix := jobName + suffix
	if len(prefix) > maxGeneratedNameLength {
		prefix = jobName[:maxGeneratedNameLength-len(suffix)] + suffix
	}
	return prefix
}
