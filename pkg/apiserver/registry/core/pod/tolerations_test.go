package pod

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// TestDefaultTolerationSeconds is upstream's DefaultTolerationSeconds
// admission plugin's table: a toleration is added for each of the two
// taints the pod does not tolerate with NoExecute, with the configured
// seconds; one it tolerates (by key or an empty key, with NoExecute or an
// empty effect, whatever its seconds and operator) is left alone.
func TestDefaultTolerationSeconds(t *testing.T) {
	ts := registry.TolerationSeconds{NotReady: 60, Unreachable: -1}
	notReady := corev1.Toleration{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists,
		Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](60)}
	unreachable := corev1.Toleration{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists,
		Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](-1)}
	other := corev1.Toleration{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "db", Effect: corev1.TaintEffectNoExecute}
	ownNotReady := corev1.Toleration{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists,
		Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](5)}
	notReadyAnyEffect := corev1.Toleration{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists}
	unreachableNoSchedule := corev1.Toleration{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists,
		Effect: corev1.TaintEffectNoSchedule}
	everyNoExecute := corev1.Toleration{Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}
	everything := corev1.Toleration{Operator: corev1.TolerationOpExists}
	for _, tc := range []struct {
		name       string
		have, want []corev1.Toleration
	}{
		{"none", nil, []corev1.Toleration{notReady, unreachable}},
		{"an unrelated one is kept first", []corev1.Toleration{other}, []corev1.Toleration{other, notReady, unreachable}},
		{"its own not-ready seconds win", []corev1.Toleration{ownNotReady}, []corev1.Toleration{ownNotReady, unreachable}},
		{"not-ready with any effect", []corev1.Toleration{notReadyAnyEffect}, []corev1.Toleration{notReadyAnyEffect, unreachable}},
		{"unreachable NoSchedule is not NoExecute", []corev1.Toleration{unreachableNoSchedule},
			[]corev1.Toleration{unreachableNoSchedule, notReady, unreachable}},
		{"every NoExecute taint", []corev1.Toleration{everyNoExecute}, []corev1.Toleration{everyNoExecute}},
		{"everything", []corev1.Toleration{everything}, []corev1.Toleration{everything}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := NewStrategy(ts)
			pod := newPod()
			pod.Spec.Tolerations = tc.have
			s.PrepareForCreate(context.Background(), pod)
			if d := cmp.Diff(tc.want, pod.Spec.Tolerations); d != "" {
				t.Errorf("create: tolerations (-want +got):\n%s", d)
			}
			if errs := s.Validate(context.Background(), pod); len(errs) != 0 {
				t.Errorf("create: invalid: %v", errs)
			}
			// On update as well (upstream's plugin admits both), from a
			// stored pod that predates the plugin: only additions, which
			// update validation allows.
			old := newPod()
			NewStrategy(ts).PrepareForCreate(context.Background(), old)
			old.Spec.Tolerations = tc.have
			old.ResourceVersion = "5"
			updated := old.DeepCopy()
			s.PrepareForUpdate(context.Background(), updated, old)
			if d := cmp.Diff(tc.want, updated.Spec.Tolerations); d != "" {
				t.Errorf("update: tolerations (-want +got):\n%s", d)
			}
			if errs := s.ValidateUpdate(context.Background(), updated, old); len(errs) != 0 {
				t.Errorf("update: invalid: %v", errs)
			}
		})
	}
}

// TestResourceTolerationSeconds: the resource's strategy uses the flags'
// values from Deps, upstream's 300 s when Deps has none.
func TestResourceTolerationSeconds(t *testing.T) {
	seconds := func(deps registry.Deps) []int64 {
		pod := newPod()
		Resource(deps).Strategy.PrepareForCreate(context.Background(), pod)
		var out []int64
		for _, tol := range pod.Spec.Tolerations {
			out = append(out, *tol.TolerationSeconds)
		}
		return out
	}
	if got := seconds(registry.Deps{}); !cmp.Equal(got, []int64{300, 300}) {
		t.Errorf("default: tolerationSeconds %v, want [300 300]", got)
	}
	deps := registry.Deps{DefaultTolerationSeconds: &registry.TolerationSeconds{NotReady: 0, Unreachable: 7}}
	if got := seconds(deps); !cmp.Equal(got, []int64{0, 7}) {
		t.Errorf("flags 0 and 7: tolerationSeconds %v", got)
	}
}
