package handlers

import (
	"context"
	"encoding/json"
	"fmt"

	jsonpatch "github.com/evanphx/json-patch/v5"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"net/http"
)

// maxJSONPatchOperations bounds a JSON patch, as upstream does.
const maxJSONPatchOperations = 10000

// patch applies a JSON, merge or strategic merge patch to the current state
// of the object (or of its view: status, scale) inside an atomic update, so a
// concurrent writer makes it re-apply on the new state instead of losing an
// update. A resourceVersion in the patch makes it conditional.
func (a *API) patch(req *request, view View, gvk schema.GroupVersionKind) {
	dry, err := dryRun(req.r)
	if err != nil {
		a.fail(req, err)
		return
	}
	strict, err := fieldValidation(req.r)
	if err != nil {
		a.fail(req, err)
		return
	}
	patchType := bodyMediaType(req.r)
	body, err := readBody(req.r)
	if err != nil {
		a.fail(req, err)
		return
	}
	var apply func(current []byte, obj runtime.Object) ([]byte, error)
	switch patchType {
	case mediaJSONPatch:
		p, err := jsonpatch.DecodePatch(body)
		if err != nil {
			a.fail(req, apierrors.NewBadRequest(err.Error()))
			return
		}
		if len(p) > maxJSONPatchOperations {
			a.fail(req, apierrors.NewRequestEntityTooLargeError(fmt.Sprintf(
				"The allowed maximum operations in a JSON patch is %d, got %d", maxJSONPatchOperations, len(p))))
			return
		}
		apply = func(current []byte, _ runtime.Object) ([]byte, error) { return p.Apply(current) }
	case mediaMergePatch:
		if !json.Valid(body) {
			a.fail(req, apierrors.NewBadRequest("the patch is not valid JSON"))
			return
		}
		apply = func(current []byte, _ runtime.Object) ([]byte, error) { return jsonpatch.MergePatch(current, body) }
	case mediaStrategicPatch:
		var patchMap map[string]any
		if err := json.Unmarshal(body, &patchMap); err != nil {
			a.fail(req, apierrors.NewBadRequest("the patch is not a valid JSON object: "+err.Error()))
			return
		}
		apply = func(current []byte, obj runtime.Object) ([]byte, error) {
			return strategicpatch.StrategicMergePatch(current, body, obj)
		}
	case mediaApplyPatch:
		a.fail(req, apierrors.NewGenericServerResponse(http.StatusUnsupportedMediaType, "patch",
			schema.GroupResource{Group: req.info.APIGroup, Resource: req.info.Resource}, req.info.Name,
			"server-side apply (application/apply-patch+yaml) is not supported by kinc yet; "+
				"use client-side apply (kubectl apply without --server-side)", 0, false))
		return
	default:
		a.fail(req, unsupportedMediaType(patchType))
		return
	}

	var warnings []string
	update := func(_ context.Context, old runtime.Object) (runtime.Object, error) {
		if old == nil {
			return nil, apierrors.NewNotFound(schema.GroupResource{Group: req.info.APIGroup, Resource: req.info.Resource}, req.info.Name)
		}
		if err := a.setKind(old); err != nil {
			return nil, err
		}
		current, err := json.Marshal(old)
		if err != nil {
			return nil, apierrors.NewInternalError(err)
		}
		patched, err := apply(current, view.New())
		if err != nil {
			return nil, patchError(err)
		}
		obj := view.New()
		w, err := a.decoder.decodeBody(patched, mediaJSON, strict, obj, gvk)
		if err != nil {
			return nil, err
		}
		warnings = w
		return obj, nil
	}
	ctx, admitted := a.admitUpdate(req, gvk, update, dry)
	out, _, err := view.Update(ctx, req.info.Namespace, req.info.Name, admitted, dry)
	if req.r.URL.Query().Get("fieldValidation") != "Ignore" {
		req.warnings = append(req.warnings, warnings...)
	}
	if err != nil {
		a.fail(req, err)
		return
	}
	a.respond(req, http.StatusOK, out)
}

// patchError maps a failure to apply a patch to upstream's answer: 422 with
// the patch library's message.
func patchError(err error) error {
	if _, ok := err.(apierrors.APIStatus); ok {
		return err
	}
	return apierrors.NewGenericServerResponse(http.StatusUnprocessableEntity, "", schema.GroupResource{}, "", err.Error(), 0, false)
}
