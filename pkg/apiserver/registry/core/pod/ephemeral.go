package pod

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/diff"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// ephemeralContainersSubresource is pods/ephemeralcontainers (`kubectl
// debug`): the pod, of which an update may only add ephemeral containers.
func ephemeralContainersSubresource() registry.Subresource {
	return registry.Subresource{Name: "ephemeralcontainers", Verbs: registry.ViewVerbs,
		View: func(st registry.Store) registry.View { return ephemeralView{st} }}
}

type ephemeralView struct{ store registry.Store }

func (v ephemeralView) New() runtime.Object { return v.store.New() }

func (v ephemeralView) Get(ctx context.Context, ns, name string, opts *metav1.GetOptions) (runtime.Object, error) {
	return v.store.Get(ctx, ns, name, opts)
}

func (v ephemeralView) Update(ctx context.Context, ns, name string, update registry.UpdateFunc, dryRun bool) (runtime.Object, bool, error) {
	return v.store.Update(withEphemeral(ctx), ns, name, update, registry.UpdateOptions{DryRun: dryRun})
}

var _ registry.View = ephemeralView{}

type ephemeralKey struct{}

// withEphemeral marks ctx as an update through pods/ephemeralcontainers,
// which the pod strategy then applies its rules to.
func withEphemeral(ctx context.Context) context.Context {
	return context.WithValue(ctx, ephemeralKey{}, true)
}

func isEphemeral(ctx context.Context) bool {
	v, _ := ctx.Value(ephemeralKey{}).(bool)
	return v
}

// prepareEphemeralUpdate keeps everything of the stored pod but
// spec.ephemeralContainers, as upstream's dropNonEphemeralContainerUpdates
// (metadata as for a status update), and defaults the new containers.
func prepareEphemeralUpdate(pod, oldPod *corev1.Pod) {
	ephemeral := pod.Spec.EphemeralContainers
	pod.Spec = *oldPod.Spec.DeepCopy()
	pod.Spec.EphemeralContainers = ephemeral
	pod.Status = *oldPod.Status.DeepCopy()
	meta := oldPod.ObjectMeta.DeepCopy()
	pod.Labels, pod.Annotations, pod.Finalizers, pod.OwnerReferences = meta.Labels, meta.Annotations, meta.Finalizers, meta.OwnerReferences
	pod.Generation = oldPod.Generation
	SetDefaults(pod)
}

// validateEphemeralUpdate is upstream's ValidatePodEphemeralContainersUpdate:
// the pod stays valid, a static pod takes none, and existing ephemeral
// containers may be neither removed nor changed.
func validateEphemeralUpdate(pod, oldPod *corev1.Pod) field.ErrorList {
	errs := validatePod(pod)
	if _, ok := oldPod.Annotations[mirrorPodAnnotation]; ok {
		return field.ErrorList{field.Forbidden(field.NewPath(""), "static pods do not support ephemeral containers")}
	}
	specPath := field.NewPath("spec", "ephemeralContainers")
	byName := map[string]*corev1.EphemeralContainer{}
	for i := range pod.Spec.EphemeralContainers {
		byName[pod.Spec.EphemeralContainers[i].Name] = &pod.Spec.EphemeralContainers[i]
		errs = append(errs, validateEphemeralFields(&pod.Spec.EphemeralContainers[i], specPath.Index(i))...)
	}
	for _, old := range oldPod.Spec.EphemeralContainers {
		switch cur, ok := byName[old.Name]; {
		case !ok:
			errs = append(errs, field.Forbidden(specPath, fmt.Sprintf("existing ephemeral containers %q may not be removed\n", old.Name)))
		case !equality.Semantic.DeepEqual(old, *cur):
			errs = append(errs, field.Forbidden(specPath, fmt.Sprintf("existing ephemeral containers %q may not be changed\n%v", old.Name, diff.Diff(old, *cur))))
		}
	}
	return errs
}

// ephemeralFields are the fields an ephemeral container may set (upstream's
// allowedEphemeralContainerFields): not ports, resources, probes, lifecycle
// or restart policies, which only a workload's containers need.
var ephemeralFields = map[string]bool{
	"Name": true, "Image": true, "Command": true, "Args": true, "WorkingDir": true, "EnvFrom": true, "Env": true,
	"VolumeMounts": true, "VolumeDevices": true, "TerminationMessagePath": true, "TerminationMessagePolicy": true,
	"ImagePullPolicy": true, "SecurityContext": true, "Stdin": true, "StdinOnce": true, "TTY": true,
}

// validateEphemeralFields forbids the other fields, and subPath mounts
// (their bind mounts outlive the container), as upstream.
func validateEphemeralFields(c *corev1.EphemeralContainer, p *field.Path) field.ErrorList {
	const forbidden = "cannot be set for an Ephemeral Container"
	var errs field.ErrorList
	v := reflect.ValueOf(c.EphemeralContainerCommon)
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		if !ephemeralFields[f.Name] && !v.Field(i).IsZero() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			errs = append(errs, field.Forbidden(p.Child(name), forbidden))
		}
	}
	for i, m := range c.VolumeMounts {
		if m.SubPath != "" {
			errs = append(errs, field.Forbidden(p.Child("volumeMounts").Index(i).Child("subPath"), forbidden))
		}
		if m.SubPathExpr != "" {
			errs = append(errs, field.Forbidden(p.Child("volumeMounts").Index(i).Child("subPathExpr"), forbidden))
		}
	}
	return errs
}
