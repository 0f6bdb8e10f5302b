// Package scheduler is kinc's kube-scheduler core: informers on pods,
// nodes and namespaces feed a cache (bound and assumed pods per node) and a
// scheduling queue (unbound pods of our profiles); one goroutine runs
// scheduleOne — pop a pod, snapshot the cache, filter and score the nodes
// with the pod's profile, assume the pod on the chosen node — and the
// binding (POST pods/binding) runs asynchronously so the next pod is
// decided meanwhile. Failures produce upstream's FailedScheduling event and
// PodScheduled=False condition and send the pod back to the queue.
//
// Compared with upstream's kube-scheduler (see pkg/scheduler/config for the
// plugins): there is no preemption (the "preemption: …" part of a
// FailedScheduling message is what upstream reports when it finds no
// victims, or says kinc does not preempt), no volume or DRA plugins, no
// extenders, no plugin arguments, no nominated nodes, and default topology
// spreading ignores ReplicationControllers (not served yet). Filtering runs in parallel only from 1,000 nodes, and at most
// Config.MaxConcurrentBinds bindings are in flight.
package scheduler
