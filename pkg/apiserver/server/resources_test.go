package server

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/kubernetes/scheme"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/kinc-dev/kinc/pkg/apiserver/handlers"
	"github.com/kinc-dev/kinc/pkg/apiserver/openapi"
	"github.com/kinc-dev/kinc/pkg/apiserver/printers"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/version"
)

// testResources returns the server's list built with test dependencies.
func testResources(t *testing.T) []registry.Resource {
	t.Helper()
	_, cidr, err := net.ParseCIDR("10.96.0.0/16")
	if err != nil {
		t.Fatal(err)
	}
	return resources(registry.Deps{ServiceClusterIPRange: cidr, Clock: clocktesting.NewFakePassiveClock(time.Unix(0, 0)),
		Stores: func(schema.GroupVersionResource) registry.Store { t.Error("Stores called while building"); return nil }})
}

var knownVerbs = sets.New("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")

// TestResourcesComplete checks that every descriptor of the list says
// everything the server mounts.
func TestResourcesComplete(t *testing.T) {
	ds := testResources(t)
	seen := map[schema.GroupVersionResource]bool{}
	for i := range ds {
		d := &ds[i]
		t.Run(d.GroupVersionResource().String(), func(t *testing.T) {
			if d.GVK.Kind == "" || d.GVK.Version == "" || d.Name == "" || d.Singular == "" {
				t.Fatalf("names missing: %+v", d)
			}
			if d.Name != strings.ToLower(d.Name) || d.Singular != strings.ToLower(d.Singular) {
				t.Errorf("names %q/%q are not lower case", d.Name, d.Singular)
			}
			if len(d.Verbs) == 0 || !knownVerbs.HasAll(d.Verbs...) {
				t.Errorf("verbs %v", d.Verbs)
			}
			if d.NewStore != nil {
				checkStoreless(t, d)
				return
			}
			if !strings.HasPrefix(d.KeyRoot, "/") || strings.HasSuffix(d.KeyRoot, "/") {
				t.Errorf("key root %q", d.KeyRoot)
			}
			if d.NewFunc == nil || d.NewList == nil || d.Strategy == nil {
				t.Fatal("NewFunc, NewList or Strategy missing")
			}
			for obj, kind := range map[runtime.Object]string{d.NewFunc(): d.GVK.Kind, d.NewList(): d.GVK.Kind + "List"} {
				gvks, _, err := scheme.Scheme.ObjectKinds(obj)
				if err != nil || !containsGVK(gvks, d.GVK.GroupVersion().WithKind(kind)) {
					t.Errorf("%T is not %s (%v, %v)", obj, kind, gvks, err)
				}
			}
			checkPrinter(t, d, ds)
			for _, s := range d.AllSubresources() {
				n := 0
				for _, set := range []bool{s.View != nil, s.Creater != nil, s.Connecter != nil} {
					if set {
						n++
					}
				}
				if s.Name == "" || len(s.Verbs) == 0 || n != 1 {
					t.Errorf("subresource %q: verbs %v, %d handlers", s.Name, s.Verbs, n)
				}
			}
			if c := d.SharedStorage; c != nil {
				if !seen[c.Storage] || c.ToStorage == nil || c.FromStorage == nil || c.NewStored == nil || c.NewStoredList == nil {
					t.Errorf("shared storage %v: not an earlier resource, or conversion incomplete", c.Storage)
				}
			}
			if _, err := openapi.New(version.KubernetesVersion, openAPIResources([]registry.Resource{*d})); err != nil {
				t.Errorf("OpenAPI: %v", err)
			}
		})
		seen[d.GroupVersionResource()] = true
	}
}

// checkStoreless checks a resource without storage (the review APIs): a
// kind, a printer, nothing that only stored resources use, and a store that
// serves its verbs.
func checkStoreless(t *testing.T, d *registry.Resource) {
	t.Helper()
	if d.NewFunc == nil || d.Table.IsZero() {
		t.Fatal("NewFunc or printer missing")
	}
	if gvks, _, err := scheme.Scheme.ObjectKinds(d.NewFunc()); err != nil || !containsGVK(gvks, d.GVK) {
		t.Errorf("%T is not %s (%v, %v)", d.NewFunc(), d.GVK.Kind, gvks, err)
	}
	if d.KeyRoot != "" || d.NewList != nil || d.Strategy != nil || d.StatusStrategy != nil || d.SharedStorage != nil || d.WrapStore != nil {
		t.Error("a storage-less resource sets fields of stored ones")
	}
	if st := d.NewStore(); st == nil {
		t.Error("NewStore returned nil")
	} else if gvks, _, err := scheme.Scheme.ObjectKinds(st.New()); err != nil || !containsGVK(gvks, d.GVK) {
		t.Errorf("its store's New is %T, not %s", st.New(), d.GVK.Kind)
	}
	if _, err := openapi.New(version.KubernetesVersion, openAPIResources([]registry.Resource{*d})); err != nil {
		t.Errorf("OpenAPI: %v", err)
	}
}

// checkPrinter checks that d names a printer, and that a printer of its own
// prints d's kind and list (the default table prints none of the list's).
func checkPrinter(t *testing.T, d *registry.Resource, all []registry.Resource) {
	t.Helper()
	if d.Table.IsZero() {
		t.Fatal("no printer named")
	}
	cv := printers.NewDefault(printers.WithPrinters(d.Table))
	own, ownList := cv.Handles(d.NewFunc()), cv.Handles(d.NewList())
	if own != ownList {
		t.Errorf("printer prints the object (%v) but not the list (%v), or back", own, ownList)
	}
	if own {
		return
	}
	for i := range all {
		if cv.Handles(all[i].NewFunc()) {
			t.Errorf("printer prints %s, not %s", all[i].GVK.Kind, d.GVK.Kind)
		}
	}
}

// TestResourcesUnique checks that names, kinds and short names are unique
// per group.
func TestResourcesUnique(t *testing.T) {
	names, kinds, short := sets.New[string](), sets.New[string](), sets.New[string]()
	for _, d := range testResources(t) {
		g := d.GVK.Group + "/"
		for set, key := range map[*sets.Set[string]]string{&names: g + d.Name, &kinds: g + d.GVK.Kind} {
			if set.Has(key) {
				t.Errorf("%s served twice", key)
			}
			set.Insert(key)
		}
		for _, s := range d.ShortNames {
			if short.Has(g + s) {
				t.Errorf("short name %s%s used twice", g, s)
			}
			short.Insert(g + s)
		}
	}
}

// TestDiscoveryFromResources checks that the discovery documents derived
// from the list are those of testdata/discovery.golden (KINC_UPDATE_GOLDEN=1
// rewrites it): the 20 resources served when the registry packages came to
// own their descriptors, controllerrevisions, cronjobs, endpointslices,
// certificatesigningrequests and poddisruptionbudgets for the
// controller-manager, the RBAC kinds, and the 6 review APIs.
func TestDiscoveryFromResources(t *testing.T) {
	ds := testResources(t)
	if len(ds) != 31 {
		t.Errorf("%d resources, want 31", len(ds))
	}
	var hs []*handlers.Resource
	for i := range ds {
		hs = append(hs, serve(&ds[i], nil))
	}
	d := handlers.NewDiscovery(hs, "127.0.0.1:6443")
	var got bytes.Buffer
	get := func(name string, serve func(w http.ResponseWriter)) {
		rec := httptest.NewRecorder()
		serve(rec)
		var v any
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
			t.Fatalf("%s: %v: %s", name, err, rec.Body)
		}
		out, _ := json.MarshalIndent(v, "", " ")
		got.WriteString("== " + name + "\n")
		got.Write(out)
		got.WriteString("\n")
	}
	agg := func(core bool) func(w http.ResponseWriter) {
		return func(w http.ResponseWriter) {
			r := httptest.NewRequest("GET", "/apis", nil)
			r.Header.Set("Accept", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
			d.ServeRoot(w, r, core)
		}
	}
	get("aggregated /api", agg(true))
	get("aggregated /apis", agg(false))
	gvs := []schema.GroupVersion{}
	for i := range ds {
		if gv := ds[i].GVK.GroupVersion(); len(gvs) == 0 || !containsGV(gvs, gv) {
			gvs = append(gvs, gv)
		}
	}
	for _, gv := range gvs {
		get(gv.String(), func(w http.ResponseWriter) {
			if !d.ServeGroupVersion(w, gv) {
				t.Errorf("%s not served", gv)
			}
		})
	}
	golden := filepath.Join("testdata", "discovery.golden")
	if os.Getenv("KINC_UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("discovery differs from %s:\n%s", golden, firstDiff(string(want), got.String()))
	}
}

func containsGV(gvs []schema.GroupVersion, gv schema.GroupVersion) bool {
	for _, g := range gvs {
		if g == gv {
			return true
		}
	}
	return false
}

func containsGVK(gvks []schema.GroupVersionKind, gvk schema.GroupVersionKind) bool {
	for _, g := range gvks {
		if g == gvk {
			return true
		}
	}
	return false
}

// firstDiff shows the first line where want and got differ.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + strconv.Itoa(i+1) + ":\n want " + wl + "\n got  " + gl
		}
	}
	return ""
}
