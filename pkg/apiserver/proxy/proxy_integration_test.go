package proxy_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/transport/spdy"
	utilexec "k8s.io/client-go/util/exec"
	"k8s.io/streaming/pkg/httpstream"
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

func TestIntegrationExec(t *testing.T) {
	e := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	for _, tc := range []struct {
		name           string
		opts           corev1.PodExecOptions
		stdin          string
		resize         bool
		stdout, stderr string
		code           int
	}{
		{name: "stdout", opts: corev1.PodExecOptions{Command: []string{"echo", "hello", "world"}, Stdout: true, Stderr: true}, stdout: "hello world\n"},
		{name: "exit code", opts: corev1.PodExecOptions{Command: []string{"fail", "3", "oops"}, Stdout: true, Stderr: true}, stderr: "oops\n", code: 3},
		{name: "stdin closes", opts: corev1.PodExecOptions{Command: []string{"cat"}, Stdin: true, Stdout: true, Stderr: true}, stdin: "piped\nthrough\n", stdout: "piped\nthrough\n"},
		{name: "tty resize", opts: corev1.PodExecOptions{Command: []string{"size"}, Stdout: true, TTY: true}, resize: true, stdout: "120x40\n"},
	} {
		for proto, ex := range e.executors(t, e.execURL("web", "exec", &tc.opts)) {
			t.Run(tc.name+"/"+proto, func(t *testing.T) {
				var stdout, stderr bytes.Buffer
				so := remotecommand.StreamOptions{Stdout: &stdout, Tty: tc.opts.TTY}
				if tc.opts.Stderr {
					so.Stderr = &stderr
				}
				if tc.opts.Stdin {
					so.Stdin = strings.NewReader(tc.stdin)
				}
				if tc.resize {
					so.TerminalSizeQueue = &oneSize{size: &remotecommand.TerminalSize{Width: 120, Height: 40}}
				}
				err := ex.StreamWithContext(ctx, so)
				var exit utilexec.CodeExitError
				switch {
				case tc.code == 0 && err != nil:
					t.Fatalf("exec: %v", err)
				case tc.code != 0 && (!errors.As(err, &exit) || exit.Code != tc.code):
					t.Fatalf("exec error %v (%T), want exit code %d", err, err, tc.code)
				}
				if stdout.String() != tc.stdout || stderr.String() != tc.stderr {
					t.Errorf("stdout %q stderr %q, want %q and %q", stdout.String(), stderr.String(), tc.stdout, tc.stderr)
				}
			})
		}
	}

	t.Run("attach", func(t *testing.T) {
		opts := &corev1.PodAttachOptions{Stdin: true, Stdout: true, Stderr: true}
		for proto, ex := range e.executors(t, e.execURL("web", "attach", opts)) {
			var stdout bytes.Buffer
			if err := ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdin: strings.NewReader("typed\n"), Stdout: &stdout, Stderr: io.Discard}); err != nil {
				t.Fatalf("%s attach: %v", proto, err)
			}
			if got := stdout.String(); got != "attached\ntyped\n" {
				t.Errorf("%s attach stdout %q", proto, got)
			}
		}
	})

	t.Run("kubelet client certificate", func(t *testing.T) {
		clients, requests := e.kubelet.seen()
		for i, cn := range clients {
			if cn != kubeletClientCN {
				t.Errorf("request %s presented %q, want %q", requests[i], cn, kubeletClientCN)
			}
		}
		want := "/exec/default/web/app?command=echo&command=hello&command=world&error=1&output=1"
		found := false
		for _, r := range requests {
			found = found || strings.HasSuffix(r, want)
		}
		if !found {
			t.Errorf("no kubelet request ends with %s: %q", want, requests)
		}
	})
}

// With --v=4 every request passes through the request log, whose response
// writer must still hand the connection over to the upgraded protocols.
func TestIntegrationExecVerbose(t *testing.T) {
	e := setup(t, "--v=4")
	u := e.execURL("web", "exec", &corev1.PodExecOptions{Command: []string{"echo", "hi"}, Stdout: true})
	for proto, ex := range e.executors(t, u) {
		var out bytes.Buffer
		if err := ex.StreamWithContext(context.Background(), remotecommand.StreamOptions{Stdout: &out}); err != nil || out.String() != "hi\n" {
			t.Errorf("%s: %q, %v", proto, out.String(), err)
		}
	}
	log, err := os.ReadFile(e.inst.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), "status=101") {
		t.Errorf("the request log has no 101 for the upgrades:\n%s", log)
	}
}

// A client that goes away mid-session ends the kubelet's session too, and
// leaves no goroutine behind in the apiserver.
func TestIntegrationExecDisconnect(t *testing.T) {
	e := setup(t)
	u := e.execURL("web", "exec", &corev1.PodExecOptions{Command: []string{"wait"}, Stdout: true, Stderr: true})
	before := e.goroutines(t)
	for round := 0; round < 3; round++ {
		for proto, ex := range e.executors(t, u) {
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				done <- ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: io.Discard, Stderr: io.Discard})
			}()
			var gone chan struct{}
			select {
			case gone = <-e.kubelet.waiting:
			case err := <-done:
				t.Fatalf("%s: session ended early: %v", proto, err)
			case <-time.After(20 * time.Second):
				t.Fatalf("%s: the command never started", proto)
			}
			cancel()
			select {
			case <-gone:
			case <-time.After(20 * time.Second):
				t.Fatalf("%s: the kubelet's session outlived its client", proto)
			}
			<-done
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		after := e.goroutines(t)
		if after <= before+2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("apiserver goroutines: %d before the sessions, %d after", before, after)
		}
		time.Sleep(200 * time.Millisecond)
	}
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

type oneSize struct{ size *remotecommand.TerminalSize }

func (o *oneSize) Next() *remotecommand.TerminalSize {
	s := o.size
	o.size = nil
	return s // nil: no more resizes
}

func TestIntegrationPortForward(t *testing.T) {
	e := setup(t)
	u := e.client.CoreV1().RESTClient().Post().Namespace(e.ns).Resource("pods").Name("web").SubResource("portforward").URL()
	transport, upgrader, err := spdy.RoundTripperFor(e.inst.Config)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := portforward.NewSPDYOverWebsocketDialerForStreaming(u, e.inst.Config)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []struct {
		name   string
		dialer httpstream.Dialer
	}{
		{"spdy", spdy.NewDialerForStreaming(upgrader, &http.Client{Transport: transport}, "POST", u)},
		{"websocket", ws},
	} {
		t.Run(d.name, func(t *testing.T) {
			stop, ready := make(chan struct{}), make(chan struct{})
			var errOut bytes.Buffer
			fw, err := portforward.NewOnAddressesForStreaming(d.dialer, []string{"127.0.0.1"}, []string{"0:80"}, stop, ready, io.Discard, &errOut)
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- fw.ForwardPorts() }()
			select {
			case <-ready:
			case err := <-done:
				t.Fatalf("port-forward ended: %v", err)
			case <-time.After(30 * time.Second):
				t.Fatal("port-forward not ready")
			}
			ports, err := fw.GetPorts()
			if err != nil || len(ports) != 1 {
				t.Fatalf("ports %v, %v", ports, err)
			}
			echo := func(try int) {
				t.Helper()
				c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", ports[0].Local))
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(20 * time.Second))
				br := bufio.NewReader(c)
				if line, err := br.ReadString('\n'); line != "port 80\n" {
					t.Fatalf("connection %d greeting %q, %v", try, line, err)
				}
				msg := fmt.Sprintf("ping %d\n", try)
				if _, err := io.WriteString(c, msg); err != nil {
					t.Fatal(err)
				}
				if line, err := br.ReadString('\n'); line != msg {
					t.Fatalf("connection %d echo %q, %v", try, line, err)
				}
			}
			echo(1)
			echo(2)
			close(stop)
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("ForwardPorts: %v", err)
				}
			case <-time.After(20 * time.Second):
				t.Error("port-forward did not stop")
			}
		})

		// A closed port reports its error on its own error stream and the
		// connection carries other ports on. (client-go's PortForwarder
		// closes the whole connection on such an error: that is the
		// client's choice, so streams are opened by hand here.)
		t.Run(d.name+"/closed port", func(t *testing.T) {
			conn, proto, err := d.dialer.Dial("portforward.k8s.io")
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer conn.Close()
			if proto != "portforward.k8s.io" {
				t.Errorf("protocol %q", proto)
			}
			pair := func(port, id string) (errStream, data httpstream.Stream) {
				t.Helper()
				h := http.Header{}
				h.Set("streamType", "error")
				h.Set("port", port)
				h.Set("requestID", id)
				if errStream, err = conn.CreateStream(h); err != nil {
					t.Fatal(err)
				}
				h.Set("streamType", "data")
				if data, err = conn.CreateStream(h); err != nil {
					t.Fatal(err)
				}
				return errStream, data
			}
			errStream, data := pair("1", "1")
			msg, err := io.ReadAll(errStream)
			if err != nil || !strings.Contains(string(msg), "connection refused") {
				t.Errorf("closed port: error stream %q, %v", msg, err)
			}
			data.Close()
			errStream, data = pair("80", "2")
			br := bufio.NewReader(data)
			if line, err := br.ReadString('\n'); line != "port 80\n" {
				t.Fatalf("after the closed port: greeting %q, %v", line, err)
			}
			if _, err := io.WriteString(data, "again\n"); err != nil {
				t.Fatal(err)
			}
			if line, err := br.ReadString('\n'); line != "again\n" {
				t.Errorf("after the closed port: echo %q, %v", line, err)
			}
			data.Close()
			errStream.Close()
		})
	}
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

func TestIntegrationProxy(t *testing.T) {
	e := setup(t)
	if e.hostIP == "" {
		t.Skip("no global unicast address to serve the backends on (the proxies refuse loopback)")
	}
	port := e.startBackend(t)
	ctx := context.Background()
	if _, err := e.client.CoreV1().Services(e.ns).Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "empty"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	pods := "/api/v1/namespaces/default/pods/"
	svcs := "/api/v1/namespaces/default/services/"
	for _, tc := range []struct {
		method, path, body string
		code               int
		want               string
	}{
		{"GET", pods + "web:" + port + "/proxy/some/path?x=1", "", 200, "GET /some/path?x=1 "},
		{"GET", pods + "web:" + port + "/proxy/dir/", "", 200, "GET /dir/ "},
		{"POST", pods + "http:web:" + port + "/proxy/form", "a=b", 200, "POST /form a=b"},
		{"DELETE", pods + "web:" + port + "/proxy/x", "", 200, "DELETE /x "},
		// The redirect is rewritten to go back through the apiserver.
		{"GET", pods + "web:" + port + "/proxy/redirect", "", 200, "GET /login "},
		{"GET", svcs + "websvc:http/proxy/redirect", "", 200, "GET /login "},
		{"GET", pods + "nope:80/proxy/", "", 404, `pods \"nope\" not found`},
		{"GET", pods + "a:b:c:d/proxy/", "", 400, `invalid pod request`},
		{"GET", svcs + "websvc:80/proxy/hi", "", 200, "GET /hi "},
		{"GET", svcs + "websvc:http/proxy/hi/", "", 200, "GET /hi/ "},
		{"PUT", svcs + "http:websvc:http/proxy/put", "body", 200, "PUT /put body"},
		{"GET", svcs + "websvc:81/proxy/", "", 503, `no service port 81 found for service \"websvc\"`},
		{"GET", svcs + "empty/proxy/", "", 503, `no endpoints available for service \"empty\"`},
		{"GET", svcs + "missing:80/proxy/", "", 404, `services \"missing\" not found`},
		{"GET", "/api/v1/nodes/node-1/proxy/healthz", "", 200, "ok"},
		{"GET", "/api/v1/nodes/node-1/proxy/pods", "", 200, `"kind":"PodList"`},
		{"GET", "/api/v1/nodes/node-1:" + port + "/proxy/other", "", 200, "GET /other "},
		{"GET", "/api/v1/nodes/gone/proxy/healthz", "", 404, `nodes \"gone\" not found`},
	} {
		var body io.Reader
		if tc.body != "" {
			body = strings.NewReader(tc.body)
		}
		code, got := e.send(t, tc.method, tc.path, body)
		if code != tc.code || !strings.Contains(got, tc.want) {
			t.Errorf("%s %s: %d %q, want %d with %q", tc.method, tc.path, code, got, tc.code, tc.want)
		}
	}
}

func TestIntegrationStreamErrors(t *testing.T) {
	e := setup(t)
	e.createPod(t, "two", "node-1", "a", "b")
	e.createPod(t, "orphan", "gone", "c")
	ctx := context.Background()
	if _, err := e.client.CoreV1().Pods(e.ns).Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "pending"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pods := "/api/v1/namespaces/default/pods/"
	for _, tc := range []struct {
		method, path string
		code         int
		want         string
	}{
		{"POST", pods + "two/exec?command=ls&stdout=true", 400, "a container name must be specified for pod two, choose one of: [a b]"},
		{"POST", pods + "web/exec?command=ls&stdout=true&container=nope", 400, "container nope is not valid for pod web"},
		{"POST", pods + "nope/exec?command=ls&stdout=true", 404, `pods \"nope\" not found`},
		{"POST", pods + "pending/exec?command=ls&stdout=true", 400, "pod pending does not have a host assigned"},
		{"POST", pods + "orphan/exec?command=ls&stdout=true", 404, `nodes \"gone\" not found`},
		{"POST", pods + "web/exec?command=ls&stdout=true", 400, "Upgrade request required"},
		{"GET", pods + "web/attach?stdout=true", 400, "Upgrade request required"},
		{"POST", pods + "web/portforward?ports=80", 400, "Upgrade request required"},
		{"POST", pods + "web/portforward?ports=http", 400, "cannot convert to []int32"},
		{"PUT", pods + "web/exec?command=ls", 405, ""},
		{"POST", pods + "web/exec?command=ls&stdout=true&dryRun=All", 400, "dryRun is not supported"},
	} {
		code, got := e.send(t, tc.method, tc.path, nil)
		if code != tc.code || !strings.Contains(got, tc.want) {
			t.Errorf("%s %s: %d %q, want %d with %q", tc.method, tc.path, code, got, tc.code, tc.want)
		}
	}

	// A pod the kubelet does not know: its refusal reaches the client, on
	// the error channel of a translated session.
	e.createPod(t, "ghost", "node-1", "c")
	gu := e.execURL("ghost", "exec", &corev1.PodExecOptions{Command: []string{"ls"}, Stdout: true})
	for proto, ex := range e.executors(t, gu) {
		err := ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: io.Discard})
		if err == nil || !strings.Contains(err.Error(), "pod does not exist") {
			t.Errorf("%s exec into a pod the kubelet does not know: %v", proto, err)
		}
	}
	pu := e.client.CoreV1().RESTClient().Post().Namespace(e.ns).Resource("pods").Name("ghost").SubResource("portforward").URL()
	ws, err := portforward.NewSPDYOverWebsocketDialerForStreaming(pu, e.inst.Config)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ws.Dial("portforward.k8s.io"); err == nil || !strings.Contains(err.Error(), "pod does not exist") {
		t.Errorf("websocket port-forward to a pod the kubelet does not know: %v", err)
	}

	// What the executors report for a refused session.
	u := e.execURL("two", "exec", &corev1.PodExecOptions{Command: []string{"ls"}, Stdout: true})
	for proto, ex := range e.executors(t, u) {
		err := ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: io.Discard})
		if err == nil || !strings.Contains(err.Error(), "a container name must be specified") {
			t.Errorf("%s: %v", proto, err)
		}
	}
}

func TestIntegrationDiscovery(t *testing.T) {
	e := setup(t)
	list, err := e.client.Discovery().ServerResourcesForGroupVersion("v1")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range list.APIResources {
		got[r.Name] = fmt.Sprintf("%s %v", r.Kind, r.Verbs)
	}
	proxyVerbs := "[create delete get patch update]"
	for name, want := range map[string]string{
		"pods/attach":      "PodAttachOptions [create get]",
		"pods/exec":        "PodExecOptions [create get]",
		"pods/portforward": "PodPortForwardOptions [create get]",
		"pods/proxy":       "PodProxyOptions " + proxyVerbs,
		"pods/log":         "Pod [get]",
		"nodes/proxy":      "NodeProxyOptions " + proxyVerbs,
		"services/proxy":   "ServiceProxyOptions " + proxyVerbs,
	} {
		if got[name] != want {
			t.Errorf("%s: %q, want %q", name, got[name], want)
		}
	}
	code, doc := e.send(t, "GET", "/openapi/v2", nil)
	if code != http.StatusOK {
		t.Fatalf("openapi/v2: %d %.300s", code, doc)
	}
	for _, op := range []string{"connectCoreV1PostNamespacedPodExec", "connectCoreV1GetNamespacedPodPortforward", "connectCoreV1PutNamespacedServiceProxyWithPath", "connectCoreV1GetNodeProxyWithPath", "connectCoreV1OptionsNamespacedPodProxy"} {
		if !strings.Contains(doc, `"`+op+`"`) {
			t.Errorf("openapi/v2 lacks %s", op)
		}
	}
}
