package printers

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/clock"
)

// TableConvertor converts API objects into meta.k8s.io/v1 Tables.
//
// ConvertToTable accepts a single object or a list (e.g. *corev1.Pod or
// *corev1.PodList) and returns a new Table; it never mutates obj, and the returned
// rows may share read-only data (e.g. labels) with obj. A nil opts means the
// defaults: column definitions included, IncludeObject=Metadata.
// Implementations are safe for concurrent use.
type TableConvertor interface {
	ConvertToTable(ctx context.Context, obj runtime.Object, opts *metav1.TableOptions) (*metav1.Table, error)
}

// ErrUnrecognizedIncludeObject is wrapped by ConvertToTable when
// TableOptions.IncludeObject is not "", "None", "Metadata" or "Object". Upstream
// answers such requests with 400 Bad Request.
var ErrUnrecognizedIncludeObject = errors.New("unrecognized includeObject value")

// ErrNotTableConvertible is wrapped by ConvertToTable when an object (or a list item)
// has no object metadata and no dedicated printer. Upstream answers 406 Not Acceptable.
var ErrNotTableConvertible = errors.New("object does not support conversion to a Table")

// tableGroupVersion is the group version of the Tables (and the PartialObjectMetadata
// in their rows) produced by this package.
const tableGroupVersion = "meta.k8s.io/v1"

// Option configures a Convertor.
type Option func(*Convertor)

// WithClock sets the clock that AGE and other relative-time cells are computed
// against. The default is the real clock.
func WithClock(c clock.PassiveClock) Option {
	return func(cv *Convertor) { cv.clock = c }
}

// WithScheme sets the scheme used to fill in apiVersion/kind of row objects for
// IncludeObject=Object when an object carries no type information (objects read
// from storage usually don't). The default scheme knows every type this package
// prints.
func WithScheme(s *runtime.Scheme) Option {
	return func(cv *Convertor) { cv.scheme = s }
}

// Convertor is the TableConvertor of this package. Build one with New or NewDefault;
// the zero value is not usable. A Convertor is immutable after construction and safe
// for concurrent use.
type Convertor struct {
	clock    clock.PassiveClock
	scheme   *runtime.Scheme
	handlers map[reflect.Type]*handler
	fallback *handler
}

var _ TableConvertor = (*Convertor)(nil)

// New returns a Convertor with upstream's printers for pods, nodes, namespaces,
// services, endpoints, configmaps, secrets, serviceaccounts, core and
// events.k8s.io events, deployments, replicasets, daemonsets, statefulsets,
// controllerrevisions, jobs, cronjobs, endpointslices,
// certificatesigningrequests, poddisruptionbudgets, leases, rolebindings and
// clusterrolebindings (and their lists). Any
// other object with metadata gets the default Name/Created At table.
func New(opts ...Option) *Convertor {
	return NewDefault(append([]Option{WithPrinters(all()...)}, opts...)...)
}

// NewDefault returns a Convertor that prints every object with upstream's default
// table ("Name", "Created At"), as upstream does for resources without a printer
// such as roles, clusterroles and custom resources.
func NewDefault(opts ...Option) *Convertor {
	cv := &Convertor{clock: clock.RealClock{}, fallback: defaultHandler()}
	for _, o := range opts {
		o(cv)
	}
	if cv.scheme == nil {
		cv.scheme = newScheme()
	}
	return cv
}

// Handles reports whether obj (an object or a list) has a dedicated printer, i.e.
// whether ConvertToTable would produce more than the default Name/Created At table.
func (c *Convertor) Handles(obj runtime.Object) bool {
	_, ok := c.handlers[reflect.TypeOf(obj)]
	return ok
}

// ConvertToTable implements TableConvertor.
func (c *Convertor) ConvertToTable(_ context.Context, obj runtime.Object, opts *metav1.TableOptions) (*metav1.Table, error) {
	if opts == nil {
		opts = &metav1.TableOptions{}
	}
	switch opts.IncludeObject {
	case "", metav1.IncludeMetadata, metav1.IncludeObject, metav1.IncludeNone:
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnrecognizedIncludeObject, opts.IncludeObject)
	}
	if obj == nil {
		return nil, fmt.Errorf("%w: nil object", ErrNotTableConvertible)
	}

	h, ok := c.handlers[reflect.TypeOf(obj)]
	if !ok {
		h = c.fallback
	}
	e := &env{now: c.clock.Now()}
	rows, err := h.rows(obj, e, make([]metav1.TableRow, 0, listLen(obj)))
	if err != nil {
		return nil, err
	}
	for i := range rows {
		if err := c.shapeRowObject(&rows[i], opts.IncludeObject); err != nil {
			return nil, err
		}
	}

	table := &metav1.Table{
		TypeMeta: metav1.TypeMeta{APIVersion: tableGroupVersion, Kind: "Table"},
		Rows:     rows,
	}
	if !opts.NoHeaders {
		table.ColumnDefinitions = append([]metav1.TableColumnDefinition(nil), h.columns...)
	}
	if m, err := meta.ListAccessor(obj); err == nil {
		table.ResourceVersion = m.GetResourceVersion()
		table.Continue = m.GetContinue()
		table.RemainingItemCount = m.GetRemainingItemCount()
	} else if m, err := meta.CommonAccessor(obj); err == nil {
		table.ResourceVersion = m.GetResourceVersion()
	}
	return table, nil
}

// shapeRowObject replaces row.Object (set by the printer to the source object) with
// what the includeObject policy asks for, as upstream's asTable does.
func (c *Convertor) shapeRowObject(row *metav1.TableRow, policy metav1.IncludeObjectPolicy) error {
	src := row.Object.Object
	switch policy {
	case metav1.IncludeNone:
		row.Object = runtime.RawExtension{}
	case metav1.IncludeObject:
		row.Object = runtime.RawExtension{Object: c.withTypeInfo(src)}
	default: // "" or Metadata
		m, err := meta.Accessor(src)
		if err != nil {
			return fmt.Errorf("%w: %T: %v", ErrNotTableConvertible, src, err)
		}
		partial := meta.AsPartialObjectMetadata(m)
		partial.APIVersion = tableGroupVersion
		partial.Kind = "PartialObjectMetadata"
		row.Object = runtime.RawExtension{Object: partial}
	}
	return nil
}

// withTypeInfo returns obj itself when it carries apiVersion/kind, otherwise a deep
// copy with them set from the scheme (obj unchanged if the scheme does not know it).
func (c *Convertor) withTypeInfo(obj runtime.Object) runtime.Object {
	if !obj.GetObjectKind().GroupVersionKind().Empty() {
		return obj
	}
	gvks, _, err := c.scheme.ObjectKinds(obj)
	if err != nil || len(gvks) == 0 {
		return obj
	}
	cp := obj.DeepCopyObject()
	cp.GetObjectKind().SetGroupVersionKind(gvks[0])
	return cp
}

// listLen returns the number of items of a typed list, or 1 for anything else; it
// only sizes the row slice.
func listLen(obj runtime.Object) int {
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return 1
	}
	items := v.Elem().FieldByName("Items")
	if !items.IsValid() || items.Kind() != reflect.Slice {
		return 1
	}
	return items.Len()
}
