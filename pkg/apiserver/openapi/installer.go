package openapi

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// This file mirrors upstream's apiserver/pkg/endpoints/installer.go
// (registerResourceHandlers): which actions a resource gets, on which paths,
// and how each becomes a route.

// action is one operation on one path, before it becomes a route.
type action struct {
	verb          string // GET LIST PUT PATCH POST DELETE DELETECOLLECTION WATCH WATCHLIST CONNECT
	path          string // relative to the web service root
	params        []parameter
	allNamespaces bool
}

// endpoint is what the actions of one resource or subresource share.
type endpoint struct {
	gvk        schema.GroupVersionKind // kind served here (reqScope.Kind upstream)
	kind       string                  // kind named in operations and docs: the parent's
	sub        string                  // subresource name, "" for the resource itself
	namespaced bool
	object     interface{} // sample of gvk
	list       interface{} // sample of the list kind, for list/watch
	verbs      []string
	sr         *Subresource // nil for the resource itself
}

// resourceActions lists the actions of a resource or one of its
// subresources, like upstream for a namespaced or cluster scope.
func resourceActions(r Resource, e *endpoint) []action {
	has := func(v string) bool { return slices.Contains(e.verbs, v) }
	isLister, isWatcher := has("list"), has("watch")
	isConnecter := e.sr != nil && len(e.sr.ConnectMethods) > 0
	connectSubpath := isConnecter && e.sr.Name == "proxy"

	nameParam := pathParam("name", "name of the "+e.gvk.Kind)
	var resourcePath, itemPath string
	var resourceParams, nameParams []parameter
	if r.Namespaced {
		nsParam := pathParam("namespace", "object name and auth scope, such as for teams and projects")
		resourcePath = "namespaces/{namespace}/" + r.Resource
		resourceParams = []parameter{nsParam}
		nameParams = []parameter{nsParam, nameParam}
	} else {
		resourcePath = r.Resource
		nameParams = []parameter{nameParam}
	}
	itemPath = resourcePath + "/{name}"
	if e.sub != "" {
		itemPath += "/" + e.sub
		resourcePath, resourceParams = itemPath, nameParams
	}
	proxyParams := append(slices.Clone(nameParams), pathParam("path", "path to the resource"))

	var as []action
	add := func(ok bool, verb, path string, params []parameter, all bool) {
		if ok {
			as = append(as, action{verb: verb, path: path, params: params, allNamespaces: all})
		}
	}
	add(isLister, "LIST", resourcePath, resourceParams, false)
	add(has("create"), "POST", resourcePath, resourceParams, false)
	add(has("deletecollection"), "DELETECOLLECTION", resourcePath, resourceParams, false)
	add(isWatcher && isLister, "WATCHLIST", "watch/"+resourcePath, resourceParams, false)
	add(has("get"), "GET", itemPath, nameParams, false)
	add(has("update"), "PUT", itemPath, nameParams, false)
	add(has("patch"), "PATCH", itemPath, nameParams, false)
	add(has("delete"), "DELETE", itemPath, nameParams, false)
	add(isWatcher, "WATCH", "watch/"+itemPath, nameParams, false)
	add(isConnecter, "CONNECT", itemPath, nameParams, false)
	add(connectSubpath, "CONNECT", itemPath+"/{path:*}", proxyParams, false)
	if r.Namespaced && e.sub == "" {
		add(isLister, "LIST", r.Resource, nil, true)
		add(isWatcher && isLister, "WATCHLIST", "watch/"+r.Resource, nil, true)
	}
	return as
}

// routes turns one action into its routes (several for CONNECT).
func (b *builder) routes(root string, e *endpoint, a action) []*route {
	namespaced := ""
	if e.namespaced {
		namespaced = "Namespaced"
	}
	suffix := ""
	if strings.HasSuffix(a.path, "/{path:*}") {
		suffix += "WithPath"
	}
	if a.allNamespaces {
		suffix += "ForAllNamespaces"
		namespaced = ""
	}
	name := namespaced + e.kind + title(e.sub) + suffix
	kind, sub := e.kind, e.sub
	doc := func(plain, withSub string) string {
		if sub != "" {
			return withSub
		}
		return plain
	}
	article := articleFor(kind)
	newRoute := func(method, op, description string, produces []string) *route {
		return &route{
			method:      method,
			path:        root + "/" + a.path,
			operation:   op + name,
			description: description,
			consumes:    []string{"*/*"},
			produces:    produces,
			metadata: map[string]interface{}{
				extensionGVK:    metav1.GroupVersionKind{Group: e.gvk.Group, Version: e.gvk.Version, Kind: e.gvk.Kind},
				extensionAction: strings.ToLower(a.verb),
			},
		}
	}
	media, all := b.cfg.mediaTypes, append(slices.Clone(b.cfg.mediaTypes), b.cfg.streamMediaTypes...)
	var r *route
	switch a.verb {
	case "GET":
		r = newRoute(http.MethodGet, "read", doc("read the specified "+kind, "read "+sub+" of the specified "+kind), media)
		model := e.object
		if e.sr != nil && len(e.sr.Produces) > 0 {
			r.produces = append(slices.Clone(e.sr.Produces), media...)
			model = ""
		}
		r.param(prettyParam()).returns(http.StatusOK, "OK", model)
		if e.sr != nil && e.sr.Options != nil {
			r.param(objectParams(e.sr.Options)...)
		}
	case "LIST":
		d := doc("list objects of kind "+kind, "list "+sub+" of objects of kind "+kind)
		if slices.Contains(e.verbs, "watch") {
			d = doc("list or watch objects of kind "+kind, "list or watch "+sub+" of objects of kind "+kind)
		}
		r = newRoute(http.MethodGet, "list", d, all)
		r.param(prettyParam()).returns(http.StatusOK, "OK", e.list)
		r.param(objectParams(&metav1.ListOptions{})...)
	case "PUT":
		r = newRoute(http.MethodPut, "replace", doc("replace the specified "+kind, "replace "+sub+" of the specified "+kind), media)
		r.param(prettyParam()).read(e.object, true)
		r.returns(http.StatusOK, "OK", e.object).returns(http.StatusCreated, "Created", e.object)
		r.param(objectParams(&metav1.UpdateOptions{})...)
	case "PATCH":
		r = newRoute(http.MethodPatch, "patch", doc("partially update the specified "+kind, "partially update "+sub+" of the specified "+kind), media)
		r.consumes = []string{string(types.JSONPatchType), string(types.MergePatchType), string(types.StrategicMergePatchType), string(types.ApplyYAMLPatchType)}
		r.param(prettyParam()).read(metav1.Patch{}, true)
		r.returns(http.StatusOK, "OK", e.object).returns(http.StatusCreated, "Created", e.object)
		r.param(objectParams(&metav1.PatchOptions{})...)
	case "POST":
		r = newRoute(http.MethodPost, "create", doc("create"+article+kind, "create "+sub+" of"+article+kind), media)
		r.param(prettyParam()).read(e.object, true)
		r.returns(http.StatusOK, "OK", e.object).returns(http.StatusCreated, "Created", e.object).returns(http.StatusAccepted, "Accepted", e.object)
		r.param(objectParams(&metav1.CreateOptions{})...)
	case "DELETE":
		r = newRoute(http.MethodDelete, "delete", doc("delete"+article+kind, "delete "+sub+" of"+article+kind), media)
		r.param(prettyParam()).read(&metav1.DeleteOptions{}, false)
		r.returns(http.StatusOK, "OK", metav1.Status{}).returns(http.StatusAccepted, "Accepted", metav1.Status{})
		r.param(objectParams(&metav1.DeleteOptions{})...)
	case "DELETECOLLECTION":
		r = newRoute(http.MethodDelete, "deletecollection", doc("delete collection of "+kind, "delete collection of "+sub+" of a "+kind), media)
		r.param(prettyParam()).read(&metav1.DeleteOptions{}, false)
		r.returns(http.StatusOK, "OK", metav1.Status{})
		r.param(objectParams(&metav1.DeleteOptions{})...)
		r.param(objectParams(&metav1.ListOptions{}, "watch", "allowWatchBookmarks")...)
	case "WATCH":
		const dep = ". deprecated: use the 'watch' parameter with a list operation instead, filtered to a single item with the 'fieldSelector' parameter."
		r = newRoute(http.MethodGet, "watch", doc("watch changes to an object of kind "+kind, "watch changes to "+sub+" of an object of kind "+kind)+dep, all)
		r.param(prettyParam()).returns(http.StatusOK, "OK", metav1.WatchEvent{})
		r.param(objectParams(&metav1.ListOptions{})...)
	case "WATCHLIST":
		const dep = ". deprecated: use the 'watch' parameter with a list operation instead."
		r = newRoute(http.MethodGet, "watch", doc("watch individual changes to a list of "+kind, "watch individual changes to a list of "+sub+" of "+kind)+dep, all)
		r.operation = "watch" + namespaced + e.kind + title(e.sub) + "List" + suffix
		r.param(prettyParam()).returns(http.StatusOK, "OK", metav1.WatchEvent{})
		r.param(objectParams(&metav1.ListOptions{})...)
	case "CONNECT":
		var rs []*route
		for _, m := range e.sr.ConnectMethods {
			m = strings.ToUpper(m)
			c := newRoute(m, "connect"+title(strings.ToLower(m)),
				doc("connect "+m+" requests to "+kind, "connect "+m+" requests to "+sub+" of "+kind), []string{"*/*"})
			c.writes = ""
			if e.sr.Options != nil {
				c.param(objectParams(e.sr.Options)...)
			}
			c.param(a.params...)
			rs = append(rs, c)
		}
		return rs
	default:
		panic(fmt.Sprintf("openapi: unknown action verb %q", a.verb))
	}
	r.param(a.params...)
	return []*route{r}
}

// title upper-cases the first letter, like strings.Title on one word.
func title(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// articleFor returns " a ", " an " or, for plural nouns, " ", as upstream's
// getArticleForNoun.
func articleFor(noun string) string {
	if len(noun) >= 2 && noun[len(noun)-2:] != "ss" && noun[len(noun)-1] == 's' {
		return " "
	}
	if strings.ContainsRune("aeiouAEIOU", rune(noun[0])) {
		return " an "
	}
	return " a "
}
