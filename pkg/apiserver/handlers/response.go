package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kinc-dev/kinc/pkg/apiserver/printers"
)

// fail answers req with err as a Status, logging internal errors.
func (a *API) fail(req *request, err error) {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		a.log.Error("internal error serving request", "method", req.r.Method, "path", req.r.URL.Path, "err", err)
	}
	a.setWarnings(req)
	WriteError(req.w, req.r, err)
}

// WriteError writes err as a metav1.Status with its HTTP code. Errors that
// carry no API status become 500 InternalError.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	st := ErrorToStatus(err)
	data, _ := encode(st, false)
	w.Header().Set("Content-Type", mediaJSON)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if st.Details != nil && st.Details.RetryAfterSeconds > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(st.Details.RetryAfterSeconds)))
	}
	w.WriteHeader(int(st.Code))
	if r == nil || r.Method != http.MethodHead {
		_, _ = w.Write(data)
	}
}

// ErrorToStatus returns the Status object (apiVersion v1, kind Status) for err.
func ErrorToStatus(err error) *metav1.Status {
	var status apierrors.APIStatus
	var st metav1.Status
	if errors.As(err, &status) {
		st = status.Status()
	} else {
		st = apierrors.NewInternalError(err).ErrStatus
	}
	if st.Code == 0 {
		st.Code = http.StatusInternalServerError
	}
	st.Status = metav1.StatusFailure
	st.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Status"}
	return &st
}

func (a *API) setWarnings(req *request) {
	for _, w := range req.warnings {
		req.w.Header().Add("Warning", fmt.Sprintf("299 - %s", strconv.Quote(w)))
	}
}

// respond writes obj (an object of the resource, or a list of them) in the
// negotiated format with code.
func (a *API) respond(req *request, code int, obj runtime.Object) {
	body, err := a.render(req, obj)
	if err != nil {
		a.fail(req, err)
		return
	}
	a.setWarnings(req)
	req.w.Header().Set("Content-Type", req.out.mediaType)
	req.w.WriteHeader(code)
	if req.r.Method != http.MethodHead {
		_, _ = req.w.Write(body)
	}
}

// render encodes obj in the negotiated format, converting it to a Table or
// to PartialObjectMetadata when asked.
func (a *API) render(req *request, obj runtime.Object) ([]byte, error) {
	var out any = obj
	switch req.out.kind {
	case outputTable:
		t, err := a.table(req, obj, false)
		if err != nil {
			return nil, err
		}
		out = t
	case outputMetadata:
		m, err := partialMetadata(obj, req.out.tableGV)
		if err != nil {
			return nil, err
		}
		out = m
	default:
		if err := a.setKind(obj); err != nil {
			return nil, err
		}
	}
	return encode(out, req.out.yaml)
}

// table converts obj to a Table as the request's includeObject asks.
func (a *API) table(req *request, obj runtime.Object, noHeaders bool) (*metav1.Table, error) {
	opts := &metav1.TableOptions{NoHeaders: noHeaders}
	if v := req.r.URL.Query().Get("includeObject"); v != "" {
		opts.IncludeObject = metav1.IncludeObjectPolicy(v)
	}
	t, err := a.tables.ConvertToTable(req.ctx, obj, opts)
	switch {
	case errors.Is(err, printers.ErrUnrecognizedIncludeObject):
		return nil, apierrors.NewBadRequest(err.Error())
	case errors.Is(err, printers.ErrNotTableConvertible):
		return nil, apierrors.NewGenericServerResponse(http.StatusNotAcceptable, "", schema.GroupResource{}, "", err.Error(), 0, false)
	case err != nil:
		return nil, err
	}
	t.APIVersion = req.out.tableGV
	t.Kind = "Table"
	return t, nil
}

// setKind sets apiVersion and kind on an object or list that lacks them.
// Only objects the request owns may be given: shared watch objects must be
// copied first.
func (a *API) setKind(obj runtime.Object) error {
	if !obj.GetObjectKind().GroupVersionKind().Empty() {
		return nil
	}
	gvks, _, err := a.scheme.ObjectKinds(obj)
	if err != nil || len(gvks) == 0 {
		return apierrors.NewInternalError(fmt.Errorf("unknown object type %T: %v", obj, err))
	}
	obj.GetObjectKind().SetGroupVersionKind(gvks[0])
	return nil
}

// partialMetadata converts an object or list to PartialObjectMetadata(List).
func partialMetadata(obj runtime.Object, gv string) (any, error) {
	one := func(o runtime.Object) (*metav1.PartialObjectMetadata, error) {
		// Copied field by field: a typed object is its own metav1.Object
		// (through its embedded ObjectMeta's methods), not an *ObjectMeta.
		m, err := meta.Accessor(o)
		if err != nil {
			return nil, apierrors.NewInternalError(err)
		}
		om := metav1.ObjectMeta{Name: m.GetName(), GenerateName: m.GetGenerateName(), Namespace: m.GetNamespace(),
			UID: m.GetUID(), ResourceVersion: m.GetResourceVersion(), Generation: m.GetGeneration(),
			CreationTimestamp: m.GetCreationTimestamp(), DeletionTimestamp: m.GetDeletionTimestamp(),
			DeletionGracePeriodSeconds: m.GetDeletionGracePeriodSeconds(), Labels: m.GetLabels(),
			Annotations: m.GetAnnotations(), OwnerReferences: m.GetOwnerReferences(), Finalizers: m.GetFinalizers(),
			ManagedFields: m.GetManagedFields()}
		return &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: gv, Kind: "PartialObjectMetadata"}, ObjectMeta: *om.DeepCopy()}, nil
	}
	if !meta.IsListType(obj) {
		return one(obj)
	}
	items, err := meta.ExtractList(obj)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	lm, err := meta.ListAccessor(obj)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	list := &metav1.PartialObjectMetadataList{TypeMeta: metav1.TypeMeta{APIVersion: gv, Kind: "PartialObjectMetadataList"}}
	list.ResourceVersion, list.Continue, list.RemainingItemCount = lm.GetResourceVersion(), lm.GetContinue(), lm.GetRemainingItemCount()
	for _, item := range items {
		p, err := one(item)
		if err != nil {
			return nil, err
		}
		p.TypeMeta = metav1.TypeMeta{}
		list.Items = append(list.Items, *p)
	}
	return list, nil
}

// successStatus is upstream's answer to an immediate delete.
func successStatus(res *Resource, obj runtime.Object) *metav1.Status {
	st := &metav1.Status{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Status"}, Status: metav1.StatusSuccess,
		Details: &metav1.StatusDetails{Group: res.GVK.Group, Kind: res.Name}}
	if m, err := meta.Accessor(obj); err == nil {
		st.Details.Name, st.Details.UID = m.GetName(), m.GetUID()
	}
	return st
}

// writeJSON writes an already-typed value (Status, discovery documents).
func writeJSON(w http.ResponseWriter, code int, contentType string, v any) {
	data, err := encode(v, false)
	if err != nil {
		WriteError(w, nil, err)
		return
	}
	if contentType == "" {
		contentType = mediaJSON
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(code)
	_, _ = w.Write(data)
}

// WriteJSON writes v as JSON with code (for non-resource endpoints).
func WriteJSON(w http.ResponseWriter, code int, v any) { writeJSON(w, code, "", v) }
