package printers

import (
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	// labelNodeRolePrefix marks a node role: node-role.kubernetes.io/<role>="".
	labelNodeRolePrefix = "node-role.kubernetes.io/"
	// nodeLabelRole is the legacy role label: kubernetes.io/role=<role>.
	nodeLabelRole = "kubernetes.io/role"
)

func nodeColumns() []metav1.TableColumnDefinition {
	info := corev1.NodeSystemInfo{}.SwaggerDoc()
	addresses := corev1.NodeStatus{}.SwaggerDoc()["addresses"]
	return []metav1.TableColumnDefinition{
		nameColumn(),
		col("Status", "string", "The status of the node"),
		col("Roles", "string", "The roles of the node"),
		ageColumn(),
		col("Version", "string", info["kubeletVersion"]),
		wideCol("Internal-IP", "string", addresses),
		wideCol("External-IP", "string", addresses),
		wideCol("OS-Image", "string", info["osImage"]),
		wideCol("Kernel-Version", "string", info["kernelVersion"]),
		wideCol("Container-Runtime", "string", info["containerRuntimeVersion"]),
	}
}

// printNode: STATUS is Ready/NotReady from the Ready condition (Unknown without
// one), plus ",SchedulingDisabled" for cordoned nodes.
func printNode(node *corev1.Node, e *env) metav1.TableRow {
	var status []string
	for i := range node.Status.Conditions {
		c := &node.Status.Conditions[i]
		if c.Type != corev1.NodeReady {
			continue
		}
		// Upstream keeps the last Ready condition if there are duplicates.
		if c.Status == corev1.ConditionTrue {
			status = []string{string(c.Type)}
		} else {
			status = []string{"Not" + string(c.Type)}
		}
	}
	if len(status) == 0 {
		status = append(status, "Unknown")
	}
	if node.Spec.Unschedulable {
		status = append(status, "SchedulingDisabled")
	}
	roles := strings.Join(findNodeRoles(node), ",")
	if roles == "" {
		roles = "<none>"
	}
	info := node.Status.NodeInfo
	return metav1.TableRow{Cells: []interface{}{
		node.Name,
		strings.Join(status, ","),
		roles,
		e.since(node.CreationTimestamp),
		info.KubeletVersion,
		nodeAddress(node, corev1.NodeInternalIP),
		nodeAddress(node, corev1.NodeExternalIP),
		orUnknown(info.OSImage),
		orUnknown(info.KernelVersion),
		orUnknown(info.ContainerRuntimeVersion),
	}}
}

// nodeAddress returns the first address of type t, or "<none>".
func nodeAddress(node *corev1.Node, t corev1.NodeAddressType) string {
	for _, a := range node.Status.Addresses {
		if a.Type == t {
			return a.Address
		}
	}
	return "<none>"
}

// findNodeRoles returns the sorted, de-duplicated roles from
// node-role.kubernetes.io/<role> label keys and the kubernetes.io/role label value.
func findNodeRoles(node *corev1.Node) []string {
	set := map[string]bool{}
	for k, v := range node.Labels {
		switch {
		case strings.HasPrefix(k, labelNodeRolePrefix):
			if role := strings.TrimPrefix(k, labelNodeRolePrefix); role != "" {
				set[role] = true
			}
		case k == nodeLabelRole && v != "":
			set[v] = true
		}
	}
	roles := make([]string, 0, len(set))
	for r := range set {
		roles = append(roles, r)
	}
	sort.Strings(roles)
	return roles
}

func orUnknown(s string) string {
	if s == "" {
		return "<unknown>"
	}
	return s
}
