package openapi

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"unicode"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/util"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

const (
	extensionGVK    = "x-kubernetes-group-version-kind"
	extensionAction = "x-kubernetes-action"
)

// definitionNamer names definitions and tags each with the GVKs the scheme
// registers for its Go type (x-kubernetes-group-version-kind), like
// upstream's apiserver/pkg/endpoints/openapi.DefinitionNamer. It is
// immutable after construction and safe for concurrent use.
type definitionNamer struct {
	gvks map[string][]interface{} // definition name → extension value
}

func newDefinitionNamer(s *runtime.Scheme) *definitionNamer {
	type gvk struct{ group, version, kind string }
	byName := map[string][]gvk{}
	for k := range s.AllKnownTypes() {
		if k.Version == runtime.APIVersionInternal {
			continue
		}
		name, err := s.ToOpenAPIDefinitionName(k)
		if err != nil {
			continue // a type the scheme cannot instantiate has no definition either
		}
		byName[name] = append(byName[name], gvk{k.Group, k.Version, k.Kind})
	}
	n := &definitionNamer{gvks: make(map[string][]interface{}, len(byName))}
	for name, list := range byName {
		sort.Slice(list, func(i, j int) bool {
			a, b := list[i], list[j]
			if a.group != b.group {
				return a.group < b.group
			}
			if a.version != b.version {
				return a.version < b.version
			}
			return a.kind < b.kind
		})
		ext := make([]interface{}, 0, len(list))
		for _, g := range list {
			ext = append(ext, map[string]interface{}{"group": g.group, "version": g.version, "kind": g.kind})
		}
		n.gvks[name] = ext
	}
	return n
}

// GetDefinitionName implements common.Config.GetDefinitionName. Model names
// ("io.k8s.api.core.v1.Pod") are kept; Go type paths
// ("example.com/api/v1.MyType") are made REST-friendly.
func (n *definitionNamer) GetDefinitionName(name string) (string, spec.Extensions) {
	if strings.Contains(name, "/") {
		name = util.ToRESTFriendlyName(name)
	}
	if ext, ok := n.gvks[name]; ok {
		return name, spec.Extensions{extensionGVK: ext}
	}
	return name, nil
}

// operationIDAndTags implements common.Config.GetOperationIDAndTagsFromRoute
// like upstream's apiserver/pkg/endpoints/openapi.GetOperationIDAndTags:
// "listNamespacedPod" on /api/v1/... becomes "listCoreV1NamespacedPod" with
// tag "core_v1"; "getAPIGroup" on /apis/rbac.authorization.k8s.io/ becomes
// "getRbacAuthorizationAPIGroup" with tag "rbacAuthorization".
func operationIDAndTags(r common.Route) (string, []string, error) {
	op := r.OperationName()
	// The verbs upstream's operation names start with. The shortest matching
	// prefix wins, as in upstream's trie: "deletecollectionNamespacedPod"
	// becomes "deleteCoreV1CollectionNamespacedPod".
	verbs := [...]string{"get", "log", "read", "replace", "patch", "delete", "deletecollection", "watch", "connect", "proxy", "list", "create"}
	prefix := ""
	for _, v := range verbs {
		if strings.HasPrefix(op, v) && (prefix == "" || len(v) < len(prefix)) {
			prefix = v
		}
	}
	if prefix == "" {
		return op, nil, fmt.Errorf("operation %q does not start with a verb", op)
	}
	op = op[len(prefix):]
	parts := strings.Split(strings.Trim(r.Path(), "/"), "/")
	if len(parts) >= 1 && parts[0] == "api" {
		parts = append([]string{"apis", "core"}, parts[1:]...)
	}
	var tags []string
	if len(parts) >= 2 && parts[0] == "apis" {
		group := strings.TrimSuffix(parts[1], ".k8s.io")
		prefix += toValidOperationID(group, true)
		tag := toValidOperationID(group, false)
		if len(parts) > 2 {
			prefix += toValidOperationID(parts[2], true)
			tag += "_" + toValidOperationID(parts[2], false)
		}
		tags = append(tags, tag)
	} else if len(parts) >= 1 {
		tags = append(tags, toValidOperationID(parts[0], false))
	}
	return prefix + toValidOperationID(op, true), tags, nil
}

// toValidOperationID drops characters that are not letters (or digits after
// the first) and capitalises the letter after each dropped one.
func toValidOperationID(s string, capitalizeFirst bool) string {
	var b bytes.Buffer
	capitalize := capitalizeFirst
	for i, r := range s {
		if unicode.IsLetter(r) || r == '_' || (i != 0 && unicode.IsDigit(r)) {
			if capitalize {
				b.WriteRune(unicode.ToUpper(r))
				capitalize = false
			} else {
				b.WriteRune(r)
			}
		} else {
			capitalize = true
		}
	}
	return b.String()
}
