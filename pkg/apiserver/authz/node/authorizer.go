// Package node is the Node authorizer (--authorization-mode=Node), as
// upstream's: a kubelet, user system:node:<name> in group system:nodes,
// may read the Secrets, ConfigMaps, PVCs, PVs and ResourceClaims of the
// pods bound to its node, request tokens for their service accounts, read
// its own Node and Lease, and hold the static node rules (Rules) for the
// rest. Requests of other users get NoOpinion, and so do a node's requests
// outside that set, so the next authorizer (RBAC) decides. The pod → node →
// object relations come from the apiserver's own stores (Graph, kept by
// informers over registry.Store List/Watch); the NodeRestriction admission
// plugin limits what a node writes.
package node

import (
	"context"
	"errors"
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/selection"

	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
	"github.com/kinc-dev/kinc/pkg/apiserver/authz"
)

var (
	_ authz.Authorizer   = (*Authorizer)(nil)
	_ authz.RuleResolver = (*Authorizer)(nil)
)

// NamespaceNodeLease holds the nodes' heartbeat Leases.
const NamespaceNodeLease = "kube-node-lease"

// Authorizer is the Node authorizer. It answers from its Graph; until the
// graph has synced (HasSynced), a node's reads of related objects get
// NoOpinion, as upstream's. Safe for concurrent use.
type Authorizer struct {
	graph *Graph
	rules []rbacv1.PolicyRule
	// populate, when set, starts the informers that fill graph (New).
	populate *populator
}

// NewForGraph returns an authorizer answering from g, which the caller
// fills (tests, or a server that keeps the graph itself).
func NewForGraph(g *Graph) *Authorizer {
	return &Authorizer{graph: g, rules: Rules()}
}

// Graph returns the graph the authorizer answers from.
func (z *Authorizer) Graph() *Graph { return z.graph }

// RulesFor implements authz.RuleResolver as upstream's Node authorizer: a
// node's permissions cannot be listed (they depend on the graph), so for a
// node it returns no rules and an error, which makes a
// SelfSubjectRulesReview incomplete; other users get neither.
func (z *Authorizer) RulesFor(_ context.Context, user *authn.User, _ string) ([]rbacv1.PolicyRule, error) {
	if _, isNode := Identity(user); isNode {
		return nil, errors.New("node authorizer does not support user rule resolution")
	}
	return nil, nil
}

// Authorize implements authz.Authorizer.
func (z *Authorizer) Authorize(_ context.Context, a authz.Attributes) (authz.Decision, string, error) {
	node, isNode := Identity(a.User)
	if !isNode {
		return authz.NoOpinion, "", nil
	}
	if node == "" {
		return authz.NoOpinion, fmt.Sprintf("unknown node for user %q", a.User.Name), nil
	}
	if a.IsResourceRequest {
		if a.Name == "" && (a.Verb == "list" || a.Verb == "watch") {
			// As upstream's request info: a list or watch of one object
			// (client-go's informer of one Secret or Node) names it by
			// metadata.name.
			a.Name, _ = fieldEquals(a.FieldSelector, "metadata.name")
		}
		switch a.APIGroup + "/" + a.Resource {
		case "/secrets":
			return z.readNamespaced(node, Secret, a)
		case "/configmaps":
			return z.readNamespaced(node, ConfigMap, a)
		case "/persistentvolumeclaims":
			if a.Subresource == "status" {
				return z.statusUpdate(node, PersistentVolumeClaim, a)
			}
			return z.get(node, PersistentVolumeClaim, a)
		case "/persistentvolumes":
			return z.get(node, PersistentVolume, a)
		case "resource.k8s.io/resourceclaims":
			return z.get(node, ResourceClaim, a)
		case "storage.k8s.io/volumeattachments":
			return z.get(node, VolumeAttachment, a)
		case "/serviceaccounts":
			return z.serviceAccount(node, a)
		case "coordination.k8s.io/leases":
			return z.lease(node, a)
		case "storage.k8s.io/csinodes":
			return z.csiNode(node, a)
		case "/nodes":
			return z.node(node, a)
		case "/pods":
			return z.pod(node, a)
		}
	}
	if rulesAllow(a, z.rules) {
		return authz.Allow, "", nil
	}
	return authz.NoOpinion, "", nil
}

// related allows a request for one object reachable from node.
func (z *Authorizer) related(node string, k Kind, a authz.Attributes) (authz.Decision, string, error) {
	if a.Name == "" {
		return authz.NoOpinion, "No Object name found", nil
	}
	if !z.graph.Has(node, k, a.Namespace, a.Name) {
		return authz.NoOpinion, noRelationship(node), nil
	}
	return authz.Allow, "", nil
}

func noRelationship(node string) string {
	return fmt.Sprintf("no relationship found between node '%s' and this object", node)
}

// get allows a get of one related object.
func (z *Authorizer) get(node string, k Kind, a authz.Attributes) (authz.Decision, string, error) {
	if a.Verb != "get" {
		return authz.NoOpinion, "can only get individual resources of this type", nil
	}
	if a.Subresource != "" {
		return authz.NoOpinion, "cannot get subresource", nil
	}
	return z.related(node, k, a)
}

// readNamespaced allows get, list and watch of one related namespaced
// object (a list or watch by metadata.name, as the kubelet's secret and
// configmap managers do).
func (z *Authorizer) readNamespaced(node string, k Kind, a authz.Attributes) (authz.Decision, string, error) {
	switch a.Verb {
	case "get", "list", "watch":
	default:
		return authz.NoOpinion, "can only read resources of this type", nil
	}
	if a.Subresource != "" {
		return authz.NoOpinion, "cannot read subresource", nil
	}
	if a.Namespace == "" {
		return authz.NoOpinion, "can only read namespaced object of this type", nil
	}
	return z.related(node, k, a)
}

// statusUpdate allows update and patch of the status of a related object.
func (z *Authorizer) statusUpdate(node string, k Kind, a authz.Attributes) (authz.Decision, string, error) {
	switch a.Verb {
	case "update", "patch":
	default:
		return authz.NoOpinion, "can only get/update/patch this type", nil
	}
	return z.related(node, k, a)
}

// serviceAccount allows a get of, and a token for, the service account of
// a pod bound to node.
func (z *Authorizer) serviceAccount(node string, a authz.Attributes) (authz.Decision, string, error) {
	if a.Verb == "get" && a.Subresource == "" {
		return z.readNamespaced(node, ServiceAccount, a)
	}
	if a.Verb != "create" || a.Name == "" {
		return authz.NoOpinion, "can only create tokens for individual service accounts", nil
	}
	if a.Subresource != "token" {
		return authz.NoOpinion, "can only create token subresource of serviceaccount", nil
	}
	return z.related(node, ServiceAccount, a)
}

// lease allows the node's own Lease in kube-node-lease (a create is
// checked by NodeRestriction, which sees the name).
func (z *Authorizer) lease(node string, a authz.Attributes) (authz.Decision, string, error) {
	switch a.Verb {
	case "get", "create", "update", "patch", "delete":
	default:
		return authz.NoOpinion, "can only get, create, update, patch, or delete a node lease", nil
	}
	if a.Namespace != NamespaceNodeLease {
		return authz.NoOpinion, fmt.Sprintf("can only access leases in the %q system namespace", NamespaceNodeLease), nil
	}
	if a.Verb != "create" && a.Name != node {
		return authz.NoOpinion, "can only access node lease with the same name as the requesting node", nil
	}
	return authz.Allow, "", nil
}

// csiNode allows the node's own CSINode (its status subresource needs
// CSIVolumeHealth, off by default upstream and not served by kinc).
func (z *Authorizer) csiNode(node string, a authz.Attributes) (authz.Decision, string, error) {
	switch a.Subresource {
	case "":
	case "status":
		return authz.NoOpinion, "CSINode status access requires CSIVolumeHealth feature", nil
	default:
		return authz.NoOpinion, "cannot authorize CSINode subresources", nil
	}
	switch a.Verb {
	case "get", "create", "update", "patch", "delete":
	default:
		return authz.NoOpinion, "can only get, create, update, patch, or delete a CSINode", nil
	}
	if a.Verb != "create" && a.Name != node {
		return authz.NoOpinion, "can only access CSINode with the same name as the requesting node", nil
	}
	return authz.Allow, "", nil
}

// node allows writes of Node objects (NodeRestriction limits them to the
// node's own) and reads of the node's own Node only.
func (z *Authorizer) node(node string, a authz.Attributes) (authz.Decision, string, error) {
	switch a.Subresource {
	case "":
		switch a.Verb {
		case "create", "update", "patch":
			return authz.Allow, "", nil
		case "get", "list", "watch":
			switch a.Name {
			case node:
				return authz.Allow, "", nil
			case "":
				return authz.NoOpinion, fmt.Sprintf("node '%s' cannot read all nodes, only its own Node object", node), nil
			default:
				return authz.NoOpinion, fmt.Sprintf("node '%s' cannot read '%s', only its own Node object", node, a.Name), nil
			}
		}
	case "status":
		switch a.Verb {
		case "update", "patch":
			return authz.Allow, "", nil
		}
	}
	return authz.NoOpinion, "", nil
}

// pod allows reads of the node's pods (a list or watch only with
// spec.nodeName=<node>), mirror pod creates and pod deletes, status writes
// and evictions (NodeRestriction limits those to the node's pods).
func (z *Authorizer) pod(node string, a authz.Attributes) (authz.Decision, string, error) {
	switch a.Subresource {
	case "":
		switch a.Verb {
		case "get":
			return z.get(node, Pod, a)
		case "list", "watch":
			if v, ok := fieldEquals(a.FieldSelector, "spec.nodeName"); ok && v == node {
				return authz.Allow, "", nil
			}
			if a.Name != "" {
				return z.related(node, Pod, a)
			}
			return authz.NoOpinion, "can only list/watch pods with spec.nodeName field selector", nil
		case "create", "delete":
			return authz.Allow, "", nil
		}
	case "status":
		switch a.Verb {
		case "update", "patch":
			return authz.Allow, "", nil
		}
	case "eviction":
		if a.Verb == "create" {
			return authz.Allow, "", nil
		}
	}
	return authz.NoOpinion, "", nil
}

// fieldEquals returns the value a field selector requires field to equal.
// An unparsable selector requires nothing (the request fails later).
func fieldEquals(selector, field string) (string, bool) {
	if selector == "" {
		return "", false
	}
	sel, err := fields.ParseSelector(selector)
	if err != nil {
		return "", false
	}
	for _, r := range sel.Requirements() {
		if r.Field == field && r.Operator == selection.Equals {
			return r.Value, true
		}
	}
	return "", false
}
