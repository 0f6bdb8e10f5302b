package controllertest

import (
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"
)

// Action is what a test asserts of a recorded API call.
type Action struct {
	// Verb is get, create, update, patch, delete or delete-collection.
	Verb string
	// Resource is the plural resource ("pods"); Subresource is "status",
	// "binding", "finalize"… or "".
	Resource, Subresource string
	Namespace             string
	// Name is the object's name; for a create whose object has none, its
	// generateName (for example "web-").
	Name string
}

// String reads like "create pods/binding default/web-1".
func (a Action) String() string {
	r := a.Resource
	if a.Subresource != "" {
		r += "/" + a.Subresource
	}
	n := a.Name
	if a.Namespace != "" {
		n = a.Namespace + "/" + n
	}
	return strings.TrimSpace(a.Verb + " " + r + " " + n)
}

// Describe returns the Action of a recorded client-go action.
func Describe(a k8stesting.Action) Action {
	out := Action{Verb: a.GetVerb(), Resource: a.GetResource().Resource, Subresource: a.GetSubresource(), Namespace: a.GetNamespace()}
	switch a := a.(type) {
	case k8stesting.CreateActionImpl:
		out.Name = a.Name // the parent's name, for a subresource create
		if m, ok := a.Object.(metav1.Object); ok && out.Name == "" {
			out.Name = m.GetName()
			if out.Name == "" {
				out.Name = m.GetGenerateName()
			}
		}
	case k8stesting.UpdateAction:
		if m, ok := a.GetObject().(metav1.Object); ok {
			out.Name = m.GetName()
		}
	case k8stesting.PatchAction:
		out.Name = a.GetName()
	case k8stesting.DeleteAction:
		out.Name = a.GetName()
	case k8stesting.GetAction:
		out.Name = a.GetName()
	}
	return out
}

// ExpectActions fails t unless got describe (see Describe) as want, in
// order. The failure lists both sides.
func ExpectActions(t testing.TB, got []k8stesting.Action, want ...Action) {
	t.Helper()
	described := describeAll(got)
	same := len(described) == len(want)
	for i := 0; same && i < len(want); i++ {
		same = described[i] == want[i]
	}
	if !same {
		t.Errorf("actions:\n%s\nwant:\n%s", lines(described), lines(want))
	}
}

func lines(as []Action) string {
	if len(as) == 0 {
		return "  (none)"
	}
	var b strings.Builder
	for i, a := range as {
		fmt.Fprintf(&b, "  %d. %s\n", i, a)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// ObjectOf returns the object a create or update action sent, as a T; it
// fails the test when a has none or it is not a T.
func ObjectOf[T runtime.Object](t testing.TB, a k8stesting.Action) T {
	t.Helper()
	var zero T
	oa, ok := a.(interface{ GetObject() runtime.Object })
	if !ok {
		t.Fatalf("%s carries no object", Describe(a))
		return zero
	}
	obj, ok := oa.GetObject().(T)
	if !ok {
		t.Fatalf("%s carries a %T, not a %T", Describe(a), oa.GetObject(), zero)
	}
	return obj
}

// Find returns the object sent by the first recorded action (see Actions)
// that describes as want; it fails the test when there is none. The object
// is the one the controller sent: what the fake API filled in on create
// (name from generateName, uid) is only in the stored copy (Client.Tracker()).
func Find[T runtime.Object](f *Fixture, want Action) T {
	f.T.Helper()
	for _, a := range f.Actions() {
		if Describe(a) == want {
			return ObjectOf[T](f.T, a)
		}
	}
	f.T.Fatalf("no action %s in:\n%s", want, lines(describeAll(f.Actions())))
	var zero T
	return zero
}

func describeAll(as []k8stesting.Action) []Action {
	out := make([]Action, len(as))
	for i, a := range as {
		out[i] = Describe(a)
	}
	return out
}
