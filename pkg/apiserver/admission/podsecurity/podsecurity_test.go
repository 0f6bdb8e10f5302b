package podsecurity

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/apiserver/admission"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

type namespaces struct {
	registry.Store
	labels map[string]map[string]string
}

func (n namespaces) Get(_ context.Context, _, name string, _ *metav1.GetOptions) (runtime.Object, error) {
	l, ok := n.labels[name]
	if !ok {
		return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, name)
	}
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l}}, nil
}

// pods is a registry.Store listing fixed pods.
type pods struct {
	registry.Store
	items []corev1.Pod
}

func (p pods) List(context.Context, string, *metav1.ListOptions) (runtime.Object, error) {
	return &corev1.PodList{Items: p.items}, nil
}

func newPlugin(t *testing.T, existing ...corev1.Pod) *Plugin {
	t.Helper()
	p, err := New(func() registry.Store {
		return namespaces{labels: map[string]map[string]string{
			"open":       nil,
			"restricted": {"pod-security.kubernetes.io/enforce": "restricted"},
			"warned":     {"pod-security.kubernetes.io/warn": "baseline", "pod-security.kubernetes.io/warn-version": "v1.30"},
		}}
	}, func() registry.Store { return pods{items: existing} })
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func privilegedPod(ns string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"}, Spec: corev1.PodSpec{
		Containers: []corev1.Container{{Name: "c", Image: "busybox", SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true)}}}}}
}

func podAttrs(op admission.Operation, pod, old *corev1.Pod) *admission.Attributes {
	a := &admission.Attributes{Operation: op, Kind: corev1.SchemeGroupVersion.WithKind("Pod"),
		Resource: corev1.SchemeGroupVersion.WithResource("pods"), Namespace: pod.Namespace, Name: pod.Name, Object: pod}
	if old != nil {
		a.OldObject = old
	}
	return a
}

func TestEnforce(t *testing.T) {
	p := newPlugin(t)
	ctx := context.Background()
	if err := p.Validate(ctx, podAttrs(admission.Create, privilegedPod("open"), nil)); err != nil {
		t.Errorf("privileged pod in an unlabelled namespace: %v", err)
	}
	err := p.Validate(ctx, podAttrs(admission.Create, privilegedPod("restricted"), nil))
	want := `pods "web" is forbidden: violates PodSecurity "restricted:latest": privileged (container "c" must not set securityContext.privileged=true)`
	if !apierrors.IsForbidden(err) || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("privileged pod in a restricted namespace: %v, want a 403 starting %q", err, want)
	}
	// A restricted-compliant pod passes.
	ok := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "restricted", Name: "ok"}, Spec: corev1.PodSpec{
		SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
		Containers: []corev1.Container{{Name: "c", Image: "busybox", SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false), Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}}}}}
	if err := p.Validate(ctx, podAttrs(admission.Create, ok, nil)); err != nil {
		t.Errorf("restricted pod: %v", err)
	}
	// An update that changes no image is not evaluated; a status write never.
	bad := privilegedPod("restricted")
	changed := bad.DeepCopy()
	changed.Labels = map[string]string{"a": "b"}
	if err := p.Validate(ctx, podAttrs(admission.Update, changed, bad)); err != nil {
		t.Errorf("label update of an existing pod: %v", err)
	}
	changed.Spec.Containers[0].Image = "busybox:2"
	if err := p.Validate(ctx, podAttrs(admission.Update, changed, bad)); !apierrors.IsForbidden(err) {
		t.Errorf("image update of a violating pod: %v", err)
	}
	st := podAttrs(admission.Update, changed, bad)
	st.Subresource = "status"
	if err := p.Validate(ctx, st); err != nil {
		t.Errorf("status update: %v", err)
	}
}

func TestWarn(t *testing.T) {
	p := newPlugin(t)
	a := podAttrs(admission.Create, privilegedPod("warned"), nil)
	if err := p.Validate(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	want := `would violate PodSecurity "baseline:v1.30": privileged (container "c" must not set securityContext.privileged=true)`
	if w := a.Warnings(); len(w) != 1 || w[0] != want {
		t.Errorf("warnings %q, want %q", w, want)
	}
	// Workloads are warned about, never refused.
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "warned", Name: "web"}}
	d.Spec.Template.Spec = privilegedPod("").Spec
	a = &admission.Attributes{Operation: admission.Create, Kind: appsv1.SchemeGroupVersion.WithKind("Deployment"),
		Resource: appsv1.SchemeGroupVersion.WithResource("deployments"), Namespace: "warned", Name: "web", Object: d}
	if err := p.Validate(context.Background(), a); err != nil || len(a.Warnings()) != 1 {
		t.Errorf("deployment: err %v, warnings %q", err, a.Warnings())
	}
	a.Namespace, d.Namespace = "restricted", "restricted"
	if err := p.Validate(context.Background(), &admission.Attributes{Operation: admission.Create,
		Resource: appsv1.SchemeGroupVersion.WithResource("deployments"), Namespace: "restricted", Object: d}); err != nil {
		t.Errorf("deployment in a restricted namespace refused: %v", err)
	}
}

func TestNamespaceLabels(t *testing.T) {
	p := newPlugin(t)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "x", Labels: map[string]string{"pod-security.kubernetes.io/enforce": "strict"}}}
	a := &admission.Attributes{Operation: admission.Create, Kind: corev1.SchemeGroupVersion.WithKind("Namespace"),
		Resource: corev1.SchemeGroupVersion.WithResource("namespaces"), Name: "x", Object: ns}
	if err := p.Validate(context.Background(), a); !apierrors.IsInvalid(err) ||
		!strings.Contains(err.Error(), `metadata.labels[pod-security.kubernetes.io/enforce]`) {
		t.Errorf("invalid level: %v", err)
	}
	ns.Labels["pod-security.kubernetes.io/enforce"] = "baseline"
	if err := p.Validate(context.Background(), a); err != nil {
		t.Errorf("valid level: %v", err)
	}
}

// TestTightenedNamespace: raising a namespace's enforce level warns about
// the existing pods it would refuse, as upstream words it.
func TestTightenedNamespace(t *testing.T) {
	web1, web2, db := *privilegedPod("ns"), *privilegedPod("ns"), *privilegedPod("ns")
	web1.Name, web2.Name, db.Name = "web-1", "web-2", "db"
	db.Spec.Containers[0].SecurityContext = nil
	db.Spec.HostNetwork = true
	p := newPlugin(t, web2, db, web1)
	old := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ns"}}
	ns := old.DeepCopy()
	ns.Labels = map[string]string{"pod-security.kubernetes.io/enforce": "baseline"}
	a := &admission.Attributes{Operation: admission.Update, Kind: corev1.SchemeGroupVersion.WithKind("Namespace"),
		Resource: corev1.SchemeGroupVersion.WithResource("namespaces"), Name: "ns", Object: ns, OldObject: old}
	if err := p.Validate(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`existing pods in namespace "ns" violate the new PodSecurity enforce level "baseline:latest"`,
		`db: host namespaces`,
		`web-1 (and 1 other pod): privileged`,
	}
	if d := cmp.Diff(want, a.Warnings()); d != "" {
		t.Errorf("warnings (-want +got):\n%s", d)
	}
	// Relaxing or keeping the level says nothing.
	a = &admission.Attributes{Operation: admission.Update, Kind: corev1.SchemeGroupVersion.WithKind("Namespace"),
		Resource: corev1.SchemeGroupVersion.WithResource("namespaces"), Name: "ns", Object: old, OldObject: ns}
	if err := p.Validate(context.Background(), a); err != nil || len(a.Warnings()) != 0 {
		t.Errorf("relaxed: err %v, warnings %q", err, a.Warnings())
	}
}
