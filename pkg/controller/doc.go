// Package controller is the kit every kinc control loop is built on: the
// canonical sample-controller shape, written once.
//
//	shared informers ──event handlers──▶ rate-limited workqueue of keys
//	      │                                     │ N workers
//	      └──listers (read-only cache)◀──── sync(ctx, key) error
//
// A controller embeds a *Loop, built by New from a Config naming its sync
// function and the informers it reads. Informer event handlers (Handler,
// Enqueue…) turn objects into keys ("namespace/name", or "name" for
// cluster-scoped objects); workers take one key at a time and call sync,
// which must be idempotent: it reads the current state from the listers
// (never mutating what they return), compares it with the desired state and
// writes the difference through the API. A nil error forgets the key's
// failures; an error requeues it with the rate limiter's backoff, until
// Config.MaxRetries (when set) drops it with an error log. A key is never
// synced by two workers at once.
//
// The embedding controller satisfies Controller (Name and Run come from the
// Loop), which is what a controller manager runs:
//
//	type ReplicaSetController struct {
//		*controller.Loop
//		client kubernetes.Interface
//		rsLister appslisters.ReplicaSetLister
//		podLister corelisters.PodLister
//	}
//
//	func New(client kubernetes.Interface, rss appsinformers.ReplicaSetInformer, pods coreinformers.PodInformer, logger *slog.Logger) *ReplicaSetController {
//		c := &ReplicaSetController{client: client, rsLister: rss.Lister(), podLister: pods.Lister()}
//		c.Loop = controller.New(controller.Config{Name: "replicaset", Sync: c.sync, Logger: logger,
//			Synced: []cache.InformerSynced{rss.Informer().HasSynced, pods.Informer().HasSynced}})
//		_, _ = rss.Informer().AddEventHandler(c.Handler(controller.HandlerOptions{}))
//		_, _ = pods.Informer().AddEventHandler(c.Handler(controller.HandlerOptions{
//			Keys: controller.ControllerKeys(schema.GroupKind{Group: "apps", Kind: "ReplicaSet"})}))
//		return c
//	}
//
// The caller starts the informer factory (before or after Run: Run waits for
// the caches). Tests call sync directly through package controllertest.
package controller
