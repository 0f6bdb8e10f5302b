// Package podspec re-implements, for the external core/v1 types, upstream's
// defaulting (pkg/apis/core/v1/defaults.go and the generated defaulters) and
// validation (pkg/apis/core/validation) of PodSpec and PodTemplateSpec. It is
// shared by the pod strategy and by every workload kind that embeds a pod
// template (Deployments, ReplicaSets, DaemonSets, StatefulSets, Jobs).
//
// Field paths and error types follow upstream so that a 422 from kinc names
// the same fields, with the same reasons, as kube-apiserver. Feature-gated
// fields are validated as if their gates had upstream's current defaults.
package podspec
