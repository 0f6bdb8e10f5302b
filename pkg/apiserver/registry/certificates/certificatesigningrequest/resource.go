package certificatesigningrequest

import (
	"context"

	certificatesv1 "k8s.io/api/certificates/v1"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/apiserver/printers"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// Resource describes certificates.k8s.io/v1 certificatesigningrequests.
// deps.Clock stamps the conditions written without times.
func Resource(deps registry.Deps) registry.Resource {
	clk := deps.Clock
	if clk == nil {
		clk = clock.RealClock{}
	}
	return registry.Resource{
		GVK:  certificatesv1.SchemeGroupVersion.WithKind("CertificateSigningRequest"),
		Name: "certificatesigningrequests", Singular: "certificatesigningrequest",
		ShortNames: []string{"csr"},
		Verbs:      registry.AllVerbs, KeyRoot: "/certificatesigningrequests",
		NewFunc: func() runtime.Object { return &certificatesv1.CertificateSigningRequest{} },
		NewList: func() runtime.Object { return &certificatesv1.CertificateSigningRequestList{} },
		// Any name that fits in a URL path segment, as upstream.
		NameFunc: path.ValidatePathSegmentName,
		Attrs:    GetAttrs, Strategy: NewStrategy(),
		StatusStrategy: NewStatusStrategy(clk),
		Subresources:   []registry.Subresource{approvalSubresource()},
		Table:          printers.CertificateSigningRequests(),
	}
}

// approvalSubresource is certificatesigningrequests/{name}/approval: an
// update through the status strategy in its approval mode.
func approvalSubresource() registry.Subresource {
	return registry.Subresource{Name: "approval", Verbs: registry.ViewVerbs,
		View: func(st registry.Store) registry.View { return approvalView{st} }}
}

type approvalView struct{ store registry.Store }

func (v approvalView) New() runtime.Object { return v.store.New() }

func (v approvalView) Get(ctx context.Context, _, name string, opts *metav1.GetOptions) (runtime.Object, error) {
	return v.store.Get(ctx, "", name, opts)
}

func (v approvalView) Update(ctx context.Context, _, name string, update registry.UpdateFunc, dryRun bool) (runtime.Object, bool, error) {
	return v.store.Update(withApproval(ctx), "", name, update, registry.UpdateOptions{DryRun: dryRun, Status: true})
}

var _ registry.View = approvalView{}
