// Package handlers serves the Kubernetes REST API over the generic store:
// URL parsing, content negotiation, the verbs (get, list, watch, create,
// update, patch, delete, deletecollection), subresources and discovery.
package handlers

import (
	"net/http"
	"strings"
)

// RequestInfo is what a resource URL says, e.g.
// /apis/apps/v1/namespaces/default/deployments/web/scale.
type RequestInfo struct {
	IsResourceRequest bool
	// Path is the URL path, for non-resource requests.
	Path string
	// APIPrefix is "api" or "apis".
	APIPrefix  string
	APIGroup   string
	APIVersion string
	Namespace  string
	Resource   string
	// Subresource is the path segment after the name ("status", "proxy");
	// what follows it is SubPath.
	Subresource string
	// SubPath is the rest of the path after the subresource, without its
	// leading slash and keeping a trailing one: "a/b/" for
	// pods/web/proxy/a/b/ (the path a proxy subresource forwards).
	SubPath string
	Name    string
	// Verb is the Kubernetes verb: get, list, watch, create, update, patch,
	// delete, deletecollection (or the HTTP method lower-cased for
	// non-resource requests).
	Verb string
}

// ParseRequestInfo parses r's URL. Requests outside /api and /apis, and
// discovery requests (/api, /apis/apps, /apis/apps/v1) are non-resource
// requests.
func ParseRequestInfo(r *http.Request) RequestInfo {
	info := RequestInfo{Path: r.URL.Path, Verb: strings.ToLower(r.Method)}
	parts := splitPath(r.URL.Path)
	if len(parts) == 0 || (parts[0] != "api" && parts[0] != "apis") {
		return info
	}
	info.APIPrefix = parts[0]
	parts = parts[1:]
	if info.APIPrefix == "apis" {
		if len(parts) < 1 {
			return info
		}
		info.APIGroup, parts = parts[0], parts[1:]
	}
	if len(parts) < 1 {
		return info
	}
	info.APIVersion, parts = parts[0], parts[1:]
	if len(parts) == 0 {
		return info // group-version discovery
	}
	info.IsResourceRequest = true

	// The deprecated /watch/ path segment means ?watch=true.
	isWatch := r.URL.Query().Get("watch") == "true" || r.URL.Query().Get("watch") == "1"
	if parts[0] == "watch" {
		isWatch, parts = true, parts[1:]
	}
	// namespaces/{ns}/{resource}/… addresses resources in ns; namespaces/{ns},
	// namespaces/{ns}/status and namespaces/{ns}/finalize the namespace itself.
	if len(parts) >= 2 && parts[0] == "namespaces" {
		info.Namespace = parts[1]
		if len(parts) > 2 && parts[2] != "status" && parts[2] != "finalize" {
			parts = parts[2:]
		}
	}
	if len(parts) >= 1 {
		info.Resource = parts[0]
	}
	if len(parts) >= 2 {
		info.Name = parts[1]
	}
	if len(parts) >= 3 {
		info.Subresource = parts[2]
	}
	if len(parts) >= 4 {
		info.SubPath = strings.Join(parts[3:], "/")
		if strings.HasSuffix(r.URL.Path, "/") {
			info.SubPath += "/"
		}
	}

	switch r.Method {
	case http.MethodGet, http.MethodHead:
		switch {
		case isWatch:
			info.Verb = "watch"
		case info.Name == "":
			info.Verb = "list"
		default:
			info.Verb = "get"
		}
	case http.MethodPost:
		info.Verb = "create"
	case http.MethodPut:
		info.Verb = "update"
	case http.MethodPatch:
		info.Verb = "patch"
	case http.MethodDelete:
		if info.Name == "" {
			info.Verb = "deletecollection"
		} else {
			info.Verb = "delete"
		}
	}
	return info
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}
