package handlers

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/apiserver/admission"
	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/generic"
	"github.com/kinc-dev/kinc/pkg/apiserver/storage/memory"
	"github.com/kinc-dev/kinc/pkg/apiserver/storage/storagetest"
)

// configMapStrategy defaults data["defaulted"] on create, so tests can see
// that mutating admission runs before the defaults and validating after.
type configMapStrategy struct{}

func (configMapStrategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	cm := obj.(*corev1.ConfigMap)
	if cm.Data == nil {
		cm.Data = map[string]string{}
	}
	cm.Data["defaulted"] = "yes"
}
func (configMapStrategy) Validate(context.Context, runtime.Object) field.ErrorList { return nil }
func (configMapStrategy) PrepareForUpdate(context.Context, runtime.Object, runtime.Object) {
}
func (configMapStrategy) ValidateUpdate(context.Context, runtime.Object, runtime.Object) field.ErrorList {
	return nil
}

// recorder is a mutating and validating plugin recording what it sees.
type recorder struct{ seen []string }

func (*recorder) Name() string                     { return "Recorder" }
func (*recorder) Handles(admission.Operation) bool { return true }

func (r *recorder) Admit(_ context.Context, a *admission.Attributes) error {
	r.seen = append(r.seen, describe("admit", a))
	if cm, ok := a.Object.(*corev1.ConfigMap); ok {
		if _, defaulted := cm.Data["defaulted"]; defaulted && a.Operation == admission.Create {
			return errors.New("mutating admission ran after the defaults")
		}
		if cm.Labels == nil {
			cm.Labels = map[string]string{}
		}
		cm.Labels["admitted"] = "yes"
	}
	return nil
}

func (r *recorder) Validate(_ context.Context, a *admission.Attributes) error {
	r.seen = append(r.seen, describe("validate", a))
	a.AddWarning("seen by " + string(a.Operation))
	if a.Name == "refused" || (a.OldObject != nil && a.OldObject.(metav1.Object).GetLabels()["keep"] == "yes") {
		return apierrors.NewForbidden(a.Resource.GroupResource(), a.Name, errors.New("refused by Recorder"))
	}
	return nil
}

// describe is "phase OP resource/sub name user dry object-defaulted old".
func describe(phase string, a *admission.Attributes) string {
	s := phase + " " + string(a.Operation) + " " + a.Resource.Resource
	if a.Subresource != "" {
		s += "/" + a.Subresource
	}
	s += " " + a.Name
	if a.User != nil {
		s += " user=" + a.User.Name
	}
	if a.DryRun {
		s += " dry"
	}
	if cm, ok := a.Object.(*corev1.ConfigMap); ok && cm.Data["defaulted"] != "" {
		s += " defaulted"
	}
	if a.OldObject != nil {
		s += " old"
	}
	if o, ok := a.Options.(*corev1.PodExecOptions); ok {
		s += " command=" + strings.Join(o.Command, ",")
	}
	return s
}

type connecter struct{ called bool }

func (c *connecter) Connect(w http.ResponseWriter, _ *http.Request, _, _ string) {
	c.called = true
	w.WriteHeader(http.StatusOK)
}

func newAdmissionAPI(t *testing.T, chain admission.Chain) (*API, *connecter) {
	t.Helper()
	mem, err := memory.New(memory.Config{Codec: storagetest.Codec(), NewFunc: func() runtime.Object { return &corev1.ConfigMap{} }})
	if err != nil {
		t.Fatal(err)
	}
	st := &generic.Store{Resource: schema.GroupResource{Resource: "configmaps"}, Kind: corev1.SchemeGroupVersion.WithKind("ConfigMap"),
		Namespaced: true, KeyRoot: "/configmaps", NewFunc: func() runtime.Object { return &corev1.ConfigMap{} },
		NewListFunc: func() runtime.Object { return &corev1.ConfigMapList{} }, Strategy: configMapStrategy{}, Storage: mem,
		Clock: clock.RealClock{}}
	conn := &connecter{}
	resources := []*Resource{
		{GVK: corev1.SchemeGroupVersion.WithKind("ConfigMap"), Name: "configmaps", Namespaced: true,
			Verbs: []string{"create", "update", "patch", "delete", "get"}, Store: st},
		{GVK: corev1.SchemeGroupVersion.WithKind("Pod"), Name: "pods", Namespaced: true, Verbs: []string{"get"}, Store: st,
			Subresources: []Subresource{{Name: "exec", Connecter: conn}}},
	}
	a := NewAPI(resources, scheme.Scheme, nil, clock.RealClock{}, slog.New(slog.DiscardHandler))
	a.SetAdmission(chain)
	return a, conn
}

func serve(t *testing.T, a *API, method, url, body string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, url, strings.NewReader(body))
	switch method {
	case http.MethodPatch:
		r.Header.Set("Content-Type", "application/merge-patch+json")
	case http.MethodPost, http.MethodPut:
		r.Header.Set("Content-Type", "application/json")
	}
	r = r.WithContext(authn.WithUser(r.Context(), &authn.User{Name: "alice"}))
	w := httptest.NewRecorder()
	a.ServeResource(w, r, ParseRequestInfo(r))
	return w
}

// TestAdmissionInRequestPath: mutating admission before the defaults,
// validating admission after them with the stored object, on create,
// update, patch, delete and connect, with the user, dry run, refusals as
// the plugin's status, and warnings as headers.
func TestAdmissionInRequestPath(t *testing.T) {
	rec := &recorder{}
	a, conn := newAdmissionAPI(t, admission.Chain{rec})
	const base = "/api/v1/namespaces/ns/configmaps"

	w := serve(t, a, http.MethodPost, base, `{"metadata":{"name":"web"}}`)
	if w.Code != http.StatusCreated || !strings.Contains(w.Body.String(), `"admitted":"yes"`) {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	if got := w.Header().Values("Warning"); len(got) != 1 || got[0] != `299 - "seen by CREATE"` {
		t.Errorf("create warnings %q", got)
	}
	w = serve(t, a, http.MethodPost, base+"?dryRun=All", `{"metadata":{"name":"refused"}}`)
	if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "refused by Recorder") {
		t.Errorf("refused create: %d %s", w.Code, w.Body)
	}
	w = serve(t, a, http.MethodPut, base+"/web", `{"metadata":{"name":"web","labels":{"keep":"yes"}}}`)
	if w.Code != http.StatusOK {
		t.Fatalf("update: %d %s", w.Code, w.Body)
	}
	w = serve(t, a, http.MethodPatch, base+"/web", `{"data":{"x":"y"}}`)
	if w.Code != http.StatusForbidden { // the stored object is labelled keep=yes
		t.Errorf("patch of a kept object: %d %s", w.Code, w.Body)
	}
	w = serve(t, a, http.MethodDelete, base+"/web", "")
	if w.Code != http.StatusForbidden {
		t.Errorf("delete of a kept object: %d %s", w.Code, w.Body)
	}
	w = serve(t, a, http.MethodPost, "/api/v1/namespaces/ns/pods/web/exec?command=sh&command=-c&stdout=true", "")
	if w.Code != http.StatusOK || !conn.called {
		t.Errorf("exec: %d %s", w.Code, w.Body)
	}

	want := []string{
		"admit CREATE configmaps web user=alice",
		"validate CREATE configmaps web user=alice defaulted",
		"admit CREATE configmaps refused user=alice dry",
		"validate CREATE configmaps refused user=alice dry defaulted",
		"admit UPDATE configmaps web user=alice old",
		"validate UPDATE configmaps web user=alice old",
		"admit UPDATE configmaps web user=alice old",
		"validate UPDATE configmaps web user=alice old",
		"validate DELETE configmaps web user=alice old",
		"admit CONNECT pods/exec web user=alice command=sh,-c",
		"validate CONNECT pods/exec web user=alice command=sh,-c",
	}
	if strings.Join(rec.seen, "\n") != strings.Join(want, "\n") {
		t.Errorf("admission saw:\n%s\nwant:\n%s", strings.Join(rec.seen, "\n"), strings.Join(want, "\n"))
	}
}
