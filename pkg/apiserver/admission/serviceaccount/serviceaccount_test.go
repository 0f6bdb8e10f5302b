package serviceaccount

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/apiserver/admission"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// accounts is a registry.Store of service accounts answering Get; gets
// counts the lookups that reached "etcd" (no resourceVersion).
type accounts struct {
	registry.Store
	all  map[string]*corev1.ServiceAccount // by namespace/name
	gets *int
}

func (s accounts) Get(_ context.Context, ns, name string, opts *metav1.GetOptions) (runtime.Object, error) {
	if opts == nil || opts.ResourceVersion == "" {
		*s.gets++
	}
	if sa, ok := s.all[ns+"/"+name]; ok {
		return sa.DeepCopy(), nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "serviceaccounts"}, name)
}

func newPlugin(sas ...*corev1.ServiceAccount) (*Plugin, *int) {
	gets := 0
	st := accounts{all: map[string]*corev1.ServiceAccount{}, gets: &gets}
	for _, sa := range sas {
		st.all[sa.Namespace+"/"+sa.Name] = sa
	}
	p := New(func() registry.Store { return st })
	p.suffix = func() string { return "abcde" }
	p.retryInterval = 0
	return p, &gets
}

func sa(name string, automount *bool) *corev1.ServiceAccount {
	return &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}, AutomountServiceAccountToken: automount}
}

func create(pod *corev1.Pod) *admission.Attributes {
	return &admission.Attributes{Operation: admission.Create, Kind: corev1.SchemeGroupVersion.WithKind("Pod"),
		Resource: corev1.SchemeGroupVersion.WithResource("pods"), Namespace: "ns", Name: pod.Name, Object: pod}
}

func newPod() *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"}, Spec: corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "init"}},
		Containers:     []corev1.Container{{Name: "a"}, {Name: "b", VolumeMounts: []corev1.VolumeMount{{Name: "own", MountPath: MountPath}}}},
	}}
}

func admit(t *testing.T, p *Plugin, a *admission.Attributes) error {
	t.Helper()
	if err := p.Admit(context.Background(), a); err != nil {
		return err
	}
	return p.Validate(context.Background(), a)
}

func TestDefaultServiceAccountAndTokenVolume(t *testing.T) {
	p, _ := newPlugin(sa("default", nil))
	pod := newPod()
	if err := admit(t, p, create(pod)); err != nil {
		t.Fatal(err)
	}
	if pod.Spec.ServiceAccountName != "default" || pod.Spec.DeprecatedServiceAccount != "default" { //nolint:staticcheck
		t.Errorf("service account %q", pod.Spec.ServiceAccountName)
	}
	wantVolume := corev1.Volume{Name: "kube-api-access-abcde", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		DefaultMode: ptr.To[int32](0o644),
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptr.To[int64](3607)}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"},
				Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "namespace",
				FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
		}}}}
	if d := cmp.Diff([]corev1.Volume{wantVolume}, pod.Spec.Volumes); d != "" {
		t.Errorf("volumes (-want +got):\n%s", d)
	}
	mount := corev1.VolumeMount{Name: "kube-api-access-abcde", ReadOnly: true, MountPath: "/var/run/secrets/kubernetes.io/serviceaccount"}
	if d := cmp.Diff([]corev1.VolumeMount{mount}, pod.Spec.InitContainers[0].VolumeMounts); d != "" {
		t.Errorf("init container mounts (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]corev1.VolumeMount{mount}, pod.Spec.Containers[0].VolumeMounts); d != "" {
		t.Errorf("container a mounts (-want +got):\n%s", d)
	}
	if m := pod.Spec.Containers[1].VolumeMounts; len(m) != 1 || m[0].Name != "own" {
		t.Errorf("container b, which mounts its own volume there, got %v", m)
	}
}

func TestAutomountFalse(t *testing.T) {
	p, _ := newPlugin(sa("default", nil), sa("quiet", ptr.To(false)))
	pod := newPod()
	pod.Spec.AutomountServiceAccountToken = ptr.To(false)
	if err := admit(t, p, create(pod)); err != nil || len(pod.Spec.Volumes) != 0 {
		t.Errorf("pod automount false: err %v, volumes %v", err, pod.Spec.Volumes)
	}
	pod = newPod()
	pod.Spec.ServiceAccountName = "quiet"
	if err := admit(t, p, create(pod)); err != nil || len(pod.Spec.Volumes) != 0 {
		t.Errorf("service account automount false: err %v, volumes %v", err, pod.Spec.Volumes)
	}
	pod = newPod()
	pod.Spec.ServiceAccountName = "quiet"
	pod.Spec.AutomountServiceAccountToken = ptr.To(true)
	if err := admit(t, p, create(pod)); err != nil || len(pod.Spec.Volumes) != 1 {
		t.Errorf("the pod's true wins over the service account's false: err %v, volumes %v", err, pod.Spec.Volumes)
	}
}

func TestMissingServiceAccount(t *testing.T) {
	p, gets := newPlugin()
	pod := newPod()
	err := admit(t, p, create(pod))
	want := `pods "web" is forbidden: error looking up service account ns/default: serviceaccount "default" not found`
	if !apierrors.IsForbidden(err) || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
	if *gets != 10 {
		t.Errorf("the default service account was looked up %d times in etcd, want 10", *gets)
	}
	*gets = 0
	pod = newPod()
	pod.Name, pod.GenerateName = "", "web-"
	pod.Spec.ServiceAccountName = "builder"
	err = admit(t, p, create(pod))
	want = `pods "web-" is forbidden: error looking up service account ns/builder: serviceaccount "builder" not found`
	if err == nil || err.Error() != want || *gets != 1 {
		t.Errorf("got %v after %d lookups, want %q after 1", err, *gets, want)
	}
}

func TestImagePullSecretsFromServiceAccount(t *testing.T) {
	account := sa("default", nil)
	account.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "registry"}}
	p, _ := newPlugin(account)
	pod := newPod()
	if err := admit(t, p, create(pod)); err != nil || len(pod.Spec.ImagePullSecrets) != 1 || pod.Spec.ImagePullSecrets[0].Name != "registry" {
		t.Errorf("err %v, imagePullSecrets %v", err, pod.Spec.ImagePullSecrets)
	}
}

func TestMirrorPods(t *testing.T) {
	p, _ := newPlugin()
	mirror := func() *corev1.Pod {
		pod := newPod()
		pod.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "x"}
		return pod
	}
	pod := mirror()
	if err := admit(t, p, create(pod)); err != nil || pod.Spec.ServiceAccountName != "" || len(pod.Spec.Volumes) != 0 {
		t.Errorf("plain mirror pod: err %v, changed to %+v", err, pod.Spec)
	}
	for want, change := range map[string]func(*corev1.Pod){
		"a mirror pod may not reference service accounts": func(p *corev1.Pod) { p.Spec.ServiceAccountName = "default" },
		"a mirror pod may not reference secrets": func(p *corev1.Pod) {
			p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "X", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{}}}}
		},
		"a mirror pod may not use ServiceAccountToken volume projections": func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "t", VolumeSource: corev1.VolumeSource{Projected: TokenVolumeSource()}}}
		},
	} {
		pod := mirror()
		change(pod)
		if err := admit(t, p, create(pod)); err == nil || err.Error() != `pods "web" is forbidden: `+want {
			t.Errorf("got %v, want %q", err, want)
		}
	}
}

func TestIgnored(t *testing.T) {
	p, _ := newPlugin()
	pod := newPod()
	for _, a := range []*admission.Attributes{
		{Operation: admission.Update, Resource: corev1.SchemeGroupVersion.WithResource("pods"), Object: pod},
		{Operation: admission.Update, Resource: corev1.SchemeGroupVersion.WithResource("pods"), Subresource: "status", Object: pod},
		{Operation: admission.Create, Resource: corev1.SchemeGroupVersion.WithResource("pods"), Subresource: "binding", Object: &corev1.Binding{}},
		{Operation: admission.Create, Resource: corev1.SchemeGroupVersion.WithResource("configmaps"), Object: &corev1.ConfigMap{}},
	} {
		if err := admit(t, p, a); err != nil || pod.Spec.ServiceAccountName != "" {
			t.Errorf("%s %s/%s: err %v, pod changed", a.Operation, a.Resource.Resource, a.Subresource, err)
		}
	}
	// A pod gaining ephemeral containers must still have an existing account.
	pod.Spec.ServiceAccountName = "gone"
	a := &admission.Attributes{Operation: admission.Update, Resource: corev1.SchemeGroupVersion.WithResource("pods"),
		Subresource: "ephemeralcontainers", Namespace: "ns", Name: "web", Object: pod}
	if err := admit(t, p, a); !apierrors.IsForbidden(err) {
		t.Errorf("ephemeral containers with a missing service account: %v", err)
	}
}

func TestEnforceMountableSecrets(t *testing.T) {
	account := sa("default", ptr.To(false))
	account.Annotations = map[string]string{EnforceMountableSecretsAnnotation: "true"}
	account.Secrets = []corev1.ObjectReference{{Name: "allowed"}}
	p, _ := newPlugin(account)
	for want, change := range map[string]func(*corev1.Pod){
		"": func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "s", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "allowed"}}}}
		},
		`volume with secret.secretName="other" is not allowed because service account default does not reference that secret`: func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "s", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "other"}}}}
		},
		`init container init with envFrom referencing secret.secretName="other" is not allowed because service account default does not reference that secret`: func(p *corev1.Pod) {
			p.Spec.InitContainers[0].EnvFrom = []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "other"}}}}
		},
		`imagePullSecrets[0].name="pull" is not allowed because service account default does not reference that imagePullSecret`: func(p *corev1.Pod) {
			p.Spec.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "pull"}}
		},
	} {
		pod := newPod()
		change(pod)
		err := admit(t, p, create(pod))
		if want == "" {
			if err != nil {
				t.Errorf("allowed secret: %v", err)
			}
			continue
		}
		if err == nil || err.Error() != `pods "web" is forbidden: `+want {
			t.Errorf("got %v, want %q", err, want)
		}
	}
}
