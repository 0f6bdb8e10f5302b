// Package config is kinc's cluster configuration: kind's v1alpha4 Cluster
// format (apiVersion kind.x-k8s.io/v1alpha4, or the same schema under
// kinc.dev/v1alpha4), decoded strictly (Load), defaulted (SetDefaults) and
// validated (Validate). A kind field that kinc cannot honour yet is a
// validation error naming the field, never a silent no-op.
//
// kubeadmConfigPatches are mapped onto what kinc runs (ParsePatches):
// KubeletConfiguration patches onto the kubelet's config file,
// ClusterConfiguration's apiServer.certSANs and
// apiServer/controllerManager/scheduler/etcd extraArgs onto the
// certificates and static-pod flags, and Init/JoinConfiguration's
// nodeRegistration.kubeletExtraArgs node-labels onto node labels.
package config
