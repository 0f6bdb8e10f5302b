package kubelet

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/kinc-dev/kinc/pkg/controller/controllertest"
	"github.com/kinc-dev/kinc/pkg/kubelet/config"
	"github.com/kinc-dev/kinc/pkg/kubelet/cri"
	"github.com/kinc-dev/kinc/pkg/kubelet/kubeletconfig"
	"github.com/kinc-dev/kinc/pkg/kubelet/nodestatus"
)

func apiPod(ns, name, node string) *v1.Pod {
	return &v1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + name)},
		Spec: v1.PodSpec{NodeName: node, RestartPolicy: v1.RestartPolicyAlways,
			Containers: []v1.Container{{Name: "c", Image: testImage}}}}
}

// TestSyncAPIPod drives syncAPIPod through the controller kit's fixture:
// the pods bound to this node are recorded (as copies) and handed to the
// pod workers; mirror pods, other nodes' pods and pods gone from the
// cache are not.
func TestSyncAPIPod(t *testing.T) {
	mirror := apiPod("kube-system", "etcd-node-a", "node-a")
	mirror.Annotations = map[string]string{config.ConfigMirrorAnnotation: "hash"}
	mine, other := apiPod("default", "web", "node-a"), apiPod("default", "elsewhere", "node-b")
	f := controllertest.New(t, mine, other, mirror)

	ctx, cancel := context.WithCancel(context.Background())
	cfg := &kubeletconfig.KubeletConfiguration{}
	kubeletconfig.Default(cfg)
	cfg.PodLogsDir = t.TempDir()
	rt := cri.NewFake(testImage)
	k, wait := newKubelet(ctx, deps{nodeName: "node-a", nodeIPs: []string{"192.0.2.10"}, cfg: cfg, rootDir: t.TempDir(),
		runtime: rt, client: f.Client, clock: f.Clock, logger: f.Logger,
		machine: func() nodestatus.Machine { return nodestatus.Machine{MemoryBytes: 1 << 30} }})
	t.Cleanup(func() { cancel(); wait() })
	if _, err := k.newAPISource(f.Informers); err != nil {
		t.Fatal(err)
	}
	recorded := func() []string {
		k.mu.Lock()
		defer k.mu.Unlock()
		return slices.Sorted(maps.Keys(k.apiPods))
	}

	for _, key := range []string{"default/web", "default/elsewhere", "kube-system/etcd-node-a", "default/never-existed", "not/a/key"} {
		f.MustSync(k.syncAPIPod, key)
	}
	if got := recorded(); !slices.Equal(got, []string{"default/web"}) {
		t.Fatalf("apiPods = %v, want only this node's non-mirror pod", got)
	}
	cached, _ := k.podLister.Pods("default").Get("web")
	k.mu.Lock()
	recordedPod := k.apiPods["default/web"]
	k.mu.Unlock()
	if recordedPod == cached {
		t.Error("apiPods holds the informer's object, not a copy")
	}

	// The pod went to a pod worker, which started its sandbox.
	deadline := time.Now().Add(10 * time.Second)
	for {
		sbs, _ := rt.ListPodSandbox(ctx, &runtimeapi.PodSandboxFilter{State: &runtimeapi.PodSandboxStateValue{State: runtimeapi.PodSandboxState_SANDBOX_READY}})
		if len(sbs) == 1 && sbs[0].Metadata.Name == "web" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sandboxes %v, want web's", sbs)
		}
		time.Sleep(10 * time.Millisecond)
	}

	// Gone from the informer's cache: forgotten, and its sandbox stopped.
	if err := f.Informers.Core().V1().Pods().Informer().GetIndexer().Delete(mine); err != nil {
		t.Fatal(err)
	}
	f.MustSync(k.syncAPIPod, "default/web")
	if got := recorded(); len(got) != 0 {
		t.Errorf("apiPods = %v after the pod left the cache", got)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		sbs, _ := rt.ListPodSandbox(ctx, &runtimeapi.PodSandboxFilter{State: &runtimeapi.PodSandboxStateValue{State: runtimeapi.PodSandboxState_SANDBOX_READY}})
		if len(sbs) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sandboxes %v still ready after the pod was removed", sbs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
