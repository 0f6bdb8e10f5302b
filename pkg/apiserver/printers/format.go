package printers

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
)

// since is upstream's translateTimestampSince: the human-readable time elapsed
// between t and now, or "<unknown>" for a zero time.
func (e *env) since(t metav1.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(e.now.Sub(t.Time))
}

// sinceMicro is upstream's translateMicroTimestampSince.
func (e *env) sinceMicro(t metav1.MicroTime) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(e.now.Sub(t.Time))
}

// layoutContainerCells joins the container names and images with commas, as
// upstream's layoutContainerCells does for the wide Containers/Images columns.
func layoutContainerCells(containers []corev1.Container) (names, images string) {
	var n, i strings.Builder
	for k, c := range containers {
		if k > 0 {
			n.WriteString(",")
			i.WriteString(",")
		}
		n.WriteString(c.Name)
		i.WriteString(c.Image)
	}
	return n.String(), i.String()
}

// printBoolPtr renders an optional bool as upstream does: "True", "False" or "<unset>".
func printBoolPtr(v *bool) string {
	switch {
	case v == nil:
		return "<unset>"
	case *v:
		return "True"
	default:
		return "False"
	}
}

// replicasOrDefault dereferences an optional replica count; nil means the API
// default of 1 (stored objects are always defaulted).
func replicasOrDefault(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

// Column builders shared by several resources. Descriptions come from the same
// swagger docs upstream uses, so `kubectl explain`-style tooling sees the same text.

func nameColumn() metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: "Name", Type: "string", Format: "name", Description: metav1.ObjectMeta{}.SwaggerDoc()["name"]}
}

func ageColumn() metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: "Age", Type: "string", Description: metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"]}
}

func containersColumn() metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: "Containers", Type: "string", Priority: 1, Description: "Names of each container in the template."}
}

func imagesColumn() metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: "Images", Type: "string", Priority: 1, Description: "Images referenced by each container in the template."}
}

func col(name, typ, desc string) metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: name, Type: typ, Description: desc}
}

func wideCol(name, typ, desc string) metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: name, Type: typ, Priority: 1, Description: desc}
}
