package openapi

import (
	"crypto/sha512"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"sync"
	"time"

	openapi_v2 "github.com/google/gnostic-models/openapiv2"
	openapi_v3 "github.com/google/gnostic-models/openapiv3"
	"google.golang.org/protobuf/proto"
	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// Service holds the OpenAPI documents of one API surface and serves them.
// Documents are built on first use (or by Prepare) and then never change;
// all methods are safe for concurrent use.
type Service struct {
	b   builder
	wss []*webService

	v2 func() (*v2Docs, error) // sync.OnceValues
	v3 func() (*v3Docs, error) // sync.OnceValues
}

// v2Docs is the built OpenAPI v2 document in both encodings.
type v2Docs struct {
	swagger *spec.Swagger
	json    []byte
	proto   []byte
	etag    string // of the JSON; shared by both encodings (Vary: Accept), as upstream
	built   time.Time
}

// v3Docs are the built OpenAPI v3 documents and the root listing them.
type v3Docs struct {
	root     []byte
	rootETag string
	groups   map[string]*v3Group // "api/v1", "apis/apps/v1", ...
	built    time.Time
}

type v3Group struct {
	doc   *spec3.OpenAPI
	json  []byte
	etag  string                 // also the ?hash= of the root's URL
	proto func() ([]byte, error) // sync.OnceValues: rarely asked for
}

// New describes the API made of resources; version is the server's version
// (info.version, e.g. "v1.33.0"). It checks that every kind (and list kind,
// for listable resources) is known to the scheme and has a generated
// definition (a few milliseconds), but builds no document: they are built on
// first use (about 0.6 s for both on a 2-core machine), or by Prepare.
func New(version string, resources []Resource, opts ...Option) (*Service, error) {
	cfg := newConfig(version, opts)
	s := &Service{b: builder{cfg: &cfg, namer: newDefinitionNamer(cfg.scheme)}}
	var err error
	if s.wss, err = s.b.webServices(resources); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	if err := s.b.checkDefinitions(s.wss); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	s.v2 = sync.OnceValues(s.buildV2)
	s.v3 = sync.OnceValues(s.buildV3)
	return s, nil
}

// Prepare builds both documents now, returning the first error (a kind
// without a generated definition, for example). Serving calls it implicitly.
func (s *Service) Prepare() error {
	if _, err := s.v2(); err != nil {
		return err
	}
	_, err := s.v3()
	return err
}

// Swagger returns the OpenAPI v2 document. The caller must not modify it.
func (s *Service) Swagger() (*spec.Swagger, error) {
	d, err := s.v2()
	if err != nil {
		return nil, err
	}
	return d.swagger, nil
}

// OpenAPIV3 returns the OpenAPI v3 documents keyed by their path under
// /openapi/v3 ("api/v1", "apis/apps/v1", "apis", "version", ...). The caller
// must not modify them.
func (s *Service) OpenAPIV3() (map[string]*spec3.OpenAPI, error) {
	d, err := s.v3()
	if err != nil {
		return nil, err
	}
	out := make(map[string]*spec3.OpenAPI, len(d.groups))
	for k, g := range d.groups {
		out[k] = g.doc
	}
	return out, nil
}

func (s *Service) buildV2() (*v2Docs, error) {
	sw, err := s.b.buildV2(s.wss)
	if err != nil {
		return nil, fmt.Errorf("openapi: building v2: %w", err)
	}
	j, err := json.Marshal(sw)
	if err != nil {
		return nil, fmt.Errorf("openapi: encoding v2: %w", err)
	}
	doc, err := openapi_v2.ParseDocument(j)
	if err != nil {
		return nil, fmt.Errorf("openapi: converting v2 to protobuf: %w", err)
	}
	p, err := proto.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi: encoding v2 protobuf: %w", err)
	}
	return &v2Docs{swagger: sw, json: j, proto: p, etag: etagOf(j), built: time.Now()}, nil
}

func (s *Service) buildV3() (*v3Docs, error) {
	docs, err := s.b.buildV3(s.wss)
	if err != nil {
		return nil, fmt.Errorf("openapi: building v3: %w", err)
	}
	d := &v3Docs{groups: make(map[string]*v3Group, len(docs)), built: time.Now()}
	type entry struct {
		ServerRelativeURL string `json:"serverRelativeURL"`
	}
	root := struct {
		Paths map[string]entry `json:"paths"`
	}{Paths: make(map[string]entry, len(docs))}
	names := make([]string, 0, len(docs))
	for name := range docs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		j, err := json.Marshal(docs[name])
		if err != nil {
			return nil, fmt.Errorf("openapi: encoding v3 %s: %w", name, err)
		}
		g := &v3Group{doc: docs[name], json: j, etag: etagOf(j)}
		g.proto = sync.OnceValues(func() ([]byte, error) {
			doc, err := openapi_v3.ParseDocument(j)
			if err != nil {
				return nil, fmt.Errorf("openapi: converting v3 %s to protobuf: %w", name, err)
			}
			return proto.Marshal(doc)
		})
		d.groups[name] = g
		root.Paths[name] = entry{ServerRelativeURL: serverRelativeURL(name, g.etag)}
	}
	if d.root, err = json.Marshal(root); err != nil {
		return nil, fmt.Errorf("openapi: encoding v3 root: %w", err)
	}
	d.rootETag = etagOf(d.root)
	return d, nil
}

// etagOf is upstream's ETag (and v3 hash): the SHA-512 of the JSON, in
// upper-case hex.
func etagOf(data []byte) string {
	return fmt.Sprintf("%X", sha512.Sum512(data))
}

// serverRelativeURL is the root's link to a v3 document:
// /openapi/v3/apis/apps/v1?hash=<ETag>.
func serverRelativeURL(name, etag string) string {
	u := url.URL{Path: "/openapi/v3/" + name, RawQuery: url.Values{"hash": {etag}}.Encode()}
	return u.String()
}
