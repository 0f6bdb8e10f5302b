package openapi

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/kube-openapi/pkg/common"

	generated "github.com/kinc-dev/kinc/pkg/generated/openapi"
)

// Resource describes one resource the apiserver serves, the way discovery
// does. Verbs are discovery verbs: get, list, watch, create, update, patch,
// delete, deletecollection; each adds the operations upstream registers for
// it (watch also adds the deprecated /watch/ paths when list is served too);
// other verbs are ignored.
type Resource struct {
	Group    string // "" for the core group
	Version  string // "v1"
	Resource string // plural, lower case: "pods"
	Kind     string // "Pod"; the list kind is Kind+"List"
	// Namespaced resources get /namespaces/{namespace}/ paths plus, for list
	// and watch, the ...ForAllNamespaces operations.
	Namespaced   bool
	Verbs        []string
	Subresources []Subresource
}

// Subresource describes a subresource of a Resource ("status", "scale",
// "binding", "eviction", "log", "exec", ...). Its paths hang under the parent
// item path and follow the parent's scope; operation IDs and descriptions name
// the parent's kind, as upstream does.
type Subresource struct {
	Name string
	// GVK is the kind read and written at the subresource, e.g.
	// autoscaling/v1 Scale for deployments/scale, v1 Binding for
	// pods/binding, v1 PodExecOptions for pods/exec. The zero value means
	// the parent's kind (pods/status).
	GVK schema.GroupVersionKind
	// Verbs as in Resource. Connect-style subresources use ConnectMethods.
	Verbs []string
	// Options, if set, is the versioned options type whose top-level fields
	// become the query parameters of the GET operation (a getter with
	// options, e.g. &corev1.PodLogOptions{}) and of the connect operations
	// (e.g. &corev1.PodExecOptions{}).
	Options runtime.Object
	// ConnectMethods, if set, make this a connect subresource (exec, attach,
	// portforward, proxy): one connect<Method>... operation per HTTP method,
	// consuming and producing */*. A subresource named "proxy" also gets the
	// .../{path} operations.
	ConnectMethods []string
	// Produces, if set, means GET returns raw data (schema type string) in
	// these media types, listed before the server's own (pods/log:
	// "text/plain").
	Produces []string
}

// Option customises New.
type Option func(*config)

// WithScheme sets the scheme that maps GVKs to Go types and definition names
// (and lists the GVKs each definition is tagged with). Default: client-go's
// kubernetes scheme. The scheme is only read.
func WithScheme(s *runtime.Scheme) Option { return func(c *config) { c.scheme = s } }

// WithDefinitions sets the generated schema source. Default:
// pkg/generated/openapi.GetOpenAPIDefinitions.
func WithDefinitions(defs common.GetOpenAPIDefinitions) Option {
	return func(c *config) { c.definitions = defs }
}

// WithMediaTypes sets the media types the resource endpoints produce, and
// the extra streaming ones that list and watch produce. Default: upstream's
// application/json, application/yaml, application/vnd.kubernetes.protobuf and
// their ;stream=watch variants for JSON and protobuf.
func WithMediaTypes(mediaTypes, streamMediaTypes []string) Option {
	return func(c *config) {
		c.mediaTypes = append([]string(nil), mediaTypes...)
		c.streamMediaTypes = append([]string(nil), streamMediaTypes...)
	}
}

type config struct {
	version          string
	scheme           *runtime.Scheme
	definitions      common.GetOpenAPIDefinitions
	mediaTypes       []string
	streamMediaTypes []string
}

func newConfig(version string, opts []Option) config {
	c := config{
		version:          version,
		scheme:           clientgoscheme.Scheme,
		definitions:      generated.GetOpenAPIDefinitions,
		mediaTypes:       []string{"application/json", "application/yaml", "application/vnd.kubernetes.protobuf"},
		streamMediaTypes: []string{"application/json;stream=watch", "application/vnd.kubernetes.protobuf;stream=watch"},
	}
	for _, o := range opts {
		o(&c)
	}
	return c
}
