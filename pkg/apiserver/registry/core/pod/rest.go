package pod

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kinc-dev/kinc/pkg/apiserver/handlers"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// bindingSubresource is pods/binding (POST a v1 Binding).
func bindingSubresource() registry.Subresource {
	return registry.Subresource{Name: "binding", Kind: corev1.SchemeGroupVersion.WithKind("Binding"), Verbs: []string{"create"},
		Creater: func(st registry.Store) registry.Creater { return bindingCreater{pods: st} }}
}

// logSubresource is pods/log, proxied from the kubelet of the pod's node,
// found through the nodes store of deps.
func logSubresource(deps registry.Deps) registry.Subresource {
	nodes := func() registry.Store { return deps.Stores(corev1.SchemeGroupVersion.WithResource("nodes")) }
	return registry.Subresource{Name: "log", Verbs: []string{"get"}, Options: &corev1.PodLogOptions{}, Produces: []string{"text/plain"},
		Connecter: func(st registry.Store) registry.Connecter {
			return &logConnecter{pods: st, nodes: nodes, kubelet: deps.Kubelet}
		}}
}

// bindingCreater serves pods/binding: it sets spec.nodeName of an unbound
// pod (409 when already bound) and its PodScheduled condition.
type bindingCreater struct{ pods registry.Store }

func (b bindingCreater) New() runtime.Object { return &corev1.Binding{} }

func (b bindingCreater) Create(ctx context.Context, ns, name string, obj runtime.Object, dryRun bool) (runtime.Object, error) {
	binding := obj.(*corev1.Binding)
	if binding.Name == "" {
		binding.Name = name
	}
	if binding.Name != name {
		return nil, apierrors.NewBadRequest("the name of the binding does not match the name of the pod")
	}
	bind := func(o runtime.Object) error { return ApplyBinding(o.(*corev1.Pod), binding) }
	if dryRun {
		cur, err := b.pods.Get(ctx, ns, name, nil)
		if err != nil {
			return nil, err
		}
		if err := bind(cur); err != nil {
			return nil, err
		}
	} else if _, err := b.pods.Mutate(ctx, ns, name, bind); err != nil {
		return nil, err
	}
	return &metav1.Status{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Status"}, Status: metav1.StatusSuccess, Code: http.StatusCreated}, nil
}

// logConnecter serves pods/log by proxying to the kubelet of the pod's node
// (https://<node InternalIP>:<kubelet port>/containerLogs/...), authenticated
// with --kubelet-client-certificate/--kubelet-client-key.
type logConnecter struct {
	pods    registry.Store
	nodes   func() registry.Store
	kubelet registry.KubeletClientConfig
}

func (l *logConnecter) Connect(w http.ResponseWriter, r *http.Request, ns, name string) {
	if r.Method != http.MethodGet {
		handlers.WriteError(w, r, apierrors.NewMethodNotSupported(schema.GroupResource{Resource: "pods/log"}, r.Method))
		return
	}
	target, err := l.location(r, ns, name)
	if err != nil {
		handlers.WriteError(w, r, err)
		return
	}
	client, err := l.client()
	if err != nil {
		handlers.WriteError(w, r, apierrors.NewInternalError(err))
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, target.String(), nil)
	if err != nil {
		handlers.WriteError(w, r, apierrors.NewInternalError(err))
		return
	}
	resp, err := client.Do(req)
	if err != nil {
		handlers.WriteError(w, r, apierrors.NewServiceUnavailable(fmt.Sprintf("unable to reach the kubelet of pod %s/%s: %v", ns, name, err)))
		return
	}
	defer resp.Body.Close()
	for _, h := range []string{"Content-Type", "Content-Length"} {
		if v := resp.Header.Get(h); v != "" {
			w.Header().Set(h, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	flusher, _ := w.(http.Flusher)
	buf := make([]byte, 32*1024)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
		if err != nil { // io.EOF or a broken stream: either way the log ends here
			return
		}
	}
}

// location finds the kubelet URL of a pod's container log.
func (l *logConnecter) location(r *http.Request, ns, name string) (*url.URL, error) {
	obj, err := l.pods.Get(r.Context(), ns, name, nil)
	if err != nil {
		return nil, err
	}
	pod := obj.(*corev1.Pod)
	q := r.URL.Query()
	container := q.Get("container")
	if container == "" {
		if len(pod.Spec.Containers) != 1 {
			names := make([]string, 0, len(pod.Spec.Containers))
			for _, c := range pod.Spec.Containers {
				names = append(names, c.Name)
			}
			return nil, apierrors.NewBadRequest(fmt.Sprintf("a container name must be specified for pod %s, choose one of: %v", name, names))
		}
		container = pod.Spec.Containers[0].Name
	}
	if pod.Spec.NodeName == "" {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("pod %s does not have a host assigned", name))
	}
	nodeObj, err := l.nodes().Get(r.Context(), "", pod.Spec.NodeName, nil)
	if err != nil {
		return nil, err
	}
	node := nodeObj.(*corev1.Node)
	host := ""
	for _, a := range node.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			host = a.Address
			break
		}
	}
	if host == "" {
		host = node.Name
	}
	port := int(node.Status.DaemonEndpoints.KubeletEndpoint.Port)
	if port == 0 {
		port = 10250
	}
	params := url.Values{}
	for _, k := range []string{"follow", "previous", "timestamps", "tailLines", "limitBytes", "sinceSeconds", "sinceTime"} {
		if v := q.Get(k); v != "" {
			params.Set(k, v)
		}
	}
	return &url.URL{Scheme: "https", Host: net.JoinHostPort(host, strconv.Itoa(port)),
		Path: fmt.Sprintf("/containerLogs/%s/%s/%s", ns, name, container), RawQuery: params.Encode()}, nil
}

func (l *logConnecter) client() (*http.Client, error) {
	t := &tls.Config{MinVersion: tls.VersionTLS12}
	if l.kubelet.CertFile != "" {
		c, err := tls.LoadX509KeyPair(l.kubelet.CertFile, l.kubelet.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("loading kubelet client certificate: %w", err)
		}
		t.Certificates = []tls.Certificate{c}
	}
	// The kubelet's serving certificate is self-signed unless a CA signs it;
	// upstream does not verify it either without --kubelet-certificate-authority.
	t.InsecureSkipVerify = true
	return &http.Client{Transport: &http.Transport{TLSClientConfig: t}}, nil
}
