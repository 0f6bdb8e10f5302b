// Package configmap holds the registry rules of core/v1 ConfigMaps: key
// syntax, the 1 MiB size limit and the `immutable` field.
package configmap
