package config

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	clocktesting "k8s.io/utils/clock/testing"
)

const manifest = `apiVersion: v1
kind: Pod
metadata:
  name: etcd
  namespace: kube-system
  labels: {component: etcd, tier: control-plane}
spec:
  hostNetwork: true
  containers:
  - name: etcd
    image: registry.k8s.io/etcd:3.5.15-0
    command: [etcd, --data-dir=/var/lib/etcd]
`

func TestFileSourceRead(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, dir, "etcd.yaml", manifest)
	write(t, dir, ".swp", "garbage")
	write(t, dir, "bad.yaml", "kind: Pod\nspec: {bogus: 1}\n")
	clk := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s := &FileSource{Dir: dir, NodeName: "Node-A", Interval: time.Second, Clock: clk, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	pods := s.Read()
	if len(pods) != 1 {
		t.Fatalf("got %d pods, want 1", len(pods))
	}
	p := pods[0]
	if p.Name != "etcd-node-a" || p.Namespace != "kube-system" || p.Spec.NodeName != "Node-A" || len(p.UID) != 32 {
		t.Errorf("pod identity = %s/%s node %s uid %s", p.Namespace, p.Name, p.Spec.NodeName, p.UID)
	}
	if p.Annotations[ConfigHashAnnotation] != string(p.UID) || p.Annotations[ConfigSourceAnnotation] != "file" ||
		p.Annotations[ConfigSeenAnnotation] != "2026-01-01T00:00:00Z" || !IsStaticPod(p) {
		t.Errorf("annotations = %v", p.Annotations)
	}
	if p.Spec.RestartPolicy != v1.RestartPolicyAlways || p.Spec.Containers[0].ImagePullPolicy != v1.PullIfNotPresent ||
		len(p.Spec.Tolerations) != 1 || p.Spec.Tolerations[0].Effect != v1.TaintEffectNoExecute {
		t.Errorf("defaults not applied: %+v", p.Spec)
	}
	again := s.Read()
	if again[0].UID != p.UID {
		t.Errorf("UID changed on re-read")
	}
	write(t, dir, "etcd.yaml", manifest+"    args: [--x]\n")
	if edited := s.Read(); edited[0].UID == p.UID {
		t.Errorf("edited manifest kept UID %s", p.UID)
	}
	m := MirrorPod(p, "node-uid")
	if !IsMirrorPod(m) || m.Annotations[ConfigMirrorAnnotation] != string(p.UID) || m.UID != "" || m.OwnerReferences[0].Kind != "Node" {
		t.Errorf("mirror pod = %+v", m.ObjectMeta)
	}
}

func TestFileSourceRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	clk := clocktesting.NewFakeClock(time.Now())
	s := &FileSource{Dir: dir, NodeName: "n", Interval: time.Second, Clock: clk, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	var mu sync.Mutex
	var updates [][]*v1.Pod
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx, func(p []*v1.Pod) { mu.Lock(); updates = append(updates, p); mu.Unlock() })
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(updates) }
	waitFor(t, func() bool { return count() == 1 })
	write(t, dir, "etcd.yaml", manifest)
	waitFor(t, func() bool { clk.Step(time.Second); return count() == 2 })
	os.Remove(filepath.Join(dir, "etcd.yaml"))
	waitFor(t, func() bool { clk.Step(time.Second); return count() == 3 })
	mu.Lock()
	defer mu.Unlock()
	if len(updates[0]) != 0 || len(updates[1]) != 1 || len(updates[2]) != 0 {
		t.Errorf("updates = %v", updates)
	}
}

func write(t *testing.T, dir, name, data string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestKubeadmManifests reads kubeadm's real static pod manifests (v1.31
// renderings, testdata/).
func TestKubeadmManifests(t *testing.T) {
	t.Parallel()
	s := &FileSource{Dir: "testdata", NodeName: "kind-control-plane", Interval: time.Second,
		Clock: clocktesting.NewFakeClock(time.Now()), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	pods := s.Read()
	if len(pods) != 2 {
		t.Fatalf("read %d pods, want 2", len(pods))
	}
	for _, p := range pods {
		if !p.Spec.HostNetwork || p.Spec.PriorityClassName != "system-node-critical" || p.Labels["tier"] != "control-plane" ||
			p.Spec.Containers[0].LivenessProbe == nil || !strings.HasSuffix(p.Name, "-kind-control-plane") {
			t.Errorf("pod %s = %+v", p.Name, p.Spec)
		}
	}
}
