package handlers

import (
	"mime"
	"net/http"
	"sort"
	"strings"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Discovery serves /api, /apis, /apis/<group> and /api(s)/<gv>: legacy
// documents by default, aggregated discovery (v2 or v2beta1) only when the
// Accept header asks for it, with the matching Content-Type, because
// clients decide how to parse by the Content-Type alone.
type Discovery struct {
	groups []groupInfo // "" (core) first, then by name
	// serverAddress is advertised in /api's serverAddressByClientCIDRs.
	serverAddress string
}

type groupInfo struct {
	name      string
	versions  []string // preferred first
	resources map[string][]*Resource
}

// NewDiscovery builds the discovery documents of resources.
func NewDiscovery(resources []*Resource, serverAddress string) *Discovery {
	byGroup := map[string]*groupInfo{}
	for _, r := range resources {
		g := byGroup[r.GVK.Group]
		if g == nil {
			g = &groupInfo{name: r.GVK.Group, resources: map[string][]*Resource{}}
			byGroup[r.GVK.Group] = g
		}
		if _, ok := g.resources[r.GVK.Version]; !ok {
			g.versions = append(g.versions, r.GVK.Version)
		}
		g.resources[r.GVK.Version] = append(g.resources[r.GVK.Version], r)
	}
	d := &Discovery{serverAddress: serverAddress}
	for _, g := range byGroup {
		for _, rs := range g.resources {
			sort.Slice(rs, func(i, j int) bool { return rs[i].Name < rs[j].Name })
		}
		d.groups = append(d.groups, *g)
	}
	sort.Slice(d.groups, func(i, j int) bool { return d.groups[i].name < d.groups[j].name })
	return d
}

// aggregatedVersion returns "v2" or "v2beta1" when accept asks for
// aggregated discovery, in the client's order of preference.
func aggregatedVersion(accept string) string {
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil || mt != mediaJSON {
			continue
		}
		if params["g"] == "apidiscovery.k8s.io" && params["as"] == "APIGroupDiscoveryList" &&
			(params["v"] == "v2" || params["v"] == "v2beta1") {
			return params["v"]
		}
		if params["as"] == "" {
			return "" // plain JSON preferred
		}
	}
	return ""
}

// ServeRoot serves /api (core=true) or /apis.
func (d *Discovery) ServeRoot(w http.ResponseWriter, r *http.Request, core bool) {
	w.Header().Set("Vary", "Accept")
	if v := aggregatedVersion(r.Header.Get("Accept")); v != "" {
		list := d.aggregated(core)
		list.APIVersion = "apidiscovery.k8s.io/" + v
		writeJSON(w, http.StatusOK, "application/json;g=apidiscovery.k8s.io;v="+v+";as=APIGroupDiscoveryList", list)
		return
	}
	if core {
		writeJSON(w, http.StatusOK, "", &metav1.APIVersions{
			TypeMeta: metav1.TypeMeta{Kind: "APIVersions"},
			Versions: []string{"v1"},
			ServerAddressByClientCIDRs: []metav1.ServerAddressByClientCIDR{
				{ClientCIDR: "0.0.0.0/0", ServerAddress: d.serverAddress}},
		})
		return
	}
	list := &metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}}
	for _, g := range d.groups {
		if g.name != "" {
			list.Groups = append(list.Groups, apiGroup(g))
		}
	}
	writeJSON(w, http.StatusOK, "", list)
}

func apiGroup(g groupInfo) metav1.APIGroup {
	out := metav1.APIGroup{Name: g.name}
	for _, v := range g.versions {
		out.Versions = append(out.Versions, metav1.GroupVersionForDiscovery{GroupVersion: g.name + "/" + v, Version: v})
	}
	out.PreferredVersion = out.Versions[0]
	return out
}

// ServeGroup serves /apis/<group>; false when the group is unknown.
func (d *Discovery) ServeGroup(w http.ResponseWriter, group string) bool {
	for _, g := range d.groups {
		if g.name == group && group != "" {
			ag := apiGroup(g)
			ag.TypeMeta = metav1.TypeMeta{Kind: "APIGroup", APIVersion: "v1"}
			writeJSON(w, http.StatusOK, "", &ag)
			return true
		}
	}
	return false
}

// ServeGroupVersion serves /api/v1 or /apis/<group>/<version>; false when
// unknown.
func (d *Discovery) ServeGroupVersion(w http.ResponseWriter, gv schema.GroupVersion) bool {
	for _, g := range d.groups {
		rs, ok := g.resources[gv.Version]
		if g.name != gv.Group || !ok {
			continue
		}
		list := &metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"},
			GroupVersion: gv.String()}
		for _, r := range rs {
			list.APIResources = append(list.APIResources, metav1.APIResource{
				Name: r.Name, SingularName: r.SingularName, Namespaced: r.Namespaced, Kind: r.GVK.Kind,
				Verbs: r.Verbs, ShortNames: r.ShortNames, Categories: r.Categories,
			})
			for _, s := range r.Subresources {
				ar := metav1.APIResource{Name: r.Name + "/" + s.Name, Namespaced: r.Namespaced, Kind: s.Kind.Kind, Verbs: s.Verbs}
				if s.Kind.GroupVersion() != r.GVK.GroupVersion() {
					ar.Group, ar.Version = s.Kind.Group, s.Kind.Version
				}
				list.APIResources = append(list.APIResources, ar)
			}
		}
		writeJSON(w, http.StatusOK, "", list)
		return true
	}
	return false
}

// aggregated builds the APIGroupDiscoveryList of /api (core) or /apis.
func (d *Discovery) aggregated(core bool) *apidiscoveryv2.APIGroupDiscoveryList {
	list := &apidiscoveryv2.APIGroupDiscoveryList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupDiscoveryList"}}
	for _, g := range d.groups {
		if (g.name == "") != core {
			continue
		}
		item := apidiscoveryv2.APIGroupDiscovery{ObjectMeta: metav1.ObjectMeta{Name: g.name}}
		for _, v := range g.versions {
			vd := apidiscoveryv2.APIVersionDiscovery{Version: v, Freshness: apidiscoveryv2.DiscoveryFreshnessCurrent}
			for _, r := range g.resources[v] {
				scope := apidiscoveryv2.ScopeCluster
				if r.Namespaced {
					scope = apidiscoveryv2.ScopeNamespace
				}
				rd := apidiscoveryv2.APIResourceDiscovery{
					Resource: r.Name, ResponseKind: &metav1.GroupVersionKind{Kind: r.GVK.Kind}, Scope: scope,
					SingularResource: r.SingularName, Verbs: r.Verbs, ShortNames: r.ShortNames, Categories: r.Categories,
				}
				for _, s := range r.Subresources {
					kind := &metav1.GroupVersionKind{Kind: s.Kind.Kind}
					if s.Kind.GroupVersion() != r.GVK.GroupVersion() {
						kind.Group, kind.Version = s.Kind.Group, s.Kind.Version
					}
					rd.Subresources = append(rd.Subresources, apidiscoveryv2.APISubresourceDiscovery{
						Subresource: s.Name, ResponseKind: kind, Verbs: s.Verbs})
				}
				vd.Resources = append(vd.Resources, rd)
			}
			item.Versions = append(item.Versions, vd)
		}
		list.Items = append(list.Items, item)
	}
	return list
}
