package pod

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	. "github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regtest"
)

func validate(t *testing.T, mutate func(*corev1.Pod)) field.ErrorList {
	t.Helper()
	pod := newPod()
	mutate(pod)
	s := NewStrategy(DefaultTolerations())
	s.PrepareForCreate(context.Background(), pod)
	return s.Validate(context.Background(), pod)
}

func TestValidateCreate(t *testing.T) {
	q := resource.MustParse
	tests := []struct {
		name   string
		mutate func(*corev1.Pod)
		want   []Err
	}{
		{"valid", func(*corev1.Pod) {}, nil},
		{"no containers", func(p *corev1.Pod) { p.Spec.Containers = nil },
			[]Err{E(field.ErrorTypeRequired, "spec.containers")}},
		{"image required", func(p *corev1.Pod) { p.Spec.Containers[0].Image = "" },
			[]Err{E(field.ErrorTypeRequired, "spec.containers[0].image")}},
		{"name required", func(p *corev1.Pod) { p.Spec.Containers[0].Name = "" },
			[]Err{E(field.ErrorTypeRequired, "spec.containers[0].name")}},
		{"name not a DNS label", func(p *corev1.Pod) { p.Spec.Containers[0].Name = "Web_1" },
			[]Err{E(field.ErrorTypeInvalid, "spec.containers[0].name")}},
		{"duplicate container names", func(p *corev1.Pod) {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "nginx", Image: "x"})
		}, []Err{E(field.ErrorTypeDuplicate, "spec.containers[1].name")}},
		{"init container reuses a name", func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "nginx", Image: "x"}}
		}, []Err{E(field.ErrorTypeDuplicate, "spec.initContainers[0].name")}},
		{"init container probe", func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "x", ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}}}}
		}, []Err{E(field.ErrorTypeForbidden, "spec.initContainers[0].readinessProbe")}},
		{"port out of range", func(p *corev1.Pod) { p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 70000}} },
			[]Err{E(field.ErrorTypeInvalid, "spec.containers[0].ports[0].containerPort")}},
		{"port missing", func(p *corev1.Pod) { p.Spec.Containers[0].Ports = []corev1.ContainerPort{{Name: "http"}} },
			[]Err{E(field.ErrorTypeRequired, "spec.containers[0].ports[0].containerPort")}},
		{"bad protocol", func(p *corev1.Pod) {
			p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, Protocol: "HTTP"}}
		}, []Err{E(field.ErrorTypeNotSupported, "spec.containers[0].ports[0].protocol")}},
		{"duplicate port names", func(p *corev1.Pod) {
			p.Spec.Containers[0].Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: 80}, {Name: "http", ContainerPort: 81}}
		}, []Err{E(field.ErrorTypeDuplicate, "spec.containers[0].ports[1].name")}},
		{"host port conflict", func(p *corev1.Pod) {
			p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: 8080}, {ContainerPort: 81, HostPort: 8080}}
		}, []Err{E(field.ErrorTypeDuplicate, "spec.containers[0].ports[1].hostPort")}},
		{"env name", func(p *corev1.Pod) { p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A=B"}, {Name: ""}} },
			[]Err{E(field.ErrorTypeInvalid, "spec.containers[0].env[0].name"), E(field.ErrorTypeRequired, "spec.containers[0].env[1].name")}},
		{"env valueFrom and value", func(p *corev1.Pod) {
			p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A", Value: "x", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}, Key: "k"}}}}
		}, []Err{E(field.ErrorTypeInvalid, "spec.containers[0].env[0].valueFrom")}},
		{"env fieldRef unsupported", func(p *corev1.Pod) {
			p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.phase"}}}}
		}, []Err{E(field.ErrorTypeNotSupported, "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath")}},
		{"requests above limits", func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources = corev1.ResourceRequirements{
				Limits: corev1.ResourceList{corev1.ResourceCPU: q("1")}, Requests: corev1.ResourceList{corev1.ResourceCPU: q("2")}}
		}, []Err{E(field.ErrorTypeInvalid, "spec.containers[0].resources.requests")}},
		{"negative quantity", func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceMemory: q("-1Mi")}
		}, []Err{E(field.ErrorTypeInvalid, "spec.containers[0].resources.requests[memory]")}},
		{"unknown resource", func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{"gpus": q("1")}
		}, []Err{E(field.ErrorTypeInvalid, "spec.containers[0].resources.requests[gpus]"), E(field.ErrorTypeInvalid, "spec.containers[0].resources.requests[gpus]")}},
		{"mount of missing volume", func(p *corev1.Pod) {
			p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
		}, []Err{E(field.ErrorTypeNotFound, "spec.containers[0].volumeMounts[0].name")}},
		{"mount path required", func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "data"}}
			p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data"}}
		}, []Err{E(field.ErrorTypeRequired, "spec.containers[0].volumeMounts[0].mountPath")}},
		{"volume name", func(p *corev1.Pod) { p.Spec.Volumes = []corev1.Volume{{Name: "Data"}, {Name: "x"}, {Name: "x"}} },
			[]Err{E(field.ErrorTypeInvalid, "spec.volumes[0].name"), E(field.ErrorTypeDuplicate, "spec.volumes[2].name")}},
		{"two volume sources", func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{
				EmptyDir: &corev1.EmptyDirVolumeSource{}, HostPath: &corev1.HostPathVolumeSource{Path: "/x"}}}}
		}, []Err{E(field.ErrorTypeForbidden, "spec.volumes[0].hostPath")}},
		{"secret volume name", func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{}}}}
		}, []Err{E(field.ErrorTypeRequired, "spec.volumes[0].secret.secretName")}},
		{"restartPolicy", func(p *corev1.Pod) { p.Spec.RestartPolicy = "Sometimes" },
			[]Err{E(field.ErrorTypeNotSupported, "spec.restartPolicy")}},
		{"dnsPolicy", func(p *corev1.Pod) { p.Spec.DNSPolicy = "Google" },
			[]Err{E(field.ErrorTypeNotSupported, "spec.dnsPolicy")}},
		{"dnsPolicy None without config", func(p *corev1.Pod) { p.Spec.DNSPolicy = corev1.DNSNone },
			[]Err{E(field.ErrorTypeRequired, "spec.dnsConfig")}},
		{"probe without handler", func(p *corev1.Pod) { p.Spec.Containers[0].LivenessProbe = &corev1.Probe{} },
			[]Err{E(field.ErrorTypeRequired, "spec.containers[0].livenessProbe")}},
		{"probe with two handlers", func(p *corev1.Pod) {
			p.Spec.Containers[0].ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
				Exec: &corev1.ExecAction{Command: []string{"true"}}, TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(80)}}}
		}, []Err{E(field.ErrorTypeForbidden, "spec.containers[0].readinessProbe.tcpSocket")}},
		{"liveness successThreshold", func(p *corev1.Pod) {
			p.Spec.Containers[0].LivenessProbe = &corev1.Probe{SuccessThreshold: 2, ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}}
		}, []Err{E(field.ErrorTypeInvalid, "spec.containers[0].livenessProbe.successThreshold")}},
		{"nodeSelector", func(p *corev1.Pod) { p.Spec.NodeSelector = map[string]string{"bad key!": "x"} },
			[]Err{E(field.ErrorTypeInvalid, "spec.nodeSelector")}},
		{"toleration operator", func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{{Key: "k", Operator: "Maybe"}}
		}, []Err{E(field.ErrorTypeNotSupported, "spec.tolerations[0].operator")}},
		{"tolerationSeconds needs NoExecute", func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule, TolerationSeconds: ptr.To[int64](5)}}
		}, []Err{E(field.ErrorTypeInvalid, "spec.tolerations[0].effect")}},
		{"node affinity without terms", func(p *corev1.Pod) {
			p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{}}}
		}, []Err{E(field.ErrorTypeRequired, "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms")}},
		{"pod affinity topologyKey", func(p *corev1.Pod) {
			p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
				LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "x"}}}}}}
		}, []Err{
			E(field.ErrorTypeRequired, "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey"),
			E(field.ErrorTypeInvalid, "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey"),
			E(field.ErrorTypeInvalid, "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey"),
		}},
		{"activeDeadlineSeconds", func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr.To[int64](0) },
			[]Err{E(field.ErrorTypeInvalid, "spec.activeDeadlineSeconds")}},
		{"ephemeral containers on create", func(p *corev1.Pod) {
			p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Image: "busybox"}}}
		}, []Err{E(field.ErrorTypeForbidden, "spec.ephemeralContainers")}},
		{"hostNetwork port mismatch", func(p *corev1.Pod) {
			p.Spec.HostNetwork = true
			p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: 81}}
		}, []Err{E(field.ErrorTypeInvalid, "spec.containers[0].ports[0].hostPort")}},
		{"image whitespace", func(p *corev1.Pod) { p.Spec.Containers[0].Image = " nginx" },
			[]Err{E(field.ErrorTypeInvalid, "spec.containers[0].image")}},
		{"mirror pod without node", func(p *corev1.Pod) {
			p.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "x"}
		}, []Err{E(field.ErrorTypeInvalid, "metadata.annotations[kubernetes.io/config.mirror]")}},
		{"serviceAccountName", func(p *corev1.Pod) { p.Spec.ServiceAccountName = "Bad_Name" },
			[]Err{E(field.ErrorTypeInvalid, "spec.serviceAccountName")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			Expect(t, validate(t, tc.mutate), tc.want...)
		})
	}
}
