package handlers

import (
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func (a *API) get(req *request, view View) {
	var opts metav1.GetOptions
	if err := a.params.DecodeParameters(req.r.URL.Query(), paramsGV, &opts); err != nil {
		a.fail(req, apierrors.NewBadRequest(err.Error()))
		return
	}
	obj, err := view.Get(req.ctx, req.info.Namespace, req.info.Name, &opts)
	if err != nil {
		a.fail(req, err)
		return
	}
	a.respond(req, http.StatusOK, obj)
}

// listOptions decodes and checks the list and watch query parameters, with
// upstream's validation of resourceVersionMatch combinations (422).
func (a *API) listOptions(req *request) (*metav1.ListOptions, error) {
	var opts metav1.ListOptions
	if err := a.params.DecodeParameters(req.r.URL.Query(), paramsGV, &opts); err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	if opts.ResourceVersionMatch != "" {
		switch {
		case opts.ResourceVersion == "":
			return nil, listInvalid("resourceVersionMatch is forbidden unless resourceVersion is provided")
		case opts.Continue != "":
			return nil, listInvalid("resourceVersionMatch is forbidden when continue is provided")
		case opts.ResourceVersionMatch == metav1.ResourceVersionMatchExact && opts.ResourceVersion == "0":
			return nil, listInvalid("resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"")
		case opts.ResourceVersionMatch != metav1.ResourceVersionMatchExact &&
			opts.ResourceVersionMatch != metav1.ResourceVersionMatchNotOlderThan:
			return nil, listInvalid("resourceVersionMatch must be one of \"Exact\", \"NotOlderThan\"")
		}
	}
	return &opts, nil
}

func listInvalid(msg string) error {
	return apierrors.NewInvalid(schema.GroupKind{Group: "meta.k8s.io", Kind: "ListOptions"}, "",
		field.ErrorList{field.Forbidden(field.NewPath("resourceVersionMatch"), msg)})
}

func (a *API) list(req *request) {
	opts, err := a.listOptions(req)
	if err != nil {
		a.fail(req, err)
		return
	}
	list, err := req.res.Store.List(req.ctx, req.info.Namespace, opts)
	if err != nil {
		a.fail(req, err)
		return
	}
	a.respond(req, http.StatusOK, list)
}
