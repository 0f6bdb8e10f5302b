package kubelet

import (
	"fmt"
	"sync"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestPodStartDuration: a pod's start is reported once, when it first runs.
func TestPodStartDuration(t *testing.T) {
	t.Parallel()
	f := newKFixture(t)
	var mu sync.Mutex
	var got []time.Duration
	f.k.mu.Lock()
	f.k.podStarted = func(d time.Duration) { mu.Lock(); got = append(got, d); mu.Unlock() }
	f.k.mu.Unlock()
	f.k.setStaticPods(nil)
	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: v1.PodSpec{NodeName: "node-a", Containers: []v1.Container{{Name: "web", Image: testImage}}}}
	if _, err := f.client.CoreV1().Pods("default").Create(f.ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	f.waitFor("pod start observed", func() error {
		f.k.relist()
		mu.Lock()
		defer mu.Unlock()
		if len(got) == 0 {
			return fmt.Errorf("no pod start observed")
		}
		return nil
	})
	for i := 0; i < 3; i++ {
		f.k.relist()
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0] < 0 {
		t.Errorf("pod starts observed = %v, want one", got)
	}
}
