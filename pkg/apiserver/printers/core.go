package printers

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

func namespaceColumns() []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		nameColumn(),
		col("Status", "string", "The status of the namespace"),
		ageColumn(),
	}
}

func printNamespace(ns *corev1.Namespace, e *env) metav1.TableRow {
	return metav1.TableRow{Cells: []interface{}{ns.Name, string(ns.Status.Phase), e.since(ns.CreationTimestamp)}}
}

func configMapColumns() []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		nameColumn(),
		col("Data", "string", corev1.ConfigMap{}.SwaggerDoc()["data"]),
		ageColumn(),
	}
}

func printConfigMap(cm *corev1.ConfigMap, e *env) metav1.TableRow {
	return metav1.TableRow{Cells: []interface{}{cm.Name, int64(len(cm.Data) + len(cm.BinaryData)), e.since(cm.CreationTimestamp)}}
}

func secretColumns() []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		nameColumn(),
		col("Type", "string", corev1.Secret{}.SwaggerDoc()["type"]),
		col("Data", "string", corev1.Secret{}.SwaggerDoc()["data"]),
		ageColumn(),
	}
}

func printSecret(s *corev1.Secret, e *env) metav1.TableRow {
	return metav1.TableRow{Cells: []interface{}{s.Name, string(s.Type), int64(len(s.Data)), e.since(s.CreationTimestamp)}}
}

func serviceAccountColumns() []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		nameColumn(),
		col("Secrets", "string", corev1.ServiceAccount{}.SwaggerDoc()["secrets"]),
		ageColumn(),
	}
}

func printServiceAccount(sa *corev1.ServiceAccount, e *env) metav1.TableRow {
	return metav1.TableRow{Cells: []interface{}{sa.Name, int64(len(sa.Secrets)), e.since(sa.CreationTimestamp)}}
}

func endpointsColumns() []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		nameColumn(),
		col("Endpoints", "string", corev1.Endpoints{}.SwaggerDoc()["subsets"]),
		ageColumn(),
	}
}

func printEndpoints(ep *corev1.Endpoints, e *env) metav1.TableRow {
	return metav1.TableRow{Cells: []interface{}{ep.Name, formatEndpoints(ep), e.since(ep.CreationTimestamp)}}
}

// formatEndpoints lists up to three "ip:port" (or bare IPs for port-less subsets)
// followed by " + N more...", or "<none>" without subsets.
func formatEndpoints(ep *corev1.Endpoints) string {
	if len(ep.Subsets) == 0 {
		return "<none>"
	}
	const max = 3
	var list []string
	more := false
	count := 0
	for i := range ep.Subsets {
		ss := &ep.Subsets[i]
		if len(ss.Ports) == 0 {
			// Headless services may have no ports.
			count += len(ss.Addresses)
			for j := range ss.Addresses {
				if len(list) == max {
					more = true
					break
				}
				list = append(list, ss.Addresses[j].IP)
			}
			continue
		}
		for p := range ss.Ports {
			count += len(ss.Addresses)
			for j := range ss.Addresses {
				if len(list) == max {
					more = true
					break
				}
				list = append(list, net.JoinHostPort(ss.Addresses[j].IP, strconv.Itoa(int(ss.Ports[p].Port))))
			}
		}
	}
	ret := strings.Join(list, ",")
	if more {
		return fmt.Sprintf("%s + %d more...", ret, count-max)
	}
	return ret
}

func serviceColumns() []metav1.TableColumnDefinition {
	doc := corev1.ServiceSpec{}.SwaggerDoc()
	return []metav1.TableColumnDefinition{
		nameColumn(),
		col("Type", "string", doc["type"]),
		col("Cluster-IP", "string", doc["clusterIP"]),
		col("External-IP", "string", doc["externalIPs"]),
		col("Port(s)", "string", doc["ports"]),
		ageColumn(),
		wideCol("Selector", "string", doc["selector"]),
	}
}

func printService(svc *corev1.Service, e *env) metav1.TableRow {
	// Upstream prints the internal clusterIPs[0]; v1->internal conversion fills
	// clusterIPs from clusterIP when only the latter is set.
	clusterIP := svc.Spec.ClusterIP
	if len(svc.Spec.ClusterIPs) > 0 {
		clusterIP = svc.Spec.ClusterIPs[0]
	}
	ports := makePortString(svc.Spec.Ports)
	if ports == "" {
		ports = "<none>"
	}
	return metav1.TableRow{Cells: []interface{}{
		svc.Name,
		string(svc.Spec.Type),
		orNone(clusterIP),
		serviceExternalIP(svc),
		ports,
		e.since(svc.CreationTimestamp),
		labels.FormatLabels(svc.Spec.Selector),
	}}
}

// serviceExternalIP is upstream's getServiceExternalIP in wide mode (the server
// always prints wide, so load balancer addresses are never clipped).
func serviceExternalIP(svc *corev1.Service) string {
	switch svc.Spec.Type {
	case corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort:
		if len(svc.Spec.ExternalIPs) > 0 {
			return strings.Join(svc.Spec.ExternalIPs, ",")
		}
		return "<none>"
	case corev1.ServiceTypeLoadBalancer:
		lbIPs := loadBalancerAddresses(svc.Status.LoadBalancer)
		if len(svc.Spec.ExternalIPs) > 0 {
			return strings.Join(append(lbIPs, svc.Spec.ExternalIPs...), ",")
		}
		if len(lbIPs) > 0 {
			return strings.Join(lbIPs, ",")
		}
		return "<pending>"
	case corev1.ServiceTypeExternalName:
		return svc.Spec.ExternalName
	}
	return "<unknown>"
}

// loadBalancerAddresses returns the sorted, de-duplicated ingress IPs (or
// hostnames when an ingress point has no IP).
func loadBalancerAddresses(s corev1.LoadBalancerStatus) []string {
	seen := map[string]bool{}
	var out []string
	for _, in := range s.Ingress {
		a := in.IP
		if a == "" {
			a = in.Hostname
		}
		if a != "" && !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out
}

// makePortString renders "port/proto" or "port:nodePort/proto", comma-joined.
func makePortString(ports []corev1.ServicePort) string {
	pieces := make([]string, len(ports))
	for i, p := range ports {
		if p.NodePort > 0 {
			pieces[i] = fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, p.Protocol)
		} else {
			pieces[i] = fmt.Sprintf("%d/%s", p.Port, p.Protocol)
		}
	}
	return strings.Join(pieces, ",")
}
