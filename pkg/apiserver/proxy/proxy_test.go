package proxy

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilexec "k8s.io/client-go/util/exec"
)

func TestKubeletURL(t *testing.T) {
	t.Parallel()
	addr := func(typ corev1.NodeAddressType, a string) corev1.NodeAddress {
		return corev1.NodeAddress{Type: typ, Address: a}
	}
	for _, tc := range []struct {
		addrs []corev1.NodeAddress
		port  int32
		want  string
	}{
		{[]corev1.NodeAddress{addr(corev1.NodeHostName, "h"), addr(corev1.NodeExternalIP, "1.2.3.4"), addr(corev1.NodeInternalIP, "10.0.0.1")}, 0, "https://10.0.0.1:10250"},
		{[]corev1.NodeAddress{addr(corev1.NodeHostName, "h"), addr(corev1.NodeExternalIP, "1.2.3.4")}, 10255, "https://1.2.3.4:10255"},
		{[]corev1.NodeAddress{addr(corev1.NodeHostName, "h")}, 0, "https://h:10250"},
		{[]corev1.NodeAddress{addr(corev1.NodeInternalIP, "fd00::1")}, 0, "https://[fd00::1]:10250"},
		{nil, 0, "https://node:10250"},
	} {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node"}, Status: corev1.NodeStatus{Addresses: tc.addrs,
			DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: tc.port}}}}
		if got := KubeletURL(n).String(); got != tc.want {
			t.Errorf("%v: %s, want %s", tc.addrs, got, tc.want)
		}
	}
}

func TestSubPath(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]string{
		"/api/v1/namespaces/ns/pods/p/proxy":             "",
		"/api/v1/namespaces/ns/pods/p/proxy/":            "/",
		"/api/v1/namespaces/ns/pods/p/proxy/a/b":         "/a/b",
		"/api/v1/namespaces/ns/services/s:80/proxy/a/b/": "/a/b/",
		"/api/v1/nodes/n/proxy/stats/summary?only_cpu=1": "/stats/summary",
	} {
		if got := SubPath(httptest.NewRequest("GET", path, nil)); got != want {
			t.Errorf("%s: %q, want %q", path, got, want)
		}
	}
}

func TestStatusOf(t *testing.T) {
	t.Parallel()
	if got := statusOf(nil); got.Status != metav1.StatusSuccess {
		t.Errorf("nil: %+v", got)
	}
	exit := statusOf(fmt.Errorf("wrapped: %w", utilexec.CodeExitError{Err: errors.New("command terminated with exit code 3"), Code: 3}))
	if exit.Status != metav1.StatusFailure || exit.Reason != "NonZeroExitCode" || exit.Details == nil ||
		!reflect.DeepEqual(exit.Details.Causes, []metav1.StatusCause{{Type: "ExitCode", Message: "3"}}) {
		t.Errorf("exit code: %+v", exit)
	}
	if got := statusOf(apierrors.NewNotFound(schema.GroupResource{Resource: "pods"}, "p")); got.Code != 404 || got.Reason != metav1.StatusReasonNotFound {
		t.Errorf("API error: %+v", got)
	}
	if got := statusOf(errors.New("unable to upgrade connection: pod does not exist")); got.Code != 500 ||
		got.Message != "Internal error occurred: unable to upgrade connection: pod does not exist" {
		t.Errorf("plain error: %+v", got)
	}
}
