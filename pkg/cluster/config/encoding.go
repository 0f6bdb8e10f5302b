package config

import (
	"fmt"

	"sigs.k8s.io/yaml"

	"github.com/kinc-dev/kinc/pkg/internal/strictyaml"
)

// The accepted apiVersions (same schema) and kind.
const (
	KindAPIVersion = "kind.x-k8s.io/v1alpha4"
	APIVersion     = "kinc.dev/v1alpha4"
	Kind           = "Cluster"
)

// Load decodes a Cluster document strictly: an unknown or duplicated field is
// an error naming it, and so is a second YAML document (as kind, kinc reads
// one Cluster). Empty input (or only comments) is an empty Cluster. The
// result is not defaulted or validated (see SetDefaults and Validate).
func Load(data []byte) (*Cluster, error) {
	data, err := strictyaml.Document(data)
	if err != nil {
		return nil, fmt.Errorf("decode cluster config: %w (a config file holds one Cluster)", err)
	}
	if data == nil {
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
