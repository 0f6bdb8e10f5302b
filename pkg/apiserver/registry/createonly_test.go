package registry

import (
	"context"
	"net/http"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestCreateOnly(t *testing.T) {
	gr := schema.GroupResource{Group: "authorization.k8s.io", Resource: "subjectaccessreviews"}
	st := CreateOnly{Resource: gr, NewFunc: func() runtime.Object { return &authorizationv1.SubjectAccessReview{} },
		CreateFunc: func(_ context.Context, obj runtime.Object, _ bool) (runtime.Object, error) {
			obj.(*authorizationv1.SubjectAccessReview).Status.Allowed = true
			return obj, nil
		}}
	ctx := context.Background()
	out, err := st.Create(ctx, st.New(), false)
	if err != nil || !out.(*authorizationv1.SubjectAccessReview).Status.Allowed {
		t.Fatalf("Create: %v %v", out, err)
	}
	calls := map[string]func() error{
		"get":              func() error { _, err := st.Get(ctx, "", "x", nil); return err },
		"list":             func() error { _, err := st.List(ctx, "", nil); return err },
		"update":           func() error { _, _, err := st.Update(ctx, "", "x", nil, UpdateOptions{}); return err },
		"delete":           func() error { _, _, err := st.Delete(ctx, "", "x", nil, false); return err },
		"deletecollection": func() error { _, err := st.DeleteCollection(ctx, "", nil, nil, false); return err },
		"watch":            func() error { _, err := st.Watch(ctx, "", nil); return err },
		"mutate":           func() error { _, err := st.Mutate(ctx, "", "x", nil); return err },
	}
	refused := apierrors.NewForbidden(gr, "", nil)
	var validated runtime.Object
	vctx := WithValidation(ctx, func(_ context.Context, obj, old runtime.Object) error {
		validated = obj
		if old != nil {
			t.Errorf("validation of a create given %v", old)
		}
		return refused
	})
	if _, err := st.Create(vctx, st.New(), false); err != refused || validated == nil {
		t.Errorf("Create with a validating admission: %v (validated %v), want its error", err, validated)
	}
	for verb, call := range calls {
		err := call()
		if !apierrors.IsMethodNotSupported(err) || apierrors.ReasonForError(err) != "MethodNotAllowed" {
			t.Errorf("%s: %v, want 405 MethodNotSupported", verb, err)
		}
		if status, ok := err.(apierrors.APIStatus); !ok || status.Status().Code != http.StatusMethodNotAllowed {
			t.Errorf("%s: %v is not a 405", verb, err)
		}
	}
}
