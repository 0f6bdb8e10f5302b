package kuberuntime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8stypes "k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"
	utilptr "k8s.io/utils/ptr"
)

// fakeTokens issues "token-<n>" valid for the requested expiration from
// the clock's now, or fails while failing is set.
type fakeTokens struct {
	clock   clock.PassiveClock
	issued  int
	failing bool
}

func (f *fakeTokens) CreateToken(_ context.Context, ns, sa string, req *authenticationv1.TokenRequest) (*authenticationv1.TokenRequest, error) {
	if f.failing {
		return nil, errors.New("apiserver unavailable")
	}
	f.issued++
	out := req.DeepCopy()
	out.Status = authenticationv1.TokenRequestStatus{Token: fmt.Sprintf("token-%d", f.issued),
		ExpirationTimestamp: metav1.NewTime(f.clock.Now().Add(time.Duration(*req.Spec.ExpirationSeconds) * time.Second))}
	return out, nil
}

// tokenObjects are fakeObjects issuing fakeTokens' tokens.
type tokenObjects struct {
	*fakeObjects
	tokens *fakeTokens
}

func (o tokenObjects) CreateToken(ctx context.Context, ns, sa string, req *authenticationv1.TokenRequest) (*authenticationv1.TokenRequest, error) {
	return o.tokens.CreateToken(ctx, ns, sa, req)
}

func tokenRequest(pod string, seconds int64) *authenticationv1.TokenRequest {
	return &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: utilptr.To(seconds),
		BoundObjectRef: &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod, UID: k8stypes.UID("uid-" + pod)}}}
}

func TestTokenManagerRefresh(t *testing.T) {
	t.Parallel()
	clk := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	api := &fakeTokens{clock: clk}
	m := newTokenManager(clk, api.CreateToken)
	m.jitter = func() time.Duration { return 0 }
	ctx := context.Background()
	get := func(req *authenticationv1.TokenRequest) string {
		t.Helper()
		tr, err := m.token(ctx, "default", "default", req)
		if err != nil {
			t.Fatal(err)
		}
		return tr.Status.Token
	}
	hour := tokenRequest("web", 3600)
	if got := get(hour); got != "token-1" {
		t.Fatalf("first token %q", got)
	}
	clk.Step(48 * time.Minute) // exactly 80%: still fresh
	if got := get(hour); got != "token-1" {
		t.Errorf("at 80%% of its life: %q, want the cached token-1", got)
	}
	if got := get(tokenRequest("other-pod", 3600)); got != "token-2" {
		t.Errorf("another pod's token: %q, want its own token-2", got)
	}
	clk.Step(time.Second)
	if got := get(hour); got != "token-3" {
		t.Errorf("past 80%% of its life: %q, want a new token-3", got)
	}

	// A failed refresh keeps the token while it is valid, then fails.
	clk.Step(49 * time.Minute)
	api.failing = true
	if got := get(hour); got != "token-3" {
		t.Errorf("failed refresh of a valid token: %q, want token-3", got)
	}
	clk.Step(11 * time.Minute)
	if _, err := m.token(ctx, "default", "default", hour); err == nil {
		t.Error("failed refresh of an expired token: no error")
	}
	api.failing = false

	// A long-lived token is refreshed after 24h, before 80% of its life.
	twoDays := tokenRequest("long", 2*24*3600)
	first := get(twoDays)
	clk.Step(24 * time.Hour)
	if got := get(twoDays); got != first {
		t.Errorf("at 24h: %q, want the cached %q", got, first)
	}
	clk.Step(time.Second)
	if got := get(twoDays); got == first {
		t.Errorf("past 24h: still %q", got)
	}

	m.forgetPod("uid-long")
	m.mu.Lock()
	for _, tr := range m.tokens {
		if tr.Spec.BoundObjectRef.Name == "long" {
			t.Error("forgetPod kept the pod's token")
		}
	}
	m.mu.Unlock()
}

// TestProjectedTokenRefreshed: a pod's projected token file is rewritten
// in place with a new token once 80% of the old one's life has passed,
// and not before (the volume refresh alone asks for none).
func TestProjectedTokenRefreshed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	api := &fakeTokens{clock: f.clock}
	f.m = NewManager(Config{NodeName: "node-a", RootDir: filepath.Join(f.root, "kubelet"), PodLogsDir: filepath.Join(f.root, "pods"),
		ResolvConf: filepath.Join(f.root, "resolv.conf"), CgroupDriver: "cgroupfs", CgroupRoot: "/", VolumeRefresh: time.Minute},
		f.runtime, tokenObjects{f.objects, api}, f.clock, f.m.logger)
	f.m.tokens.jitter = func() time.Duration { return 0 }
	pod := newPod("web", v1.Container{Name: "app", VolumeMounts: []v1.VolumeMount{{Name: "kube-api-access", MountPath: "/var/run/secrets/kubernetes.io/serviceaccount"}}})
	pod.Spec.Volumes = []v1.Volume{{Name: "kube-api-access", VolumeSource: v1.VolumeSource{Projected: &v1.ProjectedVolumeSource{
		Sources: []v1.VolumeProjection{{ServiceAccountToken: &v1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: utilptr.To[int64](3607)}}}}}}}
	file := filepath.Join(f.m.volumeDir(pod, &pod.Spec.Volumes[0]), "token")
	read := func() string {
		t.Helper()
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	f.sync(pod)
	if got := read(); got != "token-1" {
		t.Fatalf("token file %q", got)
	}
	for i := 0; i < 47; i++ { // volume refreshes every minute for 47 minutes
		f.clock.Step(time.Minute)
		f.sync(pod)
	}
	if got := read(); got != "token-1" || api.issued != 1 {
		t.Errorf("after 47 minutes: %q, %d tokens issued; want token-1 only", got, api.issued)
	}
	f.clock.Step(2 * time.Minute)
	f.sync(pod)
	if got := read(); got != "token-2" {
		t.Errorf("after 49 minutes: %q, want token-2", got)
	}
}
