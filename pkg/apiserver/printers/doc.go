// Package printers turns API objects into meta.k8s.io/v1 Tables for server-side
// printing, so that `kubectl get` against kinc prints exactly the columns and cells
// it prints against an upstream kube-apiserver.
//
// kubectl asks for `Accept: application/json;as=Table;v=v1;g=meta.k8s.io` and renders
// whatever Table the server returns: header text is the upper-cased column name,
// priority-0 columns are shown always and priority-1 columns only with `-o wide`.
// This package is kinc's equivalent of upstream's
// kubernetes/kubernetes pkg/printers/internalversion (printers.go) together with
// pkg/printers/storage and the apiserver's asTable/default table convertor, written
// against the external (v1) types because kinc does not import k8s.io/kubernetes.
//
// Like upstream's server, a Convertor always generates the wide cells (the client
// hides priority-1 columns), copies resourceVersion/continue/remainingItemCount from
// lists, and shapes each row's object according to TableOptions.IncludeObject.
// Objects without a dedicated printer (roles, CRDs, ...) get upstream's default
// table: "Name" and "Created At".
//
// Time-dependent cells (AGE, restart times, job durations, event times) are computed
// from an injected k8s.io/utils/clock.PassiveClock, read once per conversion.
package printers
