// Package apps holds what the apps/v1 registry packages (deployment,
// replicaset, daemonset, statefulset) share: selector and pod-template
// validation, int-or-percent checks, and the helpers behind the scale
// subresource (autoscaling/v1 Scale) of Deployments, ReplicaSets and
// StatefulSets.
package apps
