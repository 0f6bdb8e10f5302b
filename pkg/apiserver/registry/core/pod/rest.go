package pod

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kinc-dev/kinc/pkg/apiserver/handlers"
	"github.com/kinc-dev/kinc/pkg/apiserver/proxy"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// bindingSubresource is pods/binding (POST a v1 Binding).
func bindingSubresource() registry.Subresource {
	return registry.Subresource{Name: "binding", Kind: corev1.SchemeGroupVersion.WithKind("Binding"), Verbs: []string{"create"},
		Creater: func(st registry.Store) registry.Creater { return bindingCreater{pods: st} }}
}

// logSubresource is pods/log, proxied from the kubelet of the pod's node.
func logSubresource(k *proxy.Kubelets) registry.Subresource {
	return registry.Subresource{Name: "log", Verbs: []string{"get"}, Options: &corev1.PodLogOptions{}, Produces: []string{"text/plain"},
		Connecter: func(st registry.Store) registry.Connecter {
			return &logConnecter{pods: st, kubelets: k}
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
// (https://<node address>:<kubelet port>/containerLogs/...).
type logConnecter struct {
	pods     registry.Store
	kubelets *proxy.Kubelets
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
	client := &http.Client{Transport: l.kubelets.Transport()}
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
	pod, err := getPod(r.Context(), l.pods, ns, name)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	container, err := ValidateContainer(q.Get("container"), pod)
	if err != nil {
		return nil, err
	}
	params := url.Values{}
	for _, k := range []string{"follow", "previous", "timestamps", "tailLines", "limitBytes", "sinceSeconds", "sinceTime"} {
		if v := q.Get(k); v != "" {
			params.Set(k, v)
		}
	}
	return kubeletLocation(r.Context(), l.kubelets, pod, fmt.Sprintf("/containerLogs/%s/%s/%s", ns, name, container), params)
}
