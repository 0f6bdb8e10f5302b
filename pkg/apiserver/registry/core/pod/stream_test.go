package pod

import (
	"context"
	"net/url"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kinc-dev/kinc/pkg/apiserver/proxy"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// mapStore is an in-memory registry.Store that serves Get only.
type mapStore struct {
	registry.Store
	resource string
	objects  map[string]runtime.Object // by namespace/name
}

func (m mapStore) Get(_ context.Context, ns, name string, _ *metav1.GetOptions) (runtime.Object, error) {
	if o, ok := m.objects[ns+"/"+name]; ok {
		return o.DeepCopyObject(), nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: m.resource}, name)
}

func testPod(name, node string, containers ...string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"}, Spec: corev1.PodSpec{NodeName: node}}
	for _, c := range containers {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: c})
	}
	return p
}

func streamFixture() (registry.Store, *proxy.Kubelets) {
	withInit := testPod("init", "n1", "main", "side")
	withInit.Spec.InitContainers = []corev1.Container{{Name: "setup"}}
	withInit.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debugger"}}}
	pods := mapStore{resource: "pods", objects: map[string]runtime.Object{
		"ns/one":     testPod("one", "n1", "app"),
		"ns/two":     testPod("two", "n1", "a", "b"),
		"ns/none":    testPod("none", "n1"),
		"ns/init":    withInit,
		"ns/pending": testPod("pending", "", "app"),
		"ns/orphan":  testPod("orphan", "gone", "app"),
		"ns/ext":     testPod("ext", "n2", "app"),
	}}
	n1 := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Status: corev1.NodeStatus{
		Addresses:       []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: "n1.local"}, {Type: corev1.NodeInternalIP, Address: "10.0.0.1"}},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: 10255}}}}
	n2 := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n2"}, Status: corev1.NodeStatus{
		Addresses: []corev1.NodeAddress{{Type: corev1.NodeExternalIP, Address: "fd00::2"}}}}
	nodes := mapStore{resource: "nodes", objects: map[string]runtime.Object{"/n1": n1, "/n2": n2}}
	return pods, proxy.NewKubelets(func() registry.Store { return nodes }, registry.KubeletClientConfig{})
}

func TestExecLocation(t *testing.T) {
	t.Parallel()
	pods, kubelets := streamFixture()
	for _, tc := range []struct {
		name, pod, query string
		want             string // URL, or the error message
		code             int32
	}{
		{"default container", "one", "command=ls&command=-l&stdout=true&stderr=1",
			"https://10.0.0.1:10255/exec/ns/one/app?command=ls&command=-l&error=1&output=1", 0},
		{"all streams and tty", "one", "command=sh&stdin=true&stdout=true&tty=true&container=app",
			"https://10.0.0.1:10255/exec/ns/one/app?command=sh&input=1&output=1&tty=1", 0},
		{"false values", "one", "command=ls&stdin=false&stdout=0&stderr=",
			"https://10.0.0.1:10255/exec/ns/one/app?command=ls&error=1", 0},
		{"no command is the kubelet's to refuse", "one", "stdout=true",
			"https://10.0.0.1:10255/exec/ns/one/app?output=1", 0},
		{"external IPv6 and default port", "ext", "command=ls&stdout=1",
			"https://[fd00::2]:10250/exec/ns/ext/app?command=ls&output=1", 0},
		{"ephemeral container", "init", "command=ls&stdout=1&container=debugger",
			"https://10.0.0.1:10255/exec/ns/init/debugger?command=ls&output=1", 0},
		{"init container", "init", "command=ls&stdout=1&container=setup",
			"https://10.0.0.1:10255/exec/ns/init/setup?command=ls&output=1", 0},
		{"several containers", "two", "command=ls", "a container name must be specified for pod two, choose one of: [a b]", 400},
		{"several with init and ephemeral", "init", "command=ls", "a container name must be specified for pod init, choose one of: [setup main side debugger]", 400},
		{"no containers", "none", "command=ls", "a container name must be specified for pod none", 400},
		{"unknown container", "one", "command=ls&container=web", "container web is not valid for pod one", 400},
		{"missing pod", "nope", "command=ls", `pods "nope" not found`, 404},
		{"unscheduled pod", "pending", "command=ls", "pod pending does not have a host assigned", 400},
		{"node gone", "orphan", "command=ls", `nodes "gone" not found`, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, _ := url.ParseQuery(tc.query)
			loc, err := ExecLocation(context.Background(), pods, kubelets, "ns", tc.pod, ExecOptions(q))
			check(t, loc, err, tc.want, tc.code)
		})
	}
}

func check(t *testing.T, loc *url.URL, err error, want string, code int32) {
	t.Helper()
	if code == 0 {
		if err != nil || loc.String() != want {
			t.Errorf("got %v, %v; want %s", loc, err, want)
		}
		return
	}
	var status apierrors.APIStatus
	if s, ok := err.(apierrors.APIStatus); ok {
		status = s
	}
	if status == nil || status.Status().Code != code || err.Error() != want {
		t.Errorf("got %v, %v; want %d %q", loc, err, code, want)
	}
}

func TestAttachAndPortForwardLocation(t *testing.T) {
	t.Parallel()
	pods, kubelets := streamFixture()
	q, _ := url.ParseQuery("stdin=1&stdout=1&tty=1&container=b")
	loc, err := AttachLocation(context.Background(), pods, kubelets, "ns", "two", AttachOptions(q))
	check(t, loc, err, "https://10.0.0.1:10255/attach/ns/two/b?input=1&output=1&tty=1", 0)
	loc, err = AttachLocation(context.Background(), pods, kubelets, "ns", "two", AttachOptions(url.Values{}))
	check(t, loc, err, "a container name must be specified for pod two, choose one of: [a b]", 400)

	for _, tc := range []struct {
		pod, query, want string
		code             int32
	}{
		{"two", "ports=80&ports=443,8080", "https://10.0.0.1:10255/portForward/ns/two?port=80%2C443%2C8080", 0},
		{"none", "", "https://10.0.0.1:10255/portForward/ns/none", 0},
		{"pending", "ports=80", "pod pending does not have a host assigned", 400},
		{"nope", "ports=80", `pods "nope" not found`, 404},
	} {
		q, _ := url.ParseQuery(tc.query)
		opts, err := PortForwardOptions(q)
		if err != nil {
			t.Fatal(err)
		}
		loc, err := PortForwardLocation(context.Background(), pods, kubelets, "ns", tc.pod, opts)
		check(t, loc, err, tc.want, tc.code)
	}
}

func TestStreamOptions(t *testing.T) {
	t.Parallel()
	q, _ := url.ParseQuery("command=a&command=b&stdin=yes&stdout=True&stderr=FALSE&tty=0&container=c")
	got := ExecOptions(q)
	want := &corev1.PodExecOptions{Command: []string{"a", "b"}, Stdin: true, Stdout: true, Container: "c"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ExecOptions = %+v, want %+v", got, want)
	}
	for query, want := range map[string][]int32{"ports=1,2&ports=65535": {1, 2, 65535}, "": nil} {
		q, _ := url.ParseQuery(query)
		opts, err := PortForwardOptions(q)
		if err != nil || !reflect.DeepEqual(opts.Ports, want) {
			t.Errorf("%s: %v, %v", query, opts.Ports, err)
		}
	}
	for _, bad := range []string{"ports=http", "ports=65536", "ports=-1", "ports=80,"} {
		q, _ := url.ParseQuery(bad)
		if _, err := PortForwardOptions(q); !apierrors.IsBadRequest(err) {
			t.Errorf("%s: %v, want 400", bad, err)
		}
	}
}

func TestProxyLocation(t *testing.T) {
	t.Parallel()
	pod := func(name, ip string, ports ...int32) *corev1.Pod {
		p := testPod(name, "n1", "app")
		for _, port := range ports {
			p.Spec.Containers[0].Ports = append(p.Spec.Containers[0].Ports, corev1.ContainerPort{ContainerPort: port})
		}
		if ip != "" {
			p.Status.PodIPs = []corev1.PodIP{{IP: ip}}
		}
		return p
	}
	pods := mapStore{resource: "pods", objects: map[string]runtime.Object{
		"ns/web":  pod("web", "10.244.1.5", 8080, 9090),
		"ns/bare": pod("bare", "10.244.1.6"),
		"ns/v6":   pod("v6", "fd00::5"),
		"ns/lo":   pod("lo", "127.0.0.1", 80),
		"ns/new":  pod("new", "", 80),
	}}
	for _, tc := range []struct {
		id, want string
		code     int32
	}{
		{"web", "//10.244.1.5:8080", 0},
		{"web:9090", "//10.244.1.5:9090", 0},
		{"https:web:443", "https://10.244.1.5:443", 0},
		{"bare", "//10.244.1.6", 0},
		{"v6", "//[fd00::5]", 0},
		{"lo", "address not allowed", 400},
		{"new", "address not allowed", 400},
		{"ftp:web:21", `invalid pod request "ftp:web:21"`, 400},
		{"a:b:c:d", `invalid pod request "a:b:c:d"`, 400},
		{"gone:80", `pods "gone" not found`, 404},
	} {
		loc, err := ProxyLocation(context.Background(), pods, "ns", tc.id)
		check(t, loc, err, tc.want, tc.code)
	}
}
