// Package kubelet is kinc's node agent: it runs static pods from a manifest
// directory and the pods the apiserver binds to its node through a CRI
// runtime, registers and heartbeats its Node, reports pod status, and serves
// the kubelet API (logs) on :10250.
//
// The pieces, each in its own package:
//   - config: static pods (polled manifest directory) and mirror pods;
//   - podworkers: one goroutine per pod, coalescing updates;
//   - kuberuntime: pod → CRI (sandbox, images, env, volumes, restarts,
//     CrashLoopBackOff, kill, status, garbage collection);
//   - prober: startup, liveness and readiness probes;
//   - status: pods/status writes, final deletes;
//   - nodestatus: Node registration, status and Lease;
//   - server: the kubelet API;
//   - cri: the CRI client and its in-memory fake.
//
// This package wires them: relist (every second) hands each desired pod to
// its worker and kills the others; the apiserver's pods reach it through an
// informer and a workqueue; housekeeping removes orphaned sandboxes and
// directories once every pod source has synced. All pod state lives in the
// runtime, so a restarted kubelet adopts running pods without restarting
// them.
//
// Not implemented: exec/attach/port-forward, TLS
// bootstrapping, eviction, image garbage collection, the Node authorizer's
// view of the kubelet API (any client certificate from the client CA may call
// it), and stats/metrics endpoints.
package kubelet
