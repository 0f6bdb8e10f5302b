// Package manifests embeds kinc's static-pod templates: the control-plane
// manifests written into /etc/kubernetes/manifests of a node, shaped like
// kubeadm's (hostNetwork, labels component=<name> and tier=control-plane,
// a sorted --flag=value command). The templates get the command and node
// address from pkg/cluster/internal/nodeconfig, which decides the flags.
// It also embeds the API objects `kinc create cluster` creates once the
// apiserver is up (kubeadm's RBAC objects, then kinc's).
package manifests

import "embed"

// ControlPlane holds controlplane/<component>.yaml, text/template files.
//
//go:embed controlplane/*.yaml
var ControlPlane embed.FS

// KubeadmRBAC is kubeadm/rbac.yaml: the RBAC objects `kubeadm init` creates
// (kubeadm:cluster-admins first), which `kinc create cluster` creates as soon
// as the apiserver is ready.
//
//go:embed kubeadm/rbac.yaml
var KubeadmRBAC string

// KincRBAC is kinc/rbac.yaml: kinc's own RBAC objects (the kinc-node
// agent's), created right after KubeadmRBAC.
//
//go:embed kinc/rbac.yaml
var KincRBAC string
