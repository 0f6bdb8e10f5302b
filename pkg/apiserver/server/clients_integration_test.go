package server_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
)

// Helpers shared by the integration tests and benchmarks of this package.

// testCtx returns a context that ends with the test (or after d).
func testCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// clientset returns a typed clientset for inst's admin, with no client-side
// rate limit.
func clientset(t testing.TB, cfg *rest.Config) *kubernetes.Clientset {
	t.Helper()
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = -1, 0
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// createNamespace creates namespace name through cs.
func createNamespace(t testing.TB, cs kubernetes.Interface, name string) {
	t.Helper()
	_, err := cs.CoreV1().Namespaces().Create(testCtx(t, 30*time.Second),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
}

// httpClient returns a plain net/http client trusting inst's CA, presenting
// certs (none: anonymous or bearer token).
func httpClient(inst *apiservertest.Instance, certs ...tls.Certificate) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: inst.CA.Pool(), Certificates: certs},
		MaxIdleConnsPerHost: 100,
	}}
}

// adminHTTPClient returns a net/http client presenting the admin client
// certificate of inst's kubeconfig.
func adminHTTPClient(t testing.TB, inst *apiservertest.Instance) *http.Client {
	t.Helper()
	cert, err := tls.X509KeyPair(inst.Config.CertData, inst.Config.KeyData)
	if err != nil {
		t.Fatalf("admin client certificate: %v", err)
	}
	return httpClient(inst, cert)
}

// countingTransport counts the list and watch requests a client makes, and
// the watch streams that carried an ERROR event with a 410 Status.
type countingTransport struct {
	next                 http.RoundTripper
	lists, watches, gone atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	isWatch := r.Method == http.MethodGet && r.URL.Query().Get("watch") == "true"
	if isWatch {
		c.watches.Add(1)
	} else if r.Method == http.MethodGet {
		c.lists.Add(1)
	}
	resp, err := c.next.RoundTrip(r)
	if err == nil && isWatch {
		resp.Body = &goneScanner{ReadCloser: resp.Body, gone: &c.gone}
	}
	return resp, err
}

// goneScanner counts a watch stream that carries a 410 ERROR event.
type goneScanner struct {
	io.ReadCloser
	gone *atomic.Int64
	tail []byte // the end of what was read, for events split across reads
	seen bool
}

func (g *goneScanner) Read(p []byte) (int, error) {
	n, err := g.ReadCloser.Read(p)
	if !g.seen && n > 0 {
		buf := append(g.tail, p[:n]...)
		if bytes.Contains(buf, []byte(`"type":"ERROR"`)) && bytes.Contains(buf, []byte(`"code":410`)) {
			g.seen = true
			g.gone.Add(1)
		}
		if len(buf) > 512 {
			buf = buf[len(buf)-512:]
		}
		g.tail = append([]byte(nil), buf...)
	}
	return n, err
}

// eventually polls cond every 50ms until it holds or d passes.
func eventually(t testing.TB, d time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		ok, detail := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s: %s", d, what, detail)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
