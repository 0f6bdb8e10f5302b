// Package podsecurity is upstream's PodSecurity admission plugin: the Pod
// Security Standards (privileged, baseline, restricted) applied by the
// labels of a pod's namespace — pod-security.kubernetes.io/enforce refuses
// a violating pod, .../warn answers it with a Warning, .../audit is
// evaluated but kinc has no audit log yet; each with a -version label.
// The policy checks are upstream's library, k8s.io/pod-security-admission
// (policy and api packages). No exemptions are configured, and the
// cluster-wide defaults are privileged:latest, as upstream without an
// admission configuration file.
package podsecurity

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	psaapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"

	"github.com/kinc-dev/kinc/pkg/apiserver/admission"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// evaluator is what the plugin needs of upstream's check registry.
type evaluator interface {
	EvaluatePod(lv psaapi.LevelVersion, meta *metav1.ObjectMeta, spec *corev1.PodSpec) []policy.CheckResult
}

// Plugin is the PodSecurity plugin. It is safe for concurrent use.
type Plugin struct {
	namespaces func() registry.Store
	pods       func() registry.Store
	evaluator  evaluator
	defaults   psaapi.Policy
}

// New returns the plugin; namespaces and pods return those resources'
// stores (called per request; pods lists the existing pods a namespace's
// tightened enforce level is checked against, nil skips that).
func New(namespaces, pods func() registry.Store) (*Plugin, error) {
	ev, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		return nil, fmt.Errorf("PodSecurity checks: %w", err)
	}
	privileged := psaapi.LevelVersion{Level: psaapi.LevelPrivileged, Version: psaapi.LatestVersion()}
	return &Plugin{namespaces: namespaces, pods: pods, evaluator: ev,
		defaults: psaapi.Policy{Enforce: privileged, Audit: privileged, Warn: privileged}}, nil
}

// Name implements admission.Plugin.
func (*Plugin) Name() string { return admission.PodSecurity }

// Handles implements admission.Plugin: creates and updates.
func (*Plugin) Handles(op admission.Operation) bool {
	return op == admission.Create || op == admission.Update
}

// ignoredPodSubresources do not change a pod's spec (upstream's list; any
// other subresource — ephemeralcontainers, resize — is evaluated).
var ignoredPodSubresources = map[string]bool{
	"exec": true, "attach": true, "binding": true, "eviction": true, "log": true,
	"portforward": true, "proxy": true, "status": true,
}

// Validate implements admission.Validator.
func (p *Plugin) Validate(ctx context.Context, a *admission.Attributes) error {
	switch a.Resource.GroupResource() {
	case corev1.Resource("namespaces"):
		return p.validateNamespace(ctx, a)
	case corev1.Resource("pods"):
		return p.validatePod(ctx, a)
	default:
		return p.validateController(ctx, a)
	}
}

// validateNamespace refuses invalid policy labels on a created namespace,
// or on an updated one whose label problems changed; an update tightening
// the enforce level warns about the existing pods it would refuse.
func (p *Plugin) validateNamespace(ctx context.Context, a *admission.Attributes) error {
	ns, ok := a.Object.(*corev1.Namespace)
	if a.Subresource != "" || !ok {
		return nil
	}
	newPolicy, errs := psaapi.PolicyToEvaluate(ns.Labels, p.defaults)
	old, isUpdate := a.OldObject.(*corev1.Namespace)
	if !isUpdate || a.Operation != admission.Update {
		if len(errs) > 0 {
			return apierrors.NewInvalid(a.Kind.GroupKind(), a.Name, errs)
		}
		return nil
	}
	oldPolicy, oldErrs := psaapi.PolicyToEvaluate(old.Labels, p.defaults)
	if len(errs) > 0 && (len(oldErrs) == 0 || fmt.Sprint(oldErrs) != fmt.Sprint(errs)) {
		return apierrors.NewInvalid(a.Kind.GroupKind(), a.Name, errs)
	}
	for _, w := range p.warnExistingPods(ctx, ns.Name, oldPolicy, newPolicy) {
		a.AddWarning(w)
	}
	return nil
}

// validatePod enforces (and warns about) the namespace's policy on a pod
// whose containers or images change.
func (p *Plugin) validatePod(ctx context.Context, a *admission.Attributes) error {
	pod, ok := a.Object.(*corev1.Pod)
	if ignoredPodSubresources[a.Subresource] || !ok {
		return nil
	}
	nsPolicy, nsErrs, err := p.policy(ctx, a.Namespace)
	if err != nil {
		return apierrors.NewInternalError(fmt.Errorf("failed to lookup namespace %q", a.Namespace))
	}
	if len(nsErrs) == 0 && nsPolicy.FullyPrivileged() {
		return nil
	}
	if old, ok := a.OldObject.(*corev1.Pod); ok && a.Operation == admission.Update && !significantUpdate(pod, old) {
		return nil
	}
	return p.evaluate(a, nsPolicy, &pod.ObjectMeta, &pod.Spec, true)
}

// validateController warns about a workload whose pod template violates
// the namespace's warn level (never refused, as upstream).
func (p *Plugin) validateController(ctx context.Context, a *admission.Attributes) error {
	if a.Subresource != "" {
		return nil
	}
	meta, spec := podTemplate(a.Object)
	if spec == nil {
		return nil
	}
	nsPolicy, nsErrs, err := p.policy(ctx, a.Namespace)
	if err != nil || (len(nsErrs) == 0 && nsPolicy.Warn.Level == psaapi.LevelPrivileged) {
		return nil
	}
	return p.evaluate(a, nsPolicy, meta, spec, false)
}

// evaluate refuses a violation of the enforce level (when enforce) with
// upstream's message, else records one of the warn level as a warning.
func (p *Plugin) evaluate(a *admission.Attributes, nsPolicy psaapi.Policy, meta *metav1.ObjectMeta, spec *corev1.PodSpec, enforce bool) error {
	if enforce {
		result := policy.AggregateCheckResults(p.evaluator.EvaluatePod(nsPolicy.Enforce, meta, spec))
		if !result.Allowed {
			return apierrors.NewForbidden(a.Resource.GroupResource(), a.Name,
				fmt.Errorf("violates PodSecurity %q: %s", nsPolicy.Enforce.String(), result.ForbiddenDetail()))
		}
	}
	if result := policy.AggregateCheckResults(p.evaluator.EvaluatePod(nsPolicy.Warn, meta, spec)); !result.Allowed {
		a.AddWarning(fmt.Sprintf("would violate PodSecurity %q: %s", nsPolicy.Warn.String(), result.ForbiddenDetail()))
	}
	return nil
}

// policy returns the policy of namespace's labels (the watch cache's
// namespace, else etcd's); invalid labels count as restricted, as upstream.
func (p *Plugin) policy(ctx context.Context, namespace string) (psaapi.Policy, []error, error) {
	st := p.namespaces()
	obj, err := st.Get(ctx, "", namespace, &metav1.GetOptions{ResourceVersion: "0"})
	if apierrors.IsNotFound(err) {
		obj, err = st.Get(ctx, "", namespace, nil)
	}
	if err != nil {
		return psaapi.Policy{}, nil, err
	}
	nsPolicy, errs := psaapi.PolicyToEvaluate(obj.(*corev1.Namespace).Labels, p.defaults)
	var out []error
	for _, e := range errs {
		out = append(out, e)
	}
	return nsPolicy, out, nil
}

// podTemplate returns the pod template of the workload kinds upstream
// checks, or nil.
func podTemplate(obj runtime.Object) (*metav1.ObjectMeta, *corev1.PodSpec) {
	var t *corev1.PodTemplateSpec
	switch o := obj.(type) {
	case *corev1.ReplicationController:
		t = o.Spec.Template
	case *corev1.PodTemplate:
		t = &o.Template
	case *appsv1.ReplicaSet:
		t = &o.Spec.Template
	case *appsv1.Deployment:
		t = &o.Spec.Template
	case *appsv1.StatefulSet:
		t = &o.Spec.Template
	case *appsv1.DaemonSet:
		t = &o.Spec.Template
	case *batchv1.Job:
		t = &o.Spec.Template
	case *batchv1.CronJob:
		t = &o.Spec.JobTemplate.Spec.Template
	}
	if t == nil {
		return nil, nil
	}
	return &t.ObjectMeta, &t.Spec
}

// significantUpdate tells whether an update changes what the policy
// checks can see change on a running pod: the containers' number or
// images, or a new ephemeral container (upstream's isSignificantPodUpdate).
func significantUpdate(pod, old *corev1.Pod) bool {
	if len(pod.Spec.Containers) != len(old.Spec.Containers) || len(pod.Spec.InitContainers) != len(old.Spec.InitContainers) {
		return true
	}
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Image != old.Spec.Containers[i].Image {
			return true
		}
	}
	for i := range pod.Spec.InitContainers {
		if pod.Spec.InitContainers[i].Image != old.Spec.InitContainers[i].Image {
			return true
		}
	}
	for _, c := range pod.Spec.EphemeralContainers {
		found := false
		for _, oc := range old.Spec.EphemeralContainers {
			if oc.Name == c.Name {
				found = true
				if oc.Image != c.Image {
					return true
				}
				break
			}
		}
		if !found {
			return true
		}
	}
	return false
}
