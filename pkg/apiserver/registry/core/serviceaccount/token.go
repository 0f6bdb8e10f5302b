package serviceaccount

import (
	"context"
	"fmt"
	"slices"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// Limits of TokenRequest's expirationSeconds, as upstream.
const (
	defaultTokenSeconds = 60 * 60
	minTokenSeconds     = 10 * 60
	maxTokenSeconds     = 1 << 32
	// warnOnlySeconds is the lifetime the kubelet asks for the tokens of
	// kube-api-access volumes; such a pod-bound token for the API is
	// issued for extendedSeconds (a year) with "warnafter" at the asked
	// lifetime, as upstream's --service-account-extend-token-expiration
	// (on by default).
	warnOnlySeconds = 60*60 + 7
	extendedSeconds = 24 * 365 * 60 * 60
)

var (
	tokenRequestGVK = authenticationv1.SchemeGroupVersion.WithKind("TokenRequest")
	tokenResource   = schema.GroupResource{Resource: "serviceaccounts/token"}
	gvrPods         = corev1.SchemeGroupVersion.WithResource("pods")
	gvrSecrets      = corev1.SchemeGroupVersion.WithResource("secrets")
	gvrNodes        = corev1.SchemeGroupVersion.WithResource("nodes")
)

// tokenSubresource is serviceaccounts/token (POST an
// authentication.k8s.io/v1 TokenRequest).
func tokenSubresource(deps registry.Deps) registry.Subresource {
	clk := deps.Clock
	if clk == nil {
		clk = clock.RealClock{}
	}
	return registry.Subresource{Name: "token", Kind: tokenRequestGVK, Verbs: []string{"create"},
		Creater: func(st registry.Store) registry.Creater {
			return tokenCreater{serviceAccounts: st, stores: deps.Stores, auth: deps.Auth, clock: clk}
		}}
}

// tokenCreater serves serviceaccounts/token as upstream's TokenREST: it
// issues a token for the service account, bound to a Pod, Secret or Node
// when the request names one, through registry.Auth.TokenIssuer.
type tokenCreater struct {
	serviceAccounts registry.Store
	stores          func(schema.GroupVersionResource) registry.Store
	auth            *registry.Auth
	clock           clock.PassiveClock
}

func (t tokenCreater) New() runtime.Object { return &authenticationv1.TokenRequest{} }

// Create answers the TokenRequest with status.token and
// status.expirationTimestamp. Audiences default to the API audiences and
// expirationSeconds to 3600 (at least 600, at most 2^32, capped by
// --service-account-max-token-expiration). As upstream, a pod-bound token
// for the API asked for 3607 s (the kubelet's kube-api-access tokens) is
// valid for a year with "warnafter" at 3607 s; its status still says
// 3607 s, so that the kubelet refreshes it as usual.
//
// Errors: 404 when the service account or the bound object does not exist;
// 409 when a UID in the request does not match; 422 for a name or namespace
// other than the URL's or an invalid expiration; 400 for a bound object of
// another kind or a pod running as another service account; 405 when the
// server has no signing key.
func (t tokenCreater) Create(ctx context.Context, ns, name string, obj runtime.Object, _ bool) (runtime.Object, error) {
	req := obj.(*authenticationv1.TokenRequest)
	var issuer registry.TokenIssuer
	if t.auth != nil {
		issuer = t.auth.TokenIssuer
	}
	if issuer == nil {
		return nil, apierrors.NewMethodNotSupported(tokenResource, "create")
	}
	if req.Name != "" && req.Name != name {
		return nil, apierrors.NewInvalid(tokenRequestGVK.GroupKind(), name, field.ErrorList{field.Invalid(
			field.NewPath("metadata", "name"), req.Name, "must match the service account name if specified")})
	}
	if req.Namespace != "" && req.Namespace != ns {
		return nil, apierrors.NewInvalid(tokenRequestGVK.GroupKind(), name, field.ErrorList{field.Invalid(
			field.NewPath("metadata", "namespace"), req.Namespace, "must match the service account namespace if specified")})
	}
	saObj, err := t.serviceAccounts.Get(ctx, ns, name, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	sa := saObj.(*corev1.ServiceAccount)
	if req.UID != "" && req.UID != sa.UID {
		return nil, apierrors.NewConflict(schema.GroupResource{Group: tokenRequestGVK.Group, Resource: tokenRequestGVK.Kind}, name,
			fmt.Errorf("the UID in the token request (%s) does not match the UID of the service account (%s)", req.UID, sa.UID))
	}
	if len(req.Spec.Audiences) == 0 {
		req.Spec.Audiences = append([]string(nil), t.auth.APIAudiences...)
	}
	if req.Spec.ExpirationSeconds == nil {
		s := int64(defaultTokenSeconds)
		req.Spec.ExpirationSeconds = &s
	}
	req.Name, req.Namespace, req.UID = sa.Name, sa.Namespace, sa.UID
	now := t.clock.Now()
	req.CreationTimestamp = metav1.NewTime(now)
	req.Status = authenticationv1.TokenRequestStatus{}
	if errs := validateTokenRequest(req); len(errs) > 0 {
		return nil, apierrors.NewInvalid(tokenRequestGVK.GroupKind(), "", errs)
	}
	if len(req.Spec.Audiences) == 0 {
		return nil, apierrors.NewBadRequest("no audiences: the request names none and the server has no --api-audiences")
	}

	claims := registry.TokenClaims{Namespace: ns, ServiceAccount: registry.ObjectRef{Name: sa.Name, UID: sa.UID},
		Audiences: req.Spec.Audiences, IssuedAt: now}
	if ref := req.Spec.BoundObjectRef; ref != nil {
		if err := t.bind(ctx, ns, name, ref, &claims); err != nil {
			return nil, err
		}
	}
	seconds := *req.Spec.ExpirationSeconds
	if max := int64(t.auth.MaxTokenExpiration / time.Second); max > 0 && seconds > max {
		seconds = max
		req.Spec.ExpirationSeconds = &seconds
	}
	lifetime := time.Duration(seconds) * time.Second
	claims.Expiration = lifetime
	if claims.Pod.Name != "" && seconds == warnOnlySeconds && subset(req.Spec.Audiences, t.auth.APIAudiences) {
		claims.WarnAfter = now.Add(lifetime)
		claims.Expiration = extendedSeconds * time.Second
	}
	token, err := issuer.IssueToken(ctx, claims)
	if err != nil {
		return nil, apierrors.NewInternalError(fmt.Errorf("failed to generate token: %w", err))
	}
	out := req.DeepCopy()
	out.Status = authenticationv1.TokenRequestStatus{Token: token,
		ExpirationTimestamp: metav1.NewTime(now.Add(lifetime))}
	return out, nil
}

// subset tells whether every element of a is in b.
func subset(a, b []string) bool {
	for _, s := range a {
		if !slices.Contains(b, s) {
			return false
		}
	}
	return true
}

// bind looks up the bound object ref names, checks its UID, and records it
// (and a pod's node) in c.
func (t tokenCreater) bind(ctx context.Context, ns, saName string, ref *authenticationv1.BoundObjectReference, c *registry.TokenClaims) error {
	gvk := schema.FromAPIVersionAndKind(ref.APIVersion, ref.Kind)
	var uid types.UID
	switch {
	case gvk.Group == "" && gvk.Kind == "Pod":
		obj, err := t.get(ctx, gvrPods, ns, ref.Name, false)
		if err != nil {
			return err
		}
		pod := obj.(*corev1.Pod)
		if pod.Spec.ServiceAccountName != saName {
			return apierrors.NewBadRequest(fmt.Sprintf("cannot bind token for serviceaccount %q to pod running with different serviceaccount name.", saName))
		}
		uid = pod.UID
		c.Pod = registry.ObjectRef{Name: pod.Name, UID: pod.UID}
		if node := pod.Spec.NodeName; node != "" {
			// A node that does not exist still names the pod's node in
			// the claims, without a UID, as upstream.
			c.Node = registry.ObjectRef{Name: node}
			obj, err := t.get(ctx, gvrNodes, "", node, true)
			switch {
			case apierrors.IsNotFound(err):
			case err != nil:
				return apierrors.NewInternalError(err)
			default:
				c.Node.UID = obj.(*corev1.Node).UID
			}
		}
	case gvk.Group == "" && gvk.Kind == "Node":
		obj, err := t.get(ctx, gvrNodes, "", ref.Name, false)
		if err != nil {
			return err
		}
		uid = obj.(*corev1.Node).UID
		c.Node = registry.ObjectRef{Name: ref.Name, UID: uid}
	case gvk.Group == "" && gvk.Kind == "Secret":
		obj, err := t.get(ctx, gvrSecrets, ns, ref.Name, false)
		if err != nil {
			return err
		}
		uid = obj.(*corev1.Secret).UID
		c.Secret = registry.ObjectRef{Name: ref.Name, UID: uid}
	default:
		return apierrors.NewBadRequest(fmt.Sprintf("cannot bind token to object of type %s", gvk.String()))
	}
	if ref.UID != "" && uid != ref.UID {
		return apierrors.NewConflict(schema.GroupResource{Group: gvk.Group, Resource: gvk.Kind}, ref.Name,
			fmt.Errorf("the UID in the bound object reference (%s) does not match the UID in record. The object might have been deleted and then recreated", ref.UID))
	}
	return nil
}

// get reads an object of another resource; cached reads the watch cache
// first, as upstream reads nodes with resourceVersion=0.
func (t tokenCreater) get(ctx context.Context, gvr schema.GroupVersionResource, ns, name string, cached bool) (runtime.Object, error) {
	st := t.stores(gvr)
	if st == nil {
		return nil, apierrors.NewInternalError(fmt.Errorf("%s are not served", gvr.Resource))
	}
	if cached {
		if obj, err := st.Get(ctx, ns, name, &metav1.GetOptions{ResourceVersion: "0"}); err == nil {
			return obj, nil
		}
	}
	return st.Get(ctx, ns, name, &metav1.GetOptions{})
}

// validateTokenRequest is upstream's ValidateTokenRequest without the
// webhook-bound requests kinc does not serve.
func validateTokenRequest(req *authenticationv1.TokenRequest) field.ErrorList {
	var errs field.ErrorList
	spec := field.NewPath("spec")
	if s := *req.Spec.ExpirationSeconds; s < minTokenSeconds {
		errs = append(errs, field.Invalid(spec.Child("expirationSeconds"), s, "may not specify a duration less than 10 minutes"))
	} else if s > maxTokenSeconds {
		errs = append(errs, field.Invalid(spec.Child("expirationSeconds"), s, "may not specify a duration larger than 2^32 seconds"))
	}
	if len(req.Spec.Attestations) != 0 {
		errs = append(errs, field.Invalid(spec.Child("attestations"), req.Spec.Attestations,
			"attestations may only be specified with a webhook bound object reference"))
	}
	return errs
}
