// Package serviceaccount is kinc's "serviceaccount" controller (upstream's
// serviceaccount-controller, whose older name --controllers also accepts):
// it keeps a ServiceAccount named "default" in every active namespace. The
// account is created when a namespace appears (or is seen again after a
// relist) and again when it is deleted; a namespace that is terminating
// gets nothing. As upstream's ServiceAccountsController it records no
// events and never updates an account that exists: only its presence
// matters.
package serviceaccount

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/controller"
)

// Name is the controller's short name, as --controllers spells it too
// (upstream's canonical name is "serviceaccount-controller").
const Name = "serviceaccount"

// DefaultServiceAccountName is the account every namespace gets.
const DefaultServiceAccountName = "default"

// Options configure a Controller.
type Options struct {
	// ServiceAccounts are the names of the accounts to keep in every active
	// namespace; nil means upstream's default: just "default".
	ServiceAccounts []string
	// Logger receives the loop's lines; nil discards them.
	Logger *slog.Logger
	// Clock drives retries; nil means the real clock.
	Clock clock.WithTicker
}

// Controller keeps the service accounts of Options.ServiceAccounts in every
// active namespace. Its queue keys are namespace names. It is safe for
// concurrent use; Run (from the embedded Loop) runs it.
type Controller struct {
	*controller.Loop
	client     kubernetes.Interface
	namespaces corelisters.NamespaceLister
	accounts   corelisters.ServiceAccountLister
	names      []string
}

// New returns a Controller reading namespaces and service accounts through
// the given informers (whose factory the caller starts) and writing
// through client.
func New(client kubernetes.Interface, namespaces coreinformers.NamespaceInformer, accounts coreinformers.ServiceAccountInformer, opts Options) *Controller {
	names := opts.ServiceAccounts
	if names == nil {
		names = []string{DefaultServiceAccountName}
	}
	c := &Controller{client: client, namespaces: namespaces.Lister(), accounts: accounts.Lister(), names: names}
	c.Loop = controller.New(controller.Config{Name: Name, Sync: c.sync, Logger: opts.Logger, Clock: opts.Clock,
		Synced: []cache.InformerSynced{namespaces.Informer().HasSynced, accounts.Informer().HasSynced}})
	// A namespace added, changed (its phase) or relisted may lack accounts.
	_, _ = namespaces.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.Enqueue,
		UpdateFunc: func(_, obj any) { c.Enqueue(obj) },
	})
	// An account of ours deleted is recreated; creating or editing one
	// changes nothing we keep.
	_, _ = accounts.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		DeleteFunc: func(obj any) {
			if sa, ok := controller.Object[*corev1.ServiceAccount](obj); ok && slices.Contains(c.names, sa.Name) {
				c.EnqueueKey(sa.Namespace)
			}
		},
	})
	return c
}

// sync creates the accounts missing from the namespace named key. It does
// nothing for a namespace that is gone or not Active (terminating).
//
// AlreadyExists from a create means the account is there (the cache had
// not seen it yet): the desired state, so not an error. A create refused
// because the namespace started terminating or is gone meanwhile is not
// an error either: the namespace's next event decides.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, err := c.namespaces.Get(key)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if ns.Status.Phase != corev1.NamespaceActive || ns.DeletionTimestamp != nil {
		return nil
	}
	var errs []error
	for _, name := range c.names {
		_, err := c.accounts.ServiceAccounts(key).Get(name)
		if err == nil {
			continue
		}
		if !apierrors.IsNotFound(err) {
			return err
		}
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: key, Name: name}}
		_, err = c.client.CoreV1().ServiceAccounts(key).Create(ctx, sa, metav1.CreateOptions{})
		switch {
		case err == nil, apierrors.IsAlreadyExists(err):
		case apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause), apierrors.IsNotFound(err):
		default:
			errs = append(errs, fmt.Errorf("creating service account %s/%s: %w", key, name, err))
		}
	}
	return errors.Join(errs...)
}
