// Package openapi builds and serves the OpenAPI documents of kinc's
// kube-apiserver: /openapi/v2 (JSON or gnostic protobuf) and /openapi/v3 (the
// root listing plus one document per group version), shaped like upstream
// kube-apiserver's so that the real kubectl and client-go use them unchanged.
//
// The caller describes what it serves as a list of [Resource]s; New turns
// that into the routes upstream's endpoint installer would register (same
// paths, operation IDs, parameters, x-kubernetes-action and
// x-kubernetes-group-version-kind extensions) and feeds them to kube-openapi's
// spec builders, with the schemas generated into pkg/generated/openapi.
//
// What kubectl relies on:
//   - /openapi/v2 as protobuf (client-side validation, kubectl 1.27/1.28
//     fetch it eagerly before every apply/create/replace);
//   - /openapi/v3 and the group-version documents: `kubectl explain` reads the
//     schemas; server-side field validation is detected by a PATCH operation
//     carrying the kind's x-kubernetes-group-version-kind and a query
//     parameter named fieldValidation; client-side apply takes patch
//     strategies from the schemas.
//
// Documents are built once, on first use, and every encoding is cached with
// its ETag; serving never rebuilds anything.
package openapi
