package manager_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
	"github.com/kinc-dev/kinc/pkg/controller/manager"
	"github.com/kinc-dev/kinc/pkg/controller/rootcacertpublisher"
	"github.com/kinc-dev/kinc/pkg/pki"
)

// syncBuffer is a log destination safe for concurrent writes and reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// instance is one in-process kube-controller-manager.
type instance struct {
	name   string
	log    *syncBuffer
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

// stop cancels the manager and returns Run's result.
func (m *instance) stop(t *testing.T) error {
	t.Helper()
	m.once.Do(func() {
		m.cancel()
		select {
		case m.err = <-m.done:
		case <-time.After(30 * time.Second):
			m.err = errors.New("Run did not return within 30s of its context's end")
		}
	})
	return m.err
}

// start runs manager.Run with the flags kubeadm passes (against inst, on
// a free secure port) followed by extra, under identity name. A
// --controllers in extra replaces kubeadm's (a repeated string-slice flag
// would add to it).
func start(t *testing.T, inst *apiservertest.Instance, name string, port int, extra ...string) *instance {
	t.Helper()
	args := append([]string{
		"--kubeconfig=" + inst.Kubeconfig,
		"--authentication-kubeconfig=" + inst.Kubeconfig,
		"--authorization-kubeconfig=" + inst.Kubeconfig,
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		"--client-ca-file=" + filepath.Join(inst.Dir, "ca.crt"),
		"--root-ca-file=" + filepath.Join(inst.Dir, "ca.crt"),
		"--use-service-account-credentials=true",
		"--leader-elect=true",
		// Short timings: a released lease is taken over within a retry.
		"--leader-elect-lease-duration=4s",
		"--leader-elect-renew-deadline=3s",
		"--leader-elect-retry-period=250ms",
	}, extra...)
	if !slices.ContainsFunc(extra, func(a string) bool { return strings.HasPrefix(a, "--controllers=") }) {
		args = append(args, "--controllers=*,bootstrapsigner,tokencleaner")
	}
	opts := manager.NewOptions()
	fs := pflag.NewFlagSet(manager.Name, pflag.ContinueOnError)
	opts.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	opts.Identity = name
	m := &instance{name: name, log: &syncBuffer{}, done: make(chan error, 1)}
	logger := slog.New(slog.NewTextHandler(m.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	go func() { m.done <- manager.Run(ctx, opts, logger) }()
	t.Cleanup(func() {
		if err := m.stop(t); err != nil {
			t.Errorf("manager %s: Run: %v", name, err)
		}
		if t.Failed() {
			t.Logf("manager %s log:\n%s", name, m.log.String())
		}
	})
	return m
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func poll(t *testing.T, timeout time.Duration, what string, cond func(ctx context.Context) bool) {
	t.Helper()
	if err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		return cond(ctx), nil
	}); err != nil {
		t.Fatalf("%s: not within %s", what, timeout)
	}
}

// setup starts etcd and kube-apiserver with kubeadm's service account
// flags (issuer, verification and signing keys: the manager's
// --use-service-account-credentials asks for tokens) and extra, and
// returns it with an admin client.
func setup(t *testing.T, extra ...string) (*apiservertest.Instance, kubernetes.Interface) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: starts etcd and kube-apiserver")
	}
	key, err := pki.NewServiceAccountKey(pki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pub, priv := filepath.Join(dir, "sa.pub"), filepath.Join(dir, "sa.key")
	if err := os.WriteFile(pub, key.PublicPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(priv, key.PrivatePEM, 0o600); err != nil {
		t.Fatal(err)
	}
	inst := apiservertest.Start(t, apiservertest.Options{ExtraFlags: append([]string{
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + pub,
		"--service-account-signing-key-file=" + priv,
	}, extra...)})
	client := inst.Client(t)
	return inst, client
}

func createNamespace(t *testing.T, client kubernetes.Interface, name string) {
	t.Helper()
	if _, err := client.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func hasDefaultAccount(client kubernetes.Interface, ns string) func(ctx context.Context) bool {
	return func(ctx context.Context) bool {
		_, err := client.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
		return err == nil
	}
}

func leaseHolder(ctx context.Context, client kubernetes.Interface) string {
	l, err := client.CoordinationV1().Leases("kube-system").Get(ctx, manager.Name, metav1.GetOptions{})
	if err != nil || l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

// get returns the status and body of an anonymous HTTPS GET on the secure port.
func get(port int, path string) (int, string, error) {
	return getAs(nil, port, path)
}

// getAs is get with as's client certificate (anonymous when nil).
func getAs(as *rest.Config, port int, path string) (int, string, error) {
	tlsCfg := &tls.Config{}
	if as != nil {
		var err error
		if tlsCfg, err = rest.TLSConfigFor(as); err != nil {
			return 0, "", err
		}
		tlsCfg.RootCAs = nil
	}
	tlsCfg.InsecureSkipVerify = true
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsCfg}}
	resp, err := c.Get(fmt.Sprintf("https://127.0.0.1:%d%s", port, path))
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// TestIntegrationControllersFlag: with --controllers=*,-root-ca-cert-publisher
// a new namespace gets its default ServiceAccount and no kube-root-ca.crt;
// the secure port answers /healthz with one check per running controller.
func TestIntegrationControllersFlag(t *testing.T) {
	// RBAC, as kubeadm: the secure port's SubjectAccessReviews for
	// anonymous are denied (AlwaysAllow would allow them, as upstream's).
	inst, client := setup(t, "--authorization-mode=Node,RBAC")
	port := freePort(t)
	// Only the named controller: the others, on by default, are off without
	// "*"; disabling names that are off anyway is allowed.
	m := start(t, inst, "solo", port, "--controllers=serviceaccount,-root-ca-cert-publisher,-namespace")

	createNamespace(t, client, "web")
	poll(t, 30*time.Second, "default ServiceAccount in web", hasDefaultAccount(client, "web"))
	poll(t, 5*time.Second, "lease held by solo", func(ctx context.Context) bool { return leaseHolder(ctx, client) == "solo" })
	// The service account controller synced web after the informers'
	// initial lists: the publisher, had it run, would have synced web too.
	time.Sleep(500 * time.Millisecond)
	if _, err := client.CoreV1().ConfigMaps("web").Get(context.Background(), rootcacertpublisher.ConfigMapName, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("kube-root-ca.crt in web with the publisher disabled: %v", err)
	}
	if log := m.log.String(); !strings.Contains(log, `msg="starting controllers" controllers=[serviceaccount-controller]`) {
		t.Errorf("the manager did not say it starts exactly the service account controller:\n%s", log)
	}

	code, body, err := get(port, "/healthz?verbose")
	want := "[+]ping ok\n[+]leaderElection ok\n[+]serviceaccount-controller ok\nhealthz check passed\n"
	if err != nil || code != http.StatusOK || body != want {
		t.Errorf("/healthz?verbose: %d %q %v; want 200 %q", code, body, err, want)
	}
	for _, path := range []string{"/livez", "/readyz"} {
		if code, body, err := get(port, path); err != nil || code != http.StatusOK || body != "ok" {
			t.Errorf("%s: %d %q %v", path, code, body, err)
		}
	}
	// A single check's path is not always allowed (nor in
	// system:public-info-viewer): anonymous is refused, the admin not.
	if code, _, err := get(port, "/healthz/serviceaccount-controller"); err != nil || code != http.StatusForbidden {
		t.Errorf("anonymous /healthz/serviceaccount-controller: %d %v; want 403", code, err)
	}
	if code, body, err := getAs(inst.Config, port, "/healthz/serviceaccount-controller"); err != nil || code != http.StatusOK || body != "ok" {
		t.Errorf("/healthz/serviceaccount-controller as the admin: %d %q %v", code, body, err)
	}
	// /metrics needs authorization: the admin (system:masters) is always
	// allowed; anonymous is not (RBAC denies its SubjectAccessReview).
	if code, body, err := getAs(inst.Config, port, "/metrics"); err != nil || code != http.StatusOK || !strings.Contains(body, "go_goroutines") {
		t.Errorf("/metrics as the admin: %d %v", code, err)
	}
	if code, body, err := get(port, "/metrics"); err != nil || code != http.StatusForbidden {
		t.Errorf("anonymous /metrics: %d %q %v; want 403", code, body, err)
	}
	if err := m.stop(t); err != nil {
		t.Errorf("Run after cancel: %v", err)
	}
	// Stopping released the lease.
	if h := leaseHolder(context.Background(), client); h != "" {
		t.Errorf("lease still held by %q after the manager stopped", h)
	}
}

// TestIntegrationLeaderElection: of two managers on one apiserver only the
// lease holder runs controllers; cancelling it hands the lease and the
// work to the other.
func TestIntegrationLeaderElection(t *testing.T) {
	inst, client := setup(t)
	a := start(t, inst, "a", freePort(t))
	poll(t, 20*time.Second, "lease held by a", func(ctx context.Context) bool { return leaseHolder(ctx, client) == "a" })
	b := start(t, inst, "b", freePort(t))

	createNamespace(t, client, "first")
	poll(t, 30*time.Second, "default ServiceAccount in first", hasDefaultAccount(client, "first"))
	poll(t, 30*time.Second, "kube-root-ca.crt in first", func(ctx context.Context) bool {
		_, err := client.CoreV1().ConfigMaps("first").Get(ctx, rootcacertpublisher.ConfigMapName, metav1.GetOptions{})
		return err == nil
	})
	poll(t, 5*time.Second, "b sees a as the leader", func(context.Context) bool {
		return strings.Contains(b.log.String(), `msg="new leader elected" lease=kube-system/kube-controller-manager identity=a`)
	})
	if h := leaseHolder(context.Background(), client); h != "a" {
		t.Fatalf("lease holder %q, want a", h)
	}
	if strings.Contains(b.log.String(), "starting controllers") {
		t.Fatalf("b started controllers without the lease:\n%s", b.log.String())
	}

	if err := a.stop(t); err != nil {
		t.Errorf("a: Run after cancel: %v", err)
	}
	poll(t, 20*time.Second, "lease taken over by b", func(ctx context.Context) bool { return leaseHolder(ctx, client) == "b" })
	poll(t, 5*time.Second, "b starts the controllers", func(context.Context) bool {
		return strings.Contains(b.log.String(), "starting controllers")
	})
	createNamespace(t, client, "second")
	poll(t, 30*time.Second, "default ServiceAccount in second", hasDefaultAccount(client, "second"))
	// The namespace controller empties and finalizes a deleted namespace
	// (its ServiceAccount and ConfigMap included).
	if err := client.CoreV1().Namespaces().Delete(context.Background(), "first", metav1.DeleteOptions{}); err != nil {
		t.Fatalf("deleting namespace first: %v", err)
	}
	poll(t, 60*time.Second, "namespace first gone", func(ctx context.Context) bool {
		_, err := client.CoreV1().Namespaces().Get(ctx, "first", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})

	// The leader election events upstream records on the Lease.
	poll(t, 10*time.Second, "LeaderElection events for a and b", func(ctx context.Context) bool {
		evs, err := client.CoreV1().Events("kube-system").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false
		}
		seen := map[string]bool{}
		for _, e := range evs.Items {
			if e.Reason == "LeaderElection" && e.InvolvedObject.Kind == "Lease" && e.InvolvedObject.Name == manager.Name {
				seen[e.Message] = true
			}
		}
		return seen["a became leader"] && seen["b became leader"]
	})
}
