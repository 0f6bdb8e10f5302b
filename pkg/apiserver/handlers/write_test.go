package handlers

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
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

// TestDeleteOptionsBodyOrQuery: a body's options stand whatever else the
// query holds (kubectl --request-timeout adds ?timeout=20s); without a body
// the query's are read.
func TestDeleteOptionsBodyOrQuery(t *testing.T) {
	t.Parallel()
	a := &API{decoder: decoder{scheme: scheme.Scheme}, params: runtime.NewParameterCodec(scheme.Scheme)}
	for _, tc := range []struct {
		url, body string
		want      metav1.DeletionPropagation
	}{
		{"/apis/apps/v1/namespaces/a/deployments/web?timeout=20s", `{"propagationPolicy":"Orphan"}`, metav1.DeletePropagationOrphan},
		{"/apis/apps/v1/namespaces/a/deployments/web", `{"propagationPolicy":"Foreground"}`, metav1.DeletePropagationForeground},
		{"/apis/apps/v1/namespaces/a/deployments/web?propagationPolicy=Orphan&timeout=20s", "", metav1.DeletePropagationOrphan},
		{"/apis/apps/v1/namespaces/a/deployments/web?orphanDependents=false", "", metav1.DeletePropagationBackground},
	} {
		r := httptest.NewRequest(http.MethodDelete, tc.url, strings.NewReader(tc.body))
		if tc.body != "" {
			r.Header.Set("Content-Type", "application/json")
		}
		opts, _, err := a.deleteOptions(&request{r: r})
		if err != nil {
			t.Errorf("%s %s: %v", tc.url, tc.body, err)
			continue
		}
		if opts.PropagationPolicy == nil || *opts.PropagationPolicy != tc.want {
			t.Errorf("%s %s: propagationPolicy %v, want %s", tc.url, tc.body, opts.PropagationPolicy, tc.want)
		}
	}
}
