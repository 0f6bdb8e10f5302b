package noderestriction

import (
	"context"
	"fmt"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/kinc-dev/kinc/pkg/apiserver/admission"
	"github.com/kinc-dev/kinc/pkg/apiserver/authz"
)

// serviceAccount admits a node's TokenRequest only when it is bound to a
// pod on the node (same UID) and asks for an audience the pod uses, or one
// the node is authorized for (upstream's ServiceAccountNodeAudienceRestriction,
// on by default).
func (p *Plugin) serviceAccount(ctx context.Context, nodeName string, a *admission.Attributes) error {
	if a.Operation != admission.Create || a.Subresource != "token" {
		return nil
	}
	tr, ok := a.Object.(*authenticationv1.TokenRequest)
	if !ok {
		return forbidden(a, fmt.Errorf("unexpected type %T", a.Object))
	}
	ref := tr.Spec.BoundObjectRef
	if ref == nil || ref.APIVersion != "v1" || ref.Kind != "Pod" || ref.Name == "" {
		return forbidden(a, fmt.Errorf("node requested token not bound to a pod"))
	}
	if ref.UID == "" {
		return forbidden(a, fmt.Errorf("node requested token with a pod binding without a uid"))
	}
	pod, err := p.getPod(ctx, a.Namespace, ref.Name)
	if apierrors.IsNotFound(err) {
		return err
	}
	if err != nil {
		return forbidden(a, err)
	}
	if ref.UID != pod.UID {
		return forbidden(a, fmt.Errorf("the UID in the bound object reference (%s) does not match the UID in record. The object might have been deleted and then recreated", ref.UID))
	}
	if pod.Spec.NodeName != nodeName {
		return forbidden(a, fmt.Errorf("node requested token bound to a pod scheduled on a different node"))
	}
	if err := p.audience(ctx, tr, pod, a); err != nil {
		return forbidden(a, err)
	}
	return nil
}

// audience checks the audience a node asks a token for: 0 or 1 of them,
// used by a projected service account token volume of the pod, or allowed
// by the verb request-serviceaccounts-token-audience on the audience as
// resource. kinc serves no CSIDrivers, so the audiences of CSI volumes'
// drivers are not looked up (upstream grants those too).
func (p *Plugin) audience(ctx context.Context, tr *authenticationv1.TokenRequest, pod *corev1.Pod, a *admission.Attributes) error {
	var audience string
	switch len(tr.Spec.Audiences) {
	case 0:
	case 1:
		audience = tr.Spec.Audiences[0]
	default:
		return fmt.Errorf("node may only request 0 or 1 audiences")
	}
	for _, v := range pod.Spec.Volumes {
		if v.Projected == nil {
			continue
		}
		for _, s := range v.Projected.Sources {
			if s.ServiceAccountToken != nil && s.ServiceAccountToken.Audience == audience {
				return nil
			}
		}
	}
	var z authz.Authorizer
	if p.auth != nil {
		z = p.auth.Authorizer
	}
	if z != nil {
		d, _, err := z.Authorize(ctx, authz.Attributes{User: a.User, Verb: "request-serviceaccounts-token-audience",
			IsResourceRequest: true, APIGroup: a.Resource.Group, Resource: audience, Namespace: a.Namespace, Name: a.Name})
		if d == authz.Allow {
			return nil
		}
		if err != nil {
			return fmt.Errorf("error authorizing %s to request tokens for audience %q: %w", a.User.Name, audience, err)
		}
	}
	return fmt.Errorf("%s is not authorized to request tokens for audience %q", a.User.Name, audience)
}
