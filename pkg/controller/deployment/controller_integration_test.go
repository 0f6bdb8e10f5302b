package deployment_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/controller/controllertest/integration"
	"github.com/kinc-dev/kinc/pkg/controller/deployment"
	"github.com/kinc-dev/kinc/pkg/controller/replicaset"
)

// controllers runs a replicaset and a deployment controller on their own
// informer factory until stop is called.
type controllers struct {
	cancel context.CancelFunc
	done   chan error
	rs     *replicaset.Controller
	d      *deployment.Controller
}

func startControllers(t testing.TB, client kubernetes.Interface, logger *slog.Logger) *controllers {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	factory := informers.NewSharedInformerFactory(client, 0)
	apps, pods := factory.Apps().V1(), factory.Core().V1().Pods()
	rsc, err := replicaset.New(client, apps.ReplicaSets(), pods, replicaset.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	dc, err := deployment.New(client, apps.Deployments(), apps.ReplicaSets(), pods, deployment.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	factory.Start(ctx.Done())
	c := &controllers{cancel: cancel, done: make(chan error, 2), rs: rsc, d: dc}
	go func() { c.done <- rsc.Run(ctx, replicaset.DefaultConcurrentSyncs) }()
	go func() { c.done <- dc.Run(ctx, deployment.DefaultConcurrentSyncs) }()
	t.Cleanup(func() { c.stop(t); factory.Shutdown() })
	return c
}

func (c *controllers) stop(t testing.TB) {
	if c.cancel == nil {
		return
	}
	c.cancel()
	c.cancel = nil
	for range 2 {
		if err := <-c.done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
}

// fakeKubelet does, for the pods of ns, what kubelets would: a new pod
// becomes Running and Ready; a pod being deleted is deleted at once.
// It also records the largest number of live pods seen at once.
type fakeKubelet struct {
	mu      sync.Mutex
	live    map[string]string // name → image of the pods not being deleted
	maxLive int
	mixed   bool // pods of two images were live at once
}

func runFakeKubelet(ctx context.Context, t testing.TB, client kubernetes.Interface, ns string) *fakeKubelet {
	k := &fakeKubelet{live: map[string]string{}}
	w, err := client.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	work := make(chan *corev1.Pod, 10000)
	go func() {
		defer close(work)
		for ev := range w.ResultChan() {
			pod, ok := ev.Object.(*corev1.Pod)
			if !ok {
				continue
			}
			k.mu.Lock()
			if ev.Type == watch.Deleted || pod.DeletionTimestamp != nil {
				delete(k.live, pod.Name)
			} else {
				k.live[pod.Name] = pod.Spec.Containers[0].Image
				k.maxLive = max(k.maxLive, len(k.live))
				for _, img := range k.live {
					k.mixed = k.mixed || img != pod.Spec.Containers[0].Image
				}
			}
			k.mu.Unlock()
			if ev.Type != watch.Deleted {
				work <- pod
			}
		}
	}()
	go func() {
		for pod := range work {
			switch {
			case pod.DeletionTimestamp != nil:
				_ = client.CoreV1().Pods(ns).Delete(ctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)})
			case !replicaset.IsPodReady(pod):
				p := pod.DeepCopy()
				p.Status.Phase = corev1.PodRunning
				now := metav1.Now()
				p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now}}
				if _, err := client.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil && ctx.Err() == nil {
					t.Logf("fake kubelet: %s: %v", p.Name, err)
				}
			}
		}
	}()
	t.Cleanup(w.Stop)
	return k
}

func (k *fakeKubelet) resetMax() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.maxLive = len(k.live)
	k.mixed = false
}

func (k *fakeKubelet) sawMixed() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.mixed
}

func (k *fakeKubelet) max() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.maxLive
}

func webDeployment(ns string, replicas int32) *appsv1.Deployment {
	l := map[string]string{"app": "web"}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: l},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{
				MaxSurge: ptr.To(intstr.FromInt32(1)), MaxUnavailable: ptr.To(intstr.FromInt32(0))}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: l},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "web:1"}}},
			},
		},
	}
}

// waitRolledOut waits until kubectl rollout status would say "successfully
// rolled out": the generation observed, every replica updated and
// available, no old replicas, Progressing not timed out.
func waitRolledOut(ctx context.Context, t testing.TB, client kubernetes.Interface, ns, name string, timeout time.Duration) *appsv1.Deployment {
	t.Helper()
	var d *appsv1.Deployment
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		var err error
		d, err = client.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		for _, c := range d.Status.Conditions {
			if c.Type == appsv1.DeploymentProgressing && c.Reason == deployment.ReasonTimedOut {
				return false, fmt.Errorf("progress deadline exceeded: %s", c.Message)
			}
		}
		want := *d.Spec.Replicas
		return d.Status.ObservedGeneration >= d.Generation && d.Status.UpdatedReplicas == want &&
			d.Status.Replicas == want && d.Status.AvailableReplicas == want, nil
	})
	if err != nil {
		t.Fatalf("deployment %s/%s not rolled out: %v; status %+v", ns, name, err, d.Status)
	}
	return d
}

// livePods returns the pods of ns that are not being deleted.
func livePods(ctx context.Context, t testing.TB, client kubernetes.Interface, ns string) []corev1.Pod {
	t.Helper()
	list, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []corev1.Pod
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out
}

func condition(d *appsv1.Deployment, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	for i := range d.Status.Conditions {
		if d.Status.Conditions[i].Type == t {
			return &d.Status.Conditions[i]
		}
	}
	return nil
}

// TestIntegrationDeploymentRollout runs both controllers against a real
// kube-apiserver on etcd, with a fake kubelet marking pods Ready: a
// Deployment rolls out, a template change rolls through within maxSurge
// (revision 2, the old ReplicaSet at zero), a scale to 5 follows, and a
// rollout interrupted by a controller restart finishes without duplicates.
func TestIntegrationDeploymentRollout(t *testing.T) {
	_, client := integration.Start(t)
	ctx := t.Context()
	const ns = "rollout"
	integration.CreateNamespace(ctx, t, client, ns)
	kubelet := runFakeKubelet(ctx, t, client, ns)
	logger := integration.Logger(t)
	ctrls := startControllers(t, client, logger)

	// Create: revision 1, ReplicaSet web-<hash of the template>.
	d, err := client.AppsV1().Deployments(ns).Create(ctx, webDeployment(ns, 3), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d = waitRolledOut(ctx, t, client, ns, "web", 60*time.Second)
	hash1 := deployment.ComputeHash(&d.Spec.Template, nil)
	rs1, err := client.AppsV1().ReplicaSets(ns).Get(ctx, "web-"+hash1, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("ReplicaSet web-%s: %v", hash1, err)
	}
	if rs1.Annotations[deployment.RevisionAnnotation] != "1" || d.Annotations[deployment.RevisionAnnotation] != "1" {
		t.Errorf("revisions: rs %q, deployment %q, want 1", rs1.Annotations[deployment.RevisionAnnotation], d.Annotations[deployment.RevisionAnnotation])
	}
	if c := condition(d, appsv1.DeploymentAvailable); c == nil || c.Status != corev1.ConditionTrue || c.Reason != deployment.ReasonMinimumAvailable {
		t.Errorf("Available condition %+v", c)
	}
	if ref := metav1.GetControllerOf(rs1); ref == nil || ref.UID != d.UID || !ptr.Deref(ref.BlockOwnerDeletion, false) {
		t.Errorf("ReplicaSet controller reference %+v", ref)
	}
	for _, p := range livePods(ctx, t, client, ns) {
		if p.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != hash1 || metav1.GetControllerOf(&p).UID != rs1.UID {
			t.Errorf("pod %s: labels %v, owner %+v", p.Name, p.Labels, metav1.GetControllerOf(&p))
		}
	}
	// The Progressing condition reads NewReplicaSetAvailable soon after.
	waitProgressing(ctx, t, client, ns, deployment.ReasonNewRSAvailable)

	// Rolling update within maxSurge 1, maxUnavailable 0.
	kubelet.resetMax()
	setImage(ctx, t, client, ns, "web:2")
	d = waitRolledOut(ctx, t, client, ns, "web", 60*time.Second)
	if got := kubelet.max(); got > 4 {
		t.Errorf("%d pods at once during the rollout, want at most replicas+maxSurge = 4", got)
	}
	rs1, _ = client.AppsV1().ReplicaSets(ns).Get(ctx, rs1.Name, metav1.GetOptions{})
	if *rs1.Spec.Replicas != 0 || d.Annotations[deployment.RevisionAnnotation] != "2" {
		t.Errorf("after the update: old ReplicaSet at %d, deployment revision %q", *rs1.Spec.Replicas, d.Annotations[deployment.RevisionAnnotation])
	}

	// Scale.
	scale(ctx, t, client, ns, 5)
	waitRolledOut(ctx, t, client, ns, "web", 60*time.Second)
	if n := len(livePods(ctx, t, client, ns)); n != 5 {
		t.Errorf("%d pods after scaling to 5", n)
	}

	// A rollout interrupted by a restart of the controllers.
	kubelet.resetMax()
	setImage(ctx, t, client, ns, "web:3")
	if err := wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		list, err := client.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		for _, rs := range list.Items {
			if rs.Spec.Template.Spec.Containers[0].Image == "web:3" && rs.Status.Replicas > 0 {
				return true, nil
			}
		}
		return false, nil
	}); err != nil {
		t.Fatal("the third rollout did not start")
	}
	ctrls.stop(t)
	ctrls = startControllers(t, client, logger)
	d = waitRolledOut(ctx, t, client, ns, "web", 60*time.Second)
	if got := kubelet.max(); got > 6 {
		t.Errorf("%d pods at once during the interrupted rollout, want at most 6", got)
	}
	pods := livePods(ctx, t, client, ns)
	if len(pods) != 5 {
		t.Errorf("%d pods after the interrupted rollout, want 5", len(pods))
	}
	for _, p := range pods {
		if p.Spec.Containers[0].Image != "web:3" {
			t.Errorf("pod %s runs %s", p.Name, p.Spec.Containers[0].Image)
		}
	}
	if d.Annotations[deployment.RevisionAnnotation] != "3" {
		t.Errorf("revision %q, want 3", d.Annotations[deployment.RevisionAnnotation])
	}
	waitProgressing(ctx, t, client, ns, deployment.ReasonNewRSAvailable)
	if st := ctrls.d.Stats(); st.Drops != 0 {
		t.Errorf("deployment controller dropped keys: %+v", st)
	}
	// Steady state: nothing left to do, so nothing is synced (no hot loop
	// of status writes answering their own events).
	time.Sleep(time.Second)
	dBefore, rsBefore := ctrls.d.Stats().Syncs, ctrls.rs.Stats().Syncs
	time.Sleep(2 * time.Second)
	if d, rs := ctrls.d.Stats().Syncs-dBefore, ctrls.rs.Stats().Syncs-rsBefore; d+rs > 0 {
		t.Errorf("%d deployment and %d replicaset syncs in 2s of steady state", d, rs)
	}
}

func waitProgressing(ctx context.Context, t testing.TB, client kubernetes.Interface, ns, reason string) {
	t.Helper()
	var d *appsv1.Deployment
	if err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		var err error
		d, err = client.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		c := condition(d, appsv1.DeploymentProgressing)
		return c != nil && c.Reason == reason, nil
	}); err != nil {
		t.Fatalf("Progressing is not %s: %+v", reason, d.Status.Conditions)
	}
}

func setImage(ctx context.Context, t testing.TB, client kubernetes.Interface, ns, image string) {
	t.Helper()
	patch := fmt.Sprintf(`{"spec":{"template":{"spec":{"containers":[{"name":"web","image":%q}]}}}}`, image)
	if _, err := client.AppsV1().Deployments(ns).Patch(ctx, "web", "application/strategic-merge-patch+json", []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

func scale(ctx context.Context, t testing.TB, client kubernetes.Interface, ns string, n int32) {
	t.Helper()
	patch := fmt.Sprintf(`{"spec":{"replicas":%d}}`, n)
	if _, err := client.AppsV1().Deployments(ns).Patch(ctx, "web", "application/merge-patch+json", []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestIntegrationRecreateAndUndo: a Recreate rollout never runs pods of
// both templates at once; setting the template back (what kubectl rollout
// undo does) reuses the first ReplicaSet at revision 3 with "1" in its
// revision-history.
func TestIntegrationRecreateAndUndo(t *testing.T) {
	_, client := integration.Start(t)
	ctx := t.Context()
	const ns = "recreate"
	integration.CreateNamespace(ctx, t, client, ns)
	kubelet := runFakeKubelet(ctx, t, client, ns)
	startControllers(t, client, slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})))

	d := webDeployment(ns, 2)
	d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	d.Annotations = map[string]string{"kubernetes.io/change-cause": "first"}
	if _, err := client.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	d = waitRolledOut(ctx, t, client, ns, "web", 60*time.Second)
	first := "web-" + deployment.ComputeHash(&d.Spec.Template, nil)

	kubelet.resetMax()
	setImage(ctx, t, client, ns, "web:2")
	waitRolledOut(ctx, t, client, ns, "web", 60*time.Second)
	if kubelet.sawMixed() || kubelet.max() > 2 {
		t.Errorf("Recreate: pods of both templates at once (%v) or more than 2 (%d)", kubelet.sawMixed(), kubelet.max())
	}

	// Undo: the template of revision 1 again.
	setImage(ctx, t, client, ns, "web:1")
	d = waitRolledOut(ctx, t, client, ns, "web", 60*time.Second)
	rs, err := client.AppsV1().ReplicaSets(ns).Get(ctx, first, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rs.Annotations[deployment.RevisionAnnotation] != "3" || rs.Annotations[deployment.RevisionHistoryAnnotation] != "1" ||
		*rs.Spec.Replicas != 2 || rs.Annotations["kubernetes.io/change-cause"] != "first" {
		t.Errorf("first ReplicaSet after the undo: replicas %d, annotations %v", *rs.Spec.Replicas, rs.Annotations)
	}
	if d.Annotations[deployment.RevisionAnnotation] != "3" {
		t.Errorf("deployment revision %q, want 3", d.Annotations[deployment.RevisionAnnotation])
	}
	list, err := client.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{})
	if err != nil || len(list.Items) != 2 {
		t.Errorf("%d ReplicaSets (%v), want 2", len(list.Items), err)
	}

	// Paused (kubectl rollout pause): a template change rolls nothing out
	// until resumed.
	patch(ctx, t, client, ns, `{"spec":{"paused":true}}`)
	waitProgressing(ctx, t, client, ns, deployment.ReasonPaused)
	setImage(ctx, t, client, ns, "web:3")
	time.Sleep(time.Second)
	if list, _ := client.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{}); len(list.Items) != 2 {
		t.Errorf("%d ReplicaSets while paused, want 2", len(list.Items))
	}
	patch(ctx, t, client, ns, `{"spec":{"paused":false}}`)
	d = waitRolledOut(ctx, t, client, ns, "web", 60*time.Second)
	if d.Annotations[deployment.RevisionAnnotation] != "4" {
		t.Errorf("revision %q after resuming, want 4", d.Annotations[deployment.RevisionAnnotation])
	}

	// No kubelet makes the pods of "stuck" ready: past its deadline the
	// rollout is ProgressDeadlineExceeded (kubectl rollout status fails).
	const stuckNS = "stuck"
	integration.CreateNamespace(ctx, t, client, stuckNS)
	stuck := webDeployment(stuckNS, 1)
	stuck.Spec.ProgressDeadlineSeconds = ptr.To[int32](2)
	if _, err := client.AppsV1().Deployments(stuckNS).Create(ctx, stuck, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitProgressing(ctx, t, client, stuckNS, deployment.ReasonTimedOut)
}

func patch(ctx context.Context, t testing.TB, client kubernetes.Interface, ns, body string) {
	t.Helper()
	if _, err := client.AppsV1().Deployments(ns).Patch(ctx, "web", "application/merge-patch+json", []byte(body), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}
