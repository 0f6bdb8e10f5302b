package pod

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func debugger(name, target string) corev1.EphemeralContainer {
	return corev1.EphemeralContainer{TargetContainerName: target, EphemeralContainerCommon: corev1.EphemeralContainerCommon{
		Name: name, Image: "busybox", Stdin: true, TTY: true}}
}

func TestEphemeralContainersUpdate(t *testing.T) {
	t.Parallel()
	s := NewStrategy(DefaultTolerations())
	ctx := withEphemeral(context.Background())
	running := func() *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", Labels: map[string]string{"app": "web"}},
			Spec:   corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "app", Image: "nginx"}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning}}
		SetDefaults(p)
		return p
	}
	write := func(old *corev1.Pod, mutate func(*corev1.Pod)) (*corev1.Pod, field.ErrorList) {
		p := old.DeepCopy()
		mutate(p)
		s.PrepareForUpdate(ctx, p, old)
		return p, s.ValidateUpdate(ctx, p, old)
	}

	t.Run("adding one keeps everything else", func(t *testing.T) {
		old := running()
		got, errs := write(old, func(p *corev1.Pod) {
			p.Spec.EphemeralContainers = append(p.Spec.EphemeralContainers, debugger("debugger-1", "app"))
			p.Spec.Containers[0].Image = "changed"
			p.Labels["app"] = "changed"
			p.Status.Phase = corev1.PodFailed
		})
		if len(errs) != 0 {
			t.Fatalf("errors: %v", errs)
		}
		if got.Spec.Containers[0].Image != "nginx" || got.Labels["app"] != "web" || got.Status.Phase != corev1.PodRunning {
			t.Errorf("changes beyond ephemeral containers kept: %+v", got)
		}
		ec := got.Spec.EphemeralContainers
		if len(ec) != 1 || ec[0].TerminationMessagePolicy != corev1.TerminationMessageReadFile || ec[0].ImagePullPolicy == "" {
			t.Errorf("ephemeral containers not defaulted: %+v", ec)
		}
	})

	withOne := running()
	withOne.Spec.EphemeralContainers = []corev1.EphemeralContainer{debugger("debugger-1", "app")}
	SetDefaults(withOne)
	for _, tc := range []struct {
		name   string
		old    *corev1.Pod
		mutate func(*corev1.Pod)
		want   []string
	}{
		{"removing", withOne, func(p *corev1.Pod) { p.Spec.EphemeralContainers = nil },
			[]string{`spec.ephemeralContainers: Forbidden: existing ephemeral containers "debugger-1" may not be removed`}},
		{"changing", withOne, func(p *corev1.Pod) { p.Spec.EphemeralContainers[0].Image = "alpine" },
			[]string{`spec.ephemeralContainers: Forbidden: existing ephemeral containers "debugger-1" may not be changed`}},
		{"a name taken", withOne, func(p *corev1.Pod) {
			p.Spec.EphemeralContainers = append(p.Spec.EphemeralContainers, debugger("app", ""))
		}, []string{`spec.ephemeralContainers[1].name: Duplicate value: "app"`}},
		{"an unknown target", running(), func(p *corev1.Pod) {
			p.Spec.EphemeralContainers = []corev1.EphemeralContainer{debugger("d", "nope")}
		}, []string{`spec.ephemeralContainers[0].targetContainerName: Not found: "nope"`}},
		{"ports, probes and subPath", running(), func(p *corev1.Pod) {
			d := debugger("d", "")
			d.Ports = []corev1.ContainerPort{{ContainerPort: 80}}
			d.ReadinessProbe = &corev1.Probe{}
			d.VolumeMounts = []corev1.VolumeMount{{Name: "v", MountPath: "/v", SubPath: "x"}}
			p.Spec.Volumes = []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
			p.Spec.EphemeralContainers = []corev1.EphemeralContainer{d}
		}, []string{"spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral Container",
			"spec.ephemeralContainers[0].readinessProbe: Forbidden: cannot be set for an Ephemeral Container",
			"spec.ephemeralContainers[0].volumeMounts[0].subPath: Forbidden: cannot be set for an Ephemeral Container"}},
		{"a static pod", func() *corev1.Pod {
			p := running()
			p.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "x"}
			return p
		}(), func(p *corev1.Pod) { p.Spec.EphemeralContainers = []corev1.EphemeralContainer{debugger("d", "")} },
			[]string{"[]: Forbidden: static pods do not support ephemeral containers"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errs := write(tc.old, tc.mutate)
			got := errs.ToAggregate()
			for _, w := range tc.want {
				if got == nil || !strings.Contains(got.Error(), w) {
					t.Errorf("errors %v, want one %q", got, w)
				}
			}
		})
	}

	t.Run("a plain update may not add one", func(t *testing.T) {
		old := running()
		p := old.DeepCopy()
		p.Spec.EphemeralContainers = []corev1.EphemeralContainer{debugger("d", "")}
		s.PrepareForUpdate(context.Background(), p, old)
		if errs := s.ValidateUpdate(context.Background(), p, old); len(errs) == 0 {
			t.Error("a pod update added an ephemeral container")
		}
	})
}
