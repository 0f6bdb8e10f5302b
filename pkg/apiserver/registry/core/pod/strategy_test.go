package pod

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

func newPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "nginx", Namespace: "default", UID: "uid-1"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "nginx", Image: "nginx"}}},
	}
}

func toleration(key string) corev1.Toleration {
	return corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](300)}
}

// TestPrepareForCreateDefaults compares against what a real v1.31 cluster
// returns for `kubectl run nginx --image=nginx` (minus what the ServiceAccount
// admission plugin adds: serviceAccountName and the token volume).
func TestPrepareForCreateDefaults(t *testing.T) {
	pod := newPod()
	pod.Status.Phase = corev1.PodRunning
	pod.Status.PodIP = "10.0.0.1"
	NewStrategy(DefaultTolerations()).PrepareForCreate(context.Background(), pod)

	want := corev1.PodSpec{
		Containers: []corev1.Container{{
			Name: "nginx", Image: "nginx", ImagePullPolicy: corev1.PullAlways,
			TerminationMessagePath: "/dev/termination-log", TerminationMessagePolicy: corev1.TerminationMessageReadFile,
		}},
		RestartPolicy:                 corev1.RestartPolicyAlways,
		TerminationGracePeriodSeconds: ptr.To[int64](30),
		DNSPolicy:                     corev1.DNSClusterFirst,
		SecurityContext:               &corev1.PodSecurityContext{},
		SchedulerName:                 "default-scheduler",
		Tolerations:                   []corev1.Toleration{toleration(corev1.TaintNodeNotReady), toleration(corev1.TaintNodeUnreachable)},
		Priority:                      ptr.To[int32](0),
		EnableServiceLinks:            ptr.To(true),
		PreemptionPolicy:              ptr.To(corev1.PreemptLowerPriority),
	}
	if d := cmp.Diff(want, pod.Spec); d != "" {
		t.Errorf("spec mismatch (-want +got):\n%s", d)
	}
	wantStatus := corev1.PodStatus{Phase: corev1.PodPending, QOSClass: corev1.PodQOSBestEffort}
	if d := cmp.Diff(wantStatus, pod.Status); d != "" {
		t.Errorf("status mismatch (-want +got):\n%s", d)
	}
	if errs := NewStrategy(DefaultTolerations()).Validate(context.Background(), pod); len(errs) != 0 {
		t.Errorf("defaulted pod invalid: %v", errs)
	}
}

func TestContainerDefaults(t *testing.T) {
	pod := newPod()
	pod.Spec.Containers[0].Image = "nginx:1.27"
	pod.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80}}
	pod.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")}
	pod.Spec.Containers[0].LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(80)}}}
	pod.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "NODE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}}}
	pod.Spec.Volumes = []corev1.Volume{{Name: "scratch"}, {Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}}}}
	NewStrategy(DefaultTolerations()).PrepareForCreate(context.Background(), pod)

	c := pod.Spec.Containers[0]
	if c.ImagePullPolicy != corev1.PullIfNotPresent {
		t.Errorf("imagePullPolicy = %q", c.ImagePullPolicy)
	}
	if c.Ports[0].Protocol != corev1.ProtocolTCP {
		t.Errorf("port protocol = %q", c.Ports[0].Protocol)
	}
	if got := c.Resources.Requests[corev1.ResourceCPU]; got.String() != "500m" {
		t.Errorf("cpu request defaulted to %q, want 500m", got.String())
	}
	p := c.LivenessProbe
	if p.TimeoutSeconds != 1 || p.PeriodSeconds != 10 || p.SuccessThreshold != 1 || p.FailureThreshold != 3 || p.HTTPGet.Path != "/" || p.HTTPGet.Scheme != corev1.URISchemeHTTP {
		t.Errorf("probe defaults: %+v %+v", p, p.HTTPGet)
	}
	if c.Env[0].ValueFrom.FieldRef.APIVersion != "v1" {
		t.Errorf("fieldRef apiVersion = %q", c.Env[0].ValueFrom.FieldRef.APIVersion)
	}
	if pod.Spec.Volumes[0].EmptyDir == nil {
		t.Errorf("volume without source not defaulted to emptyDir")
	}
	if m := pod.Spec.Volumes[1].ConfigMap.DefaultMode; m == nil || *m != 0644 {
		t.Errorf("configMap defaultMode = %v", m)
	}
	if pod.Status.QOSClass != corev1.PodQOSBurstable {
		t.Errorf("qos = %q", pod.Status.QOSClass)
	}
}

func TestAdmissionDefaults(t *testing.T) {
	pod := newPod()
	pod.Spec.ServiceAccountName = "builder"
	pod.Spec.PriorityClassName = "system-node-critical"
	pod.Spec.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
	NewStrategy(DefaultTolerations()).PrepareForCreate(context.Background(), pod)
	if pod.Spec.ServiceAccountName != "builder" || pod.Spec.DeprecatedServiceAccount != "builder" {
		t.Errorf("service account = %q/%q", pod.Spec.ServiceAccountName, pod.Spec.DeprecatedServiceAccount)
	}
	if *pod.Spec.Priority != 2000001000 {
		t.Errorf("priority = %d", *pod.Spec.Priority)
	}
	if len(pod.Spec.Tolerations) != 1 {
		t.Errorf("a pod tolerating everything got %d tolerations", len(pod.Spec.Tolerations))
	}
}

func TestComputeQOS(t *testing.T) {
	rl := func(cpu, mem string) corev1.ResourceList {
		l := corev1.ResourceList{}
		if cpu != "" {
			l[corev1.ResourceCPU] = resource.MustParse(cpu)
		}
		if mem != "" {
			l[corev1.ResourceMemory] = resource.MustParse(mem)
		}
		return l
	}
	tests := []struct {
		name       string
		containers []corev1.ResourceRequirements
		want       corev1.PodQOSClass
	}{
		{"none", []corev1.ResourceRequirements{{}}, corev1.PodQOSBestEffort},
		{"limits only (requests defaulted)", []corev1.ResourceRequirements{{Limits: rl("1", "1Gi")}}, corev1.PodQOSGuaranteed},
		{"equal", []corev1.ResourceRequirements{{Limits: rl("1", "1Gi"), Requests: rl("1", "1Gi")}}, corev1.PodQOSGuaranteed},
		{"requests below limits", []corev1.ResourceRequirements{{Limits: rl("1", "1Gi"), Requests: rl("500m", "1Gi")}}, corev1.PodQOSBurstable},
		{"cpu only", []corev1.ResourceRequirements{{Limits: rl("1", "")}}, corev1.PodQOSBurstable},
		{"one of two containers", []corev1.ResourceRequirements{{Limits: rl("1", "1Gi")}, {}}, corev1.PodQOSBurstable},
		{"requests only", []corev1.ResourceRequirements{{Requests: rl("", "64Mi")}}, corev1.PodQOSBurstable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pod := newPod()
			pod.Spec.Containers = nil
			for i, r := range tc.containers {
				pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: string(rune('a' + i)), Image: "x", Resources: r})
			}
			NewStrategy(DefaultTolerations()).PrepareForCreate(context.Background(), pod)
			if pod.Status.QOSClass != tc.want {
				t.Errorf("qos = %q, want %q", pod.Status.QOSClass, tc.want)
			}
		})
	}
}

func TestCheckGracefulDelete(t *testing.T) {
	tests := []struct {
		name     string
		nodeName string
		phase    corev1.PodPhase
		podGrace *int64
		reqGrace *int64
		want     int64
	}{
		{"bound, pod default", "node1", corev1.PodRunning, ptr.To[int64](30), nil, 30},
		{"bound, request wins", "node1", corev1.PodRunning, ptr.To[int64](30), ptr.To[int64](5), 5},
		{"bound, force", "node1", corev1.PodRunning, ptr.To[int64](30), ptr.To[int64](0), 0},
		{"unbound", "", corev1.PodPending, ptr.To[int64](30), ptr.To[int64](10), 0},
		{"succeeded", "node1", corev1.PodSucceeded, ptr.To[int64](30), nil, 0},
		{"failed", "node1", corev1.PodFailed, ptr.To[int64](30), nil, 0},
		{"negative becomes 1", "node1", corev1.PodRunning, ptr.To[int64](-5), nil, 1},
		{"no grace anywhere", "node1", corev1.PodRunning, nil, nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pod := newPod()
			pod.Spec.NodeName = tc.nodeName
			pod.Status.Phase = tc.phase
			pod.Spec.TerminationGracePeriodSeconds = tc.podGrace
			opts := &metav1.DeleteOptions{GracePeriodSeconds: tc.reqGrace}
			if !NewStrategy(DefaultTolerations()).(registry.GracefulDeleter).CheckGracefulDelete(context.Background(), pod, opts) {
				t.Fatal("not graceful")
			}
			if *opts.GracePeriodSeconds != tc.want {
				t.Errorf("grace = %d, want %d", *opts.GracePeriodSeconds, tc.want)
			}
		})
	}
	if (strategy{}).CheckGracefulDelete(context.Background(), newPod(), nil) {
		t.Error("nil options must not be graceful")
	}
}

func TestGetAttrs(t *testing.T) {
	pod := newPod()
	pod.Labels = map[string]string{"app": "web"}
	pod.Spec.NodeName = "n1"
	pod.Spec.HostNetwork = true
	pod.Spec.ServiceAccountName = "default"
	NewStrategy(DefaultTolerations()).PrepareForCreate(context.Background(), pod)
	pod.Status.PodIPs = []corev1.PodIP{{IP: "10.244.0.5"}}
	pod.Status.NominatedNodeName = "n2"
	l, f, err := GetAttrs(pod)
	if err != nil {
		t.Fatal(err)
	}
	if l["app"] != "web" {
		t.Errorf("labels = %v", l)
	}
	want := map[string]string{
		"metadata.name": "nginx", "metadata.namespace": "default",
		"spec.nodeName": "n1", "spec.restartPolicy": "Always", "spec.schedulerName": "default-scheduler",
		"spec.serviceAccountName": "default", "spec.hostNetwork": "true",
		"status.phase": "Pending", "status.podIP": "10.244.0.5", "status.nominatedNodeName": "n2",
	}
	if d := cmp.Diff(want, map[string]string(f)); d != "" {
		t.Errorf("fields (-want +got):\n%s", d)
	}
	if _, _, err := GetAttrs(&corev1.Node{}); err == nil {
		t.Error("GetAttrs accepted a Node")
	}
}
