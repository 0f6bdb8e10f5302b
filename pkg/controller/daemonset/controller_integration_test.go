package daemonset_test

import (
	"context"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/controller/controllertest/integration"
	"github.com/kinc-dev/kinc/pkg/controller/daemonset"
	"github.com/kinc-dev/kinc/pkg/controller/replicaset"
)

// fakeKubelet does, for the pods of ns, what kubelets would: a new pod
// becomes Running and Ready; a pod being deleted is deleted at once. It
// records the most live pods seen per node at once.
type fakeKubelet struct {
	mu      sync.Mutex
	live    map[string]string // pod name → target node
	maxOnNd map[string]int
}

func targetNode(p *corev1.Pod) string {
	if p.Spec.NodeName != "" {
		return p.Spec.NodeName
	}
	if a := p.Spec.Affinity; a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
			for _, f := range term.MatchFields {
				if f.Key == "metadata.name" && len(f.Values) == 1 {
					return f.Values[0]
				}
			}
		}
	}
	return ""
}

func runFakeKubelet(ctx context.Context, t testing.TB, client kubernetes.Interface, ns string) *fakeKubelet {
	k := &fakeKubelet{live: map[string]string{}, maxOnNd: map[string]int{}}
	w, err := client.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	work := make(chan *corev1.Pod, 1000)
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
				k.live[pod.Name] = targetNode(pod)
				n := 0
				for _, node := range k.live {
					if node == targetNode(pod) {
						n++
					}
				}
				k.maxOnNd[targetNode(pod)] = max(k.maxOnNd[targetNode(pod)], n)
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
				p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}}
				if _, err := client.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil && ctx.Err() == nil {
					t.Logf("fake kubelet: %s: %v", p.Name, err)
				}
			}
		}
	}()
	t.Cleanup(w.Stop)
	return k
}

func (k *fakeKubelet) maxPerNode() map[string]int {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := map[string]int{}
	for n, v := range k.maxOnNd {
		out[n] = v
	}
	return out
}

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

// waitRolledOut waits until the DaemonSet is rolled out as kubectl rollout
// status judges it, with want pods desired.
func waitRolledOut(ctx context.Context, t testing.TB, client kubernetes.Interface, ns, name string, want int32) *appsv1.DaemonSet {
	t.Helper()
	var ds *appsv1.DaemonSet
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		var err error
		ds, err = client.AppsV1().DaemonSets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		s := ds.Status
		return ds.Generation <= s.ObservedGeneration && s.DesiredNumberScheduled == want && s.UpdatedNumberScheduled == want &&
			s.NumberAvailable == want && s.CurrentNumberScheduled == want && s.NumberUnavailable == 0 &&
			len(livePods(ctx, t, client, ns)) == int(want), nil
	})
	if err != nil {
		t.Fatalf("DaemonSet %s not rolled out: %v; status %+v", name, err, ds.Status)
	}
	return ds
}

// TestIntegrationDaemonSet runs the controller against a real
// kube-apiserver on etcd, the test acting as kubelet: a DaemonSet on three
// nodes gets a pod on each of the two it tolerates, then a template change
// rolls through with at most one pod per node, and kubectl rollout undo
// (revision 1 applied as a strategic merge patch) rolls it back.
func TestIntegrationDaemonSet(t *testing.T) {
	_, client := integration.Start(t)
	ctx := t.Context()
	const ns = "daemons"
	integration.CreateNamespace(ctx, t, client, ns)
	taints := map[string][]corev1.Taint{"n1": nil, "n2": nil, "n3": {{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule}}}
	for name, tt := range taints {
		n, err := client.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// Whatever admission added (not-ready until a kubelet reports):
		// only the test's taints.
		n.Spec.Taints = tt
		if _, err := client.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	kubelet := runFakeKubelet(ctx, t, client, ns)

	logger := integration.Logger(t)
	factory := informers.NewSharedInformerFactory(client, 0)
	apps, core := factory.Apps().V1(), factory.Core().V1()
	c, err := daemonset.New(client, apps.DaemonSets(), apps.ControllerRevisions(), core.Pods(), core.Nodes(), daemonset.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	integration.Run(ctx, t, factory, func(ctx context.Context) error { return c.Run(ctx, daemonset.DefaultConcurrentSyncs) })

	l := map[string]string{"app": "agent"}
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: ns},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: l},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: l},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "agent", Image: "agent:1"}}}},
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: ptr.To(intstr.FromInt32(1))}},
		},
	}
	if _, err := client.AppsV1().DaemonSets(ns).Create(ctx, ds, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitRolledOut(ctx, t, client, ns, "agent", 2)
	onNode := map[string]string{}
	for _, p := range livePods(ctx, t, client, ns) {
		onNode[targetNode(&p)] = p.Labels[daemonset.HashLabel]
	}
	if len(onNode) != 2 || onNode["n1"] == "" || onNode["n2"] == "" {
		t.Fatalf("pods on nodes %v, want one on n1 and one on n2 (n3's taint is not tolerated)", onNode)
	}
	revs, err := client.AppsV1().ControllerRevisions(ns).List(ctx, metav1.ListOptions{})
	if err != nil || len(revs.Items) != 1 || revs.Items[0].Name != "agent-"+onNode["n1"] || revs.Items[0].Revision != 1 {
		t.Fatalf("revisions %v %v, want agent-%s revision 1", revs, err, onNode["n1"])
	}

	// A rolling update: new pods everywhere, one node at a time.
	cur, err := client.AppsV1().DaemonSets(ns).Get(ctx, "agent", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cur.Spec.Template.Spec.Containers[0].Image = "agent:2"
	if _, err := client.AppsV1().DaemonSets(ns).Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		revs, err = client.AppsV1().ControllerRevisions(ns).List(ctx, metav1.ListOptions{})
		return err == nil && len(revs.Items) == 2, nil
	})
	if err != nil {
		t.Fatalf("no second revision: %v", err)
	}
	waitRolledOut(ctx, t, client, ns, "agent", 2)
	for _, p := range livePods(ctx, t, client, ns) {
		if p.Spec.Containers[0].Image != "agent:2" || p.Labels[daemonset.HashLabel] == onNode[targetNode(&p)] {
			t.Errorf("pod %s on %s not updated: image %s hash %s", p.Name, targetNode(&p), p.Spec.Containers[0].Image, p.Labels[daemonset.HashLabel])
		}
	}
	for node, n := range kubelet.maxPerNode() {
		if n > 1 {
			t.Errorf("node %s had %d daemon pods at once, want 1 (maxSurge 0)", node, n)
		}
	}

	// kubectl rollout undo: revision 1's data applied as a strategic merge
	// patch; revision 1 becomes revision 3, the pods go back to agent:1.
	var first *appsv1.ControllerRevision
	for i := range revs.Items {
		if revs.Items[i].Revision == 1 {
			first = &revs.Items[i]
		}
	}
	if first == nil {
		t.Fatalf("no revision 1 in %v", revs.Items)
	}
	if _, err := client.AppsV1().DaemonSets(ns).Patch(ctx, "agent", types.StrategicMergePatchType, first.Data.Raw, metav1.PatchOptions{}); err != nil {
		t.Fatalf("undo patch: %v", err)
	}
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		r, err := client.AppsV1().ControllerRevisions(ns).Get(ctx, first.Name, metav1.GetOptions{})
		return err == nil && r.Revision == 3, nil
	})
	if err != nil {
		t.Fatalf("revision %s not renumbered 3 after the undo: %v", first.Name, err)
	}
	waitRolledOut(ctx, t, client, ns, "agent", 2)
	for _, p := range livePods(ctx, t, client, ns) {
		if p.Spec.Containers[0].Image != "agent:1" || p.Labels[daemonset.HashLabel] != onNode["n1"] {
			t.Errorf("pod %s after the undo: image %s hash %s", p.Name, p.Spec.Containers[0].Image, p.Labels[daemonset.HashLabel])
		}
	}
}
