package server_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
)

// warnings collects the Warning headers client-go receives.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, msg)
}

func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.msgs
	w.msgs = nil
	return out
}

func labelledNamespace(ctx context.Context, t *testing.T, cs kubernetes.Interface, name string, labels map[string]string) {
	t.Helper()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func privilegedPod(ns, name string) *corev1.Pod {
	p := newPod(ns, name)
	p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: ptr.To(true)}
	return p
}

// TestIntegrationAdmission: the default admission chain of the real
// binary with the ServiceAccount plugin on and --allow-privileged=false.
func TestIntegrationAdmission(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd and kube-apiserver")
	}
	inst := apiservertest.Start(t, apiservertest.Options{ServiceAccountAdmission: true,
		ExtraFlags: []string{"--allow-privileged=false"}})
	cfg := *inst.Config
	warned := &warnings{}
	cfg.WarningHandler = warned
	cs, err := kubernetes.NewForConfig(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// ServiceAccount: no default ServiceAccount, no pod.
	labelledNamespace(ctx, t, cs, "apps", nil)
	_, err = cs.CoreV1().Pods("apps").Create(ctx, newPod("apps", "web"), metav1.CreateOptions{})
	want := `pods "web" is forbidden: error looking up service account apps/default: serviceaccount "default" not found`
	if !apierrors.IsForbidden(err) || err.Error() != want {
		t.Fatalf("pod without a default ServiceAccount: %v, want %q", err, want)
	}
	for _, sa := range []*corev1.ServiceAccount{
		{ObjectMeta: metav1.ObjectMeta{Name: "default"}},
		{ObjectMeta: metav1.ObjectMeta{Name: "quiet"}, AutomountServiceAccountToken: ptr.To(false)},
	} {
		if _, err := cs.CoreV1().ServiceAccounts("apps").Create(ctx, sa, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	pod, err := cs.CoreV1().Pods("apps").Create(ctx, newPod("apps", "web"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pod.Spec.ServiceAccountName != "default" || len(pod.Spec.Volumes) != 1 || !strings.HasPrefix(pod.Spec.Volumes[0].Name, "kube-api-access-") ||
		len(pod.Spec.Volumes[0].Name) != len("kube-api-access-")+5 || pod.Spec.Volumes[0].Projected == nil {
		t.Fatalf("pod spec after admission: serviceAccountName %q, volumes %+v", pod.Spec.ServiceAccountName, pod.Spec.Volumes)
	}
	if m := pod.Spec.Containers[0].VolumeMounts; len(m) != 1 || m[0].Name != pod.Spec.Volumes[0].Name || !m[0].ReadOnly ||
		m[0].MountPath != "/var/run/secrets/kubernetes.io/serviceaccount" {
		t.Errorf("container mounts %+v", m)
	}
	if src := pod.Spec.Volumes[0].Projected.Sources; len(src) != 3 || src[0].ServiceAccountToken == nil ||
		*src[0].ServiceAccountToken.ExpirationSeconds != 3607 || src[1].ConfigMap.Name != "kube-root-ca.crt" {
		t.Errorf("projected sources %+v", src)
	}
	quiet := newPod("apps", "quiet")
	quiet.Spec.ServiceAccountName = "quiet"
	if pod, err = cs.CoreV1().Pods("apps").Create(ctx, quiet, metav1.CreateOptions{}); err != nil || len(pod.Spec.Volumes) != 0 {
		t.Errorf("automountServiceAccountToken false: err %v, volumes %+v", err, pod)
	}
	// Dry run is admitted too.
	dry := newPod("apps", "dry")
	dry.Spec.ServiceAccountName = "missing"
	if _, err := cs.CoreV1().Pods("apps").Create(ctx, dry, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); !apierrors.IsForbidden(err) {
		t.Errorf("dry-run pod with a missing ServiceAccount: %v", err)
	}

	// --allow-privileged=false.
	_, err = cs.CoreV1().Pods("apps").Create(ctx, privilegedPod("apps", "priv"), metav1.CreateOptions{})
	want = `Pod "priv" is invalid: spec.containers[0].securityContext.privileged: Forbidden: disallowed by cluster policy`
	if !apierrors.IsInvalid(err) || err.Error() != want {
		t.Errorf("privileged pod: %v, want %q", err, want)
	}

	// PodSecurity: enforce refuses, warn warns.
	labelledNamespace(ctx, t, cs, "locked", map[string]string{"pod-security.kubernetes.io/enforce": "baseline"})
	labelledNamespace(ctx, t, cs, "watched", map[string]string{"pod-security.kubernetes.io/warn": "baseline"})
	for _, ns := range []string{"locked", "watched"} {
		if _, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	hostNet := func(ns string) *corev1.Pod {
		p := newPod(ns, "hostnet")
		p.Spec.HostNetwork = true
		return p
	}
	_, err = cs.CoreV1().Pods("locked").Create(ctx, hostNet("locked"), metav1.CreateOptions{})
	want = `pods "hostnet" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true)`
	if !apierrors.IsForbidden(err) || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("hostNetwork pod in an enforce=baseline namespace: %v, want %q", err, want)
	}
	warned.take()
	if _, err := cs.CoreV1().Pods("watched").Create(ctx, hostNet("watched"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if w := warned.take(); len(w) != 1 || !strings.HasPrefix(w[0], `would violate PodSecurity "baseline:latest": host namespaces (hostNetwork=true)`) {
		t.Errorf("warnings %q", w)
	}

	// NamespaceLifecycle.
	err = cs.CoreV1().Namespaces().Delete(ctx, "kube-system", metav1.DeleteOptions{})
	if want := `namespaces "kube-system" is forbidden: this namespace may not be deleted`; err == nil || err.Error() != want {
		t.Errorf("delete kube-system: %v, want %q", err, want)
	}
	_, err = cs.CoreV1().ConfigMaps("nowhere").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c"}}, metav1.CreateOptions{})
	if want := `namespaces "nowhere" not found`; err == nil || err.Error() != want {
		t.Errorf("create in a missing namespace: %v, want %q", err, want)
	}
}

// TestIntegrationAdmissionFlags: --disable-admission-plugins=ServiceAccount
// (apiservertest's default) turns the plugin off, and an unknown plugin
// name stops the apiserver at startup.
func TestIntegrationAdmissionFlags(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd and kube-apiserver")
	}
	inst := apiservertest.Start(t, apiservertest.Options{})
	cs := inst.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	labelledNamespace(ctx, t, cs, "plain", nil)
	pod, err := cs.CoreV1().Pods("plain").Create(ctx, privilegedPod("plain", "web"), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("pod without ServiceAccount admission, with --allow-privileged=true: %v", err)
	}
	if pod.Spec.ServiceAccountName != "" || len(pod.Spec.Volumes) != 0 {
		t.Errorf("ServiceAccount plugin disabled, yet serviceAccountName %q and volumes %+v", pod.Spec.ServiceAccountName, pod.Spec.Volumes)
	}

	log := apiservertest.StartFailing(t, apiservertest.Options{ExtraFlags: []string{"--enable-admission-plugins=NodeRestriction,Bogus"}})
	if !strings.Contains(log, `enable-admission-plugins plugin "Bogus" is unknown`) {
		t.Errorf("startup with an unknown plugin logged:\n%s", log)
	}
}
