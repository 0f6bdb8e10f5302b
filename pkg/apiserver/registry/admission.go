package registry

import (
	"context"

	"k8s.io/apimachinery/pkg/runtime"
)

// ValidateFunc is the validating admission of one write: the store calls it
// after the strategy's validation and just before storing, with the object
// to store (nil for a delete) and the stored one (nil for a create). For an
// update it runs once per attempt, against the then stored object. An error
// refuses the write and reaches the client as it is (an API status error).
type ValidateFunc func(ctx context.Context, obj, old runtime.Object) error

type validateKey struct{}

// WithValidation returns ctx carrying the validating admission of the write
// a request makes through Store.Create, Store.Update or Store.Delete (the
// handlers set it; a nil fn carries none). The store takes it out with
// TakeValidation, so the writes a store makes on its own behalf (a
// namespace's finalize, a pod's eviction) are not admitted with it.
func WithValidation(ctx context.Context, fn ValidateFunc) context.Context {
	return context.WithValue(ctx, validateKey{}, fn)
}

// TakeValidation returns the validation ctx carries (nil when none) and a
// context that no longer carries it, for the store's own nested calls.
func TakeValidation(ctx context.Context) (context.Context, ValidateFunc) {
	fn, _ := ctx.Value(validateKey{}).(ValidateFunc)
	if fn == nil {
		return ctx, nil
	}
	return context.WithValue(ctx, validateKey{}, ValidateFunc(nil)), fn
}
