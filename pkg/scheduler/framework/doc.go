// Package framework holds the scheduling framework of kinc's kube-scheduler:
// the per-node view the plugins work on (NodeInfo, PodInfo, Resource), the
// plugin interfaces for each extension point (PreFilter, Filter, PreScore,
// Score), their Status results, the per-cycle CycleState, and Framework,
// which runs one profile's plugins in order.
//
// Plugins receive read-only views: a NodeInfo handed to Filter or Score is a
// snapshot the plugin must not modify, and a Pod must be deep-copied before
// any change.
package framework
