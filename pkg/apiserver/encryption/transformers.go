package encryption

import (
	"crypto/aes"
	"encoding/base64"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kinc-dev/kinc/pkg/apiserver/storage/value"
)

// The prefixes of upstream's providers; each key adds "<name>:".
const (
	PrefixAESCBC    = "k8s:enc:aescbc:v1:"
	PrefixAESGCM    = "k8s:enc:aesgcm:v1:"
	PrefixSecretbox = "k8s:enc:secretbox:v1:"
)

// Transformers is the transformer of each resource of a configuration.
// It is immutable and safe for concurrent use.
type Transformers struct {
	byResource map[schema.GroupResource]value.Transformer
}

// For returns the transformer of the stored resource gr (its storage group
// and resource, e.g. {"", "secrets"}): the entry naming it, else the one for
// its whole group ("*.apps", "*." for the core group), else "*.*", else an
// identity that refuses encrypted data. A nil *Transformers (no
// configuration) answers value.Identity for every resource.
func (t *Transformers) For(gr schema.GroupResource) value.Transformer {
	if t == nil {
		return value.Identity{}
	}
	for _, key := range []schema.GroupResource{gr, {Group: gr.Group, Resource: "*"}, anyGroupAnyResource} {
		if tr, ok := t.byResource[key]; ok {
			return tr
		}
	}
	return value.NewEncryptCheck()
}

// New builds the transformers of a validated configuration. A resource named
// after an entry that already covers it ("*.apps" then "deployments.apps",
// or anything after "*.*") is an error, as upstream: it would be masked.
func New(cfg *Configuration) (*Transformers, error) {
	lists := map[schema.GroupResource][]value.PrefixTransformer{}
	for _, rc := range cfg.Resources {
		providers, err := prefixTransformers(rc.Providers)
		if err != nil {
			return nil, err
		}
		for _, res := range rc.Resources {
			gr := schema.ParseGroupResource(res)
			for _, mask := range []schema.GroupResource{{Group: gr.Group, Resource: "*"}, anyGroupAnyResource} {
				if _, masked := lists[mask]; masked {
					return nil, fmt.Errorf("resource %q is masked by earlier rule %q", grString(gr), grString(mask))
				}
			}
			lists[gr] = append(lists[gr], providers...)
		}
	}
	t := &Transformers{byResource: make(map[schema.GroupResource]value.Transformer, len(lists))}
	for gr, list := range lists {
		t.byResource[gr] = value.NewPrefixTransformers(errors.New("no matching prefix found"), list...)
	}
	return t, nil
}

func grString(gr schema.GroupResource) string {
	if gr.Group == "" && gr.Resource == "*" {
		return "*."
	}
	return gr.String()
}

// prefixTransformers returns the transformers of one entry's providers.
func prefixTransformers(pcs []ProviderConfiguration) ([]value.PrefixTransformer, error) {
	out := make([]value.PrefixTransformer, 0, len(pcs))
	for _, pc := range pcs {
		var (
			pt  value.PrefixTransformer
			err error
		)
		switch {
		case pc.AESGCM != nil:
			pt, err = keyed(PrefixAESGCM, pc.AESGCM.Keys, "AES", func(k []byte) (value.Transformer, error) {
				block, err := aes.NewCipher(k)
				if err != nil {
					return nil, err
				}
				return value.NewGCM(block)
			})
		case pc.AESCBC != nil:
			pt, err = keyed(PrefixAESCBC, pc.AESCBC.Keys, "AES", func(k []byte) (value.Transformer, error) {
				block, err := aes.NewCipher(k)
				if err != nil {
					return nil, err
				}
				return value.NewCBC(block), nil
			})
		case pc.Secretbox != nil:
			pt, err = keyed(PrefixSecretbox, pc.Secretbox.Keys, "Secretbox", func(k []byte) (value.Transformer, error) {
				if len(k) != 32 {
					return nil, fmt.Errorf("expected key size 32 for secretbox provider, got %v", len(k))
				}
				return value.NewSecretbox([32]byte(k)), nil
			})
		case pc.Identity != nil:
			pt = value.PrefixTransformer{Transformer: value.NewEncryptCheck()}
		case pc.KMS != nil:
			err = errors.New(kmsUnsupportedErr)
		default:
			err = errors.New(noProviderErr)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, pt)
	}
	return out, nil
}

// keyed returns a provider whose keys each add "<name>:" to prefix; the first
// key encrypts.
func keyed(prefix string, keys []Key, kind string, newKey func([]byte) (value.Transformer, error)) (value.PrefixTransformer, error) {
	if len(keys) == 0 {
		return value.PrefixTransformer{}, fmt.Errorf("%s provider has no valid keys", kind)
	}
	ts := make([]value.PrefixTransformer, 0, len(keys))
	for _, k := range keys {
		if k.Name == "" {
			return value.PrefixTransformer{}, errors.New("key with invalid name provided")
		}
		secret, err := base64.StdEncoding.DecodeString(k.Secret)
		if err != nil {
			return value.PrefixTransformer{}, fmt.Errorf("could not obtain secret for named key %s: %w", k.Name, err)
		}
		t, err := newKey(secret)
		if err != nil {
			return value.PrefixTransformer{}, fmt.Errorf("error while creating transformer for named key %s: %w", k.Name, err)
		}
		ts = append(ts, value.PrefixTransformer{Prefix: []byte(k.Name + ":"), Transformer: t})
	}
	noKey := fmt.Errorf("no matching key was found for the provided %s transformer", kind)
	return value.PrefixTransformer{Prefix: []byte(prefix), Transformer: value.NewPrefixTransformers(noKey, ts...)}, nil
}
