package handlers

import (
	"encoding/json"
	"fmt"
	"mime"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"sigs.k8s.io/yaml"
)

// Media types the server reads and writes.
const (
	mediaJSON           = "application/json"
	mediaYAML           = "application/yaml"
	mediaJSONPatch      = "application/json-patch+json"
	mediaMergePatch     = "application/merge-patch+json"
	mediaStrategicPatch = "application/strategic-merge-patch+json"
	mediaApplyPatch     = "application/apply-patch+yaml"
	mediaProtobuf       = "application/vnd.kubernetes.protobuf"
)

// outputKind says what a response carries, from the Accept header.
type outputKind int

const (
	outputObject   outputKind = iota // the object itself
	outputTable                      // a meta.k8s.io Table
	outputMetadata                   // PartialObjectMetadata(List)
)

// output is the negotiated response format.
type output struct {
	kind      outputKind
	yaml      bool
	tableGV   string // "meta.k8s.io/v1" or "meta.k8s.io/v1beta1"
	mediaType string // Content-Type of the response
}

// negotiateOutput picks the response format from an Accept header, as
// kube-apiserver does: the first acceptable media range wins; protobuf is
// not served, so a client that accepts only protobuf gets 406.
func negotiateOutput(accept string) (output, error) {
	if strings.TrimSpace(accept) == "" {
		return output{mediaType: mediaJSON}, nil
	}
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		var o output
		switch mt {
		case mediaJSON, "*/*", "application/*":
			o = output{mediaType: mediaJSON}
		case mediaYAML:
			o = output{mediaType: mediaYAML, yaml: true}
		default:
			continue
		}
		switch as := params["as"]; as {
		case "":
		case "Table":
			if params["g"] != "meta.k8s.io" || (params["v"] != "v1" && params["v"] != "v1beta1") {
				continue
			}
			o.kind, o.tableGV = outputTable, "meta.k8s.io/"+params["v"]
		case "PartialObjectMetadata", "PartialObjectMetadataList":
			if params["g"] != "meta.k8s.io" || (params["v"] != "v1" && params["v"] != "v1beta1") {
				continue
			}
			o.kind, o.tableGV = outputMetadata, "meta.k8s.io/"+params["v"]
		default:
			continue
		}
		if o.kind != outputObject {
			o.mediaType = fmt.Sprintf("%s;as=%s;g=meta.k8s.io;v=%s", mt, params["as"], params["v"])
		}
		return o, nil
	}
	return output{}, apierrors.NewGenericServerResponse(406, "", schema.GroupResource{}, "", fmt.Sprintf(
		"only the following media types are accepted: application/json, application/yaml, "+
			"application/json;as=Table;v=v1;g=meta.k8s.io (got %q)", accept), 0, false)
}

// encode renders obj (whose apiVersion and kind are set) as JSON or YAML.
func encode(obj any, asYAML bool) ([]byte, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	if asYAML {
		return yaml.JSONToYAML(data)
	}
	return data, nil
}

// decoder decodes request bodies into typed objects.
type decoder struct {
	scheme *runtime.Scheme
}

// decodeBody decodes body of media type mt (JSON, YAML or Kubernetes
// protobuf) into into, whose expected kind is gvk (of any group-version when
// gvk's is empty). strict reports unknown and duplicate fields as a 400;
// otherwise they are returned as warnings (protobuf has no unknown-field
// detection).
func (d decoder) decodeBody(body []byte, mt string, strict bool, into runtime.Object, gvk schema.GroupVersionKind) ([]string, error) {
	var s runtime.Decoder
	switch mt {
	case mediaProtobuf:
		s = protobuf.NewSerializer(d.scheme, d.scheme)
	case mediaYAML:
		s = kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, d.scheme, d.scheme, kjson.SerializerOptions{Yaml: true, Strict: true})
	case mediaJSON:
		s = kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, d.scheme, d.scheme, kjson.SerializerOptions{Strict: true})
	default:
		return nil, unsupportedMediaType(mt)
	}
	obj, got, err := s.Decode(body, &gvk, into)
	var warnings []string
	if err != nil {
		if !runtime.IsStrictDecodingError(err) {
			return nil, apierrors.NewBadRequest(decodeErrorMessage(err))
		}
		if strict {
			return nil, apierrors.NewBadRequest(err.Error())
		}
		if se, ok := runtime.AsStrictDecodingError(err); ok {
			for _, e := range se.Errors() {
				warnings = append(warnings, e.Error())
			}
		}
	}
	if got != nil && (got.Kind != gvk.Kind || !gvk.GroupVersion().Empty() && got.GroupVersion() != gvk.GroupVersion()) {
		return nil, apierrors.NewBadRequest(fmt.Sprintf(
			"the API version in the data (%s) does not match the expected API version (%s)",
			got.GroupVersion().String(), gvk.GroupVersion().String()))
	}
	if obj != into {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the body is a %s, not a %s", got.Kind, gvk.Kind))
	}
	return warnings, nil
}

func decodeErrorMessage(err error) string {
	return "the object provided is unrecognized or malformed: " + err.Error()
}

// unsupportedMediaType is the 415 answer for a body of media type mt.
func unsupportedMediaType(mt string) error {
	return apierrors.NewGenericServerResponse(415, "", schema.GroupResource{}, "",
		fmt.Sprintf("the body of the request was in an unknown format - accepted media types include: "+
			"application/json, application/yaml, application/vnd.kubernetes.protobuf (got %q)", mt), 0, false)
}
