package node

import (
	"context"
	"net/http"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kinc-dev/kinc/pkg/apiserver/proxy"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// nodeStore is an in-memory registry.Store of nodes serving Get.
type nodeStore struct {
	registry.Store
	nodes map[string]*corev1.Node
}

func (s nodeStore) Get(_ context.Context, _, name string, _ *metav1.GetOptions) (runtime.Object, error) {
	if n, ok := s.nodes[name]; ok {
		return n.DeepCopy(), nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "nodes"}, name)
}

func TestProxyLocation(t *testing.T) {
	t.Parallel()
	node := func(name, ip string, port int32) *corev1.Node {
		return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NodeStatus{
			Addresses:       []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: ip}},
			DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: port}}}}
	}
	st := nodeStore{nodes: map[string]*corev1.Node{"n1": node("n1", "172.18.0.2", 10250), "lo": node("lo", "127.0.0.1", 10250)}}
	kubelets := proxy.NewKubelets(func() registry.Store { return st }, registry.KubeletClientConfig{})
	c := &proxyLocator{kubelets: kubelets, cluster: &http.Transport{}}
	for _, tc := range []struct {
		id, want string
		kubelet  bool
		code     int32
	}{
		{"n1", "https://172.18.0.2:10250", true, 0},
		{"n1:10250", "https://172.18.0.2:10250", true, 0},
		{"http:n1:10250", "https://172.18.0.2:10250", true, 0},
		{"n1:9100", "//172.18.0.2:9100", false, 0},
		{"https:n1:8443", "https://172.18.0.2:8443", false, 0},
		{"lo", "address not allowed", false, 400},
		{"gone", `nodes "gone" not found`, false, 404},
		{"a:b:c:d", `invalid node request "a:b:c:d"`, false, 400},
	} {
		loc, rt, err := c.location(context.Background(), tc.id)
		if tc.code != 0 {
			status, ok := err.(apierrors.APIStatus)
			if !ok || status.Status().Code != tc.code || err.Error() != tc.want {
				t.Errorf("%s: %v, %v; want %d %q", tc.id, loc, err, tc.code, tc.want)
			}
			continue
		}
		if err != nil || loc.String() != tc.want || (rt == kubelets.Transport()) != tc.kubelet {
			t.Errorf("%s: %v (kubelet transport %v), %v; want %s (%v)", tc.id, loc, rt == kubelets.Transport(), err, tc.want, tc.kubelet)
		}
	}
}
