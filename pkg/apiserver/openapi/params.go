package openapi

import (
	"reflect"
	"slices"
	"strings"
)

const prettyDescription = "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget)."

func prettyParam() parameter { return queryParam("pretty", prettyDescription, "string") }

// documentable is implemented by the API types: field descriptions by JSON name.
type documentable interface {
	SwaggerDoc() map[string]string
}

// objectParams turns an options object (metav1.ListOptions, CreateOptions,
// corev1.PodLogOptions, ...) into query parameters, as upstream's
// installer.AddObjectParams does: every top-level field with a JSON name
// whose type is not a struct, interface, or pointer to one becomes a query
// parameter named after it, described by the type's SwaggerDoc. Fields named
// in exclude are skipped. obj must be a struct or a pointer to one; anything
// else yields no parameters.
func objectParams(obj interface{}, exclude ...string) []parameter {
	t := reflect.TypeOf(obj)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	var docs map[string]string
	if d, ok := obj.(documentable); ok {
		docs = d.SwaggerDoc()
	}
	var params []parameter
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" || slices.Contains(exclude, name) {
			continue
		}
		dataType := queryParamType(f.Type)
		if dataType == "" {
			continue
		}
		params = append(params, queryParam(name, docs[name], dataType))
	}
	return params
}

// queryParamType is the OpenAPI type of a query parameter carrying a field
// of type t, or "" if upstream would not expose the field (structs,
// interfaces, maps). Slices are repeated parameters of their element type,
// which upstream declares as the element type.
func queryParamType(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8 {
		t = t.Elem()
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
	}
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.String:
		return "string"
	default:
		return ""
	}
}
