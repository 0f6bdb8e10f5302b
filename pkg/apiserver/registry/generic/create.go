package generic

import (
	"context"
	"crypto/rand"
	"math/big"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/storage"
)

// generateNameAttempts bounds retries when a generated name is taken.
const generateNameAttempts = 3

// Create stores a new object. It fills the system metadata (uid,
// creationTimestamp, a generated name), applies the strategy's defaults and
// validation, checks the namespace, runs the validating admission ctx
// carries (registry.WithValidation), and with dryRun returns the object that
// would be stored without storing it.
func (s *Store) Create(ctx context.Context, obj runtime.Object, dryRun bool) (runtime.Object, error) {
	ctx, validate := registry.TakeValidation(ctx)
	m, err := accessor(obj)
	if err != nil {
		return nil, err
	}
	if m.GetResourceVersion() != "" {
		return nil, apierrors.NewBadRequest("resourceVersion should not be set on objects to be created")
	}
	s.fillCreateMeta(m)

	s.Strategy.PrepareForCreate(ctx, obj)
	errs := apivalidation.ValidateObjectMetaAccessor(m, s.Namespaced, s.nameFunc(), field.NewPath("metadata"))
	errs = append(errs, s.Strategy.Validate(ctx, obj)...)
	if len(errs) > 0 {
		return nil, s.invalid(m.GetName(), errs)
	}
	if s.Namespaced && s.Namespaces != nil {
		if err := s.Namespaces.CheckNamespace(ctx, m.GetNamespace()); err != nil {
			return nil, err
		}
	}
	if validate != nil {
		if err := validate(ctx, obj, nil); err != nil {
			return nil, err
		}
	}
	undo := func() {}
	if a, ok := s.Strategy.(registry.Allocator); ok {
		if undo, err = a.Allocate(ctx, obj); err != nil {
			return nil, err
		}
	}
	if dryRun {
		undo()
		return obj, nil
	}

	var ttl uint64
	if s.TTL != nil {
		ttl = s.TTL(obj)
	}
	for attempt := 1; ; attempt++ {
		out := s.NewFunc()
		err = s.Storage.Create(ctx, s.Key(m.GetNamespace(), m.GetName()), obj, out, ttl)
		if err == nil {
			return out, nil
		}
		// A generated name that happens to be taken gets another try, as
		// upstream clients would otherwise see a spurious AlreadyExists.
		if storage.IsExists(err) && m.GetGenerateName() != "" && attempt < generateNameAttempts {
			m.SetName(generateName(m.GetGenerateName()))
			continue
		}
		undo()
		return nil, s.statusError(err, m.GetName())
	}
}

// fillCreateMeta sets the system fields of a new object: they are the
// server's, whatever the client sent.
func (s *Store) fillCreateMeta(m metav1.Object) {
	if !s.Namespaced {
		m.SetNamespace("")
	}
	m.SetUID(types.UID(uuid.NewUUID()))
	m.SetCreationTimestamp(metav1.NewTime(s.Clock.Now()))
	m.SetDeletionTimestamp(nil)
	m.SetDeletionGracePeriodSeconds(nil)
	m.SetSelfLink("")
	if m.GetName() == "" && m.GetGenerateName() != "" {
		m.SetName(generateName(m.GetGenerateName()))
	}
}

// generateName appends five random characters from upstream's alphabet
// (no vowels, no ambiguous characters) to base, truncated as upstream does.
func generateName(base string) string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	const maxNameLength, randomLength = 63, 5
	if len(base) > maxNameLength-randomLength {
		base = base[:maxNameLength-randomLength]
	}
	b := make([]byte, randomLength)
	for i := range b {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			panic(err) // crypto/rand never fails on Linux
		}
		b[i] = alphabet[n.Int64()]
	}
	return base + string(b)
}
