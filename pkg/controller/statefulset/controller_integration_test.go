package statefulset_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/controller/controllertest/integration"
	"github.com/kinc-dev/kinc/pkg/controller/replicaset"
	"github.com/kinc-dev/kinc/pkg/controller/statefulset"
)

// fakeKubelet does, for the pods of ns, what kubelets would, a little
// slowly (readyAfter): a new pod becomes Running and Ready; a pod being
// deleted is deleted. It logs "create web-0", "ready web-0", "delete
// web-0" in the order they happened.
type fakeKubelet struct {
	mu  sync.Mutex
	log []string
}

func (k *fakeKubelet) add(s string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.log = append(k.log, s)
}

// take returns the log so far and empties it.
func (k *fakeKubelet) take() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := k.log
	k.log = nil
	return out
}

func runFakeKubelet(ctx context.Context, t testing.TB, client kubernetes.Interface, ns string, readyAfter time.Duration) *fakeKubelet {
	k := &fakeKubelet{}
	w, err := client.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	seen, ready := map[types.UID]bool{}, map[types.UID]bool{}
	go func() {
		for ev := range w.ResultChan() {
			pod, ok := ev.Object.(*corev1.Pod)
			if !ok {
				continue
			}
			// "ready" is recorded from the watch, which orders it before
			// the creates it lets the controller make; recording it when
			// the status update returns raced with those.
			if ev.Type != watch.Deleted && !ready[pod.UID] && isReady(pod) {
				ready[pod.UID] = true
				k.add("ready " + pod.Name)
			}
			switch {
			case ev.Type == watch.Deleted:
				k.add("delete " + pod.Name)
			case pod.DeletionTimestamp != nil:
				go func() {
					_ = client.CoreV1().Pods(ns).Delete(ctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0),
						Preconditions: &metav1.Preconditions{UID: &pod.UID}})
				}()
			case !seen[pod.UID]:
				seen[pod.UID] = true
				k.add("create " + pod.Name)
				go func() {
					time.Sleep(readyAfter)
					p := pod.DeepCopy()
					p.Status.Phase = corev1.PodRunning
					p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}}
					if _, err := client.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil && ctx.Err() == nil {
						t.Logf("fake kubelet: %s: %v", p.Name, err)
					}
				}()
			}
		}
	}()
	t.Cleanup(w.Stop)
	return k
}

// isReady reports whether pod has the Ready condition.
func isReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

// waitRolledOut waits until the set is rolled out as kubectl rollout
// status judges it (partition-aware) and has want ready pods.
func waitRolledOut(ctx context.Context, t testing.TB, client kubernetes.Interface, ns, name string, want int32) *appsv1.StatefulSet {
	t.Helper()
	var set *appsv1.StatefulSet
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		var err error
		set, err = client.AppsV1().StatefulSets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		s := set.Status
		if s.ObservedGeneration < set.Generation || s.ReadyReplicas != want || s.Replicas != want || s.AvailableReplicas != want {
			return false, nil
		}
		if r := set.Spec.UpdateStrategy.RollingUpdate; r != nil && r.Partition != nil && *r.Partition > 0 {
			return s.UpdatedReplicas >= want-*r.Partition, nil
		}
		return s.UpdateRevision == s.CurrentRevision && s.UpdatedReplicas == want, nil
	})
	if err != nil {
		t.Fatalf("StatefulSet %s not rolled out: %v; status %+v", name, err, set.Status)
	}
	return set
}

func pods(ctx context.Context, t testing.TB, client kubernetes.Interface, ns string) map[string]corev1.Pod {
	t.Helper()
	list, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]corev1.Pod{}
	for _, p := range list.Items {
		out[p.Name] = p
	}
	return out
}

func update(ctx context.Context, t testing.TB, client kubernetes.Interface, ns string, fn func(*appsv1.StatefulSet)) {
	t.Helper()
	set, err := client.AppsV1().StatefulSets(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fn(set)
	if _, err := client.AppsV1().StatefulSets(ns).Update(ctx, set, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestIntegrationStatefulSet runs the controller against a real
// kube-apiserver on etcd, the test acting as kubelet: web-0 is created and
// ready before web-1 is created, and so on; a scale down deletes web-2
// before web-1; a rolling update with partition 2 replaces only web-2,
// partition 0 then the rest, highest first.
func TestIntegrationStatefulSet(t *testing.T) {
	_, client := integration.Start(t)
	ctx := t.Context()
	const ns = "stateful"
	integration.CreateNamespace(ctx, t, client, ns)
	kubelet := runFakeKubelet(ctx, t, client, ns, 300*time.Millisecond)

	logger := integration.Logger(t)
	factory := informers.NewSharedInformerFactory(client, 0)
	apps := factory.Apps().V1()
	c, err := statefulset.New(client, apps.StatefulSets(), apps.ControllerRevisions(), factory.Core().V1().Pods(), statefulset.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	integration.Run(ctx, t, factory, func(ctx context.Context) error { return c.Run(ctx, statefulset.DefaultConcurrentSyncs) })

	l := map[string]string{"app": "web"}
	set := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    ptr.To[int32](3),
			Selector:    &metav1.LabelSelector{MatchLabels: l},
			ServiceName: "web",
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: l},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "web:1"}}}},
		},
	}
	if _, err := client.AppsV1().StatefulSets(ns).Create(ctx, set, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	first := waitRolledOut(ctx, t, client, ns, "web", 3)
	want := []string{"create web-0", "ready web-0", "create web-1", "ready web-1", "create web-2", "ready web-2"}
	if got := kubelet.take(); !slices.Equal(got, want) {
		t.Errorf("kubelet saw %q, want %q", got, want)
	}
	for i := range 3 {
		name := fmt.Sprintf("web-%d", i)
		p := pods(ctx, t, client, ns)[name]
		if p.Labels[statefulset.PodNameLabel] != name || p.Labels[statefulset.PodIndexLabel] != fmt.Sprint(i) ||
			p.Labels[statefulset.RevisionLabel] != first.Status.UpdateRevision || p.Spec.Hostname != name || p.Spec.Subdomain != "web" {
			t.Errorf("%s: labels %v hostname %q subdomain %q", name, p.Labels, p.Spec.Hostname, p.Spec.Subdomain)
		}
	}

	// Scale down: web-2 goes before web-1.
	update(ctx, t, client, ns, func(s *appsv1.StatefulSet) { s.Spec.Replicas = ptr.To[int32](1) })
	waitRolledOut(ctx, t, client, ns, "web", 1)
	if got := kubelet.take(); !slices.Equal(got, []string{"delete web-2", "delete web-1"}) {
		t.Errorf("kubelet saw %q, want web-2 deleted before web-1", got)
	}
	update(ctx, t, client, ns, func(s *appsv1.StatefulSet) { s.Spec.Replicas = ptr.To[int32](3) })
	waitRolledOut(ctx, t, client, ns, "web", 3)
	kubelet.take()
	before := pods(ctx, t, client, ns)

	// Partitioned rolling update: only web-2.
	update(ctx, t, client, ns, func(s *appsv1.StatefulSet) {
		s.Spec.Template.Spec.Containers[0].Image = "web:2"
		s.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr.To[int32](2)}
	})
	partial := waitRolledOut(ctx, t, client, ns, "web", 3)
	if s := partial.Status; s.UpdatedReplicas != 1 || s.CurrentReplicas != 2 || s.CurrentRevision == s.UpdateRevision {
		t.Errorf("status after the partitioned update %+v", s)
	}
	after := pods(ctx, t, client, ns)
	for _, name := range []string{"web-0", "web-1"} {
		if after[name].UID != before[name].UID || after[name].Spec.Containers[0].Image != "web:1" {
			t.Errorf("%s below the partition was replaced", name)
		}
	}
	if p := after["web-2"]; p.UID == before["web-2"].UID || p.Spec.Containers[0].Image != "web:2" || p.Labels[statefulset.RevisionLabel] != partial.Status.UpdateRevision {
		t.Errorf("web-2 not updated: image %s revision %s", p.Spec.Containers[0].Image, p.Labels[statefulset.RevisionLabel])
	}
	kubelet.take()

	// Partition 0: the rest, highest first; the update revision becomes current.
	update(ctx, t, client, ns, func(s *appsv1.StatefulSet) { s.Spec.UpdateStrategy.RollingUpdate.Partition = ptr.To[int32](0) })
	done2 := waitRolledOut(ctx, t, client, ns, "web", 3)
	if done2.Status.CurrentRevision != partial.Status.UpdateRevision || done2.Status.CurrentReplicas != 3 {
		t.Errorf("status after the full update %+v", done2.Status)
	}
	var deletes []string
	for _, e := range kubelet.take() {
		if strings.HasPrefix(e, "delete ") {
			deletes = append(deletes, strings.TrimPrefix(e, "delete "))
		}
	}
	if !slices.Equal(deletes, []string{"web-1", "web-0"}) {
		t.Errorf("deleted %q, want web-1 then web-0", deletes)
	}
	revs, err := client.AppsV1().ControllerRevisions(ns).List(ctx, metav1.ListOptions{})
	if err != nil || len(revs.Items) != 2 {
		t.Errorf("revisions %v %v, want 2", revs, err)
	}
	for _, p := range pods(ctx, t, client, ns) {
		if !replicaset.IsPodReady(&p) || p.Spec.Containers[0].Image != "web:2" {
			t.Errorf("%s: image %s ready %v", p.Name, p.Spec.Containers[0].Image, replicaset.IsPodReady(&p))
		}
	}
}
