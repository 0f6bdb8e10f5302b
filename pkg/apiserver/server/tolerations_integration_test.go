package server_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
)

// TestIntegrationDefaultTolerationSeconds: --default-not-ready-toleration-seconds
// and --default-unreachable-toleration-seconds set the seconds of the
// tolerations the DefaultTolerationSeconds admission plugin adds; a pod's
// own toleration of a taint is kept.
func TestIntegrationDefaultTolerationSeconds(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd and kube-apiserver")
	}
	inst := apiservertest.Start(t, apiservertest.Options{ExtraFlags: []string{
		"--default-not-ready-toleration-seconds=30", "--default-unreachable-toleration-seconds=5"}})
	cs := inst.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	seconds := func(p *corev1.Pod) map[string]int64 {
		out := map[string]int64{}
		for _, tol := range p.Spec.Tolerations {
			if tol.Effect == corev1.TaintEffectNoExecute && tol.TolerationSeconds != nil {
				out[tol.Key] = *tol.TolerationSeconds
			}
		}
		return out
	}
	got, err := cs.CoreV1().Pods("default").Create(ctx, newPod("default", "flags"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s := seconds(got); len(got.Spec.Tolerations) != 2 || s[corev1.TaintNodeNotReady] != 30 || s[corev1.TaintNodeUnreachable] != 5 {
		t.Errorf("tolerations %+v, want not-ready 30 s and unreachable 5 s", got.Spec.Tolerations)
	}
	own := newPod("default", "own")
	own.Spec.Tolerations = []corev1.Toleration{{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists,
		Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](1)}}
	got, err = cs.CoreV1().Pods("default").Create(ctx, own, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s := seconds(got); len(got.Spec.Tolerations) != 2 || s[corev1.TaintNodeNotReady] != 30 || s[corev1.TaintNodeUnreachable] != 1 {
		t.Errorf("tolerations %+v, want not-ready 30 s added and the pod's own unreachable 1 s kept", got.Spec.Tolerations)
	}
}
