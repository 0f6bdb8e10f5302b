// Package encryption loads kube-apiserver's --encryption-provider-config (an
// apiserver.config.k8s.io/v1 EncryptionConfiguration) into the transformer
// each stored resource writes and reads etcd values with: the first provider
// of a resource's list encrypts, every provider is tried on read. aescbc,
// aesgcm, secretbox and identity are supported; kms is refused.
package encryption

import (
	"errors"
	"fmt"
	"os"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// GroupVersion is the only version of the configuration accepted.
var GroupVersion = schema.GroupVersion{Group: "apiserver.config.k8s.io", Version: "v1"}

// Configuration is an EncryptionConfiguration.
type Configuration struct {
	metav1.TypeMeta `json:",inline"`
	// Resources lists the resources and the providers that encrypt them. A
	// resource is "secrets" (core group), "deployments.apps", "*.apps" (every
	// resource of a group), "*." (every core resource) or "*.*" (everything).
	Resources []ResourceConfiguration `json:"resources"`
}

// ResourceConfiguration is one entry of Configuration.Resources.
type ResourceConfiguration struct {
	Resources []string `json:"resources"`
	// Providers are tried in order on read; the first writes.
	Providers []ProviderConfiguration `json:"providers"`
}

// ProviderConfiguration sets exactly one provider.
type ProviderConfiguration struct {
	AESGCM    *KeysConfiguration `json:"aesgcm,omitempty"`
	AESCBC    *KeysConfiguration `json:"aescbc,omitempty"`
	Secretbox *KeysConfiguration `json:"secretbox,omitempty"`
	Identity  *struct{}          `json:"identity,omitempty"`
	// KMS is parsed only to be refused.
	KMS *KMSConfiguration `json:"kms,omitempty"`
}

// KeysConfiguration is the keys of the aesgcm, aescbc and secretbox
// providers; the first encrypts.
type KeysConfiguration struct {
	Keys []Key `json:"keys"`
}

// Key is a named key; Secret is the key material in standard base64.
type Key struct {
	Name   string `json:"name"`
	Secret string `json:"secret"`
}

// KMSConfiguration is what the configuration says of a kms provider.
type KMSConfiguration struct {
	APIVersion string `json:"apiVersion,omitempty"`
	Name       string `json:"name"`
	Endpoint   string `json:"endpoint,omitempty"`
}

// Load reads, decodes and validates the configuration file at path and
// returns the transformers it configures. The errors are upstream's (they
// never contain key material).
func Load(path string) (*Transformers, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("error while loading file: error reading encryption provider configuration file %q: %w", path, err)
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("error while loading file: encryption provider configuration file %q is empty", path)
	}
	cfg, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("error while parsing file: error decoding encryption provider configuration file %q: %w", path, err)
	}
	if errs := Validate(cfg); len(errs) > 0 {
		return nil, fmt.Errorf("error while parsing file: %w", errs.ToAggregate())
	}
	t, err := New(cfg)
	if err != nil {
		return nil, fmt.Errorf("error while building transformers: %w", err)
	}
	return t, nil
}

// Parse decodes a configuration (YAML or JSON) and checks its apiVersion and
// kind. It does not validate it.
func Parse(data []byte) (*Configuration, error) {
	cfg := &Configuration{}
	if err := yaml.Unmarshal(data, cfg); err != nil {
		return nil, err
	}
	if cfg.Kind == "" || cfg.APIVersion == "" {
		return nil, errors.New("apiVersion and kind must be set")
	}
	if gvk := cfg.GroupVersionKind(); gvk != GroupVersion.WithKind("EncryptionConfiguration") {
		return nil, fmt.Errorf("got unexpected config type: %v", gvk)
	}
	return cfg, nil
}
