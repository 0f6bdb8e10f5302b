// Package admission is the apiserver's admission chain: plugins that see
// every write after authentication and authorization, may change the object
// (mutating, before validation) and may refuse it (validating, after
// validation and before storage), in upstream's plugin order. Plugins live
// in packages below this one (admission/serviceaccount,
// admission/noderestriction, …); the server builds the chain from
// --enable-admission-plugins and --disable-admission-plugins.
package admission

import (
	"context"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
)

// Operation is the kind of write being admitted.
type Operation string

// Operations, as upstream's admission.Operation.
const (
	Create  Operation = "CREATE"
	Update  Operation = "UPDATE"
	Delete  Operation = "DELETE"
	Connect Operation = "CONNECT"
)

// Attributes describe one write. Object is the incoming object (nil for a
// delete and a connect), OldObject the stored one (nil for a create).
// Resource and Kind name the resource written, Subresource the subresource
// ("status", "binding", "token", "eviction", "exec", …). Options is the
// request's options object (CreateOptions, UpdateOptions, DeleteOptions,
// PodExecOptions, …) when there is one.
type Attributes struct {
	Operation   Operation
	Kind        schema.GroupVersionKind
	Resource    schema.GroupVersionResource
	Subresource string
	Namespace   string
	Name        string
	Object      runtime.Object
	OldObject   runtime.Object
	Options     runtime.Object
	DryRun      bool
	User        *authn.User

	warnings []string
}

// AddWarning records a warning for the client (a Warning header of the
// response, as upstream's warning.AddWarning): PodSecurity's "would
// violate" messages. The same message is recorded once.
func (a *Attributes) AddWarning(msg string) {
	for _, w := range a.warnings {
		if w == msg {
			return
		}
	}
	a.warnings = append(a.warnings, msg)
}

// Warnings returns the warnings plugins recorded, in order.
func (a *Attributes) Warnings() []string { return a.warnings }

// Plugin is one admission plugin. Handles reports whether the plugin wants
// to see writes of op at all; a plugin that also implements Mutator and/or
// Validator is called through those.
type Plugin interface {
	Name() string
	Handles(op Operation) bool
}

// Mutator is a plugin that may change a.Object (defaults the user did not
// set: a pod's service account token volume). Admit runs before the
// resource's validation; an error refuses the write (return an API status
// error: Forbidden, Invalid, …; any other error is a 500).
type Mutator interface {
	Plugin
	Admit(ctx context.Context, a *Attributes) error
}

// Validator is a plugin that may refuse a write, after the object passed
// the resource's validation and just before it is stored. It must not
// change a.Object. For updates it may be called several times when
// writers race (once per attempt against the then stored OldObject).
type Validator interface {
	Plugin
	Validate(ctx context.Context, a *Attributes) error
}

// Chain runs plugins in order: every Mutator's Admit, then (later) every
// Validator's Validate. The zero Chain admits everything.
type Chain []Plugin

// Admit runs the mutating plugins in order; the first error ends it.
func (c Chain) Admit(ctx context.Context, a *Attributes) error {
	for _, p := range c {
		if m, ok := p.(Mutator); ok && p.Handles(a.Operation) {
			if err := m.Admit(ctx, a); err != nil {
				return err
			}
		}
	}
	return nil
}

// Validate runs the validating plugins in order; the first error ends it.
func (c Chain) Validate(ctx context.Context, a *Attributes) error {
	for _, p := range c {
		if v, ok := p.(Validator); ok && p.Handles(a.Operation) {
			if err := v.Validate(ctx, a); err != nil {
				return err
			}
		}
	}
	return nil
}
