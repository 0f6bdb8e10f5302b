package printers

import (
	"fmt"
	"strconv"
	"strings"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func endpointSliceColumns() []metav1.TableColumnDefinition {
	doc := discoveryv1.EndpointSlice{}.SwaggerDoc()
	return []metav1.TableColumnDefinition{
		nameColumn(),
		col("AddressType", "string", doc["addressType"]),
		col("Ports", "string", doc["ports"]),
		col("Endpoints", "string", doc["endpoints"]),
		ageColumn(),
	}
}

// printEndpointSlice: PORTS and ENDPOINTS show at most three entries and
// "+ N more..." (a port without a number shows its name, or "*"), or
// "<unset>" when empty.
func printEndpointSlice(s *discoveryv1.EndpointSlice, e *env) metav1.TableRow {
	ports := make([]string, 0, len(s.Ports))
	for _, p := range s.Ports {
		switch {
		case p.Port != nil:
			ports = append(ports, strconv.Itoa(int(*p.Port)))
		case p.Name != nil:
			ports = append(ports, *p.Name)
		default:
			ports = append(ports, "*")
		}
	}
	var addrs []string
	for _, ep := range s.Endpoints {
		addrs = append(addrs, ep.Addresses...)
	}
	return metav1.TableRow{Cells: []interface{}{
		s.Name, string(s.AddressType), firstThree(ports), firstThree(addrs), e.since(s.CreationTimestamp),
	}}
}

// firstThree is upstream's listWithMoreString over the first three items.
func firstThree(items []string) string {
	const max = 3
	if len(items) > max {
		return fmt.Sprintf("%s + %d more...", strings.Join(items[:max], ","), len(items)-max)
	}
	if len(items) == 0 {
		return "<unset>"
	}
	return strings.Join(items, ",")
}
