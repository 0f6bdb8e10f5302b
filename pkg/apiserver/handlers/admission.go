package handlers

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kinc-dev/kinc/pkg/apiserver/admission"
	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// SetAdmission installs the admission chain every write goes through, in
// upstream's order: decode, mutating admission (chain.Admit), the
// resource's defaults and validation (in the store), validating admission
// (chain.Validate, inside the store's write, against the then stored
// object), storage. Call it before serving; the zero chain admits
// everything.
func (a *API) SetAdmission(chain admission.Chain) { a.admission = chain }

// attributes describes req's write of obj (old: the stored object) to the
// admission chain. The name is the URL's, else obj's (a create).
func (a *API) attributes(req *request, op admission.Operation, gvk schema.GroupVersionKind, obj, old, opts runtime.Object, dry bool) *admission.Attributes {
	at := &admission.Attributes{
		Operation:   op,
		Kind:        gvk,
		Resource:    schema.GroupVersionResource{Group: req.info.APIGroup, Version: req.info.APIVersion, Resource: req.info.Resource},
		Subresource: req.info.Subresource,
		Namespace:   req.info.Namespace,
		Name:        req.info.Name,
		Object:      obj,
		OldObject:   old,
		Options:     opts,
		DryRun:      dry,
	}
	if u, ok := authn.UserFrom(req.ctx); ok {
		at.User = u
	}
	if at.Name == "" {
		for _, o := range []runtime.Object{obj, old} {
			if m, err := meta.Accessor(o); o != nil && err == nil {
				at.Name = m.GetName()
				break
			}
		}
	}
	return at
}

// admit runs the mutating admission of at and keeps its warnings.
func (a *API) admit(req *request, at *admission.Attributes) error {
	err := a.admission.Admit(req.ctx, at)
	addWarnings(req, at.Warnings())
	return err
}

// validate runs the validating admission of at and keeps its warnings
// (once each: a retried update validates again).
func (a *API) validate(ctx context.Context, req *request, at *admission.Attributes) error {
	err := a.admission.Validate(ctx, at)
	addWarnings(req, at.Warnings())
	return err
}

func addWarnings(req *request, warnings []string) {
	for _, w := range warnings {
		if !slices.Contains(req.warnings, w) {
			req.warnings = append(req.warnings, w)
		}
	}
}

// admitCreate runs the mutating admission of a create of obj, which it may
// change, and returns the context carrying the validating admission the
// store runs before storing.
func (a *API) admitCreate(req *request, gvk schema.GroupVersionKind, obj runtime.Object, dry bool) (context.Context, error) {
	if len(a.admission) == 0 {
		return req.ctx, nil
	}
	opts := &metav1.CreateOptions{}
	if dry {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	if err := a.admit(req, a.attributes(req, admission.Create, gvk, obj, nil, opts, dry)); err != nil {
		return nil, err
	}
	return registry.WithValidation(req.ctx, func(ctx context.Context, obj, _ runtime.Object) error {
		return a.validate(ctx, req, a.attributes(req, admission.Create, gvk, obj, nil, opts, dry))
	}), nil
}

// admitUpdate wraps update, which computes the new object from the stored
// one, with the mutating admission of the result (an update, or a create
// when the store creates on update), and returns the context carrying the
// validating admission the store runs on every attempt.
func (a *API) admitUpdate(req *request, gvk schema.GroupVersionKind, update registry.UpdateFunc, dry bool) (context.Context, registry.UpdateFunc) {
	if len(a.admission) == 0 {
		return req.ctx, update
	}
	opts := &metav1.UpdateOptions{}
	if dry {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	op := func(old runtime.Object) admission.Operation {
		if old == nil {
			return admission.Create
		}
		return admission.Update
	}
	admitted := func(ctx context.Context, old runtime.Object) (runtime.Object, error) {
		obj, err := update(ctx, old)
		if err != nil {
			return nil, err
		}
		// old is already the store's copy for this attempt.
		if err := a.admit(req, a.attributes(req, op(old), gvk, obj, old, opts, dry)); err != nil {
			return nil, err
		}
		return obj, nil
	}
	ctx := registry.WithValidation(req.ctx, func(ctx context.Context, obj, old runtime.Object) error {
		return a.validate(ctx, req, a.attributes(req, op(old), gvk, obj, old, opts, dry))
	})
	return ctx, admitted
}

// admitDelete returns the context carrying the validating admission of a
// delete the store runs on the stored object; a delete of a collection
// admits each object under its own name.
func (a *API) admitDelete(req *request, opts *metav1.DeleteOptions, dry bool) context.Context {
	if len(a.admission) == 0 {
		return req.ctx
	}
	return registry.WithValidation(req.ctx, func(ctx context.Context, _, old runtime.Object) error {
		at := a.attributes(req, admission.Delete, req.res.GVK, nil, old, opts, dry)
		if m, err := meta.Accessor(old); err == nil {
			at.Name = m.GetName()
		}
		return a.validate(ctx, req, at)
	})
}

// admitSubCreate runs the whole admission of a create at a subresource
// (pods/binding, pods/eviction, serviceaccounts/token): the subresource's
// own Create runs no admission, as upstream's createValidation is run
// first thing by those.
func (a *API) admitSubCreate(req *request, gvk schema.GroupVersionKind, obj runtime.Object, dry bool) error {
	if len(a.admission) == 0 {
		return nil
	}
	opts := &metav1.CreateOptions{}
	if dry {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	at := a.attributes(req, admission.Create, gvk, obj, nil, opts, dry)
	if err := a.admit(req, at); err != nil {
		return err
	}
	return a.validate(req.ctx, req, at)
}

// connectOptions are the options of the connect subresources, which
// upstream admits with operation CONNECT, read from the query as upstream's
// conversions do (a boolean is false when absent, "0" or "false"); the
// connecter itself answers malformed values.
var connectOptions = map[string]struct {
	kind  string
	parse func(q url.Values, subPath string) runtime.Object
}{
	"pods/exec": {"PodExecOptions", func(q url.Values, _ string) runtime.Object {
		return &corev1.PodExecOptions{Stdin: queryBool(q, "stdin"), Stdout: queryBool(q, "stdout"), Stderr: queryBool(q, "stderr"),
			TTY: queryBool(q, "tty"), Container: q.Get("container"), Command: q["command"]}
	}},
	"pods/attach": {"PodAttachOptions", func(q url.Values, _ string) runtime.Object {
		return &corev1.PodAttachOptions{Stdin: queryBool(q, "stdin"), Stdout: queryBool(q, "stdout"), Stderr: queryBool(q, "stderr"),
			TTY: queryBool(q, "tty"), Container: q.Get("container")}
	}},
	"pods/portforward": {"PodPortForwardOptions", func(q url.Values, _ string) runtime.Object {
		opts := &corev1.PodPortForwardOptions{}
		for _, v := range q["ports"] {
			for _, p := range strings.Split(v, ",") {
				if n, err := strconv.ParseUint(p, 10, 16); err == nil {
					opts.Ports = append(opts.Ports, int32(n))
				}
			}
		}
		return opts
	}},
	"pods/proxy":     {"PodProxyOptions", func(_ url.Values, p string) runtime.Object { return &corev1.PodProxyOptions{Path: p} }},
	"services/proxy": {"ServiceProxyOptions", func(_ url.Values, p string) runtime.Object { return &corev1.ServiceProxyOptions{Path: p} }},
	"nodes/proxy":    {"NodeProxyOptions", func(_ url.Values, p string) runtime.Object { return &corev1.NodeProxyOptions{Path: p} }},
}

func queryBool(q url.Values, key string) bool {
	vs := q[key]
	return len(vs) > 0 && vs[0] != "0" && !strings.EqualFold(vs[0], "false")
}

// admitConnect runs the admission of a connect request (exec, attach,
// portforward, proxy) with its options; other connecters (pods/log, a
// read) are not admitted.
func (a *API) admitConnect(req *request) error {
	c, ok := connectOptions[req.info.Resource+"/"+req.info.Subresource]
	if !ok || req.info.APIGroup != "" || len(a.admission) == 0 {
		return nil
	}
	opts := c.parse(req.r.URL.Query(), req.info.SubPath)
	at := a.attributes(req, admission.Connect, corev1.SchemeGroupVersion.WithKind(c.kind), nil, nil, opts, false)
	if err := a.admit(req, at); err != nil {
		return err
	}
	return a.validate(req.ctx, req, at)
}
