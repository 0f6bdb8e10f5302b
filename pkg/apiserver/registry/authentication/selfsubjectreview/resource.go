// Package selfsubjectreview serves authentication.k8s.io/v1
// SelfSubjectReviews: who the requesting user is (`kubectl auth whoami`),
// never stored.
package selfsubjectreview

import (
	"context"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
	"github.com/kinc-dev/kinc/pkg/apiserver/printers"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// Resource describes authentication/v1 selfsubjectreviews; deps.Clock
// stamps the answers.
func Resource(deps registry.Deps) registry.Resource {
	gvk := authenticationv1.SchemeGroupVersion.WithKind("SelfSubjectReview")
	newFunc := func() runtime.Object { return &authenticationv1.SelfSubjectReview{} }
	return registry.Resource{
		GVK: gvk, Name: "selfsubjectreviews", Singular: "selfsubjectreview",
		Verbs: []string{"create"}, NewFunc: newFunc, Table: printers.DefaultTable(),
		NewStore: func() registry.Store {
			return registry.CreateOnly{Resource: authenticationv1.Resource("selfsubjectreviews"), NewFunc: newFunc,
				CreateFunc: func(ctx context.Context, obj runtime.Object, _ bool) (runtime.Object, error) {
					return create(ctx, deps.Clock, obj)
				}}
		},
	}
}

// create answers a SelfSubjectReview with the user of ctx, as upstream: a
// new object stamped with the time, whatever the request said.
func create(ctx context.Context, clk clock.PassiveClock, obj runtime.Object) (runtime.Object, error) {
	if _, ok := obj.(*authenticationv1.SelfSubjectReview); !ok {
		return nil, apierrors.NewBadRequest("not a SelfSubjectReview")
	}
	u, ok := authn.UserFrom(ctx)
	if !ok {
		return nil, apierrors.NewBadRequest("no user present on request")
	}
	if clk == nil {
		clk = clock.RealClock{}
	}
	info := authenticationv1.UserInfo{Username: u.Name, UID: u.UID, Groups: u.Groups}
	if len(u.Extra) > 0 {
		info.Extra = make(map[string]authenticationv1.ExtraValue, len(u.Extra))
		for k, v := range u.Extra {
			info.Extra[k] = authenticationv1.ExtraValue(v)
		}
	}
	return &authenticationv1.SelfSubjectReview{
		ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(clk.Now())},
		Status:     authenticationv1.SelfSubjectReviewStatus{UserInfo: info},
	}, nil
}
