package kubelet

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/kinc-dev/kinc/pkg/kubelet/config"
	"github.com/kinc-dev/kinc/pkg/kubelet/cri"
	"github.com/kinc-dev/kinc/pkg/kubelet/kubeletconfig"
	"github.com/kinc-dev/kinc/pkg/kubelet/nodestatus"
)

const testImage = "kinc.local/testbin:test"

type kfixture struct {
	t       *testing.T
	ctx     context.Context
	k       *Kubelet
	runtime *cri.Fake
	client  *fake.Clientset
}

func newKFixture(t *testing.T) *kfixture {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	client := fake.NewClientset()
	// The fake clientset does not assign UIDs; the apiserver does.
	client.PrependReactor("create", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if obj, ok := a.(k8stesting.CreateAction).GetObject().(metav1.Object); ok && obj.GetUID() == "" {
			obj.SetUID(uuid.NewUUID())
		}
		return false, nil, nil
	})
	cfg := &kubeletconfig.KubeletConfiguration{}
	kubeletconfig.Default(cfg)
	cfg.PodLogsDir = t.TempDir()
	rt := cri.NewFake(testImage)
	k, wait := newKubelet(ctx, deps{nodeName: "node-a", nodeIPs: []string{"192.0.2.10"}, cfg: cfg, rootDir: t.TempDir(),
		runtime: rt, client: client, clock: clocktesting.NewFakeClock(time.Now()),
		logger: slog.New(slog.NewTextHandler(io.Discard, nil)), machine: func() nodestatus.Machine { return nodestatus.Machine{MemoryBytes: 1 << 30} }})
	t.Cleanup(func() { cancel(); wait() })
	if err := k.nodeCtl.Register(ctx); err != nil {
		t.Fatal(err)
	}
	k.startAPISource(ctx)
	if !cache.WaitForCacheSync(ctx.Done(), k.podSynced) {
		t.Fatal("informer did not sync")
	}
	return &kfixture{t: t, ctx: ctx, k: k, runtime: rt, client: client}
}

func (f *kfixture) waitFor(what string, cond func() error) {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// readySandboxes returns the names of the runtime's ready sandboxes.
func (f *kfixture) readySandboxes() map[string]int {
	sbs, _ := f.runtime.ListPodSandbox(f.ctx, &runtimeapi.PodSandboxFilter{State: &runtimeapi.PodSandboxStateValue{State: runtimeapi.PodSandboxState_SANDBOX_READY}})
	out := map[string]int{}
	for _, sb := range sbs {
		out[sb.Metadata.Name]++
	}
	return out
}

func (f *kfixture) sandboxCount(name string, want int) func() error {
	return func() error {
		f.k.relist()
		if got := f.readySandboxes()[name]; got != want {
			return fmt.Errorf("%d ready sandboxes named %s, want %d", got, name, want)
		}
		return nil
	}
}

func staticPod(uid, arg string) *v1.Pod {
	return &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "etcd-node-a", Namespace: "kube-system", UID: types.UID(uid),
		Annotations: map[string]string{config.ConfigSourceAnnotation: config.SourceFile, config.ConfigHashAnnotation: uid}},
		Spec: v1.PodSpec{NodeName: "node-a", HostNetwork: true, RestartPolicy: v1.RestartPolicyAlways,
			Containers: []v1.Container{{Name: "etcd", Image: testImage, Args: []string{arg}}}}}
}

func TestStaticAndMirrorPods(t *testing.T) {
	t.Parallel()
	f := newKFixture(t)
	f.k.setStaticPods([]*v1.Pod{staticPod("hash1", "v1")})
	f.waitFor("static pod sandbox", f.sandboxCount("etcd-node-a", 1))
	f.waitFor("mirror pod", func() error {
		f.k.syncMirrorPods(f.ctx)
		m, err := f.client.CoreV1().Pods("kube-system").Get(f.ctx, "etcd-node-a", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if m.Annotations[config.ConfigMirrorAnnotation] != "hash1" || m.OwnerReferences[0].UID != f.k.nodeCtl.NodeUID() {
			return fmt.Errorf("mirror = %+v", m.ObjectMeta)
		}
		return nil
	})
	f.waitFor("mirror pod status", func() error {
		f.k.relist()
		_ = f.k.statusMgr.Sync(f.ctx)
		m, _ := f.client.CoreV1().Pods("kube-system").Get(f.ctx, "etcd-node-a", metav1.GetOptions{})
		if m.Status.Phase != v1.PodRunning || m.Status.PodIP != "192.0.2.10" {
			return fmt.Errorf("mirror status = %+v", m.Status)
		}
		return nil
	})

	// An edited manifest (new UID, same name): the old pod is killed before the new one starts.
	f.k.setStaticPods([]*v1.Pod{staticPod("hash2", "v2")})
	f.waitFor("replaced static pod", func() error {
		if err := f.sandboxCount("etcd-node-a", 1)(); err != nil {
			return err
		}
		st, _ := f.k.rm.GetPodState(f.ctx, "hash2")
		if st.Newest() == nil {
			return fmt.Errorf("new pod not started")
		}
		if old, _ := f.k.rm.GetPodState(f.ctx, "hash1"); len(old.Sandboxes) != 0 {
			return fmt.Errorf("old pod not removed")
		}
		return nil
	})
	f.waitFor("mirror pod replaced", func() error {
		f.k.syncMirrorPods(f.ctx)
		m, err := f.client.CoreV1().Pods("kube-system").Get(f.ctx, "etcd-node-a", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if m.Annotations[config.ConfigMirrorAnnotation] != "hash2" {
			return fmt.Errorf("mirror hash %s", m.Annotations[config.ConfigMirrorAnnotation])
		}
		return nil
	})

	f.k.setStaticPods(nil)
	f.waitFor("static pod stopped", f.sandboxCount("etcd-node-a", 0))
	f.waitFor("mirror pod deleted", func() error {
		f.k.syncMirrorPods(f.ctx)
		if _, err := f.client.CoreV1().Pods("kube-system").Get(f.ctx, "etcd-node-a", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("mirror pod still there: %v", err)
		}
		return nil
	})
}

func TestAPIPodLifecycle(t *testing.T) {
	t.Parallel()
	f := newKFixture(t)
	f.k.setStaticPods(nil)
	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: v1.PodSpec{NodeName: "node-a", Containers: []v1.Container{{Name: "web", Image: testImage}}}}
	created, err := f.client.CoreV1().Pods("default").Create(f.ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f.waitFor("API pod running", func() error {
		_ = f.k.statusMgr.Sync(f.ctx)
		p, _ := f.client.CoreV1().Pods("default").Get(f.ctx, "web", metav1.GetOptions{})
		if p.Status.Phase != v1.PodRunning || len(p.Status.Conditions) != 5 || p.Status.HostIP != "192.0.2.10" {
			return fmt.Errorf("status = %+v", p.Status)
		}
		return nil
	})
	if got := f.k.Pods(); len(got) != 1 || got[0].Status.Phase != v1.PodRunning {
		t.Errorf("kubelet /pods = %v", got)
	}

	// A sandbox of a pod nobody knows is an orphan.
	_, _ = f.runtime.RunPodSandbox(f.ctx, &runtimeapi.PodSandboxConfig{Metadata: &runtimeapi.PodSandboxMetadata{Name: "ghost", Namespace: "default", Uid: "ghost"},
		Labels: map[string]string{"io.kubernetes.pod.uid": "ghost"}})
	stale := filepath.Join(f.k.rm.PodDir(&v1.Pod{ObjectMeta: metav1.ObjectMeta{UID: "stale-uid"}}), "volumes")
	for _, dir := range []string{stale, f.k.rm.PodDir(created)} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	f.k.cleanupOrphans(f.ctx)
	if n := f.readySandboxes()["ghost"]; n != 0 {
		t.Errorf("orphan not removed")
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("orphaned pod directory not removed: %v", err)
	}
	if _, err := os.Stat(f.k.rm.PodDir(created)); err != nil {
		t.Errorf("known pod's directory removed: %v", err)
	}
	if n := f.readySandboxes()["web"]; n != 1 {
		t.Errorf("known pod removed as orphan")
	}

	// Graceful deletion: the kubelet kills the pod, then deletes it for good.
	now := metav1.Now()
	grace := int64(5)
	deleting := created.DeepCopy()
	deleting.DeletionTimestamp, deleting.DeletionGracePeriodSeconds = &now, &grace
	if _, err := f.client.CoreV1().Pods("default").Update(f.ctx, deleting, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	f.waitFor("pod deleted", func() error {
		if _, err := f.client.CoreV1().Pods("default").Get(f.ctx, "web", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("pod still there: %v", err)
		}
		return nil
	})
	if st, _ := f.k.rm.GetPodState(f.ctx, created.UID); len(st.Sandboxes) != 0 || len(st.Containers) != 0 {
		t.Errorf("runtime still has the pod: %+v", st)
	}
	var stops []string
	for _, c := range f.runtime.CallsSnapshot() {
		if c == "StopContainer" {
			stops = append(stops, c)
		}
	}
	if len(stops) == 0 {
		t.Errorf("containers were not stopped before removal")
	}
}

func TestPodNetworkWaitsForCNI(t *testing.T) {
	t.Parallel()
	f := newKFixture(t)
	f.k.setStaticPods(nil)
	f.runtime.SetNetworkNotReady("cni plugin not initialized")
	f.k.updateRuntimeStatus(f.ctx)
	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "net", Namespace: "default"},
		Spec: v1.PodSpec{NodeName: "node-a", Containers: []v1.Container{{Name: "c", Image: testImage}}}}
	if _, err := f.client.CoreV1().Pods("default").Create(f.ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	f.waitFor("waiting for the network", func() error {
		f.k.relist()
		_ = f.k.statusMgr.Sync(f.ctx)
		p, _ := f.client.CoreV1().Pods("default").Get(f.ctx, "net", metav1.GetOptions{})
		if len(p.Status.ContainerStatuses) == 0 || p.Status.ContainerStatuses[0].State.Waiting == nil ||
			!strings.Contains(p.Status.ContainerStatuses[0].State.Waiting.Message, "NetworkReady=false reason:NetworkPluginNotReady message:cni plugin not initialized") {
			return fmt.Errorf("status = %+v", p.Status)
		}
		return nil
	})
	if n := f.readySandboxes()["net"]; n != 0 {
		t.Fatalf("sandbox created while the network is not ready")
	}
	f.runtime.SetNetworkNotReady("")
	f.k.updateRuntimeStatus(f.ctx)
	f.waitFor("pod started", f.sandboxCount("net", 1))
}

func TestCompletedPodStaysCompleted(t *testing.T) {
	t.Parallel()
	f := newKFixture(t)
	f.k.setStaticPods(nil)
	f.runtime.ExitOnStart["job"] = 0
	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "job", Namespace: "default"},
		Spec: v1.PodSpec{NodeName: "node-a", RestartPolicy: v1.RestartPolicyNever, Containers: []v1.Container{{Name: "job", Image: testImage}}}}
	if _, err := f.client.CoreV1().Pods("default").Create(f.ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	f.waitFor("pod succeeded", func() error {
		f.k.relist()
		_ = f.k.statusMgr.Sync(f.ctx)
		p, _ := f.client.CoreV1().Pods("default").Get(f.ctx, "job", metav1.GetOptions{})
		if p.Status.Phase != v1.PodSucceeded {
			return fmt.Errorf("phase %s", p.Status.Phase)
		}
		return nil
	})
	sandboxes := func() int {
		n := 0
		for _, c := range f.runtime.CallsSnapshot() {
			if c == "RunPodSandbox" {
				n++
			}
		}
		return n
	}
	before := sandboxes()
	for i := 0; i < 5; i++ {
		f.k.relist()
		time.Sleep(10 * time.Millisecond)
	}
	if after := sandboxes(); after != before || before != 1 {
		t.Errorf("RunPodSandbox called %d times before, %d after; want 1 and no more", before, after)
	}
}

func TestDeletionFinishedAfterRestart(t *testing.T) {
	t.Parallel()
	f := newKFixture(t)
	f.k.setStaticPods(nil)
	now := metav1.Now()
	grace := int64(30)
	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "going", Namespace: "default", DeletionTimestamp: &now, DeletionGracePeriodSeconds: &grace},
		Spec: v1.PodSpec{NodeName: "node-a", Containers: []v1.Container{{Name: "c", Image: testImage}}}}
	if _, err := f.client.CoreV1().Pods("default").Create(f.ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	f.waitFor("final delete", func() error {
		f.k.relist()
		if _, err := f.client.CoreV1().Pods("default").Get(f.ctx, "going", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("pod still there: %v", err)
		}
		return nil
	})
	if n := f.readySandboxes()["going"]; n != 0 {
		t.Errorf("a pod being deleted was started")
	}
}
