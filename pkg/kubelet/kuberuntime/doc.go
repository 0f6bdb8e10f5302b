// Package kuberuntime turns pods into CRI calls: sandbox and container
// configs (DNS, ports, cgroups, env, volumes, resources), the sync that
// drives a pod towards its spec (images, init containers, restart policy,
// CrashLoopBackOff), the kill that stops it within its grace period, and the
// pod status read back from the runtime. All state lives in the runtime (in
// labels and annotations), so a restarted kubelet picks up where it left off.
package kuberuntime
