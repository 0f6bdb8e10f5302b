package admission

import (
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
)

// NewForbidden returns upstream's admission refusal of a's write: 403
// `<resource> "<name>" is forbidden: <err>`, naming the object as upstream
// does before a generated name exists (its generateName, else "Unknown").
// A Forbidden err is returned as it is.
func NewForbidden(a *Attributes, err error) error {
	if apierrors.IsForbidden(err) {
		return err
	}
	name := a.Name
	if name == "" {
		name = "Unknown"
		if a.Object != nil {
			m, merr := meta.Accessor(a.Object)
			switch {
			case merr != nil:
				name = "Unknown/errorGettingName"
			case m.GetName() != "":
				name = m.GetName()
			case m.GetGenerateName() != "":
				name = m.GetGenerateName()
			}
		}
	}
	return apierrors.NewForbidden(a.Resource.GroupResource(), name, err)
}
