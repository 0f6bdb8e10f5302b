package serviceaccount

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// mapStore is a registry.Store serving Get from a map keyed "ns/name".
type mapStore struct {
	registry.Store
	objs     map[string]runtime.Object
	resource string
}

func (m mapStore) Get(_ context.Context, ns, name string, _ *metav1.GetOptions) (runtime.Object, error) {
	if o, ok := m.objs[ns+"/"+name]; ok {
		return o.DeepCopyObject(), nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: m.resource}, name)
}

type fakeIssuer struct {
	got *registry.TokenClaims
	err error
}

func (f *fakeIssuer) IssueToken(_ context.Context, c registry.TokenClaims) (string, error) {
	f.got = &c
	return "signed-token", f.err
}

var now = time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)

func newTokenCreater(issuer *fakeIssuer, maxExp time.Duration) registry.Creater {
	meta := func(ns, name, uid string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + uid)}
	}
	stores := map[schema.GroupVersionResource]registry.Store{
		gvrPods: mapStore{resource: "pods", objs: map[string]runtime.Object{
			"ns/pod1":  &corev1.Pod{ObjectMeta: meta("ns", "pod1", "pod1"), Spec: corev1.PodSpec{ServiceAccountName: "sa", NodeName: "node1"}},
			"ns/pod2":  &corev1.Pod{ObjectMeta: meta("ns", "pod2", "pod2"), Spec: corev1.PodSpec{ServiceAccountName: "other"}},
			"ns/pod3":  &corev1.Pod{ObjectMeta: meta("ns", "pod3", "pod3"), Spec: corev1.PodSpec{ServiceAccountName: "sa", NodeName: "gone"}},
			"ns/unsch": &corev1.Pod{ObjectMeta: meta("ns", "unsch", "unsch"), Spec: corev1.PodSpec{ServiceAccountName: "sa"}}}},
		gvrSecrets: mapStore{resource: "secrets", objs: map[string]runtime.Object{"ns/sec": &corev1.Secret{ObjectMeta: meta("ns", "sec", "sec")}}},
		gvrNodes:   mapStore{resource: "nodes", objs: map[string]runtime.Object{"/node1": &corev1.Node{ObjectMeta: meta("", "node1", "node1")}}},
	}
	deps := registry.Deps{Stores: func(gvr schema.GroupVersionResource) registry.Store { return stores[gvr] },
		Clock: clocktesting.NewFakePassiveClock(now),
		Auth:  &registry.Auth{APIAudiences: []string{"https://kubernetes.default.svc"}, MaxTokenExpiration: maxExp}}
	if issuer != nil {
		deps.Auth.TokenIssuer = issuer
	}
	sas := mapStore{resource: "serviceaccounts", objs: map[string]runtime.Object{
		"ns/sa": &corev1.ServiceAccount{ObjectMeta: meta("ns", "sa", "sa")}, "ns/other": &corev1.ServiceAccount{ObjectMeta: meta("ns", "other", "other")}}}
	return tokenSubresource(deps).Creater(sas)
}

func int64p(i int64) *int64 { return &i }

func TestTokenRequest(t *testing.T) {
	iss := &fakeIssuer{}
	c := newTokenCreater(iss, 0)
	out, err := c.Create(context.Background(), "ns", "sa", &authenticationv1.TokenRequest{}, false)
	if err != nil {
		t.Fatal(err)
	}
	tr := out.(*authenticationv1.TokenRequest)
	if tr.Status.Token != "signed-token" || !tr.Status.ExpirationTimestamp.Time.Equal(now.Add(time.Hour)) ||
		tr.Name != "sa" || tr.Namespace != "ns" || tr.UID != "uid-sa" || *tr.Spec.ExpirationSeconds != 3600 ||
		!reflect.DeepEqual(tr.Spec.Audiences, []string{"https://kubernetes.default.svc"}) {
		t.Errorf("TokenRequest = %+v", tr)
	}
	want := registry.TokenClaims{Namespace: "ns", ServiceAccount: registry.ObjectRef{Name: "sa", UID: "uid-sa"},
		Audiences: []string{"https://kubernetes.default.svc"}, IssuedAt: now, Expiration: time.Hour}
	if !reflect.DeepEqual(*iss.got, want) {
		t.Errorf("claims = %+v, want %+v", *iss.got, want)
	}

	// Bound to a pod (and its node), own audience, capped expiration.
	c = newTokenCreater(iss, 2*time.Hour)
	out, err = c.Create(context.Background(), "ns", "sa", &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		Audiences: []string{"vault"}, ExpirationSeconds: int64p(86400),
		BoundObjectRef: &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: "pod1", UID: "uid-pod1"}}}, false)
	if err != nil {
		t.Fatal(err)
	}
	tr = out.(*authenticationv1.TokenRequest)
	if *tr.Spec.ExpirationSeconds != 7200 || !tr.Status.ExpirationTimestamp.Time.Equal(now.Add(2*time.Hour)) {
		t.Errorf("capped TokenRequest = %+v", tr)
	}
	want = registry.TokenClaims{Namespace: "ns", ServiceAccount: registry.ObjectRef{Name: "sa", UID: "uid-sa"},
		Pod: registry.ObjectRef{Name: "pod1", UID: "uid-pod1"}, Node: registry.ObjectRef{Name: "node1", UID: "uid-node1"},
		Audiences: []string{"vault"}, IssuedAt: now, Expiration: 2 * time.Hour}
	if !reflect.DeepEqual(*iss.got, want) {
		t.Errorf("claims = %+v, want %+v", *iss.got, want)
	}

	bound := func(kind, name string) *authenticationv1.TokenRequest {
		return &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
			BoundObjectRef: &authenticationv1.BoundObjectReference{Kind: kind, APIVersion: "v1", Name: name}}}
	}
	for _, tc := range []struct {
		ref  *authenticationv1.TokenRequest
		want registry.TokenClaims
	}{
		{bound("Pod", "pod3"), registry.TokenClaims{Pod: registry.ObjectRef{Name: "pod3", UID: "uid-pod3"}, Node: registry.ObjectRef{Name: "gone"}}},
		{bound("Pod", "unsch"), registry.TokenClaims{Pod: registry.ObjectRef{Name: "unsch", UID: "uid-unsch"}}},
		{bound("Secret", "sec"), registry.TokenClaims{Secret: registry.ObjectRef{Name: "sec", UID: "uid-sec"}}},
		{bound("Node", "node1"), registry.TokenClaims{Node: registry.ObjectRef{Name: "node1", UID: "uid-node1"}}},
	} {
		if _, err := c.Create(context.Background(), "ns", "sa", tc.ref, false); err != nil {
			t.Errorf("%s %s: %v", tc.ref.Spec.BoundObjectRef.Kind, tc.ref.Spec.BoundObjectRef.Name, err)
			continue
		}
		if got := *iss.got; got.Pod != tc.want.Pod || got.Node != tc.want.Node || got.Secret != tc.want.Secret {
			t.Errorf("%s: claims %+v", tc.ref.Spec.BoundObjectRef.Name, got)
		}
	}
}

func TestTokenRequestErrors(t *testing.T) {
	c := newTokenCreater(&fakeIssuer{}, 0)
	bound := func(apiVersion, kind, name, uid string) *authenticationv1.TokenRequest {
		return &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
			BoundObjectRef: &authenticationv1.BoundObjectReference{Kind: kind, APIVersion: apiVersion, Name: name, UID: types.UID(uid)}}}
	}
	for _, tc := range []struct {
		name  string
		sa    string
		req   *authenticationv1.TokenRequest
		check func(error) bool
	}{
		{"no service account", "nope", &authenticationv1.TokenRequest{}, apierrors.IsNotFound},
		{"other name", "sa", &authenticationv1.TokenRequest{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, apierrors.IsInvalid},
		{"other namespace", "sa", &authenticationv1.TokenRequest{ObjectMeta: metav1.ObjectMeta{Namespace: "x"}}, apierrors.IsInvalid},
		{"sa uid", "sa", &authenticationv1.TokenRequest{ObjectMeta: metav1.ObjectMeta{UID: "x"}}, apierrors.IsConflict},
		{"too short", "sa", &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: int64p(599)}}, apierrors.IsInvalid},
		{"too long", "sa", &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: int64p(1<<32 + 1)}}, apierrors.IsInvalid},
		{"missing pod", "sa", bound("v1", "Pod", "nope", ""), apierrors.IsNotFound},
		{"pod uid", "sa", bound("v1", "Pod", "pod1", "x"), apierrors.IsConflict},
		{"pod of another sa", "sa", bound("v1", "Pod", "pod2", ""), apierrors.IsBadRequest},
		{"missing secret", "sa", bound("v1", "Secret", "nope", ""), apierrors.IsNotFound},
		{"missing node", "sa", bound("v1", "Node", "nope", ""), apierrors.IsNotFound},
		{"other kind", "sa", bound("v1", "ConfigMap", "x", ""), apierrors.IsBadRequest},
		{"other group", "sa", bound("apps/v1", "Pod", "pod1", ""), apierrors.IsBadRequest},
	} {
		_, err := c.Create(context.Background(), "ns", tc.sa, tc.req, false)
		if !tc.check(err) {
			t.Errorf("%s: err = %v", tc.name, err)
		}
	}
	if _, err := newTokenCreater(nil, 0).Create(context.Background(), "ns", "sa", &authenticationv1.TokenRequest{}, false); !apierrors.IsMethodNotSupported(err) {
		t.Errorf("no issuer: %v", err)
	}
	if _, err := newTokenCreater(&fakeIssuer{err: errors.New("boom")}, 0).Create(context.Background(), "ns", "sa", &authenticationv1.TokenRequest{}, false); !apierrors.IsInternalError(err) {
		t.Errorf("issuer failure: %v", err)
	}
}

func TestTokenRequestExtendsKubeAPIAccessTokens(t *testing.T) {
	iss := &fakeIssuer{}
	c := newTokenCreater(iss, 0)
	req := func(auds []string, seconds int64, pod bool) *authenticationv1.TokenRequest {
		r := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{Audiences: auds, ExpirationSeconds: int64p(seconds)}}
		if pod {
			r.Spec.BoundObjectRef = &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: "pod1"}
		}
		return r
	}
	out, err := c.Create(context.Background(), "ns", "sa", req(nil, 3607, true), false)
	if err != nil {
		t.Fatal(err)
	}
	if got := iss.got; got.Expiration != 365*24*time.Hour || !got.WarnAfter.Equal(now.Add(3607*time.Second)) ||
		!out.(*authenticationv1.TokenRequest).Status.ExpirationTimestamp.Time.Equal(now.Add(3607*time.Second)) {
		t.Errorf("kube-api-access token: claims %+v, status %+v", got, out.(*authenticationv1.TokenRequest).Status)
	}
	for name, r := range map[string]*authenticationv1.TokenRequest{
		"not pod-bound":  req(nil, 3607, false),
		"other audience": req([]string{"vault"}, 3607, true),
		"other lifetime": req(nil, 3608, true),
	} {
		if _, err := c.Create(context.Background(), "ns", "sa", r, false); err != nil {
			t.Fatal(err)
		}
		if got := iss.got; got.Expiration != time.Duration(*r.Spec.ExpirationSeconds)*time.Second || !got.WarnAfter.IsZero() {
			t.Errorf("%s: claims %+v", name, got)
		}
	}
}
