// Package regutil holds small helpers shared by the per-resource strategy
// packages under pkg/apiserver/registry: selectable-field sets, generation
// bookkeeping and type assertions. It has no state.
package regutil
