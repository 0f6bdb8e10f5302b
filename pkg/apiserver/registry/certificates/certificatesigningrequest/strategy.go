package certificatesigningrequest

import (
	"context"

	certificatesv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/apiserver/filters"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regutil"
)

type csr = certificatesv1.CertificateSigningRequest

type strategy struct{}

// NewStrategy returns the strategy for writes to certificatesigningrequests
// themselves: on create the requesting user (from the request's context)
// replaces whatever spec.username, uid, groups and extra said, and status
// is cleared; updates change metadata only.
func NewStrategy() registry.Strategy { return strategy{} }

// PrepareForCreate records the requesting user in spec and clears status.
// A context without an authenticated user leaves the user fields empty.
func (strategy) PrepareForCreate(ctx context.Context, obj runtime.Object) {
	c := regutil.Cast[*csr](obj)
	c.Spec.Username, c.Spec.UID, c.Spec.Groups, c.Spec.Extra = "", "", nil, nil
	if u, ok := filters.UserFrom(ctx); ok {
		c.Spec.Username, c.Spec.UID = u.Name, u.UID
		c.Spec.Groups = append([]string(nil), u.Groups...)
	}
	c.Status = certificatesv1.CertificateSigningRequestStatus{}
}

// Validate checks a new request.
func (strategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	c := regutil.Cast[*csr](obj)
	return validate(c, optionsFor(c, nil))
}

// PrepareForUpdate keeps the stored spec and status.
func (strategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	c, o := regutil.Cast[*csr](obj), regutil.Cast[*csr](old)
	c.Spec, c.Status = o.Spec, o.Status
}

// ValidateUpdate checks the request as stored.
func (strategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	c, o := regutil.Cast[*csr](obj), regutil.Cast[*csr](old)
	return validateUpdate(c, o, optionsFor(c, o))
}

// statusStrategy serves both /status and /approval, which upstream gives
// strategies of their own: a context marked by withApproval (only the
// approval subresource's view marks it) selects the approval rules.
type statusStrategy struct{ clock clock.PassiveClock }

// NewStatusStrategy returns the strategy of certificatesigningrequests/status
// and /approval; clk stamps conditions written without times.
//
// /status keeps the spec and the Approved and Denied conditions as stored
// and may set status.certificate once; /approval keeps everything but the
// conditions and may add Approved or Denied.
func NewStatusStrategy(clk clock.PassiveClock) registry.Strategy { return statusStrategy{clock: clk} }

type approvalKey struct{}

// withApproval marks ctx as an update through /approval.
func withApproval(ctx context.Context) context.Context {
	return context.WithValue(ctx, approvalKey{}, true)
}

func isApproval(ctx context.Context) bool {
	v, _ := ctx.Value(approvalKey{}).(bool)
	return v
}

// PrepareForCreate is never called: subresources do not create.
func (statusStrategy) PrepareForCreate(context.Context, runtime.Object) {}

// Validate is never called: subresources do not create.
func (statusStrategy) Validate(context.Context, runtime.Object) field.ErrorList { return nil }

// PrepareForUpdate applies the rules of /approval or /status.
func (s statusStrategy) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	c, o := regutil.Cast[*csr](obj), regutil.Cast[*csr](old)
	now := metav1.NewTime(s.clock.Now())
	if isApproval(ctx) {
		stampConditions(c, o, now)
		conditions := c.Status.Conditions
		c.Spec, c.Status = o.Spec, o.Status
		c.Status.Conditions = conditions
		return
	}
	c.Spec = o.Spec
	keepConditions(c, o, certificatesv1.CertificateApproved)
	keepConditions(c, o, certificatesv1.CertificateDenied)
	stampConditions(c, o, now)
}

// ValidateUpdate checks what the subresource may change.
func (statusStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	c, o := regutil.Cast[*csr](obj), regutil.Cast[*csr](old)
	opts := optionsFor(c, o)
	if isApproval(ctx) {
		opts.settingApproval = true
	} else {
		opts.settingCertificate = true
	}
	return validateUpdate(c, o, opts)
}

// keepConditions puts back the stored conditions of type t when the update
// has as many of them (their number changing is for validation to refuse).
func keepConditions(c, old *csr, t certificatesv1.RequestConditionType) {
	oldIdx, newIdx := conditionIndexes(old, t), conditionIndexes(c, t)
	if len(oldIdx) != len(newIdx) {
		return
	}
	for i, j := range oldIdx {
		c.Status.Conditions[newIdx[i]] = old.Status.Conditions[j]
	}
}

func conditionIndexes(c *csr, t certificatesv1.RequestConditionType) []int {
	var out []int
	for i := range c.Status.Conditions {
		if c.Status.Conditions[i].Type == t {
			out = append(out, i)
		}
	}
	return out
}

// stampConditions sets lastUpdateTime to now where unset, and an unset
// lastTransitionTime to that of a stored condition of the same type and
// status, or to now.
func stampConditions(c, old *csr, now metav1.Time) {
	for i := range c.Status.Conditions {
		cond := &c.Status.Conditions[i]
		if cond.LastUpdateTime.IsZero() {
			cond.LastUpdateTime = now
		}
		if !cond.LastTransitionTime.IsZero() {
			continue
		}
		cond.LastTransitionTime = now
		for _, oc := range old.Status.Conditions {
			if oc.Type == cond.Type && oc.Status == cond.Status && !oc.LastTransitionTime.IsZero() {
				cond.LastTransitionTime = oc.LastTransitionTime
				break
			}
		}
	}
}

// GetAttrs returns a request's labels and fields metadata.name and
// spec.signerName.
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	c, err := regutil.AttrsOf[*csr](obj)
	if err != nil {
		return nil, nil, err
	}
	return labels.Set(c.Labels), regutil.MetaFields(&c.ObjectMeta, false, fields.Set{"spec.signerName": c.Spec.SignerName}), nil
}

var _ registry.AttrFunc = GetAttrs
