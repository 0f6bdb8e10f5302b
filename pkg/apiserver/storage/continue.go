package storage

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
)

// continueAPIVersion is the version of the continue token format; it is
// kube-apiserver's, so tokens look the same to anyone who decodes them.
const continueAPIVersion = "meta.k8s.io/v1"

// continueToken is the JSON inside a continue token.
type continueToken struct {
	APIVersion string `json:"v"`
	// ResourceVersion is the revision every page is read at; -1 means "the latest"
	// (the token handed out after the pinned revision was compacted).
	ResourceVersion int64 `json:"rv"`
	// StartKey is the key to resume from, relative to the listed prefix, so that a
	// token cannot be used to read outside the prefix it was issued for.
	StartKey string `json:"start"`
}

// EncodeContinue returns the token that resumes a list of keyPrefix at key
// (inclusive) and revision rv: base64url without padding of
// {"v":"meta.k8s.io/v1","rv":rv,"start":"<key without keyPrefix>"}.
func EncodeContinue(key, keyPrefix string, rv int64) (string, error) {
	start, ok := strings.CutPrefix(key, keyPrefix)
	if !ok || start == "" {
		return "", fmt.Errorf("continue key %q is not below prefix %q", key, keyPrefix)
	}
	data, err := json.Marshal(continueToken{APIVersion: continueAPIVersion, ResourceVersion: rv, StartKey: start})
	if err != nil {
		return "", fmt.Errorf("encode continue token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(data), nil
}

// DecodeContinue decodes a token made by EncodeContinue for keyPrefix and returns
// the absolute key to resume from and the pinned revision (-1: latest). Tokens
// that would escape keyPrefix ("../") are rejected.
func DecodeContinue(token, keyPrefix string) (fromKey string, rv int64, err error) {
	data, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return "", 0, fmt.Errorf("decode base64: %w", err)
	}
	var c continueToken
	if err := json.Unmarshal(data, &c); err != nil {
		return "", 0, fmt.Errorf("decode json: %w", err)
	}
	if c.APIVersion != continueAPIVersion {
		return "", 0, fmt.Errorf("unsupported continue token version %q", c.APIVersion)
	}
	if c.ResourceVersion == 0 || c.ResourceVersion < -1 {
		return "", 0, fmt.Errorf("invalid resource version %d in continue token", c.ResourceVersion)
	}
	if c.StartKey == "" {
		return "", 0, errors.New("empty start key in continue token")
	}
	key := c.StartKey
	if !strings.HasPrefix(key, "/") {
		key = "/" + key
	}
	if path.Clean(key) != key {
		return "", 0, fmt.Errorf("invalid start key %q in continue token", c.StartKey)
	}
	return keyPrefix + key[1:], c.ResourceVersion, nil
}
