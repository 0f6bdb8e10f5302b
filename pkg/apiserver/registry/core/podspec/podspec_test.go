package podspec

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	. "github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regtest"
)

func TestPullPolicyFor(t *testing.T) {
	tests := map[string]corev1.PullPolicy{
		"nginx":                       corev1.PullAlways,
		"nginx:latest":                corev1.PullAlways,
		"docker.io/library/nginx":     corev1.PullAlways,
		"nginx:1.27":                  corev1.PullIfNotPresent,
		"registry:5000/team/app:v1":   corev1.PullIfNotPresent,
		"registry:5000/team/app":      corev1.PullAlways,
		"nginx@sha256:" + sha256Hex(): corev1.PullIfNotPresent,
		"Not A Reference":             corev1.PullIfNotPresent,
	}
	for image, want := range tests {
		if got := PullPolicyFor(image); got != want {
			t.Errorf("PullPolicyFor(%q) = %q, want %q", image, got, want)
		}
	}
}

func sha256Hex() string {
	return "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
}

func TestSetDefaultsPodSpec(t *testing.T) {
	spec := corev1.PodSpec{
		DeprecatedServiceAccount: "legacy",
		Containers: []corev1.Container{{
			Name: "c", Image: "busybox:1.36",
			Resources:    corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("0.0001")}},
			StartupProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: 9000}}},
		}},
		Volumes: []corev1.Volume{
			{Name: "s", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s"}}},
			{Name: "h", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/x"}}},
			{Name: "p", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}},
			}}}},
		},
	}
	SetDefaultsPodSpec(&spec)
	if spec.ServiceAccountName != "legacy" || spec.DeprecatedServiceAccount != "legacy" {
		t.Errorf("service account alias: %q %q", spec.ServiceAccountName, spec.DeprecatedServiceAccount)
	}
	c := spec.Containers[0]
	if got := c.Resources.Limits[corev1.ResourceCPU]; got.String() != "1m" {
		t.Errorf("cpu rounded to %s, want 1m", got.String())
	}
	if c.Resources.Requests != nil {
		t.Errorf("template requests defaulted: %v", c.Resources.Requests)
	}
	if c.StartupProbe.GRPC.Service == nil || *c.StartupProbe.GRPC.Service != "" {
		t.Errorf("grpc service not defaulted")
	}
	if m := spec.Volumes[0].Secret.DefaultMode; m == nil || *m != 0644 {
		t.Errorf("secret mode %v", m)
	}
	if tp := spec.Volumes[1].HostPath.Type; tp == nil || *tp != corev1.HostPathUnset {
		t.Errorf("hostPath type %v", tp)
	}
	p := spec.Volumes[2].Projected
	if *p.DefaultMode != 0644 || *p.Sources[0].ServiceAccountToken.ExpirationSeconds != 3600 {
		t.Errorf("projected defaults: %v %v", *p.DefaultMode, p.Sources[0].ServiceAccountToken.ExpirationSeconds)
	}
	if spec.EnableServiceLinks != nil {
		t.Error("enableServiceLinks is a Pod-only default")
	}
}

func validTemplate() corev1.PodTemplateSpec {
	t := corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
	SetDefaultsPodTemplateSpec(&t)
	return t
}

func TestValidatePodTemplateSpec(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*corev1.PodTemplateSpec)
		opts   Options
		want   []Err
	}{
		{"valid", func(*corev1.PodTemplateSpec) {}, Options{}, nil},
		{"template labels", func(t *corev1.PodTemplateSpec) { t.Labels = map[string]string{"a": "not valid!"} }, Options{},
			[]Err{E(field.ErrorTypeInvalid, "spec.template.labels")}},
		{"ephemeral containers", func(t *corev1.PodTemplateSpec) {
			t.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "d", Image: "x", TerminationMessagePolicy: "File", ImagePullPolicy: "Always"}}}
		}, Options{}, []Err{E(field.ErrorTypeForbidden, "spec.template.spec.ephemeralContainers")}},
		{"hostPort 0 allowed in templates", func(t *corev1.PodTemplateSpec) {
			t.Spec.HostNetwork = true
			t.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, Protocol: "TCP"}}
		}, Options{}, nil},
		{"claim template mount", func(t *corev1.PodTemplateSpec) {
			t.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
		}, Options{ClaimTemplates: []string{"data"}}, nil},
		{"grace period required", func(t *corev1.PodTemplateSpec) { t.Spec.TerminationGracePeriodSeconds = nil }, Options{},
			[]Err{E(field.ErrorTypeRequired, "spec.template.spec.terminationGracePeriodSeconds")}},
		{"downward API volume", func(t *corev1.PodTemplateSpec) {
			t.Spec.Volumes = []corev1.Volume{{Name: "info", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{
				DefaultMode: ptr.To[int32](0644),
				Items:       []corev1.DownwardAPIVolumeFile{{Path: "../x", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "spec.nodeName"}}}}}}}
		}, Options{}, []Err{
			E(field.ErrorTypeInvalid, "spec.template.spec.volumes[0].downwardAPI.path"),
			E(field.ErrorTypeNotSupported, "spec.template.spec.volumes[0].downwardAPI.fieldRef.fieldPath"),
		}},
		{"file mode", func(t *corev1.PodTemplateSpec) {
			t.Spec.Volumes = []corev1.Volume{{Name: "cm", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}, DefaultMode: ptr.To[int32](01000)}}}}
		}, Options{}, []Err{E(field.ErrorTypeInvalid, "spec.template.spec.volumes[0].configMap.defaultMode")}},
		{"topology spread", func(t *corev1.PodTemplateSpec) {
			t.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{MaxSkew: 0, WhenUnsatisfiable: "Never"}}
		}, Options{}, []Err{
			E(field.ErrorTypeInvalid, "spec.template.spec.topologySpreadConstraints[0].maxSkew"),
			E(field.ErrorTypeRequired, "spec.template.spec.topologySpreadConstraints[0].topologyKey"),
			E(field.ErrorTypeNotSupported, "spec.template.spec.topologySpreadConstraints[0].whenUnsatisfiable"),
		}},
		{"security context", func(t *corev1.PodTemplateSpec) {
			t.Spec.SecurityContext.RunAsUser = ptr.To[int64](-1)
			t.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{
				Privileged: ptr.To(true), AllowPrivilegeEscalation: ptr.To(false)}
		}, Options{}, []Err{
			E(field.ErrorTypeInvalid, "spec.template.spec.securityContext.runAsUser"),
			E(field.ErrorTypeInvalid, "spec.template.spec.containers[0].securityContext"),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmpl := validTemplate()
			tc.mutate(&tmpl)
			Expect(t, ValidatePodTemplateSpec(&tmpl, field.NewPath("spec", "template"), tc.opts), tc.want...)
		})
	}
}
