// Package serviceaccount is upstream's ServiceAccount admission plugin: a
// new pod gets the service account "default" when it names none, must name
// one that exists, and (unless automountServiceAccountToken is false on the
// pod or the service account) gets the projected kube-api-access-<suffix>
// volume — a bound token, the cluster CA from the kube-root-ca.crt
// ConfigMap, the namespace — mounted in every container at
// /var/run/secrets/kubernetes.io/serviceaccount. Mirror pods are never
// changed and may not reference service accounts or secrets.
package serviceaccount

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/apiserver/admission"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// Upstream's names and paths.
const (
	// DefaultServiceAccountName is the service account of a pod naming none.
	DefaultServiceAccountName = "default"
	// VolumeNamePrefix starts the name of the token volume.
	VolumeNamePrefix = "kube-api-access"
	// MountPath is where containers find the token, ca.crt and namespace.
	MountPath = "/var/run/secrets/kubernetes.io/serviceaccount"
	// TokenExpirationSeconds is the token's requested lifetime: upstream's
	// WarnOnlyBoundTokenExpirationSeconds (1h + 7s), which the token issuer
	// recognises to extend it while warning about stale tokens.
	TokenExpirationSeconds = 3607
	// RootCAConfigMap holds the cluster CA in every namespace (ca.crt).
	RootCAConfigMap = "kube-root-ca.crt"
)

// Plugin is the ServiceAccount plugin. It is safe for concurrent use.
type Plugin struct {
	serviceAccounts func() registry.Store
	// suffix returns the random part of the token volume's name.
	suffix func() string
	// defaultAttempts and retryInterval bound the wait for the default
	// service account, which the controller-manager creates shortly after
	// its namespace.
	defaultAttempts int
	retryInterval   time.Duration
}

// New returns the plugin; serviceAccounts returns the service accounts'
// store (called per request).
func New(serviceAccounts func() registry.Store) *Plugin {
	return &Plugin{serviceAccounts: serviceAccounts, suffix: func() string { return utilrand.String(5) },
		defaultAttempts: 10, retryInterval: time.Duration(100+utilrand.Intn(100)) * time.Millisecond}
}

// Name implements admission.Plugin.
func (*Plugin) Name() string { return admission.ServiceAccount }

// Handles implements admission.Plugin: pod creates, and updates through
// pods/ephemeralcontainers.
func (*Plugin) Handles(op admission.Operation) bool {
	return op == admission.Create || op == admission.Update
}

// pod returns the pod a writes, or nil when the plugin ignores a.
func pod(a *admission.Attributes) *corev1.Pod {
	if a.Resource.GroupResource() != (schema.GroupResource{Resource: "pods"}) ||
		(a.Subresource != "" && a.Subresource != "ephemeralcontainers") {
		return nil
	}
	p, _ := a.Object.(*corev1.Pod)
	return p
}

func isMirror(p *corev1.Pod) bool {
	_, ok := p.Annotations[corev1.MirrorPodAnnotationKey]
	return ok
}

// Admit implements admission.Mutator: on create of a pod that is not a
// mirror pod, the default service account, its image pull secrets when the
// pod has none, and the token volume.
func (p *Plugin) Admit(ctx context.Context, a *admission.Attributes) error {
	pod := pod(a)
	if pod == nil || a.Operation != admission.Create || a.Subresource != "" || isMirror(pod) {
		return nil
	}
	if pod.Spec.ServiceAccountName == "" {
		pod.Spec.ServiceAccountName = DefaultServiceAccountName
		pod.Spec.DeprecatedServiceAccount = DefaultServiceAccountName //nolint:staticcheck // kept in sync as upstream
	}
	sa, err := p.get(ctx, a.Namespace, pod.Spec.ServiceAccountName)
	if err != nil {
		return admission.NewForbidden(a, fmt.Errorf("error looking up service account %s/%s: %w", a.Namespace, pod.Spec.ServiceAccountName, err))
	}
	if automount(sa, pod) {
		p.mountToken(pod)
	}
	if len(pod.Spec.ImagePullSecrets) == 0 && len(sa.ImagePullSecrets) > 0 {
		pod.Spec.ImagePullSecrets = make([]corev1.LocalObjectReference, len(sa.ImagePullSecrets))
		for i, s := range sa.ImagePullSecrets {
			pod.Spec.ImagePullSecrets[i].Name = s.Name
		}
	}
	return nil
}

// Validate implements admission.Validator: a mirror pod references no
// service account, secret or token projection; any other new pod (and any
// pod gaining ephemeral containers) names a service account that exists.
func (p *Plugin) Validate(ctx context.Context, a *admission.Attributes) error {
	pod := pod(a)
	if pod == nil {
		return nil
	}
	switch {
	case a.Operation == admission.Update && a.Subresource == "ephemeralcontainers":
	case a.Operation != admission.Create || a.Subresource != "":
		return nil
	case isMirror(pod):
		return validateMirror(a, pod)
	}
	if pod.Spec.ServiceAccountName == "" {
		return admission.NewForbidden(a, fmt.Errorf("no service account specified for pod %s/%s", a.Namespace, pod.Name))
	}
	sa, err := p.get(ctx, a.Namespace, pod.Spec.ServiceAccountName)
	if err != nil {
		return admission.NewForbidden(a, fmt.Errorf("error looking up service account %s/%s: %w", a.Namespace, pod.Spec.ServiceAccountName, err))
	}
	if !enforceMountableSecrets(sa) {
		return nil
	}
	limit := limitSecretReferences
	if a.Operation == admission.Update {
		// Upstream returns this refusal unwrapped (a 500); kinc answers 403.
		limit = limitEphemeralSecrets
	}
	if err := limit(sa, pod); err != nil {
		return admission.NewForbidden(a, err)
	}
	return nil
}

func validateMirror(a *admission.Attributes, pod *corev1.Pod) error {
	if pod.Spec.ServiceAccountName != "" {
		return admission.NewForbidden(a, fmt.Errorf("a mirror pod may not reference service accounts"))
	}
	if referencesSecrets(pod) {
		return admission.NewForbidden(a, fmt.Errorf("a mirror pod may not reference secrets"))
	}
	for _, v := range pod.Spec.Volumes {
		if v.Projected == nil {
			continue
		}
		for _, s := range v.Projected.Sources {
			if s.ServiceAccountToken != nil {
				return admission.NewForbidden(a, fmt.Errorf("a mirror pod may not use ServiceAccountToken volume projections"))
			}
		}
	}
	return nil
}

// get returns namespace/name from the watch cache, else from etcd; the
// default service account is waited for a little (defaultAttempts), as
// upstream.
func (p *Plugin) get(ctx context.Context, namespace, name string) (*corev1.ServiceAccount, error) {
	st := p.serviceAccounts()
	obj, err := st.Get(ctx, namespace, name, &metav1.GetOptions{ResourceVersion: "0"})
	if err == nil {
		return obj.(*corev1.ServiceAccount), nil
	}
	if !apierrors.IsNotFound(err) {
		return nil, err
	}
	attempts := 1
	if name == DefaultServiceAccountName {
		attempts = p.defaultAttempts
	}
	for i := range attempts {
		if i > 0 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(p.retryInterval):
			}
		}
		obj, err := st.Get(ctx, namespace, name, nil)
		if err == nil {
			return obj.(*corev1.ServiceAccount), nil
		}
		if !apierrors.IsNotFound(err) {
			return nil, err
		}
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "serviceaccount"}, name)
}

// automount tells whether pod gets the token: the pod's choice, else the
// service account's, else yes.
func automount(sa *corev1.ServiceAccount, pod *corev1.Pod) bool {
	if v := pod.Spec.AutomountServiceAccountToken; v != nil {
		return *v
	}
	if v := sa.AutomountServiceAccountToken; v != nil {
		return *v
	}
	return true
}

// mountToken mounts the token volume (an existing kube-api-access-* one, or
// a new one) read-only at MountPath in every init container and container
// that mounts nothing there already; the volume is added when one of them
// needs it. Ephemeral containers are left alone, as upstream.
func (p *Plugin) mountToken(pod *corev1.Pod) {
	volume, exists := "", false
	for _, v := range pod.Spec.Volumes {
		if strings.HasPrefix(v.Name, VolumeNamePrefix+"-") {
			volume, exists = v.Name, true
			break
		}
	}
	if volume == "" {
		volume = VolumeNamePrefix + "-" + p.suffix()
	}
	mount := corev1.VolumeMount{Name: volume, ReadOnly: true, MountPath: MountPath}
	needed := false
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range list {
			if !mountsAt(list[i], MountPath) {
				list[i].VolumeMounts = append(list[i].VolumeMounts, mount)
				needed = true
			}
		}
	}
	if needed && !exists {
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: volume,
			VolumeSource: corev1.VolumeSource{Projected: TokenVolumeSource()}})
	}
}

func mountsAt(c corev1.Container, path string) bool {
	for _, m := range c.VolumeMounts {
		if m.MountPath == path {
			return true
		}
	}
	return false
}

// TokenVolumeSource returns the projected volume of a pod's token, exactly
// as upstream writes it (defaultMode set explicitly).
func TokenVolumeSource() *corev1.ProjectedVolumeSource {
	return &corev1.ProjectedVolumeSource{
		DefaultMode: ptr.To[int32](corev1.ProjectedVolumeSourceDefaultMode),
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptr.To[int64](TokenExpirationSeconds)}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: RootCAConfigMap},
				Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "namespace",
				FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
		},
	}
}
