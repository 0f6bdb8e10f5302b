package registry

import (
	"context"
	"net"
	"time"

	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
	"github.com/kinc-dev/kinc/pkg/apiserver/authz"
	"github.com/kinc-dev/kinc/pkg/apiserver/printers"
)

// Verb sets of discovery.
var (
	// AllVerbs are the verbs of an ordinary resource.
	AllVerbs = []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}
	// ViewVerbs are the verbs of a subresource read and written like an
	// object (status, scale).
	ViewVerbs = []string{"get", "patch", "update"}
)

// Resource describes one served resource completely: its discovery entry,
// where and how it is stored, the rules of its writes, its subresources and
// its table columns. Each package registry/<group>/<kind> returns its own
// from a constructor taking Deps; the server mounts every Resource of its
// ordered list the same way. A Resource is a value: the server reads it and
// never modifies it.
type Resource struct {
	// GVK is the kind of the objects; GVK.Group/Version also name the API
	// group-version the resource is served in.
	GVK schema.GroupVersionKind
	// Name is the plural, lower-case resource name ("pods"); Singular is
	// discovery's singularName ("pod").
	Name, Singular string
	ShortNames     []string
	Categories     []string
	Namespaced     bool
	// Verbs are discovery's verbs of the resource itself.
	Verbs []string
	// KeyRoot is the storage key prefix below --etcd-prefix ("/pods",
	// "/services/specs", "/minions"), as upstream lays out etcd.
	KeyRoot string
	// NewFunc and NewList return an empty object of the kind and its list.
	NewFunc, NewList func() runtime.Object
	// Attrs gives labels and selectable fields; nil means metadata.name
	// (and metadata.namespace) only.
	Attrs AttrFunc
	// NameFunc validates metadata.name; nil means a DNS subdomain.
	NameFunc apivalidation.ValidateNameFunc
	// Strategy applies to writes of the resource; StatusStrategy, when set,
	// to its /status subresource, which is then served (first, before
	// Subresources).
	Strategy, StatusStrategy Strategy
	// TTLSeconds, when not 0, is the lifetime of a created object (events).
	TTLSeconds uint64
	// CreateOnUpdate lets PUT create a missing object (leases, endpoints).
	CreateOnUpdate bool
	// Subresources are served beside the resource, in this order, after
	// status.
	Subresources []Subresource
	// WrapStore, when set, serves the resource through what it returns
	// instead of its generic store (a namespace's two-phase delete). The
	// subresources keep the generic store.
	WrapStore func(st Store) Store
	// SharedStorage, when set, serves this resource from the storage of an
	// earlier resource of the list, converting objects on the way
	// (events.k8s.io/v1 events are stored as core/v1 events).
	SharedStorage *Conversion
	// Table prints the kind for `kubectl get` (server-side tables).
	Table printers.Printer
	// NewStore, when set, makes the resource storage-less (the review
	// APIs): the server creates no etcd storage or watch cache for it and
	// serves it, and its subresources, from the Store NewStore returns,
	// called once while the server assembles its resources (CreateOnly is
	// such a Store). KeyRoot, NewList, Attrs, NameFunc, the strategies,
	// TTLSeconds, CreateOnUpdate and SharedStorage are then unused. Verbs
	// should name only what that Store serves; the server answers the
	// others 405 MethodNotSupported.
	NewStore func() Store
}

// GroupVersionResource names the resource.
func (r *Resource) GroupVersionResource() schema.GroupVersionResource {
	return r.GVK.GroupVersion().WithResource(r.Name)
}

// AllSubresources returns the subresources the resource serves: /status
// when it has a StatusStrategy, then Subresources.
func (r *Resource) AllSubresources() []Subresource {
	if r.StatusStrategy == nil {
		return r.Subresources
	}
	return append([]Subresource{Status()}, r.Subresources...)
}

// Conversion serves a resource from the storage of another resource:
// objects are converted to the stored kind on writes and back on reads.
type Conversion struct {
	// Storage is the resource whose storage is shared; it must come earlier
	// in the server's list.
	Storage schema.GroupVersionResource
	// ToStorage and FromStorage convert one object; they return new objects
	// and never modify their argument.
	ToStorage, FromStorage func(runtime.Object) runtime.Object
	// NewStored and NewStoredList return empty objects of the stored kind.
	NewStored, NewStoredList func() runtime.Object
}

// Deps is what descriptor constructors may need from the server. The server
// passes the same Deps to every constructor.
type Deps struct {
	// ServiceClusterIPRange is --service-cluster-ip-range.
	ServiceClusterIPRange *net.IPNet
	// Stores finds the store of another served resource. It answers only
	// once the server has assembled every resource: a constructor may keep
	// it, and call it while serving requests, never before it returns.
	Stores func(gvr schema.GroupVersionResource) Store
	// Kubelet is how the apiserver authenticates to kubelets (pods/log).
	Kubelet KubeletClientConfig
	// Clock stamps what the server writes on its own (deletion times).
	Clock clock.PassiveClock
	// DefaultTolerationSeconds are --default-not-ready-toleration-seconds
	// and --default-unreachable-toleration-seconds, the tolerationSeconds
	// of the tolerations the DefaultTolerationSeconds admission plugin
	// gives pods; nil means upstream's default, 300 each.
	DefaultTolerationSeconds *TolerationSeconds
	// Auth is the server's authentication and authorization, for the
	// resources that answer questions about them (the review APIs), check
	// a writer's own permissions (RBAC's escalation check) or issue
	// credentials (serviceaccounts/token). The server fills it in once its
	// authenticators and authorizers exist, after the constructors
	// returned: a constructor may keep the pointer and read its fields
	// while serving requests, never before. Nil (in tests) or a nil field
	// means that part is not configured.
	Auth *Auth
}

// Auth is the server's authentication and authorization (see Deps.Auth).
type Auth struct {
	// Authorizer is the --authorization-mode chain.
	Authorizer authz.Authorizer
	// Rules resolves the rules a user holds (RBAC), when RBAC is enabled.
	Rules authz.RuleResolver
	// Tokens authenticates bearer tokens (TokenReview).
	Tokens authn.TokenAuthenticator
	// APIAudiences are the audiences the apiserver accepts tokens for
	// (--api-audiences, defaulting to the --service-account-issuer values,
	// as upstream).
	APIAudiences []string
	// TokenIssuer signs service-account tokens (serviceaccounts/token);
	// nil when the server has no --service-account-signing-key-file.
	TokenIssuer TokenIssuer
	// MaxTokenExpiration caps the expiration a TokenRequest may ask for
	// (--service-account-max-token-expiration); 0 means no cap.
	MaxTokenExpiration time.Duration
}

// TokenIssuer signs service-account tokens. Implementations are safe for
// concurrent use.
type TokenIssuer interface {
	// IssueToken returns a signed token (a JWT) saying c.
	IssueToken(ctx context.Context, c TokenClaims) (string, error)
}

// TokenClaims are what a service-account token says: whose it is, what it
// is bound to, for whom and for how long.
type TokenClaims struct {
	// Namespace and ServiceAccount name the token's service account.
	Namespace      string
	ServiceAccount ObjectRef
	// Pod, Secret and Node are the objects the token is bound to; a zero
	// ObjectRef means none. A pod-bound token also names the pod's node
	// (whose UID may be empty when the Node is not found).
	Pod, Secret, Node ObjectRef
	// Audiences are the token's "aud"; never empty.
	Audiences []string
	// IssuedAt is "iat" and "nbf"; Expiration is the token's lifetime
	// ("exp" = IssuedAt + Expiration).
	IssuedAt   time.Time
	Expiration time.Duration
	// WarnAfter, when not zero, is the "warnafter" of an extended-lifetime
	// token.
	WarnAfter time.Time
}

// ObjectRef names one object by name and UID.
type ObjectRef struct {
	Name string
	UID  types.UID
}

// TolerationSeconds are the tolerationSeconds of the NoExecute tolerations
// of the node.kubernetes.io/not-ready and node.kubernetes.io/unreachable
// taints that pods get by default. Negative values are allowed, as
// upstream: a pod with one is evicted at once.
type TolerationSeconds struct {
	NotReady, Unreachable int64
}

// KubeletClientConfig holds the client certificate the apiserver presents
// to kubelets (--kubelet-client-certificate, --kubelet-client-key); empty
// means none.
type KubeletClientConfig struct {
	CertFile, KeyFile string
}

// UpdateFunc computes the new object from the stored one (nil when the
// object does not exist and the store allows create on update). It may be
// called several times when writers race; it must not modify old.
type UpdateFunc func(ctx context.Context, old runtime.Object) (runtime.Object, error)

// UpdateOptions select how Store.Update behaves.
type UpdateOptions struct {
	// DryRun computes and validates the result without writing it.
	DryRun bool
	// Status applies the status subresource's strategy (spec is kept).
	Status bool
}

// Store is the store of one resource, as subresources and store wrappers
// see it; generic.Store implements it. Errors are API status errors.
// Implementations are safe for concurrent use.
type Store interface {
	// New returns an empty object of the kind.
	New() runtime.Object
	Create(ctx context.Context, obj runtime.Object, dryRun bool) (runtime.Object, error)
	Get(ctx context.Context, namespace, name string, opts *metav1.GetOptions) (runtime.Object, error)
	List(ctx context.Context, namespace string, opts *metav1.ListOptions) (runtime.Object, error)
	// Update writes what update computes from the stored object, through
	// the strategy (or the status strategy with opts.Status); the second
	// result tells whether the object was created.
	Update(ctx context.Context, namespace, name string, update UpdateFunc, opts UpdateOptions) (runtime.Object, bool, error)
	// Delete removes an object or, for a graceful or finalized delete, marks
	// it; the second result tells whether it is gone.
	Delete(ctx context.Context, namespace, name string, opts *metav1.DeleteOptions, dryRun bool) (runtime.Object, bool, error)
	DeleteCollection(ctx context.Context, namespace string, opts *metav1.DeleteOptions, listOpts *metav1.ListOptions, dryRun bool) (runtime.Object, error)
	Watch(ctx context.Context, namespace string, opts *metav1.ListOptions) (watch.Interface, error)
	// Mutate changes an object with fn atomically, bypassing the strategy,
	// for server-side operations with rules of their own (pods/binding, a
	// namespace's finalize). fn may run several times; it must not keep obj.
	Mutate(ctx context.Context, namespace, name string, fn func(obj runtime.Object) error) (runtime.Object, error)
}
