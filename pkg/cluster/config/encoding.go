package config

import (
	"bytes"
	"fmt"

	"sigs.k8s.io/yaml"
)

// The accepted apiVersions (same schema) and kind.
const (
	KindAPIVersion = "kind.x-k8s.io/v1alpha4"
	APIVersion     = "kinc.dev/v1alpha4"
	Kind           = "Cluster"
)

// Load decodes a Cluster document strictly: an unknown or duplicated field is
// an error naming it. Empty input is an empty Cluster. The result is not
// defaulted or validated (see SetDefaults and Validate).
func Load(data []byte) (*Cluster, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return &Cluster{Kind: Kind, APIVersion: APIVersion}, nil
	}
	var tm struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
	}
	if err := yaml.Unmarshal(data, &tm); err != nil {
		return nil, fmt.Errorf("decode cluster config: %w", err)
	}
	if tm.APIVersion != KindAPIVersion && tm.APIVersion != APIVersion {
		return nil, fmt.Errorf("decode cluster config: unknown apiVersion %q (want %s or %s)", tm.APIVersion, KindAPIVersion, APIVersion)
	}
	if tm.Kind != Kind {
		return nil, fmt.Errorf("decode cluster config: unknown kind %q (want %s)", tm.Kind, Kind)
	}
	c := &Cluster{}
	if err := yaml.UnmarshalStrict(data, c); err != nil {
		return nil, fmt.Errorf("decode cluster config: %w", err)
	}
	return c, nil
}
