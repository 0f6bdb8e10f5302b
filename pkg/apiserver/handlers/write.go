package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// decodeObject reads the request body into a new object of gvk made by
// newObj, honouring fieldValidation (Strict: unknown fields are a 400;
// otherwise warnings).
func (a *API) decodeObject(req *request, newObj func() runtime.Object, gvk schema.GroupVersionKind) (runtime.Object, error) {
	body, err := readBody(req.r)
	if err != nil {
		return nil, err
	}
	if len(body) == 0 {
		return nil, apierrors.NewBadRequest("the request body is empty")
	}
	strict, err := fieldValidation(req.r)
	if err != nil {
		return nil, err
	}
	obj := newObj()
	warnings, err := a.decoder.decodeBody(body, bodyMediaType(req.r), strict, obj, gvk)
	if err != nil {
		return nil, err
	}
	if req.r.URL.Query().Get("fieldValidation") != "Ignore" {
		req.warnings = append(req.warnings, warnings...)
	}
	return obj, nil
}

func (a *API) create(req *request) {
	dry, err := dryRun(req.r)
	if err != nil {
		a.fail(req, err)
		return
	}
	obj, err := a.decodeObject(req, req.res.Store.New, req.res.GVK)
	if err != nil {
		a.fail(req, err)
		return
	}
	if req.res.Namespaced {
		if err := matchNamespace(obj, req.info.Namespace); err != nil {
			a.fail(req, err)
			return
		}
	}
	ctx, err := a.admitCreate(req, req.res.GVK, obj, dry)
	if err != nil {
		a.fail(req, err)
		return
	}
	out, err := req.res.Store.Create(ctx, obj, dry)
	if err != nil {
		a.fail(req, err)
		return
	}
	a.respond(req, http.StatusCreated, out)
}

// matchNamespace fills an object's empty namespace from the URL and rejects
// a different one, as upstream.
func matchNamespace(obj runtime.Object, ns string) error {
	m, err := meta.Accessor(obj)
	if err != nil {
		return apierrors.NewBadRequest(err.Error())
	}
	switch m.GetNamespace() {
	case "":
		m.SetNamespace(ns)
	case ns:
	default:
		return apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
	}
	return nil
}

func (a *API) update(req *request, view View, gvk schema.GroupVersionKind) {
	dry, err := dryRun(req.r)
	if err != nil {
		a.fail(req, err)
		return
	}
	obj, err := a.decodeObject(req, view.New, gvk)
	if err != nil {
		a.fail(req, err)
		return
	}
	if req.res.Namespaced {
		if err := matchNamespace(obj, req.info.Namespace); err != nil {
			a.fail(req, err)
			return
		}
	}
	ctx, update := a.admitUpdate(req, gvk,
		func(context.Context, runtime.Object) (runtime.Object, error) { return obj.DeepCopyObject(), nil }, dry)
	out, created, err := view.Update(ctx, req.info.Namespace, req.info.Name, update, dry)
	if err != nil {
		a.fail(req, err)
		return
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	a.respond(req, code, out)
}

func (a *API) createSub(req *request, sub *Subresource) {
	dry, err := dryRun(req.r)
	if err != nil {
		a.fail(req, err)
		return
	}
	obj, err := a.decodeObject(req, sub.Creater.New, sub.Kind)
	if err != nil {
		a.fail(req, err)
		return
	}
	if err := matchNamespace(obj, req.info.Namespace); err != nil {
		a.fail(req, err)
		return
	}
	if err := a.admitSubCreate(req, sub.Kind, obj, dry); err != nil {
		a.fail(req, err)
		return
	}
	out, err := sub.Creater.Create(req.ctx, req.info.Namespace, req.info.Name, obj, dry)
	if err != nil {
		a.fail(req, err)
		return
	}
	if err := a.setKind(out); err != nil {
		a.fail(req, err)
		return
	}
	a.setWarnings(req)
	writeJSON(req.w, http.StatusCreated, "", out)
}

// deleteOptions reads DeleteOptions from the body when there is one, else
// from the query (gracePeriodSeconds, propagationPolicy, orphanDependents,
// dryRun), as upstream: with a body, the query's other parameters (kubectl's
// ?timeout=20s) must not reset what the body says.
func (a *API) deleteOptions(req *request) (*metav1.DeleteOptions, bool, error) {
	opts := &metav1.DeleteOptions{}
	body, err := readBody(req.r)
	if err != nil {
		return nil, false, err
	}
	if len(body) > 0 {
		if err := a.decodeDeleteOptions(body, bodyMediaType(req.r), opts); err != nil {
			return nil, false, err
		}
	} else if err := a.params.DecodeParameters(req.r.URL.Query(), paramsGV, opts); err != nil {
		return nil, false, apierrors.NewBadRequest(err.Error())
	}
	if opts.OrphanDependents != nil && opts.PropagationPolicy == nil {
		policy := metav1.DeletePropagationBackground
		if *opts.OrphanDependents {
			policy = metav1.DeletePropagationOrphan
		}
		opts.PropagationPolicy = &policy
	}
	if p := opts.PropagationPolicy; p != nil && *p != metav1.DeletePropagationOrphan &&
		*p != metav1.DeletePropagationBackground && *p != metav1.DeletePropagationForeground {
		return nil, false, apierrors.NewBadRequest(fmt.Sprintf("propagationPolicy %q is not one of Orphan, Background, Foreground", *p))
	}
	if g := opts.GracePeriodSeconds; g != nil && *g < 0 {
		zero := int64(0)
		opts.GracePeriodSeconds = &zero
	}
	dry := false
	for _, v := range opts.DryRun {
		if v != metav1.DryRunAll {
			return nil, false, apierrors.NewBadRequest("Invalid dry run value: " + v)
		}
		dry = true
	}
	return opts, dry, nil
}

// decodeDeleteOptions reads a DeleteOptions body. Clients label it with the
// group-version they talk to ("v1" from client-go's typed and dynamic
// clients, "apps/v1", "meta.k8s.io/v1") or not at all, and upstream accepts
// each, so only the kind is checked.
func (a *API) decodeDeleteOptions(body []byte, mt string, opts *metav1.DeleteOptions) error {
	switch mt {
	case mediaProtobuf:
		// Any group-version: client-go's typed clients send the one of the
		// resource (discovery.k8s.io/v1 for an EndpointSlice).
		_, err := a.decoder.decodeBody(body, mt, false, opts, schema.GroupVersionKind{Kind: "DeleteOptions"})
		opts.TypeMeta = metav1.TypeMeta{}
		return err
	case mediaYAML:
		j, err := yaml.YAMLToJSON(body)
		if err != nil {
			return apierrors.NewBadRequest(decodeErrorMessage(err))
		}
		body = j
	case mediaJSON:
	default:
		return unsupportedMediaType(mt)
	}
	var tm metav1.TypeMeta
	if err := json.Unmarshal(body, &tm); err != nil {
		return apierrors.NewBadRequest(decodeErrorMessage(err))
	}
	if tm.Kind != "" && tm.Kind != "DeleteOptions" {
		return apierrors.NewBadRequest(fmt.Sprintf("the body is a %s, not a DeleteOptions", tm.Kind))
	}
	if err := json.Unmarshal(body, opts); err != nil {
		return apierrors.NewBadRequest(decodeErrorMessage(err))
	}
	opts.TypeMeta = metav1.TypeMeta{}
	return nil
}

func (a *API) delete(req *request) {
	opts, dry, err := a.deleteOptions(req)
	if err != nil {
		a.fail(req, err)
		return
	}
	obj, deleted, err := req.res.Store.Delete(a.admitDelete(req, opts, dry), req.info.Namespace, req.info.Name, opts, dry)
	if err != nil {
		a.fail(req, err)
		return
	}
	if deleted && !req.res.ReturnDeletedObject {
		writeJSON(req.w, http.StatusOK, "", successStatus(req.res, obj))
		return
	}
	code := http.StatusOK
	if !deleted {
		code = http.StatusAccepted
	}
	a.respond(req, code, obj)
}

func (a *API) deleteCollection(req *request) {
	opts, dry, err := a.deleteOptions(req)
	if err != nil {
		a.fail(req, err)
		return
	}
	listOpts, err := a.listOptions(req)
	if err != nil {
		a.fail(req, err)
		return
	}
	list, err := req.res.Store.DeleteCollection(a.admitDelete(req, opts, dry), req.info.Namespace, opts, listOpts, dry)
	if err != nil {
		a.fail(req, err)
		return
	}
	a.respond(req, http.StatusOK, list)
}
