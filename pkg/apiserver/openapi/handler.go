package openapi

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/munnerz/goautoneg"
)

// Media types of the documents.
const (
	mediaJSON = "application/json"
	// MediaV2Protobuf is what client-go asks /openapi/v2 for; the response
	// carries MediaV2ProtobufCanonical, as upstream's does.
	MediaV2Protobuf          = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
	MediaV2ProtobufCanonical = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
	// MediaV3Protobuf and MediaV3ProtobufCanonical are the same for v3.
	MediaV3Protobuf          = "application/com.github.proto-openapi.spec.v3@v1.0+protobuf"
	MediaV3ProtobufCanonical = "application/com.github.proto-openapi.spec.v3.v1.0+protobuf"
)

// ServeHTTP serves /openapi/v2 (V2Handler) and /openapi/v3, /openapi/v3/...
// (V3Handler); any other path is 404.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch p := r.URL.Path; {
	case p == "/openapi/v2":
		s.serveV2(w, r)
	case p == "/openapi/v3" || strings.HasPrefix(p, "/openapi/v3/"):
		s.serveV3(w, r)
	default:
		http.NotFound(w, r)
	}
}

// V2Handler serves the OpenAPI v2 document whatever the request path (mount
// it at /openapi/v2). The Accept header picks the encoding: gnostic protobuf
// for MediaV2Protobuf or MediaV2ProtobufCanonical, JSON otherwise. Responses
// carry an ETag and honour If-None-Match (304).
func (s *Service) V2Handler() http.Handler { return http.HandlerFunc(s.serveV2) }

// V3Handler serves /openapi/v3 (the root listing every document with its
// hash) and /openapi/v3/<path> (one document: JSON, or protobuf for
// MediaV3Protobuf). A document asked for with ?hash= equal to its current
// hash is marked immutable (Cache-Control: public, immutable); another hash
// is redirected (301) to the current one; an unknown path is 404. Mount it at
// /openapi/v3 and /openapi/v3/.
func (s *Service) V3Handler() http.Handler { return http.HandlerFunc(s.serveV3) }

func (s *Service) serveV2(w http.ResponseWriter, r *http.Request) {
	if !readOnly(w, r) {
		return
	}
	d, err := s.v2()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Add("Vary", "Accept")
	body, ctype := d.json, mediaJSON
	if negotiate(r, MediaV2Protobuf, MediaV2ProtobufCanonical) {
		body, ctype = d.proto, MediaV2ProtobufCanonical
	}
	serve(w, r, ctype, d.etag, d.built, body)
}

func (s *Service) serveV3(w http.ResponseWriter, r *http.Request) {
	if !readOnly(w, r) {
		return
	}
	d, err := s.v3()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	name, sub := strings.CutPrefix(r.URL.Path, "/openapi/v3/")
	if !sub {
		serve(w, r, mediaJSON, d.rootETag, d.built, d.root)
		return
	}
	g, ok := d.groups[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Add("Vary", "Accept")
	body, ctype := g.json, mediaJSON
	if negotiate(r, MediaV3Protobuf, MediaV3ProtobufCanonical) {
		if body, err = g.proto(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		ctype = MediaV3ProtobufCanonical
	}
	if hash := r.URL.Query().Get("hash"); hash != "" {
		if hash != g.etag {
			http.Redirect(w, r, serverRelativeURL(name, g.etag), http.StatusMovedPermanently)
			return
		}
		w.Header().Set("Cache-Control", "public, immutable")
		w.Header().Set("Expires", time.Now().AddDate(1, 0, 0).UTC().Format(http.TimeFormat))
	}
	serve(w, r, ctype, g.etag, d.built, body)
}

// readOnly answers 405 to anything but GET and HEAD.
func readOnly(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}

// negotiate reports whether the best Accept clause that names JSON or one of
// protos (wildcards count) names a protobuf type. A missing or unmatched
// Accept header means JSON.
func negotiate(r *http.Request, protos ...string) bool {
	accept := r.Header.Get("Accept")
	if accept == "" {
		return false
	}
	for _, c := range goautoneg.ParseAccept(accept) {
		if c.Type != "application" && c.Type != "*" {
			continue
		}
		if c.SubType == "*" || c.SubType == "json" {
			return false
		}
		for _, p := range protos {
			if "application/"+c.SubType == p {
				return true
			}
		}
	}
	return false
}

// serve writes body with its ETag; http.ServeContent answers If-None-Match
// (304), If-Modified-Since, HEAD and ranges.
func serve(w http.ResponseWriter, r *http.Request, ctype, etag string, modified time.Time, body []byte) {
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Etag", strconv.Quote(etag))
	http.ServeContent(w, r, "", modified, bytes.NewReader(body))
}
