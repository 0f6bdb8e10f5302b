// Package apiservertest starts the real kube-apiserver binary against an
// in-process etcd for integration tests, with generated certificates, an
// admin kubeconfig and a token file.
package apiservertest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kinc-dev/kinc/pkg/apiserver/storage/storagetest"
	"github.com/kinc-dev/kinc/pkg/pki"
	"github.com/kinc-dev/kinc/pkg/pki/kubeconfig"
)

// Token is a bearer token the instance accepts, for user "token-user" in
// group "token-group".
const Token = "kinc-test-token-0123456789"

// Instance is a running kube-apiserver.
type Instance struct {
	URL        string
	Kubeconfig string // admin kubeconfig (client certificate, O=system:masters)
	Dir        string // certificates and logs
	CA         *pki.CA
	Config     *rest.Config
	LogPath    string
	// Etcd is a client of the instance's in-process etcd (for compaction
	// and raw-etcd baselines).
	Etcd *clientv3.Client
	bin  string
	args []string
	cmd  *exec.Cmd
	done chan struct{}
}

// Options tunes Start. Extra flags are appended to the command line.
type Options struct {
	ExtraFlags []string
	// ServiceAccountAdmission keeps the ServiceAccount admission plugin on.
	// It is off by default (--disable-admission-plugins=ServiceAccount, as
	// upstream's integration test servers do): without a controller-manager
	// no namespace gets its default ServiceAccount, and every pod would be
	// refused. With it, ExtraFlags must not name
	// --disable-admission-plugins.
	ServiceAccountAdmission bool
}

var buildOnce struct {
	sync.Once
	path string
	err  error
}

// Binary builds cmd/kube-apiserver once per test process and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		// One directory per test process, named by its pid: nothing can
		// remove it when the process ends, so each build first removes the
		// directories of processes that are gone (~70 MB each).
		sweepBinaries()
		dir := filepath.Join(os.TempDir(), binDirPrefix+strconv.Itoa(os.Getpid()))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			buildOnce.err = err
			return
		}
		buildOnce.path = filepath.Join(dir, "kube-apiserver")
		cmd := exec.Command("go", "build", "-o", buildOnce.path, "github.com/kinc-dev/kinc/cmd/kube-apiserver")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildOnce.err = fmt.Errorf("go build kube-apiserver: %v\n%s", err, out)
		}
	})
	if buildOnce.err != nil {
		t.Fatal(buildOnce.err)
	}
	return buildOnce.path
}

// binDirPrefix starts the name of Binary's directories in os.TempDir().
const binDirPrefix = "kinc-apiserver-bin-"

// sweepBinaries removes the binary directories of test processes that no
// longer run (and, from before they were named by pid, those older than an
// hour).
func sweepBinaries() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), binDirPrefix+"*"))
	for _, d := range dirs {
		pid, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(d), binDirPrefix))
		if err == nil {
			if err := syscall.Kill(pid, 0); err == nil || errors.Is(err, syscall.EPERM) {
				continue // still running (perhaps as another user)
			}
		} else if fi, err := os.Stat(d); err != nil || time.Since(fi.ModTime()) < time.Hour {
			continue
		}
		_ = os.RemoveAll(d)
	}
}

// Start runs etcd in-process and the kube-apiserver binary on a free port,
// and waits until /readyz answers. Everything is stopped at test cleanup.
// The apiserver allows privileged containers (--allow-privileged=true, as
// kubeadm configures it).
func Start(t testing.TB, opts Options) *Instance {
	t.Helper()
	inst := prepare(t, opts)
	inst.launch(t)
	t.Cleanup(inst.Stop)
	inst.waitReady(t)
	return inst
}

// StartFailing runs the apiserver as Start would, expecting it to exit
// before it is ready (bad flags); it returns what the apiserver logged, and
// fails t if it became ready or did not exit within 60s.
func StartFailing(t testing.TB, opts Options) string {
	t.Helper()
	inst := prepare(t, opts)
	inst.launch(t)
	t.Cleanup(inst.Stop)
	select {
	case <-inst.done:
		return inst.Log()
	case <-time.After(60 * time.Second):
		t.Fatalf("kube-apiserver still running after 60s:\n%s", inst.Log())
		return ""
	}
}

// prepare starts etcd, writes the certificates and kubeconfig, and returns
// the instance with its command line, not yet launched.
func prepare(t testing.TB, opts Options) *Instance {
	t.Helper()
	bin := Binary(t)
	etcd := storagetest.RunEtcd(t)
	dir := t.TempDir()
	inst := &Instance{Dir: dir, LogPath: filepath.Join(dir, "kube-apiserver.log"), Etcd: etcd, bin: bin}

	ca, err := pki.NewCA("kubernetes", pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	inst.CA = ca
	serving, err := ca.Issue(pki.ServerSpec("kube-apiserver", []string{"localhost", "kubernetes", "kubernetes.default.svc"},
		[]net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.96.0.1")}))
	if err != nil {
		t.Fatal(err)
	}
	admin, err := ca.Issue(pki.ClientSpec("kubernetes-admin", "system:masters"))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caFile := write("ca.crt", ca.CertPEM)
	port := freePort(t)
	inst.URL = "https://127.0.0.1:" + strconv.Itoa(port)

	args := []string{
		"--etcd-servers=" + strings.Join(etcd.Endpoints(), ","),
		"--secure-port=" + strconv.Itoa(port),
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--tls-cert-file=" + write("apiserver.crt", serving.CertPEM),
		"--tls-private-key-file=" + write("apiserver.key", serving.KeyPEM),
		"--client-ca-file=" + caFile,
		"--token-auth-file=" + write("tokens.csv", []byte(Token+",token-user,token-uid,\"token-group\"\n")),
		"--service-cluster-ip-range=10.96.0.0/16",
		"--anonymous-auth=true",
		"--allow-privileged=true",
	}
	if !opts.ServiceAccountAdmission {
		args = append(args, "--disable-admission-plugins=ServiceAccount")
	}
	inst.args = append(args, opts.ExtraFlags...)

	cfg, err := kubeconfig.Build(kubeconfig.Params{Server: inst.URL, CAData: ca.CertPEM, ClientCertData: admin.CertPEM,
		ClientKeyData: admin.KeyPEM, ClusterName: "kinc-test", UserName: "kinc-test", ContextName: "kinc-test"})
	if err != nil {
		t.Fatal(err)
	}
	inst.Kubeconfig = filepath.Join(dir, "admin.conf")
	if err := kubeconfig.WriteFile(inst.Kubeconfig, cfg); err != nil {
		t.Fatal(err)
	}
	if inst.Config, err = kubeconfig.RESTConfig(cfg, "kinc-test"); err != nil {
		t.Fatal(err)
	}
	inst.Config.QPS, inst.Config.Burst = 1000, 2000
	return inst
}

// launch starts the binary, appending to the log.
func (i *Instance) launch(t testing.TB) {
	t.Helper()
	logFile, err := os.OpenFile(i.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	i.cmd = exec.Command(i.bin, i.args...)
	i.cmd.Stdout, i.cmd.Stderr = logFile, logFile
	if err := i.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	i.done = done
	cmd := i.cmd
	go func() { _ = cmd.Wait(); logFile.Close(); close(done) }()
}

// Restart stops the apiserver process and starts it again with the same
// flags, etcd and port, waiting until it is ready. Open watches end.
func (i *Instance) Restart(t testing.TB) {
	t.Helper()
	i.Stop()
	i.launch(t)
	i.waitReady(t)
}

// Pid returns the apiserver's process id.
func (i *Instance) Pid() int { return i.cmd.Process.Pid }

// Stop stops the apiserver (SIGTERM, then SIGKILL after 10s).
func (i *Instance) Stop() {
	if i.cmd == nil || i.cmd.Process == nil {
		return
	}
	select {
	case <-i.done:
		return
	default:
	}
	_ = i.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-i.done:
	case <-time.After(10 * time.Second):
		_ = i.cmd.Process.Kill()
		<-i.done
	}
}

// Log returns what the apiserver logged so far.
func (i *Instance) Log() string {
	b, _ := os.ReadFile(i.LogPath)
	return string(b)
}

func (i *Instance) waitReady(t testing.TB) {
	t.Helper()
	// The admin certificate: /readyz needs credentials with --anonymous-auth=false.
	admin, err := tls.X509KeyPair(i.Config.CertData, i.Config.KeyData)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: i.CA.Pool(), Certificates: []tls.Certificate{admin}}}}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		select {
		case <-i.done:
			t.Fatalf("kube-apiserver exited before it was ready:\n%s", i.Log())
		default:
		}
		resp, err := client.Get(i.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("kube-apiserver not ready after 60s (last error %v):\n%s", err, i.Log())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Client returns a clientset on the instance's admin Config; it fails t
// when one cannot be made.
func (i *Instance) Client(t testing.TB) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(i.Config)
	if err != nil {
		t.Fatalf("clientset for %s: %v", i.URL, err)
	}
	return cs
}
