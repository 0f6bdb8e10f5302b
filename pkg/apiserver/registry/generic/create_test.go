package generic

import (
	"net/http"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestCreateFillsSystemMetadataAndDefaults(t *testing.T) {
	s, _ := newStore(t)
	in := newPod("default", "web", map[string]string{"app": "web"})
	in.UID = "client-uid"
	in.Status.Phase = corev1.PodRunning
	in.DeletionTimestamp = &metav1.Time{Time: testNow}
	out := mustCreate(t, s, in)
	if out.UID == "" || out.UID == "client-uid" {
		t.Errorf("uid %q, want one the server generated", out.UID)
	}
	if !out.CreationTimestamp.Time.Equal(testNow) || out.DeletionTimestamp != nil {
		t.Errorf("creationTimestamp %v deletionTimestamp %v, want the clock's now and none", out.CreationTimestamp, out.DeletionTimestamp)
	}
	if out.ResourceVersion == "" || out.Spec.RestartPolicy != corev1.RestartPolicyAlways || out.Status.Phase != corev1.PodPending {
		t.Errorf("rv %q restartPolicy %q phase %q, want a resourceVersion and the strategy's defaults",
			out.ResourceVersion, out.Spec.RestartPolicy, out.Status.Phase)
	}
	if got := mustGet(t, s, "default", "web"); got.UID != out.UID || got.ResourceVersion != out.ResourceVersion {
		t.Errorf("stored %s@%s, created %s@%s", got.UID, got.ResourceVersion, out.UID, out.ResourceVersion)
	}
}

func TestCreateGenerateName(t *testing.T) {
	s, _ := newStore(t)
	seen := map[string]bool{}
	for range 5 {
		in := newPod("default", "", nil)
		in.GenerateName = "web-"
		out := mustCreate(t, s, in)
		if !strings.HasPrefix(out.Name, "web-") || len(out.Name) != len("web-")+5 || seen[out.Name] {
			t.Fatalf("generated name %q, want web- and five new characters", out.Name)
		}
		seen[out.Name] = true
		if strings.ContainsAny(out.Name[4:], "aeiou013") {
			t.Errorf("generated suffix %q uses characters upstream leaves out", out.Name[4:])
		}
	}
	long := newPod("default", "", nil)
	long.GenerateName = strings.Repeat("x", 70)
	if out := mustCreate(t, s, long); len(out.Name) != 63 {
		t.Errorf("name generated from a long prefix has %d characters, want 63", len(out.Name))
	}
}

func TestCreateErrors(t *testing.T) {
	s, _ := newStore(t)
	mustCreate(t, s, newPod("default", "taken", nil))
	noImage := newPod("default", "noimage", nil)
	noImage.Spec.Containers = append(noImage.Spec.Containers, corev1.Container{Name: "d"})
	withRV := newPod("default", "rv", nil)
	withRV.ResourceVersion = "7"
	tests := []struct {
		name       string
		pod        *corev1.Pod
		wantCode   int32
		wantReason metav1.StatusReason
		wantCauses []string // "type field"
	}{
		{name: "taken", pod: newPod("default", "taken", nil), wantCode: http.StatusConflict, wantReason: metav1.StatusReasonAlreadyExists},
		{name: "no containers", pod: &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "empty"}},
			wantCode: http.StatusUnprocessableEntity, wantReason: metav1.StatusReasonInvalid,
			wantCauses: []string{"FieldValueRequired spec.containers"}},
		{name: "a container without image", pod: noImage, wantCode: http.StatusUnprocessableEntity, wantReason: metav1.StatusReasonInvalid,
			wantCauses: []string{"FieldValueRequired spec.containers[1].image"}},
		{name: "invalid name and a spec error together", pod: func() *corev1.Pod {
			p := newPod("default", "Bad_Name", nil)
			p.Spec.Containers = nil
			return p
		}(), wantCode: http.StatusUnprocessableEntity, wantReason: metav1.StatusReasonInvalid,
			wantCauses: []string{"FieldValueInvalid metadata.name", "FieldValueRequired spec.containers"}},
		{name: "no name", pod: newPod("default", "", nil), wantCode: http.StatusUnprocessableEntity, wantReason: metav1.StatusReasonInvalid,
			wantCauses: []string{"FieldValueRequired metadata.name"}},
		{name: "missing namespace", pod: newPod("nowhere", "p", nil), wantCode: http.StatusNotFound, wantReason: metav1.StatusReasonNotFound},
		{name: "resourceVersion set", pod: withRV, wantCode: http.StatusBadRequest, wantReason: metav1.StatusReasonBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Create(ctxT(t), tt.pod, false)
			st := statusOf(t, err)
			if st.Code != tt.wantCode || st.Reason != tt.wantReason {
				t.Fatalf("status %d %s (%s), want %d %s", st.Code, st.Reason, st.Message, tt.wantCode, tt.wantReason)
			}
			if tt.wantReason != metav1.StatusReasonInvalid {
				return
			}
			if st.Details == nil || st.Details.Kind != "Pod" || st.Details.Name != tt.pod.Name {
				t.Errorf("details %+v, want kind Pod name %q", st.Details, tt.pod.Name)
			}
			var causes []string
			for _, c := range st.Details.Causes {
				causes = append(causes, string(c.Type)+" "+c.Field)
			}
			if strings.Join(causes, ",") != strings.Join(tt.wantCauses, ",") {
				t.Errorf("causes %v, want %v", causes, tt.wantCauses)
			}
		})
	}
}

func TestCreateDryRun(t *testing.T) {
	s, _ := newStore(t)
	out, err := s.Create(ctxT(t), newPod("default", "dry", nil), true)
	if err != nil {
		t.Fatal(err)
	}
	if pod := out.(*corev1.Pod); pod.Name != "dry" || pod.UID == "" || pod.Spec.RestartPolicy == "" || pod.ResourceVersion != "" {
		t.Errorf("dry-run result %+v, want the defaulted object, unstored", pod.ObjectMeta)
	}
	if _, err := s.Get(ctxT(t), "default", "dry", nil); !apierrors.IsNotFound(err) {
		t.Errorf("get after a dry-run create: %v, want NotFound", err)
	}
	// Validation still applies.
	if _, err := s.Create(ctxT(t), &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "x"}}, true); !apierrors.IsInvalid(err) {
		t.Errorf("dry-run create of an invalid pod: %v, want Invalid", err)
	}
}

func TestClusterScopedCreateDropsNamespace(t *testing.T) {
	s, _ := newStore(t)
	s.Namespaced, s.KeyRoot, s.GetAttrs, s.Namespaces = false, "/nodes-as-pods", nil, nil
	out := mustCreate(t, s, newPod("ignored", "n1", nil))
	if out.Namespace != "" {
		t.Errorf("namespace %q on a cluster-scoped object", out.Namespace)
	}
	if got := mustGet(t, s, "", "n1"); got.Name != "n1" {
		t.Errorf("get: %+v", got.ObjectMeta)
	}
	if s.Key("x", "n1") != "/nodes-as-pods/n1" {
		t.Errorf("key %s", s.Key("x", "n1"))
	}
}

func TestGetNotFound(t *testing.T) {
	s, _ := newStore(t)
	_, err := s.Get(ctxT(t), "default", "missing", nil)
	st := statusOf(t, err)
	if st.Code != http.StatusNotFound || st.Details == nil || st.Details.Name != "missing" || st.Details.Kind != "pods" {
		t.Errorf("status %+v, want 404 naming pods \"missing\"", st)
	}
	_, err = s.Get(ctxT(t), "default", "missing", &metav1.GetOptions{ResourceVersion: "abc"})
	if !apierrors.IsBadRequest(err) {
		t.Errorf("get with resourceVersion abc: %v, want BadRequest", err)
	}
}
