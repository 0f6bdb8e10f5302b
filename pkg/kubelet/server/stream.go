package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/proxy"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/streaming/pkg/httpstream/wsstream"

	"github.com/kinc-dev/kinc/pkg/kubelet/cri"
)

// Runtime is what the streaming endpoints call: the CRI Exec, Attach and
// PortForward (whose URLs the kubelet proxies to) and ExecSync (for /run).
// *cri.Client implements it.
type Runtime interface {
	cri.Streaming
	// ExecSync runs cmd in a running container and waits for it (timeout
	// seconds, 0: none); a non-zero exit is in the response, not an error.
	ExecSync(ctx context.Context, id string, cmd []string, timeout int64) (*runtimeapi.ExecSyncResponse, error)
}

// RuntimePod is the runtime's view of a pod, as the streaming endpoints
// need it.
type RuntimePod struct {
	// SandboxID is the id of the pod's newest ready sandbox; "" when none is ready.
	SandboxID string
	// Containers holds the CRI ids of the pod's running containers by
	// container name; containers that are not running are absent.
	Containers map[string]string
}

// The query parameters of exec and attach (as upstream's remotecommand).
const (
	paramCommand = "command"
	paramStdin   = "input"
	paramStdout  = "output"
	paramStderr  = "error"
	paramTTY     = "tty"
	paramPort    = "port"
)

// streamOptions are the streams a client asks for.
type streamOptions struct {
	stdin, stdout, stderr, tty bool
}

// parseStreamOptions reads the stream flags ("1" is true) as upstream: a
// TTY merges stderr into stdout, and at least one stream is required.
func parseStreamOptions(r *http.Request) (streamOptions, error) {
	o := streamOptions{
		stdin:  r.FormValue(paramStdin) == "1",
		stdout: r.FormValue(paramStdout) == "1",
		stderr: r.FormValue(paramStderr) == "1",
		tty:    r.FormValue(paramTTY) == "1",
	}
	if o.tty {
		o.stderr = false
	}
	if !o.stdin && !o.stdout && !o.stderr {
		return o, errors.New("you must specify at least 1 of stdin, stdout, stderr")
	}
	return o, nil
}

// parsePorts checks the "port" query parameters a WebSocket port-forward
// names (SPDY clients name ports per stream instead), as upstream.
func parsePorts(r *http.Request) error {
	if !wsstream.IsWebSocketRequest(r) || wsstream.IsWebSocketRequestWithTunnelingProtocol(r) {
		return nil
	}
	ports := r.URL.Query()[paramPort]
	if len(ports) == 0 {
		return fmt.Errorf("query parameter %q is required", paramPort)
	}
	for _, s := range ports {
		if s == "" {
			return fmt.Errorf("query parameter %q cannot be empty", paramPort)
		}
		for _, p := range strings.Split(s, ",") {
			n, err := strconv.ParseUint(p, 10, 16)
			if err != nil {
				return fmt.Errorf("unable to parse %q as a port: %v", s, err)
			}
			if n < 1 {
				return fmt.Errorf("port %q must be > 0", s)
			}
		}
	}
	return nil
}

// PodLookup is what the streaming endpoints need from the kubelet.
// Implementations are safe for concurrent use.
type PodLookup interface {
	// PodByName returns the pod namespace/name the kubelet runs (a pod
	// being killed counts until it is gone), or false.
	PodByName(namespace, name string) (*v1.Pod, bool)
	// RuntimePod returns the runtime's view of the pod with uid: empty
	// (not an error) when the runtime has nothing of it.
	RuntimePod(ctx context.Context, uid types.UID) (*RuntimePod, error)
}

// streamer serves /exec, /attach, /portForward and /run.
type streamer struct {
	p      PodLookup
	rt     Runtime
	logger *slog.Logger
}

// target is the pod (and container) a streaming request names.
type target struct {
	namespace, pod, container string
	uid                       types.UID
}

func targetOf(r *http.Request) target {
	return target{namespace: r.PathValue("namespace"), pod: r.PathValue("pod"),
		container: r.PathValue("container"), uid: types.UID(r.PathValue("uid"))}
}

// fullName is upstream's pod full name, "<name>_<namespace>", used in its messages.
func (t target) fullName() string { return t.pod + "_" + t.namespace }

// find returns the pod a request names and its runtime view. It writes the
// error response itself (404 "pod does not exist" as upstream) and returns
// false then.
func (s *streamer) find(w http.ResponseWriter, r *http.Request, t target) (*v1.Pod, *RuntimePod, bool) {
	pod, ok := s.p.PodByName(t.namespace, t.pod)
	if !ok {
		writeText(w, http.StatusNotFound, "pod does not exist")
		return nil, nil, false
	}
	rp := &RuntimePod{}
	if t.uid == "" || t.uid == pod.UID {
		var err error
		if rp, err = s.p.RuntimePod(r.Context(), pod.UID); err != nil {
			writeRuntimeError(w, err)
			return nil, nil, false
		}
	}
	return pod, rp, true
}

func (s *streamer) serveExec(w http.ResponseWriter, r *http.Request) {
	opts, err := parseStreamOptions(r)
	if err != nil {
		writeText(w, http.StatusBadRequest, err.Error())
		return
	}
	cmd := r.URL.Query()[paramCommand]
	if len(cmd) == 0 {
		writeText(w, http.StatusBadRequest, "you must specify at least one command for the container")
		return
	}
	t := targetOf(r)
	id, ok := s.runningContainer(w, r, t)
	if !ok {
		return
	}
	resp, err := s.rt.Exec(r.Context(), &runtimeapi.ExecRequest{ContainerId: id, Cmd: cmd, Tty: opts.tty,
		Stdin: opts.stdin, Stdout: opts.stdout, Stderr: opts.stderr})
	if err != nil {
		writeRuntimeError(w, err)
		return
	}
	s.stream(w, r, resp.GetUrl(), opts)
}

func (s *streamer) serveAttach(w http.ResponseWriter, r *http.Request) {
	opts, err := parseStreamOptions(r)
	if err != nil {
		writeText(w, http.StatusBadRequest, err.Error())
		return
	}
	t := targetOf(r)
	pod, rp, ok := s.find(w, r, t)
	if !ok {
		return
	}
	id, ok := rp.Containers[t.container]
	spec := containerSpec(pod, t.container)
	if !ok || spec == nil {
		writeText(w, http.StatusInternalServerError, fmt.Sprintf("container %s not found in pod %s", t.container, t.fullName()))
		return
	}
	// Whether the process has a TTY was fixed when it started: the spec says.
	resp, err := s.rt.Attach(r.Context(), &runtimeapi.AttachRequest{ContainerId: id, Tty: spec.TTY,
		Stdin: opts.stdin, Stdout: opts.stdout, Stderr: opts.stderr})
	if err != nil {
		writeRuntimeError(w, err)
		return
	}
	s.stream(w, r, resp.GetUrl(), opts)
}

func (s *streamer) servePortForward(w http.ResponseWriter, r *http.Request) {
	if err := parsePorts(r); err != nil {
		writeText(w, http.StatusBadRequest, err.Error())
		return
	}
	t := targetOf(r)
	pod, ok := s.p.PodByName(t.namespace, t.pod)
	if !ok {
		writeText(w, http.StatusNotFound, "pod does not exist")
		return
	}
	if t.uid != "" && t.uid != pod.UID {
		writeText(w, http.StatusNotFound, "pod not found")
		return
	}
	rp, err := s.p.RuntimePod(r.Context(), pod.UID)
	if err != nil {
		writeRuntimeError(w, err)
		return
	}
	if rp.SandboxID == "" {
		writeText(w, http.StatusInternalServerError, fmt.Sprintf("pod not found (%q)", t.fullName()))
		return
	}
	// Ports travel per stream (SPDY) or in the query the proxy forwards
	// (WebSocket); the runtime's session is for the whole sandbox.
	resp, err := s.rt.PortForward(r.Context(), &runtimeapi.PortForwardRequest{PodSandboxId: rp.SandboxID})
	if err != nil {
		writeRuntimeError(w, err)
		return
	}
	loc, ok := parseRuntimeURL(w, resp.GetUrl())
	if !ok {
		return
	}
	if wsstream.IsWebSocketRequestWithTunnelingProtocol(r) {
		s.tunnelPortForward(w, r, loc)
		return
	}
	s.proxy(w, r, loc)
}

// serveRun runs the space-separated "cmd" in a container and answers its
// stdout then stderr, as upstream's /run; a non-zero exit is a 500 naming
// the command, the code and stderr.
func (s *streamer) serveRun(w http.ResponseWriter, r *http.Request) {
	t := targetOf(r)
	id, ok := s.runningContainer(w, r, t)
	if !ok {
		return
	}
	cmd := strings.Split(r.FormValue("cmd"), " ")
	resp, err := s.rt.ExecSync(r.Context(), id, cmd, 0)
	if err != nil {
		writeText(w, http.StatusInternalServerError, err.Error())
		return
	}
	if resp.GetExitCode() != 0 {
		writeText(w, http.StatusInternalServerError, fmt.Sprintf("command '%s' exited with %d: %s",
			strings.Join(cmd, " "), resp.GetExitCode(), resp.GetStderr()))
		return
	}
	out := append(append([]byte(nil), resp.GetStdout()...), resp.GetStderr()...)
	if len(out) == 0 {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Header().Set("Content-Type", "application/json") // sic: upstream's
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

// stream serves an exec or attach session at the runtime's URL: translated
// for v5.channel.k8s.io WebSocket clients, proxied for the others.
func (s *streamer) stream(w http.ResponseWriter, r *http.Request, rawURL string, opts streamOptions) {
	loc, ok := parseRuntimeURL(w, rawURL)
	if !ok {
		return
	}
	if wsstream.IsWebSocketRequestWithStreamCloseProtocol(r) {
		s.translateV5(w, r, loc, opts)
		return
	}
	s.proxy(w, r, loc)
}

func parseRuntimeURL(w http.ResponseWriter, rawURL string) (*url.URL, bool) {
	loc, err := url.Parse(rawURL)
	if err != nil {
		writeText(w, http.StatusInternalServerError, fmt.Sprintf("runtime streaming URL %q: %v", rawURL, err))
		return nil, false
	}
	return loc, true
}

// proxy hands the client's upgraded connection to the runtime's streaming
// URL and copies both ways until either side closes (then both are closed,
// so no copier outlives the request). A request that is not an upgrade is
// refused (500, as upstream); a runtime that answers an error has it
// passed on.
func (s *streamer) proxy(w http.ResponseWriter, r *http.Request, loc *url.URL) {
	if loc.RawQuery == "" {
		// WebSocket clients name ports and streams in the query.
		loc.RawQuery = r.URL.RawQuery
	}
	h := proxy.NewUpgradeAwareHandler(loc, nil, false, true, responder{s.logger})
	h.ServeHTTP(w, r)
}

// responder reports proxying errors as upstream's kubelet: 500 with the
// text, also for a request that is not an upgrade.
type responder struct{ logger *slog.Logger }

func (r responder) Error(w http.ResponseWriter, req *http.Request, err error) {
	r.logger.Warn("proxying a streaming request", "path", req.URL.Path, "err", err)
	writeText(w, http.StatusInternalServerError, err.Error())
}

// containerSpec returns the named container of pod (regular, init or
// ephemeral), or nil.
func containerSpec(pod *v1.Pod, name string) *v1.Container {
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == name {
			return &pod.Spec.Containers[i]
		}
	}
	for i := range pod.Spec.InitContainers {
		if pod.Spec.InitContainers[i].Name == name {
			return &pod.Spec.InitContainers[i]
		}
	}
	for i := range pod.Spec.EphemeralContainers {
		if pod.Spec.EphemeralContainers[i].Name == name {
			c := v1.Container(pod.Spec.EphemeralContainers[i].EphemeralContainerCommon)
			return &c
		}
	}
	return nil
}

// writeRuntimeError answers a CRI error as upstream's streaming
// WriteError: NotFound 404, ResourceExhausted 429, anything else 500.
func writeRuntimeError(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	switch grpcstatus.Code(err) {
	case codes.NotFound:
		code = http.StatusNotFound
	case codes.ResourceExhausted:
		w.Header().Set("Retry-After", "60")
		code = http.StatusTooManyRequests
	}
	writeText(w, code, err.Error())
}

// writeText answers code with msg as the plain-text body.
func writeText(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(msg))
}

// runningContainer finds t's running container for exec and /run, or
// answers as upstream does (the pod's 404, or 500 "container not found").
func (s *streamer) runningContainer(w http.ResponseWriter, r *http.Request, t target) (string, bool) {
	_, rp, ok := s.find(w, r, t)
	if !ok {
		return "", false
	}
	id, ok := rp.Containers[t.container]
	if !ok {
		writeText(w, http.StatusInternalServerError, fmt.Sprintf("container not found (%q)", t.container))
		return "", false
	}
	return id, true
}
