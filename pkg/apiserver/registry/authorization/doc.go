// Package authorization holds what the authorization.k8s.io/v1 review
// registries share: their validation, the authorizer attributes a review's
// spec asks about, and the review's answer from the server's authorizer.
// The reviews themselves are storage-less resources in the packages below
// (subjectaccessreview, selfsubjectaccessreview, localsubjectaccessreview,
// selfsubjectrulesreview).
package authorization
