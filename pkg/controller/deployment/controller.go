// Package deployment is kinc's "deployment" controller (upstream's
// deployment-controller): it rolls each Deployment's pod template out
// through ReplicaSets, which the replicaset controller fills with pods.
//
// The ReplicaSet of a template is named "<deployment>-<pod-template-hash>"
// (ComputeHash over the template and status.collisionCount, as upstream,
// so names match what kubectl and users expect), carries the hash as the
// pod-template-hash label in its selector and template, and the revision
// annotations kubectl rollout history/undo read: revision,
// revision-history, desired-replicas and max-replicas. The Deployment
// gets its new ReplicaSet's revision. Strategies: RollingUpdate (the new
// ReplicaSet grows while the total stays within replicas+maxSurge, old
// ones shrink while the available pods stay at or above
// replicas-maxUnavailable; unhealthy old replicas go first) and Recreate
// (old ReplicaSets to zero, and once their pods are gone the new one to
// replicas). A change of replicas during a rollout is spread over the
// active ReplicaSets in proportion to their size (proportional scaling).
// Old ReplicaSets beyond revisionHistoryLimit are deleted once the
// rollout completed. spec.paused stops rollouts (scaling still happens),
// with the Progressing condition Unknown/DeploymentPaused. The status
// (replicas, updatedReplicas, readyReplicas, availableReplicas,
// unavailableReplicas, terminatingReplicas, observedGeneration,
// collisionCount) and the conditions Progressing (NewReplicaSetCreated,
// FoundNewReplicaSet, ReplicaSetUpdated, NewReplicaSetAvailable,
// ProgressDeadlineExceeded…), Available (MinimumReplicasAvailable or
// MinimumReplicasUnavailable) and ReplicaFailure are what kubectl rollout
// status reads. Events are upstream's ScalingReplicaSet "Scaled up replica
// set <rs> from <a> to <b>" (and "Scaled down…"), ReplicaSetCreateError,
// SelectingAll.
//
// Rollback: kubectl rollout undo patches the Deployment's template with a
// former ReplicaSet's itself; the controller then finds that ReplicaSet
// as the new one and moves its revision forward (the deprecated
// extensions/v1beta1 rollbackTo annotation is not served by the API, so
// it is not handled).
package deployment

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	appsinformers "k8s.io/client-go/informers/apps/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/controller"
	"github.com/kinc-dev/kinc/pkg/controller/replicaset"
)

// Name is the controller's short name, as --controllers spells it too
// (upstream's canonical name is "deployment-controller").
const Name = "deployment"

// Component is the event source upstream's controller records events as.
const Component = "deployment-controller"

// DefaultConcurrentSyncs is upstream's --concurrent-deployment-syncs.
const DefaultConcurrentSyncs = 5

// Kind is the GroupVersionKind of the objects this controller owns
// ReplicaSets for.
var Kind = appsv1.SchemeGroupVersion.WithKind("Deployment")

// Options configure a Controller.
type Options struct {
	// Logger receives the loop's lines; nil discards them.
	Logger *slog.Logger
	// Clock drives retries, progress deadlines and condition times; nil
	// means the real clock.
	Clock clock.WithTicker
	// Recorder records the events; nil records none.
	Recorder record.EventRecorder
}

// Controller is the deployment controller. Its queue keys are
// "namespace/name" of Deployments. Run (from the embedded Loop) runs it.
type Controller struct {
	*controller.Loop
	client     kubernetes.Interface
	dLister    appslisters.DeploymentLister
	rsLister   appslisters.ReplicaSetLister
	podIndexer cache.Indexer
	recorder   record.EventRecorder
	clock      clock.WithTicker
}

// New returns a Controller reading Deployments, ReplicaSets and pods
// through the given informers (whose factory the caller starts; the pod
// informer gets replicaset.AddPodControllerIndex) and writing through
// client. Like upstream's it drops a Deployment after
// controller.DefaultMaxRetries failed syncs in a row, until its next event.
func New(client kubernetes.Interface, ds appsinformers.DeploymentInformer, rss appsinformers.ReplicaSetInformer, pods coreinformers.PodInformer, opts Options) (*Controller, error) {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Recorder == nil {
		opts.Recorder = &record.FakeRecorder{}
	}
	if err := replicaset.AddPodControllerIndex(pods.Informer()); err != nil {
		return nil, err
	}
	c := &Controller{client: client, dLister: ds.Lister(), rsLister: rss.Lister(), podIndexer: pods.Informer().GetIndexer(),
		recorder: opts.Recorder, clock: opts.Clock}
	c.Loop = controller.New(controller.Config{Name: Name, Sync: c.sync, Logger: opts.Logger, Clock: opts.Clock,
		MaxRetries: controller.DefaultMaxRetries,
		Synced:     []cache.InformerSynced{ds.Informer().HasSynced, rss.Informer().HasSynced, pods.Informer().HasSynced}})
	_, _ = ds.Informer().AddEventHandler(c.Handler(controller.HandlerOptions{}))
	_, _ = rss.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.addReplicaSet,
		UpdateFunc: c.updateReplicaSet,
		DeleteFunc: c.deleteReplicaSet,
	})
	_, _ = pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{DeleteFunc: c.deletePod})
	return c, nil
}

// resolve returns the Deployment ref names if this cache has it with
// ref's UID.
func (c *Controller) resolve(ns string, ref *metav1.OwnerReference) *appsv1.Deployment {
	if ref == nil || ref.Kind != Kind.Kind {
		return nil
	}
	d, err := c.dLister.Deployments(ns).Get(ref.Name)
	if err != nil || d.UID != ref.UID {
		return nil
	}
	return d
}

// enqueueSelecting enqueues the Deployments whose selector matches an
// orphan ReplicaSet's labels, so that one of them adopts it.
func (c *Controller) enqueueSelecting(rs *appsv1.ReplicaSet) {
	if len(rs.Labels) == 0 {
		return
	}
	ds, err := c.dLister.Deployments(rs.Namespace).List(labels.Everything())
	if err != nil {
		return
	}
	for _, d := range ds {
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(rs.Labels)) {
			continue
		}
		c.Enqueue(d)
	}
}

func (c *Controller) addReplicaSet(obj any) {
	rs, ok := obj.(*appsv1.ReplicaSet)
	if !ok {
		return
	}
	if rs.DeletionTimestamp != nil {
		c.deleteReplicaSet(rs)
		return
	}
	if ref := metav1.GetControllerOfNoCopy(rs); ref != nil {
		if d := c.resolve(rs.Namespace, ref); d != nil {
			c.Enqueue(d)
		}
		return
	}
	c.enqueueSelecting(rs)
}

func (c *Controller) updateReplicaSet(oldObj, newObj any) {
	oldRS, ok1 := oldObj.(*appsv1.ReplicaSet)
	rs, ok2 := newObj.(*appsv1.ReplicaSet)
	if !ok1 || !ok2 || rs.ResourceVersion == oldRS.ResourceVersion {
		return
	}
	ref, oldRef := metav1.GetControllerOfNoCopy(rs), metav1.GetControllerOfNoCopy(oldRS)
	refChanged := !reflect.DeepEqual(ref, oldRef)
	if refChanged && oldRef != nil {
		if d := c.resolve(oldRS.Namespace, oldRef); d != nil {
			c.Enqueue(d)
		}
	}
	if ref != nil {
		if d := c.resolve(rs.Namespace, ref); d != nil {
			c.Enqueue(d)
		}
		return
	}
	if refChanged || !reflect.DeepEqual(rs.Labels, oldRS.Labels) {
		c.enqueueSelecting(rs)
	}
}

func (c *Controller) deleteReplicaSet(obj any) {
	rs, ok := controller.Object[*appsv1.ReplicaSet](obj)
	if !ok {
		return
	}
	if d := c.resolve(rs.Namespace, metav1.GetControllerOfNoCopy(rs)); d != nil {
		c.Enqueue(d)
	}
}

// deletePod wakes a Recreate Deployment up when an old pod is gone: it
// waits for all of them before scaling the new ReplicaSet up.
func (c *Controller) deletePod(obj any) {
	pod, ok := controller.Object[*corev1.Pod](obj)
	if !ok {
		return
	}
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil || ref.Kind != replicaset.Kind.Kind {
		return
	}
	rs, err := c.rsLister.ReplicaSets(pod.Namespace).Get(ref.Name)
	if err != nil || rs.UID != ref.UID {
		return
	}
	if d := c.resolve(rs.Namespace, metav1.GetControllerOfNoCopy(rs)); d != nil && d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
		c.Enqueue(d)
	}
}

// sync brings the Deployment named key one step towards its desired
// state. A Deployment whose namespace is terminating is not retried.
func (c *Controller) sync(ctx context.Context, key string) error {
	err := c.syncDeployment(ctx, key)
	if err != nil && apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
		return nil
	}
	return err
}

func (c *Controller) syncDeployment(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	cached, err := c.dLister.Deployments(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	d := cached.DeepCopy()
	if d.Spec.Selector == nil || reflect.DeepEqual(d.Spec.Selector, &metav1.LabelSelector{}) {
		c.recorder.Eventf(d, corev1.EventTypeWarning, "SelectingAll", "This deployment is selecting all pods. A non-empty selector is required.")
		if d.Status.ObservedGeneration < d.Generation {
			d.Status.ObservedGeneration = d.Generation
			_, _ = c.client.AppsV1().Deployments(d.Namespace).UpdateStatus(ctx, d, metav1.UpdateOptions{})
		}
		return nil
	}
	rsList, err := c.claimReplicaSets(ctx, d)
	if err != nil {
		return err
	}
	if d.DeletionTimestamp != nil {
		return c.syncStatusOnly(ctx, d, rsList)
	}
	if err := c.checkPausedConditions(ctx, d); err != nil {
		return err
	}
	if d.Spec.Paused {
		return c.syncScale(ctx, d, rsList)
	}
	scaling, err := c.isScalingEvent(ctx, d, rsList)
	if err != nil {
		return err
	}
	if scaling {
		return c.syncScale(ctx, d, rsList)
	}
	switch d.Spec.Strategy.Type {
	case appsv1.RecreateDeploymentStrategyType:
		podMap, err := c.podMap(rsList)
		if err != nil {
			return err
		}
		return c.rolloutRecreate(ctx, d, rsList, podMap)
	case appsv1.RollingUpdateDeploymentStrategyType:
		return c.rolloutRolling(ctx, d, rsList)
	}
	c.recorder.Eventf(d, corev1.EventTypeWarning, "UnknownStrategy", "Unexpected deployment strategy type: %s", d.Spec.Strategy.Type)
	return nil
}

// claimReplicaSets adopts the orphan ReplicaSets of d's namespace its
// selector matches, releases the owned ones it no longer matches, and
// returns the ones d owns.
func (c *Controller) claimReplicaSets(ctx context.Context, d *appsv1.Deployment) ([]*appsv1.ReplicaSet, error) {
	all, err := c.rsLister.ReplicaSets(d.Namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	selector, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("deployment %s/%s has invalid label selector: %w", d.Namespace, d.Name, err)
	}
	var claimed []*appsv1.ReplicaSet
	var errs []error
	var canAdopt *error
	rsClient := c.client.AppsV1().ReplicaSets(d.Namespace)
	for _, rs := range all {
		ref := metav1.GetControllerOfNoCopy(rs)
		matches := selector.Matches(labels.Set(rs.Labels))
		switch {
		case ref != nil && ref.UID != d.UID:
		case ref != nil && matches:
			claimed = append(claimed, rs)
		case ref != nil:
			if d.DeletionTimestamp != nil {
				continue
			}
			_, err := rsClient.Patch(ctx, rs.Name, types.StrategicMergePatchType, replicaset.ReleasePatch(d.UID, rs.UID), metav1.PatchOptions{})
			if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsInvalid(err) {
				errs = append(errs, err)
			}
		case d.DeletionTimestamp != nil || !matches || rs.DeletionTimestamp != nil:
		default:
			if canAdopt == nil {
				err := c.recheckDeletion(ctx, d)
				canAdopt = &err
			}
			if *canAdopt != nil {
				errs = append(errs, fmt.Errorf("can't adopt ReplicaSet %s/%s (%s): %w", rs.Namespace, rs.Name, rs.UID, *canAdopt))
				continue
			}
			ref := replicaset.ControllerRef(d, Kind.Kind, Kind.GroupVersion().String())
			adopted, err := rsClient.Patch(ctx, rs.Name, types.StrategicMergePatchType, replicaset.AdoptPatch(ref, rs.UID), metav1.PatchOptions{})
			switch {
			case err == nil:
				claimed = append(claimed, adopted)
			case apierrors.IsNotFound(err):
			default:
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return claimed, nil
}

func (c *Controller) recheckDeletion(ctx context.Context, d *appsv1.Deployment) error {
	fresh, err := c.client.AppsV1().Deployments(d.Namespace).Get(ctx, d.Name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("can't recheck DeletionTimestamp: %w", err)
	}
	if fresh.UID != d.UID {
		return fmt.Errorf("original Deployment %s/%s is gone: got uid %s, wanted %s", d.Namespace, d.Name, fresh.UID, d.UID)
	}
	if fresh.DeletionTimestamp != nil {
		return fmt.Errorf("%s/%s has just been deleted at %v", d.Namespace, d.Name, fresh.DeletionTimestamp)
	}
	return nil
}

// podMap returns the pods of each ReplicaSet of rsList, by its UID.
func (c *Controller) podMap(rsList []*appsv1.ReplicaSet) (map[types.UID][]*corev1.Pod, error) {
	m := make(map[types.UID][]*corev1.Pod, len(rsList))
	for _, rs := range rsList {
		pods, err := replicaset.PodsControlledBy(c.podIndexer, rs.Namespace, rs.UID)
		if err != nil {
			return nil, err
		}
		m[rs.UID] = pods
	}
	return m, nil
}
