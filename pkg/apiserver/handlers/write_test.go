package handlers

import (
	"bytes"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/client-go/kubernetes/scheme"
)

// TestDeleteOptionsOfAnyGroup decodes DeleteOptions as client-go's typed
// clients send them: in protobuf and JSON, labelled with the resource's
// group-version or core's (or meta's, in JSON).
func TestDeleteOptionsOfAnyGroup(t *testing.T) {
	t.Parallel()
	a := &API{decoder: decoder{scheme: scheme.Scheme}}
	policy := metav1.DeletePropagationForeground
	for _, apiVersion := range []string{"discovery.k8s.io/v1", "apps/v1", "v1", "meta.k8s.io/v1"} {
		in := &metav1.DeleteOptions{TypeMeta: metav1.TypeMeta{APIVersion: apiVersion, Kind: "DeleteOptions"}, PropagationPolicy: &policy}
		var pb bytes.Buffer
		if err := protobuf.NewSerializer(scheme.Scheme, scheme.Scheme).Encode(in, &pb); err != nil {
			t.Fatal(err)
		}
		js := []byte(`{"kind":"DeleteOptions","apiVersion":"` + apiVersion + `","propagationPolicy":"Foreground"}`)
		bodies := map[string][]byte{mediaProtobuf: pb.Bytes(), mediaJSON: js}
		if apiVersion == "meta.k8s.io/v1" {
			delete(bodies, mediaProtobuf) // sent as JSON only
		}
		for mt, body := range bodies {
			var out metav1.DeleteOptions
			if err := a.decodeDeleteOptions(body, mt, &out); err != nil {
				t.Errorf("%s %s: %v", apiVersion, mt, err)
				continue
			}
			if out.PropagationPolicy == nil || *out.PropagationPolicy != policy || out.Kind != "" {
				t.Errorf("%s %s: decoded %+v", apiVersion, mt, out)
			}
		}
	}
	var out metav1.DeleteOptions
	if err := a.decodeDeleteOptions([]byte(`{"kind":"Pod","apiVersion":"v1"}`), mediaJSON, &out); err == nil {
		t.Error("a Pod body decoded as DeleteOptions")
	}
}
