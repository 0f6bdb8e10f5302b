package authorization

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
	"github.com/kinc-dev/kinc/pkg/apiserver/authz"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

func TestValidateSubjectAccessReviewSpec(t *testing.T) {
	ra := &authorizationv1.ResourceAttributes{Verb: "get", Resource: "pods"}
	nra := &authorizationv1.NonResourceAttributes{Verb: "get", Path: "/healthz"}
	tests := []struct {
		name string
		spec authorizationv1.SubjectAccessReviewSpec
		want []string // substrings of the errors, in order
	}{
		{"resource", authorizationv1.SubjectAccessReviewSpec{User: "u", ResourceAttributes: ra}, nil},
		{"non-resource by group", authorizationv1.SubjectAccessReviewSpec{Groups: []string{"g"}, NonResourceAttributes: nra}, nil},
		{"neither", authorizationv1.SubjectAccessReviewSpec{User: "u"},
			[]string{"spec: Invalid value: null: exactly one of nonResourceAttributes or resourceAttributes must be specified"}},
		{"both", authorizationv1.SubjectAccessReviewSpec{User: "u", ResourceAttributes: ra, NonResourceAttributes: nra},
			[]string{"exactly one of nonResourceAttributes or resourceAttributes must be specified"}},
		{"no user or group", authorizationv1.SubjectAccessReviewSpec{ResourceAttributes: ra},
			[]string{`spec.user: Invalid value: "": at least one of user or group must be specified`}},
		{"raw and requirements", authorizationv1.SubjectAccessReviewSpec{User: "u", ResourceAttributes: &authorizationv1.ResourceAttributes{
			FieldSelector: &authorizationv1.FieldSelectorAttributes{RawSelector: "a=b",
				Requirements: []metav1.FieldSelectorRequirement{{Key: "a", Operator: metav1.FieldSelectorOpIn, Values: []string{"b"}}}}}},
			[]string{"spec.resourceAttributes.fieldSelector.rawSelector: Invalid value: \"a=b\": may not specified at the same time as requirements"}},
		{"empty label selector", authorizationv1.SubjectAccessReviewSpec{User: "u", ResourceAttributes: &authorizationv1.ResourceAttributes{
			LabelSelector: &authorizationv1.LabelSelectorAttributes{}}},
			[]string{"spec.resourceAttributes.labelSelector.requirements: Required value: when spec.resourceAttributes.labelSelector is specified, requirements or rawSelector is required"}},
		{"bad requirement", authorizationv1.SubjectAccessReviewSpec{User: "u", ResourceAttributes: &authorizationv1.ResourceAttributes{
			LabelSelector: &authorizationv1.LabelSelectorAttributes{Requirements: []metav1.LabelSelectorRequirement{{Key: "a", Operator: metav1.LabelSelectorOpIn}}}}},
			[]string{"spec.resourceAttributes.labelSelector.requirements[0].values"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErrors(t, ValidateSubjectAccessReviewSpec(&tt.spec, field.NewPath("spec")), tt.want)
		})
	}
}

func TestValidateSelfSubjectAccessReviewSpec(t *testing.T) {
	checkErrors(t, ValidateSelfSubjectAccessReviewSpec(&authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "get"}}, field.NewPath("spec")), nil)
	checkErrors(t, ValidateSelfSubjectAccessReviewSpec(&authorizationv1.SelfSubjectAccessReviewSpec{}, field.NewPath("spec")),
		[]string{"exactly one of nonResourceAttributes or resourceAttributes must be specified"})
}

func TestValidateEmptyMeta(t *testing.T) {
	managed := metav1.ObjectMeta{ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}}
	checkErrors(t, ValidateEmptyMeta(&managed, false), nil)
	checkErrors(t, ValidateEmptyMeta(&metav1.ObjectMeta{Name: "x"}, false), []string{`metadata: Invalid value: {"name":"x"}: must be empty`})
	checkErrors(t, ValidateEmptyMeta(&metav1.ObjectMeta{Namespace: "ns"}, false), []string{"must be empty"})
	checkErrors(t, ValidateEmptyMeta(&metav1.ObjectMeta{Namespace: "ns"}, true), nil)
	checkErrors(t, ValidateEmptyMeta(&metav1.ObjectMeta{Namespace: "ns", Labels: map[string]string{"a": "b"}}, true),
		[]string{"must be empty except for namespace"})
}

func checkErrors(t *testing.T, errs field.ErrorList, want []string) {
	t.Helper()
	if len(errs) != len(want) {
		t.Fatalf("errors %v, want %d: %q", errs, len(want), want)
	}
	for i, w := range want {
		if !strings.Contains(errs[i].Error(), w) {
			t.Errorf("error %d: %q does not contain %q", i, errs[i].Error(), w)
		}
	}
}

func TestAsk(t *testing.T) {
	u := &authn.User{Name: "u"}
	q := Ask(u, &authorizationv1.ResourceAttributes{Namespace: "ns", Verb: "list", Group: "apps", Version: "v1",
		Resource: "deployments", Subresource: "scale", Name: "d"}, nil)
	want := authz.Attributes{User: u, Verb: "list", IsResourceRequest: true, APIGroup: "apps", Namespace: "ns",
		Resource: "deployments", Subresource: "scale", Name: "d"}
	if q.Attributes != want || len(q.Ignored) != 0 {
		t.Errorf("resource: %+v, want %+v", q, want)
	}
	q = Ask(u, nil, &authorizationv1.NonResourceAttributes{Verb: "get", Path: "/metrics"})
	if want := (authz.Attributes{User: u, Verb: "get", Path: "/metrics"}); q.Attributes != want {
		t.Errorf("non-resource: %+v, want %+v", q.Attributes, want)
	}

	field := func(s *authorizationv1.FieldSelectorAttributes) Question {
		return Ask(u, &authorizationv1.ResourceAttributes{Verb: "list", Resource: "pods", FieldSelector: s}, nil)
	}
	req := func(op metav1.FieldSelectorOperator, values ...string) metav1.FieldSelectorRequirement {
		return metav1.FieldSelectorRequirement{Key: "spec.nodeName", Operator: op, Values: values}
	}
	selTests := []struct {
		name        string
		q           Question
		sel, ignore string
	}{
		{"raw", field(&authorizationv1.FieldSelectorAttributes{RawSelector: "spec.nodeName=n1"}), "spec.nodeName=n1", ""},
		{"bad raw", field(&authorizationv1.FieldSelectorAttributes{RawSelector: "spec.nodeName"}), "",
			"spec.resourceAttributes.fieldSelector ignored due to parse error"},
		{"in", field(&authorizationv1.FieldSelectorAttributes{Requirements: []metav1.FieldSelectorRequirement{req(metav1.FieldSelectorOpIn, "n1")}}),
			"spec.nodeName=n1", ""},
		{"not in", field(&authorizationv1.FieldSelectorAttributes{Requirements: []metav1.FieldSelectorRequirement{req(metav1.FieldSelectorOpNotIn, "n1")}}),
			"spec.nodeName!=n1", ""},
		{"partly unsupported", field(&authorizationv1.FieldSelectorAttributes{Requirements: []metav1.FieldSelectorRequirement{
			req(metav1.FieldSelectorOpIn, "n1"), req(metav1.FieldSelectorOpIn, "n1", "n2")}}),
			"spec.nodeName=n1", "spec.resourceAttributes.fieldSelector partially ignored due to parse error"},
		{"exists is unsupported", field(&authorizationv1.FieldSelectorAttributes{Requirements: []metav1.FieldSelectorRequirement{req(metav1.FieldSelectorOpExists)}}),
			"", "spec.resourceAttributes.fieldSelector ignored due to parse error"},
		{"bad label selector", Ask(u, &authorizationv1.ResourceAttributes{Verb: "list",
			LabelSelector: &authorizationv1.LabelSelectorAttributes{RawSelector: "a in"}}, nil),
			"", "spec.resourceAttributes.labelSelector ignored due to parse error"},
		{"label selector", Ask(u, &authorizationv1.ResourceAttributes{Verb: "list",
			LabelSelector: &authorizationv1.LabelSelectorAttributes{Requirements: []metav1.LabelSelectorRequirement{
				{Key: "a", Operator: metav1.LabelSelectorOpExists}, {Key: "b", Operator: "Bogus"}}}}, nil),
			"", "spec.resourceAttributes.labelSelector partially ignored due to parse error"},
	}
	for _, tt := range selTests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.q.Attributes.FieldSelector != tt.sel {
				t.Errorf("field selector %q, want %q", tt.q.Attributes.FieldSelector, tt.sel)
			}
			if got := strings.Join(tt.q.Ignored, "; "); got != tt.ignore {
				t.Errorf("ignored %q, want %q", got, tt.ignore)
			}
		})
	}
}

func TestSubjectUser(t *testing.T) {
	u := SubjectUser(&authorizationv1.SubjectAccessReviewSpec{User: "u", UID: "1", Groups: []string{"g"},
		Extra: map[string]authorizationv1.ExtraValue{"k": {"v"}}})
	if u.Name != "u" || u.UID != "1" || len(u.Groups) != 1 || u.Extra["k"][0] != "v" {
		t.Errorf("user %+v", u)
	}
}

// fakeAuthorizer answers every question the same and records the last.
type fakeAuthorizer struct {
	d      authz.Decision
	reason string
	err    error
	last   authz.Attributes
}

func (f *fakeAuthorizer) Authorize(_ context.Context, a authz.Attributes) (authz.Decision, string, error) {
	f.last = a
	return f.d, f.reason, f.err
}

func TestAnswer(t *testing.T) {
	ctx := context.Background()
	q := Question{Attributes: authz.Attributes{Verb: "get", Path: "/x"}, Ignored: []string{"note"}}
	for _, auth := range []*registry.Auth{nil, {}} {
		_, err := Answer(ctx, auth, q)
		if !apierrors.IsInternalError(err) || !strings.Contains(err.Error(), "authorization is not configured") {
			t.Errorf("without an authorizer: %v", err)
		}
	}
	tests := []struct {
		name string
		z    fakeAuthorizer
		want authorizationv1.SubjectAccessReviewStatus
	}{
		{"allow", fakeAuthorizer{d: authz.Allow, reason: "ok"}, authorizationv1.SubjectAccessReviewStatus{Allowed: true, Reason: "ok", EvaluationError: "note"}},
		{"deny", fakeAuthorizer{d: authz.Deny, reason: "no"}, authorizationv1.SubjectAccessReviewStatus{Denied: true, Reason: "no", EvaluationError: "note"}},
		{"no opinion", fakeAuthorizer{}, authorizationv1.SubjectAccessReviewStatus{EvaluationError: "note"}},
		{"error", fakeAuthorizer{d: authz.Deny, err: errors.New("boom")}, authorizationv1.SubjectAccessReviewStatus{Denied: true, EvaluationError: "boom; note"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := Answer(ctx, &registry.Auth{Authorizer: &tt.z}, q)
			if err != nil || st != tt.want {
				t.Errorf("got %+v %v, want %+v", st, err, tt.want)
			}
			if tt.z.last != q.Attributes {
				t.Errorf("asked %+v, want %+v", tt.z.last, q.Attributes)
			}
		})
	}
}

func TestInvalid(t *testing.T) {
	err := Invalid("SubjectAccessReview", field.ErrorList{field.Invalid(field.NewPath("spec"), nil, "bad")})
	var st apierrors.APIStatus
	if !errors.As(err, &st) || st.Status().Code != http.StatusUnprocessableEntity {
		t.Fatalf("%v is not a 422", err)
	}
	if want := `SubjectAccessReview.authorization.k8s.io "" is invalid: spec: Invalid value: null: bad`; err.Error() != want {
		t.Errorf("%q, want %q", err.Error(), want)
	}
}
