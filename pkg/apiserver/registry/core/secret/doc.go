// Package secret holds the registry rules of core/v1 Secrets: type Opaque
// by default, stringData folded into data, key syntax and size, the
// requirements of the built-in types, an immutable type, and the
// `immutable` field.
package secret
