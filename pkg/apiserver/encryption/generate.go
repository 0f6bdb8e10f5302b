package encryption

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"

	"sigs.k8s.io/yaml"
)

// The providers GenerateConfig writes.
const (
	ProviderAESCBC    = "aescbc"
	ProviderAESGCM    = "aesgcm"
	ProviderSecretbox = "secretbox"
)

// GenerateConfig returns an EncryptionConfiguration (YAML) that encrypts
// resources (["secrets"] when empty) with provider (ProviderAESCBC when
// empty) and a new random 32-byte key named key1, with identity second so
// data written before encryption was on still reads: what a cluster tool
// writes for --encryption-provider-config when asked to turn encryption at
// rest on.
func GenerateConfig(provider string, resources []string) ([]byte, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate an encryption key: %w", err)
	}
	cfg, err := generated(provider, resources, key)
	if err != nil {
		return nil, err
	}
	return yaml.Marshal(cfg)
}

// CheckGenerated reports whether GenerateConfig accepts provider and
// resources, with upstream's validation messages.
func CheckGenerated(provider string, resources []string) error {
	_, err := generated(provider, resources, make([]byte, 32))
	return err
}

func generated(provider string, resources []string, key []byte) (*Configuration, error) {
	if len(resources) == 0 {
		resources = []string{"secrets"}
	}
	keys := &KeysConfiguration{Keys: []Key{{Name: "key1", Secret: base64.StdEncoding.EncodeToString(key)}}}
	var p ProviderConfiguration
	switch provider {
	case "", ProviderAESCBC:
		p.AESCBC = keys
	case ProviderAESGCM:
		p.AESGCM = keys
	case ProviderSecretbox:
		p.Secretbox = keys
	default:
		return nil, fmt.Errorf("provider %q is not one of %s, %s, %s", provider, ProviderAESCBC, ProviderAESGCM, ProviderSecretbox)
	}
	cfg := &Configuration{Resources: []ResourceConfiguration{{Resources: resources,
		Providers: []ProviderConfiguration{p, {Identity: &struct{}{}}}}}}
	cfg.APIVersion, cfg.Kind = GroupVersion.String(), "EncryptionConfiguration"
	if errs := Validate(cfg); len(errs) > 0 {
		return nil, errs.ToAggregate()
	}
	if _, err := New(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}
