// Package namespace holds the registry rules of core/v1 Namespaces: phase
// Active and the "kubernetes" finalizer on create, the
// kubernetes.io/metadata.name label, DNS-label names, and the status and
// finalize subresources.
package namespace
