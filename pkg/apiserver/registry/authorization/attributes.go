package authorization

import (
	"errors"
	"fmt"
	"strings"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
	"github.com/kinc-dev/kinc/pkg/apiserver/authz"
)

// Question is what a review asks the authorizer: the attributes, and what
// of the spec could not be put in them (selectors that do not parse), which
// the answer's evaluationError reports as upstream.
type Question struct {
	Attributes authz.Attributes
	// Ignored are the notes on selectors left out of Attributes, in
	// upstream's words ("spec.resourceAttributes.fieldSelector ignored due
	// to parse error").
	Ignored []string
}

// SubjectUser returns the user a SubjectAccessReview's spec names.
func SubjectUser(spec *authorizationv1.SubjectAccessReviewSpec) *authn.User {
	u := &authn.User{Name: spec.User, UID: spec.UID, Groups: spec.Groups}
	if spec.Extra != nil {
		u.Extra = make(map[string][]string, len(spec.Extra))
		for k, v := range spec.Extra {
			u.Extra[k] = []string(v)
		}
	}
	return u
}

// Ask returns the question of a review for user: exactly one of ra and nra
// is set (validation has checked it).
func Ask(user *authn.User, ra *authorizationv1.ResourceAttributes, nra *authorizationv1.NonResourceAttributes) Question {
	if ra == nil {
		return Question{Attributes: authz.Attributes{User: user, Verb: nra.Verb, Path: nra.Path}}
	}
	q := Question{Attributes: authz.Attributes{User: user, Verb: ra.Verb, IsResourceRequest: true,
		APIGroup: ra.Group, Namespace: ra.Namespace, Resource: ra.Resource, Subresource: ra.Subresource, Name: ra.Name}}
	if s := ra.FieldSelector; s != nil {
		sel, partial, err := fieldSelector(s)
		if sel != nil {
			q.Attributes.FieldSelector = sel.String()
		}
		if err != nil {
			q.Ignored = append(q.Ignored, ignored("fieldSelector", partial))
		}
	}
	if s := ra.LabelSelector; s != nil {
		// kinc's authorizers do not look at label selectors; only whether
		// one parses is reported, as upstream.
		if partial, err := labelSelector(s); err != nil {
			q.Ignored = append(q.Ignored, ignored("labelSelector", partial))
		}
	}
	return q
}

func ignored(selector string, partial bool) string {
	if partial {
		return "spec.resourceAttributes." + selector + " partially ignored due to parse error"
	}
	return "spec.resourceAttributes." + selector + " ignored due to parse error"
}

// fieldSelector returns the selector s describes, as upstream turns it into
// requirements: a raw selector parsed, or In/NotIn requirements of one value
// as = and !=. An error means part of it (all of it unless partial) was
// left out of the result.
func fieldSelector(s *authorizationv1.FieldSelectorAttributes) (sel fields.Selector, partial bool, err error) {
	if s.RawSelector != "" && len(s.Requirements) == 0 {
		sel, err := fields.ParseSelector(s.RawSelector)
		if err != nil {
			return nil, false, err
		}
		return sel, false, nil
	}
	var terms []fields.Selector
	var errs []error
	for _, r := range s.Requirements {
		switch {
		case len(r.Values) > 1:
			errs = append(errs, errors.New("fieldSelectors do not yet support multiple values"))
		case r.Operator == metav1.FieldSelectorOpIn && len(r.Values) == 1:
			terms = append(terms, fields.OneTermEqualSelector(r.Key, r.Values[0]))
		case r.Operator == metav1.FieldSelectorOpNotIn && len(r.Values) == 1:
			terms = append(terms, fields.OneTermNotEqualSelector(r.Key, r.Values[0]))
		default:
			errs = append(errs, fmt.Errorf("field selector operator %q with %d values is not supported", r.Operator, len(r.Values)))
		}
	}
	if len(terms) > 0 {
		sel = fields.AndSelectors(terms...)
	}
	return sel, len(terms) > 0, errors.Join(errs...)
}

// labelSelector reports whether s parses: an error means part of it (all
// of it unless partial) would be ignored.
func labelSelector(s *authorizationv1.LabelSelectorAttributes) (partial bool, err error) {
	if s.RawSelector != "" && len(s.Requirements) == 0 {
		_, err := labels.Parse(s.RawSelector)
		return false, err
	}
	var errs []error
	n := 0
	for _, r := range s.Requirements {
		if _, err := metav1.LabelSelectorAsSelector(&metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{r}}); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n > 0, errors.Join(errs...)
}

// joinErrors joins the evaluation error and the notes on ignored selectors
// with "; ", as upstream's evaluationError.
func joinErrors(err error, notes []string) string {
	var parts []string
	if err != nil {
		parts = append(parts, err.Error())
	}
	return strings.Join(append(parts, notes...), "; ")
}
