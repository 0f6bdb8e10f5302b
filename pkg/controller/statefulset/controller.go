// Package statefulset is kinc's "statefulset" controller (upstream's
// statefulset-controller): pods with stable names "<set>-<ordinal>",
// created and deleted in order.
//
// Each pod is made from the set's template with its identity: name,
// hostname and subdomain (spec.serviceName), the labels
// statefulset.kubernetes.io/pod-name and apps.kubernetes.io/pod-index,
// controller-revision-hash naming its ControllerRevision, and a
// PersistentVolumeClaim volume "<template>-<set>-<ordinal>" per
// volumeClaimTemplate. With OrderedReady (the default) pod i+1 is created
// only once pod i is Running, Ready and available, and a scale down
// deletes the highest ordinal first, one at a time, only while the others
// are healthy; Parallel creates and deletes at once. Failed and succeeded
// pods are deleted and recreated.
//
// Templates are snapshotted in ControllerRevisions "<set>-<hash>" (history
// trimmed to revisionHistoryLimit); status.currentRevision and
// updateRevision tell which pods are current. RollingUpdate replaces
// out-of-date pods from the highest ordinal down to the partition, at
// most maxUnavailable at a time (upstream's MaxUnavailableStatefulSet, on
// by default in 1.37); OnDelete replaces only pods the user deletes.
//
// Claims are created (and read) straight through the API, not an
// informer: while the apiserver does not serve PVCs, a set with
// volumeClaimTemplates records FailedCreate events ("create Claim … failed
// error: …") and retries, creating no pods, as upstream does when claim
// creation fails. persistentVolumeClaimRetentionPolicy is not applied yet
// (claims are never deleted, as with the default Retain).
//
// Events are upstream's (1.37 title-cases the verb): SuccessfulCreate
// "Create Pod web-0 in StatefulSet web successful", SuccessfulDelete,
// SuccessfulUpdate, and FailedCreate "Create Pod web-0 in StatefulSet web
// failed error: <err>" and the other Failed<Verb>.
package statefulset

import (
	"context"
	"fmt"
	"log/slog"
	"time"

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
	"github.com/kinc-dev/kinc/pkg/controller/internal/controllerref"
	"github.com/kinc-dev/kinc/pkg/controller/replicaset"
)

// Name is the controller's short name, as --controllers spells it.
const Name = "statefulset"

// Component is the event source upstream's controller records events as.
const Component = "statefulset-controller"

// DefaultConcurrentSyncs is upstream's --concurrent-statefulset-syncs.
const DefaultConcurrentSyncs = 5

// Kind is the GroupVersionKind of the owner of stateful pods.
var Kind = appsv1.SchemeGroupVersion.WithKind("StatefulSet")

// Options configure a Controller.
type Options struct {
	// Logger receives the loop's lines; nil discards them.
	Logger *slog.Logger
	// Clock drives retries and availability; nil means the real clock.
	Clock clock.WithTicker
	// Recorder records the events; nil records none.
	Recorder record.EventRecorder
}

// Controller is the statefulset controller; queue keys are
// "namespace/name" of StatefulSets. Run (from the embedded Loop) runs it.
type Controller struct {
	*controller.Loop
	client     kubernetes.Interface
	setLister  appslisters.StatefulSetLister
	revLister  appslisters.ControllerRevisionLister
	podIndexer cache.Indexer
	recorder   record.EventRecorder
	clock      clock.WithTicker
}

// New returns a Controller reading through the given informers (whose
// factory the caller starts; New adds the pod controller index of package
// replicaset) and writing through client.
func New(client kubernetes.Interface, sets appsinformers.StatefulSetInformer, revs appsinformers.ControllerRevisionInformer,
	pods coreinformers.PodInformer, opts Options) (*Controller, error) {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Recorder == nil {
		opts.Recorder = &record.FakeRecorder{}
	}
	if err := replicaset.AddPodControllerIndex(pods.Informer()); err != nil {
		return nil, err
	}
	c := &Controller{client: client, setLister: sets.Lister(), revLister: revs.Lister(),
		podIndexer: pods.Informer().GetIndexer(), recorder: opts.Recorder, clock: opts.Clock}
	c.Loop = controller.New(controller.Config{Name: Name, Sync: c.sync, Logger: opts.Logger, Clock: opts.Clock,
		Synced: []cache.InformerSynced{sets.Informer().HasSynced, revs.Informer().HasSynced, pods.Informer().HasSynced}})
	_, _ = sets.Informer().AddEventHandler(c.Handler(controller.HandlerOptions{}))
	_, _ = pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { c.enqueueOwners(obj) },
		UpdateFunc: func(oldObj, newObj any) {
			oldPod, ok1 := oldObj.(*corev1.Pod)
			pod, ok2 := newObj.(*corev1.Pod)
			if !ok1 || !ok2 || oldPod.ResourceVersion == pod.ResourceVersion {
				return
			}
			c.enqueueOwners(oldPod)
			c.enqueueOwners(pod)
			// Availability comes minReadySeconds after readiness.
			if set := c.resolve(pod.Namespace, metav1.GetControllerOfNoCopy(pod)); set != nil && set.Spec.MinReadySeconds > 0 &&
				!replicaset.IsPodReady(oldPod) && replicaset.IsPodReady(pod) {
				c.EnqueueAfter(set, time.Duration(set.Spec.MinReadySeconds)*time.Second+time.Second/10)
			}
		},
		DeleteFunc: func(obj any) { c.enqueueOwners(obj) },
	})
	return c, nil
}

// resolve returns the StatefulSet ref names, if the cache has it with
// ref's UID.
func (c *Controller) resolve(ns string, ref *metav1.OwnerReference) *appsv1.StatefulSet {
	if ref == nil || ref.Kind != Kind.Kind {
		return nil
	}
	set, err := c.setLister.StatefulSets(ns).Get(ref.Name)
	if err != nil || set.UID != ref.UID {
		return nil
	}
	return set
}

// enqueueOwners enqueues a pod's StatefulSet, or for an orphan every set
// of its namespace whose selector matches it.
func (c *Controller) enqueueOwners(obj any) {
	pod, ok := controller.Object[*corev1.Pod](obj)
	if !ok {
		return
	}
	if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
		if set := c.resolve(pod.Namespace, ref); set != nil {
			c.Enqueue(set)
		}
		return
	}
	sets, err := c.setLister.GetPodStatefulSets(pod)
	if err != nil {
		return
	}
	for _, set := range sets {
		c.Enqueue(set)
	}
}

func (c *Controller) recheck(set *appsv1.StatefulSet) func(ctx context.Context) error {
	return controllerref.Recheck("StatefulSet", set.Namespace, set.Name, set.UID, func(ctx context.Context) (metav1.Object, error) {
		return c.client.AppsV1().StatefulSets(set.Namespace).Get(ctx, set.Name, metav1.GetOptions{})
	})
}

// claimPods returns the pods set controls after adopting orphans its
// selector matches and whose names are "<set>-<n>", and releasing those it
// no longer matches.
func (c *Controller) claimPods(ctx context.Context, set *appsv1.StatefulSet, selector labels.Selector) ([]*corev1.Pod, error) {
	candidates, err := replicaset.PodsOwnedOrOrphaned(c.podIndexer, set.Namespace, set.UID)
	if err != nil {
		return nil, err
	}
	var pods []*corev1.Pod
	for _, p := range candidates {
		if metav1.GetControllerOfNoCopy(p) != nil || isMemberOf(set, p) {
			pods = append(pods, p)
		}
	}
	return controllerref.Claim(ctx, controllerref.Claimer{
		Owner: set, Kind: Kind, Selector: selector, Recheck: c.recheck(set),
		Patch: func(ctx context.Context, name string, patch []byte) error {
			_, err := c.client.CoreV1().Pods(set.Namespace).Patch(ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
			return err
		},
	}, pods)
}

// sync brings the StatefulSet named key to its pods, revisions and
// status.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	set, err := c.setLister.StatefulSets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	selector, err := metav1.LabelSelectorAsSelector(set.Spec.Selector)
	if err != nil {
		c.Logger().Error("invalid selector", "statefulSet", key, "err", err)
		return nil // validation forbids it: nothing to retry
	}
	revs, err := c.listRevisions(ctx, set, selector)
	if err != nil {
		return err
	}
	pods, err := c.claimPods(ctx, set, selector)
	if err != nil {
		return err
	}
	status, err := c.update(ctx, set, pods, revs, c.clock.Now())
	if err != nil {
		return fmt.Errorf("sync of StatefulSet %s: %w", key, err)
	}
	if status != nil && set.Spec.MinReadySeconds > 0 && status.AvailableReplicas != int32(replicasOf(set)) {
		c.EnqueueAfter(set, time.Duration(set.Spec.MinReadySeconds)*time.Second)
	}
	return nil
}
