package pod

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kinc-dev/kinc/pkg/apiserver/handlers"
	"github.com/kinc-dev/kinc/pkg/apiserver/proxy"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// upgradeMethods are the methods of exec, attach and portforward: POST
// for SPDY clients, GET for WebSocket ones (browsers cannot POST one).
var upgradeMethods = []string{"GET", "POST"}

// The streaming subresources: their discovery entries are upstream's.
func execSubresource(k *proxy.Kubelets) registry.Subresource {
	return streamSubresource(k, "exec", "PodExecOptions", &corev1.PodExecOptions{})
}

func attachSubresource(k *proxy.Kubelets) registry.Subresource {
	return streamSubresource(k, "attach", "PodAttachOptions", &corev1.PodAttachOptions{})
}

func portForwardSubresource(k *proxy.Kubelets) registry.Subresource {
	return streamSubresource(k, "portforward", "PodPortForwardOptions", &corev1.PodPortForwardOptions{})
}

func streamSubresource(k *proxy.Kubelets, name, kind string, opts runtime.Object) registry.Subresource {
	return registry.Subresource{Name: name, Kind: corev1.SchemeGroupVersion.WithKind(kind), Verbs: []string{"create", "get"},
		Options: opts, ConnectMethods: upgradeMethods,
		Connecter: func(st registry.Store) registry.Connecter {
			return &streamConnecter{pods: st, kubelets: k, sub: name}
		}}
}

// streamConnecter serves pods/exec, pods/attach and pods/portforward: it
// checks the pod and container as upstream does and relays the upgraded
// connection to the kubelet of the pod's node. SPDY is relayed as it is;
// WebSocket v5 exec/attach and tunnelled port-forwards are translated to
// SPDY (see package proxy), since kubelets speak SPDY only.
type streamConnecter struct {
	pods     registry.Store
	kubelets *proxy.Kubelets
	sub      string // exec, attach or portforward
}

func (c *streamConnecter) Connect(w http.ResponseWriter, r *http.Request, ns, name string) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		handlers.WriteError(w, r, apierrors.NewMethodNotSupported(schema.GroupResource{Resource: "pods/" + c.sub}, r.Method))
		return
	}
	q := r.URL.Query()
	if _, ok := q["dryRun"]; ok {
		handlers.WriteError(w, r, apierrors.NewBadRequest("dryRun is not supported"))
		return
	}
	var (
		loc     *url.URL
		streams proxy.Streams
		err     error
	)
	switch c.sub {
	case "exec":
		opts := ExecOptions(q)
		loc, err = ExecLocation(r.Context(), c.pods, c.kubelets, ns, name, opts)
		streams = proxy.Streams{Stdin: opts.Stdin, Stdout: opts.Stdout, Stderr: opts.Stderr, TTY: opts.TTY}
	case "attach":
		opts := AttachOptions(q)
		loc, err = AttachLocation(r.Context(), c.pods, c.kubelets, ns, name, opts)
		streams = proxy.Streams{Stdin: opts.Stdin, Stdout: opts.Stdout, Stderr: opts.Stderr, TTY: opts.TTY}
	default:
		var opts *corev1.PodPortForwardOptions
		if opts, err = PortForwardOptions(q); err == nil {
			loc, err = PortForwardLocation(r.Context(), c.pods, c.kubelets, ns, name, opts)
		}
	}
	if err != nil {
		handlers.WriteError(w, r, err)
		return
	}
	transport := c.kubelets.Transport()
	switch {
	case c.sub != "portforward" && proxy.IsStreamCloseWebSocket(r):
		(&proxy.Translator{Location: loc, Transport: transport, Streams: streams}).ServeHTTP(w, r)
	case c.sub == "portforward" && proxy.IsTunnelingWebSocket(r):
		(&proxy.Tunnel{Location: loc, Transport: transport}).ServeHTTP(w, r)
	default:
		proxy.Upgrading(loc, transport, false, true).ServeHTTP(w, r)
	}
}

// ExecOptions reads PodExecOptions from query parameters as upstream's
// conversion does: a boolean is false when absent, "0" or "false", true
// otherwise; command repeats.
func ExecOptions(q url.Values) *corev1.PodExecOptions {
	return &corev1.PodExecOptions{Stdin: queryBool(q, "stdin"), Stdout: queryBool(q, "stdout"), Stderr: queryBool(q, "stderr"),
		TTY: queryBool(q, "tty"), Container: q.Get("container"), Command: q["command"]}
}

// AttachOptions reads PodAttachOptions from query parameters (see
// ExecOptions).
func AttachOptions(q url.Values) *corev1.PodAttachOptions {
	return &corev1.PodAttachOptions{Stdin: queryBool(q, "stdin"), Stdout: queryBool(q, "stdout"), Stderr: queryBool(q, "stderr"),
		TTY: queryBool(q, "tty"), Container: q.Get("container")}
}

// PortForwardOptions reads PodPortForwardOptions from query parameters:
// ports repeats or holds a comma-separated list; each is a 16-bit number
// (a 400 otherwise, as upstream).
func PortForwardOptions(q url.Values) (*corev1.PodPortForwardOptions, error) {
	opts := &corev1.PodPortForwardOptions{}
	for _, v := range q["ports"] {
		for _, p := range strings.Split(v, ",") {
			n, err := strconv.ParseUint(p, 10, 16)
			if err != nil {
				return nil, apierrors.NewBadRequest(fmt.Sprintf("cannot convert to []int32: %v", err))
			}
			opts.Ports = append(opts.Ports, int32(n))
		}
	}
	return opts, nil
}

func queryBool(q url.Values, key string) bool {
	vs, ok := q[key]
	if !ok || len(vs) == 0 {
		return false
	}
	return vs[0] != "0" && !strings.EqualFold(vs[0], "false")
}

// ExecLocation returns the kubelet URL of an exec into a container of pod
// ns/name: /exec/{ns}/{pod}/{container}?command=…&input=1&output=1&error=1&tty=1.
// The container defaults to the pod's only one.
func ExecLocation(ctx context.Context, pods registry.Store, k *proxy.Kubelets, ns, name string, opts *corev1.PodExecOptions) (*url.URL, error) {
	params := streamParams(opts.Stdin, opts.Stdout, opts.Stderr, opts.TTY)
	for _, c := range opts.Command {
		params.Add("command", c)
	}
	return streamLocation(ctx, pods, k, ns, name, opts.Container, "exec", params)
}

// AttachLocation returns the kubelet URL of an attach to a container of
// pod ns/name (see ExecLocation).
func AttachLocation(ctx context.Context, pods registry.Store, k *proxy.Kubelets, ns, name string, opts *corev1.PodAttachOptions) (*url.URL, error) {
	return streamLocation(ctx, pods, k, ns, name, opts.Container, "attach", streamParams(opts.Stdin, opts.Stdout, opts.Stderr, opts.TTY))
}

// PortForwardLocation returns the kubelet URL of a port-forward to pod
// ns/name: /portForward/{ns}/{pod}, with port=p1,p2 when ports are given.
func PortForwardLocation(ctx context.Context, pods registry.Store, k *proxy.Kubelets, ns, name string, opts *corev1.PodPortForwardOptions) (*url.URL, error) {
	pod, err := getPod(ctx, pods, ns, name)
	if err != nil {
		return nil, err
	}
	params := url.Values{}
	if len(opts.Ports) > 0 {
		ports := make([]string, len(opts.Ports))
		for i, p := range opts.Ports {
			ports[i] = strconv.Itoa(int(p))
		}
		params.Set("port", strings.Join(ports, ","))
	}
	return kubeletLocation(ctx, k, pod, fmt.Sprintf("/portForward/%s/%s", pod.Namespace, pod.Name), params)
}

// streamParams are the kubelet's stream query parameters.
func streamParams(stdin, stdout, stderr, tty bool) url.Values {
	params := url.Values{}
	for _, p := range []struct {
		on  bool
		key string
	}{{stdin, "input"}, {stdout, "output"}, {stderr, "error"}, {tty, "tty"}} {
		if p.on {
			params.Add(p.key, "1")
		}
	}
	return params
}

func streamLocation(ctx context.Context, pods registry.Store, k *proxy.Kubelets, ns, name, container, path string, params url.Values) (*url.URL, error) {
	pod, err := getPod(ctx, pods, ns, name)
	if err != nil {
		return nil, err
	}
	if container, err = ValidateContainer(container, pod); err != nil {
		return nil, err
	}
	return kubeletLocation(ctx, k, pod, fmt.Sprintf("/%s/%s/%s/%s", path, pod.Namespace, pod.Name, container), params)
}

// kubeletLocation is path on the kubelet of pod's node.
func kubeletLocation(ctx context.Context, k *proxy.Kubelets, pod *corev1.Pod, path string, params url.Values) (*url.URL, error) {
	if pod.Spec.NodeName == "" {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("pod %s does not have a host assigned", pod.Name))
	}
	loc, err := k.Location(ctx, pod.Spec.NodeName)
	if err != nil {
		return nil, err
	}
	loc.Path, loc.RawQuery = path, params.Encode()
	return loc, nil
}

func getPod(ctx context.Context, pods registry.Store, ns, name string) (*corev1.Pod, error) {
	obj, err := pods.Get(ctx, ns, name, nil)
	if err != nil {
		return nil, err
	}
	return obj.(*corev1.Pod), nil
}

// ValidateContainer returns the container of pod a request names, as
// upstream: the pod's only container when none is named, else a 400
// listing the pod's containers (init, regular and ephemeral); a named
// container must be one of them.
func ValidateContainer(container string, pod *corev1.Pod) (string, error) {
	if container == "" {
		switch len(pod.Spec.Containers) {
		case 1:
			return pod.Spec.Containers[0].Name, nil
		case 0:
			return "", apierrors.NewBadRequest(fmt.Sprintf("a container name must be specified for pod %s", pod.Name))
		default:
			return "", apierrors.NewBadRequest(fmt.Sprintf("a container name must be specified for pod %s, choose one of: %s", pod.Name, containerNames(pod)))
		}
	}
	for _, n := range containerNames(pod) {
		if n == container {
			return container, nil
		}
	}
	return "", apierrors.NewBadRequest(fmt.Sprintf("container %s is not valid for pod %s", container, pod.Name))
}

// containerNames lists pod's init, regular and ephemeral containers.
func containerNames(pod *corev1.Pod) []string {
	var names []string
	for _, c := range pod.Spec.InitContainers {
		names = append(names, c.Name)
	}
	for _, c := range pod.Spec.Containers {
		names = append(names, c.Name)
	}
	for _, c := range pod.Spec.EphemeralContainers {
		names = append(names, c.Name)
	}
	return names
}
