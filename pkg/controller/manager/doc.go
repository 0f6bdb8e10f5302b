// Package manager is kinc's kube-controller-manager: it runs the
// controllers of pkg/controller/<name> as upstream's kube-controller-manager
// runs its own.
//
//	Run(ctx, opts) ── validate flags ── serve /healthz /livez /readyz /metrics on --secure-port
//	      │
//	      └─ leader election on Lease kube-system/kube-controller-manager (--leader-elect)
//	            while leading: one shared informer factory
//	                           → construct every enabled controller (Descriptor.New)
//	                           → start the factory → Run each with its workers
//	                           → on ctx's end: wait for every controller, stop the informers
//
// Known lists every controller upstream knows, by its canonical name and
// aliases, in upstream's order; those kinc does not implement yet have no
// constructor and are skipped (logged) when enabled. --controllers selects
// among them exactly as upstream does (see Enabled).
//
// Controllers get what they share through a Context: the informer factory,
// a ClientBuilder, an event broadcaster, the logger, the clock and the
// options. The ClientBuilder is where --use-service-account-credentials
// takes effect: with it each controller authenticates as its own service
// account kube-system/<upstream's name for it> with a token the manager
// requests and renews (ServiceAccountCredentials), so that RBAC's
// system:controller:<name> roles apply; without it every controller uses
// the kubeconfig's identity (RootClientBuilder). The shared informers, the
// leader election and the events always use the kubeconfig's identity
// (system:kube-controller-manager under kubeadm), as upstream's.
package manager
