package handlers

import "testing"

func TestNegotiateOutput(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		accept    string
		kind      outputKind
		yaml      bool
		mediaType string
		fail      bool
	}{
		{"", outputObject, false, mediaJSON, false},
		{"application/json", outputObject, false, mediaJSON, false},
		{"*/*", outputObject, false, mediaJSON, false},
		{"application/yaml", outputObject, true, mediaYAML, false},
		{"application/vnd.kubernetes.protobuf, application/json", outputObject, false, mediaJSON, false},
		{"application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json", outputTable, false, "application/json;as=Table;g=meta.k8s.io;v=v1", false},
		{"application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json", outputMetadata, false, "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1", false},
		{"application/json;as=Table;v=v9;g=meta.k8s.io,application/json", outputObject, false, mediaJSON, false},
		{"application/vnd.kubernetes.protobuf", 0, false, "", true},
		{"text/html", 0, false, "", true},
	} {
		got, err := negotiateOutput(tc.accept)
		if tc.fail {
			if err == nil {
				t.Errorf("%q: want 406, got %+v", tc.accept, got)
			}
			continue
		}
		if err != nil || got.kind != tc.kind || got.yaml != tc.yaml || got.mediaType != tc.mediaType {
			t.Errorf("%q: got %+v, %v", tc.accept, got, err)
		}
	}
}

func TestAggregatedVersion(t *testing.T) {
	t.Parallel()
	for accept, want := range map[string]string{
		"application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json": "v2",
		"application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json":                                                                      "v2beta1",
		"application/json": "",
		"":                 "",
		"application/json,application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList": "",
	} {
		if got := aggregatedVersion(accept); got != want {
			t.Errorf("%q: got %q want %q", accept, got, want)
		}
	}
}
