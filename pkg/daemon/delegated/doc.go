// Package delegated is the authentication and authorization a component's
// secure port delegates to the kube-apiserver, as upstream's kubelet
// (:10250), kube-scheduler (:10259) and kube-controller-manager (:10257)
// do:
//
//   - Authentication: a client certificate verified against a client CA
//     (user = CN, groups = O), or a bearer token the apiserver vouches
//     for through a TokenReview (authentication.k8s.io/v1), its answer
//     cached; optionally anonymous (system:anonymous). An authenticated
//     user is also in system:authenticated.
//   - Authorization: a SubjectAccessReview (authorization.k8s.io/v1), its
//     answer cached, after the always-allowed paths and groups.
//   - Filter: the HTTP middleware putting both in front of a handler:
//     401 without valid credentials, 403 when denied, 500 when the
//     apiserver cannot be asked.
//
// Options are upstream's --authentication-*/--authorization-* flags of the
// scheduler and controller-manager; the kubelet builds the same pieces
// from its KubeletConfiguration. The apiserver is reached with client-go's
// typed clients; tests use fakes of them or httptest servers.
package delegated
