// Package manifests embeds kinc's static-pod and addon templates
// (control-plane manifests written into /etc/kubernetes/manifests of a node).
// The templates arrive with the cluster-creation work; the package exists so
// the layout of DESIGN.md §4 is in place.
package manifests
