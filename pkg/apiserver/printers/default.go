package printers

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// defaultHandler is upstream's default table convertor
// (k8s.io/apiserver/pkg/registry/rest.NewDefaultTableConvertor): the name and the
// creation time as an RFC 3339 UTC date, for any object or list with metadata,
// including unstructured ones.
func defaultHandler() *handler {
	doc := metav1.ObjectMeta{}.SwaggerDoc()
	return &handler{
		columns: []metav1.TableColumnDefinition{
			{Name: "Name", Type: "string", Format: "name", Description: doc["name"]},
			{Name: "Created At", Type: "date", Description: doc["creationTimestamp"]},
		},
		rows: func(obj runtime.Object, _ *env, dst []metav1.TableRow) ([]metav1.TableRow, error) {
			one := func(o runtime.Object) error {
				m, err := meta.Accessor(o)
				if err != nil {
					return fmt.Errorf("%w: %T", ErrNotTableConvertible, o)
				}
				dst = append(dst, metav1.TableRow{
					Cells:  []interface{}{m.GetName(), m.GetCreationTimestamp().Time.UTC().Format(time.RFC3339)},
					Object: runtime.RawExtension{Object: o},
				})
				return nil
			}
			var err error
			if meta.IsListType(obj) {
				err = meta.EachListItem(obj, one)
			} else {
				err = one(obj)
			}
			if err != nil {
				return nil, err
			}
			return dst, nil
		},
	}
}
