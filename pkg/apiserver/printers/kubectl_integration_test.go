package printers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/internal/testenv"
)

// TestIntegrationKubectlGet runs the real kubectl (the client nobody here wrote)
// against a minimal HTTP server that answers discovery and serves this package's
// Tables, and checks what kubectl prints. Set KINC_KUBECTL to pick a binary (e.g.
// kubectl.1.27); the default is testenv.KubectlPath's (bin/kubectl, the PATH's).
func TestIntegrationKubectlGet(t *testing.T) {
	if testing.Short() {
		t.Skip("runs kubectl")
	}
	kubectl := testenv.RequireKubectl(t)

	pod := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", CreationTimestamp: ago(13 * time.Minute),
			Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{NodeName: "kinc-worker", Containers: []corev1.Container{{Name: "app"}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIPs: []corev1.PodIP{{IP: "10.244.1.5"}},
			ContainerStatuses: []corev1.ContainerStatus{{Ready: true, RestartCount: 2, State: running(),
				LastTerminationState: lastTerminated(5 * time.Minute)}}},
	}
	sys := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "etcd-kinc-control-plane", Namespace: "kube-system", CreationTimestamp: ago(2 * time.Hour)},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "etcd"}}},
		Status:     corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{{State: waiting("ContainerCreating")}}},
	}
	objects := map[string]runtime.Object{
		"/api/v1/namespaces/default/pods": &corev1.PodList{ListMeta: metav1.ListMeta{ResourceVersion: "10"}, Items: []corev1.Pod{pod}},
		"/api/v1/pods":                    &corev1.PodList{ListMeta: metav1.ListMeta{ResourceVersion: "10"}, Items: []corev1.Pod{pod, sys}},
		"/apis/apps/v1/namespaces/default/deployments": &appsv1.DeploymentList{Items: []appsv1.Deployment{{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", CreationTimestamp: ago(time.Hour)},
			Spec:       appsv1.DeploymentSpec{Replicas: ptr.To[int32](2)},
			Status:     appsv1.DeploymentStatus{ReadyReplicas: 1, UpdatedReplicas: 2, AvailableReplicas: 1}}}},
		"/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles": &rbacv1.RoleList{Items: []rbacv1.Role{{
			ObjectMeta: metav1.ObjectMeta{Name: "reader", Namespace: "default",
				CreationTimestamp: metav1.NewTime(time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC))}}}},
	}
	discovery := map[string]interface{}{
		"/version":                           map[string]string{"major": "1", "minor": "37", "gitVersion": "v1.37.2"},
		"/api":                               metav1.APIVersions{TypeMeta: metav1.TypeMeta{Kind: "APIVersions"}, Versions: []string{"v1"}},
		"/apis":                              metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}, Groups: []metav1.APIGroup{group("apps"), group("rbac.authorization.k8s.io")}},
		"/api/v1":                            resources("v1", metav1.APIResource{Name: "pods", Kind: "Pod", Namespaced: true, Verbs: []string{"get", "list"}}),
		"/apis/apps/v1":                      resources("apps/v1", metav1.APIResource{Name: "deployments", Kind: "Deployment", Namespaced: true, Verbs: []string{"get", "list"}}),
		"/apis/rbac.authorization.k8s.io/v1": resources("rbac.authorization.k8s.io/v1", metav1.APIResource{Name: "roles", Kind: "Role", Namespaced: true, Verbs: []string{"get", "list"}}),
	}

	c := newTestConvertor()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if d, ok := discovery[r.URL.Path]; ok {
			_ = json.NewEncoder(w).Encode(d)
			return
		}
		obj, ok := objects[r.URL.Path]
		if !ok || !strings.Contains(r.Header.Get("Accept"), "as=Table;v=v1;g=meta.k8s.io") {
			t.Logf("unexpected request %s %s Accept=%q", r.Method, r.URL, r.Header.Get("Accept"))
			http.NotFound(w, r)
			return
		}
		table, err := c.ConvertToTable(r.Context(), obj, &metav1.TableOptions{IncludeObject: metav1.IncludeObjectPolicy(r.URL.Query().Get("includeObject"))})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(table)
	}))
	defer srv.Close()

	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "config")
	if err := os.WriteFile(kubeconfig, []byte("apiVersion: v1\nkind: Config\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) [][]string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		base := []string{"--kubeconfig", kubeconfig, "--server", srv.URL, "--cache-dir", filepath.Join(dir, "cache"), "-n", "default"}
		cmd := exec.CommandContext(ctx, kubectl, append(base, args...)...)
		cmd.Env = append(os.Environ(), "HOME="+dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		// kubectl's tabwriter pads columns with at least three spaces.
		sep := regexp.MustCompile(`\s{3,}`)
		var lines [][]string
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			lines = append(lines, sep.Split(strings.TrimSpace(l), -1))
		}
		return lines
	}

	tests := []struct {
		args []string
		want [][]string
	}{
		{[]string{"get", "pods"}, [][]string{
			{"NAME", "READY", "STATUS", "RESTARTS", "AGE"},
			{"web", "1/1", "Running", "2 (5m ago)", "13m"}}},
		{[]string{"get", "pods", "-o", "wide"}, [][]string{
			{"NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE", "READINESS GATES"},
			{"web", "1/1", "Running", "2 (5m ago)", "13m", "10.244.1.5", "kinc-worker", "<none>", "<none>"}}},
		{[]string{"get", "pods", "-A", "--show-labels"}, [][]string{
			{"NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE", "LABELS"},
			{"default", "web", "1/1", "Running", "2 (5m ago)", "13m", "app=web"},
			{"kube-system", "etcd-kinc-control-plane", "0/1", "ContainerCreating", "0", "120m", "<none>"}}},
		{[]string{"get", "pods", "--sort-by", ".metadata.name", "--no-headers"}, [][]string{
			{"web", "1/1", "Running", "2 (5m ago)", "13m"}}},
		{[]string{"get", "deployments"}, [][]string{
			{"NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"},
			{"web", "1/2", "2", "1", "60m"}}},
		{[]string{"get", "roles"}, [][]string{
			{"NAME", "CREATED AT"},
			{"reader", "2026-10-01T12:00:00Z"}}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			got := run(tc.args...)
			if len(got) != len(tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			for i := range got {
				if strings.Join(got[i], "|") != strings.Join(tc.want[i], "|") {
					t.Errorf("line %d: got %q, want %q", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func group(name string) metav1.APIGroup {
	gv := metav1.GroupVersionForDiscovery{GroupVersion: name + "/v1", Version: "v1"}
	return metav1.APIGroup{Name: name, Versions: []metav1.GroupVersionForDiscovery{gv}, PreferredVersion: gv}
}

func resources(gv string, rs ...metav1.APIResource) *metav1.APIResourceList {
	return &metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: gv, APIResources: rs}
}
