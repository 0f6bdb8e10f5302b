package proxy_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
	"github.com/kinc-dev/kinc/pkg/pki"
)

const kubeletClientCN = "kube-apiserver-kubelet-client"

// env is an apiserver with a node whose kubelet is a fakeKubelet, and a
// running pod "web" (container "app") on it.
type env struct {
	inst    *apiservertest.Instance
	client  kubernetes.Interface
	kubelet *fakeKubelet
	hostIP  string // where the fake kubelet listens; "" when only loopback exists
	ns      string
}

func setup(t *testing.T, flags ...string) *env {
	t.Helper()
	if testing.Short() {
		t.Skip("starts etcd and kube-apiserver")
	}
	ca, err := pki.NewCA("kubelet-client-ca", pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue(pki.ClientSpec(kubeletClientCN, "kubeadm:cluster-admins"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "kubelet-client.crt"), filepath.Join(dir, "kubelet-client.key")
	if err := os.WriteFile(certFile, cert.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, cert.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	inst := apiservertest.Start(t, apiservertest.Options{ExtraFlags: append([]string{
		"--kubelet-client-certificate=" + certFile, "--kubelet-client-key=" + keyFile}, flags...)})
	e := &env{inst: inst, client: kubernetes.NewForConfigOrDie(inst.Config), ns: "default", hostIP: globalIP()}
	ip := e.hostIP
	if ip == "" {
		ip = "127.0.0.1"
	}
	e.kubelet = startFakeKubelet(t, ip)

	ctx := context.Background()
	node, err := e.client.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: ip}, {Type: corev1.NodeHostName, Address: "node-1"}}
	node.Status.DaemonEndpoints.KubeletEndpoint.Port = e.kubelet.port()
	if _, err := e.client.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.createPod(t, "web", "node-1", "app")
	return e
}

// globalIP returns a global unicast IPv4 address of this machine, which
// the proxy subresources accept (they refuse loopback).
func globalIP() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && n.IP.IsGlobalUnicast() {
			return n.IP.String()
		}
	}
	return ""
}

// createPod creates a running pod with containers on node, with IP
// hostIP when there is one.
func (e *env) createPod(t *testing.T, name, node string, containers ...string) *corev1.Pod {
	t.Helper()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": name}}, Spec: corev1.PodSpec{NodeName: node}}
	for _, c := range containers {
		pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: c, Image: "busybox"})
	}
	ctx := context.Background()
	pod, err := e.client.CoreV1().Pods(e.ns).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod.Status.Phase = corev1.PodRunning
	if e.hostIP != "" {
		pod.Status.PodIP, pod.Status.PodIPs = e.hostIP, []corev1.PodIP{{IP: e.hostIP}}
	}
	if pod, err = e.client.CoreV1().Pods(e.ns).UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	return pod
}

// execURL is the URL of pods/<pod>/<sub> with opts as query parameters.
func (e *env) execURL(pod, sub string, opts runtime.Object) *url.URL {
	return e.client.CoreV1().RESTClient().Post().Namespace(e.ns).Resource("pods").Name(pod).SubResource(sub).
		VersionedParams(opts, scheme.ParameterCodec).URL()
}

// executors are the two protocols kubectl uses: WebSocket (1.30 and
// later, translated to SPDY by the apiserver) and SPDY (relayed).
func (e *env) executors(t *testing.T, u *url.URL) map[string]remotecommand.Executor {
	t.Helper()
	spdyExec, err := remotecommand.NewSPDYExecutor(e.inst.Config, "POST", u)
	if err != nil {
		t.Fatal(err)
	}
	wsExec, err := remotecommand.NewWebSocketExecutor(e.inst.Config, "GET", u.String())
	if err != nil {
		t.Fatal(err)
	}
	return map[string]remotecommand.Executor{"spdy": spdyExec, "websocket": wsExec}
}

// goroutines is the apiserver's goroutine count (/debug/pprof).
func (e *env) goroutines(t *testing.T) int {
	t.Helper()
	code, body := e.send(t, "GET", "/debug/pprof/goroutine?debug=1", nil)
	var n int
	if _, err := fmt.Sscanf(body, "goroutine profile: total %d", &n); code != http.StatusOK || err != nil {
		t.Fatalf("goroutine profile: %d %.200s (%v)", code, body, err)
	}
	return n
}

// get sends method to the apiserver path and returns the status code and
// body, failing on transport errors only.
func (e *env) send(t *testing.T, method, path string, body io.Reader) (int, string) {
	t.Helper()
	rt, err := rest.TransportFor(e.inst.Config)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(method, e.inst.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Transport: rt, Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

// startBackend serves an HTTP backend that answers with what it received
// (and redirects /redirect to /login) on hostIP, and the Service websvc (port "http" 80) whose EndpointSlice
// sends that port to it as pod web; it returns the backend's port.
func (e *env) startBackend(t *testing.T) string {
	t.Helper()
	// The backend answers with what it received.
	l, err := net.Listen("tcp", net.JoinHostPort(e.hostIP, "0"))
	if err != nil {
		t.Fatal(err)
	}
	backend := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "/login", http.StatusFound)
			return
		}
		data, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s %s", r.Method, r.URL.RequestURI(), data)
	}))
	backend.Listener.Close()
	backend.Listener = l
	backend.Start()
	t.Cleanup(backend.Close)
	_, port, _ := net.SplitHostPort(l.Addr().String())

	ctx := context.Background()
	svc, err := e.client.CoreV1().Services(e.ns).Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "websvc"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var portNum int32
	_, _ = fmt.Sscan(port, &portNum)
	_, err = e.client.DiscoveryV1().EndpointSlices(e.ns).Create(ctx, &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: "websvc-1", Labels: map[string]string{discoveryv1.LabelServiceName: svc.Name}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{{Addresses: []string{e.hostIP}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)},
			TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: e.ns, Name: "web"}}},
		Ports: []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To(portNum)}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return port
}
