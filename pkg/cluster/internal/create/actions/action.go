// Package actions defines the steps of creating a cluster after the checks:
// each step is its own package with NewAction() and Execute, run in order by
// pkg/cluster/internal/create.
package actions

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/kinc-dev/kinc/pkg/cluster/config"
	"github.com/kinc-dev/kinc/pkg/cluster/internal/nodeconfig"
	"github.com/kinc-dev/kinc/pkg/cluster/internal/providers"
	"github.com/kinc-dev/kinc/pkg/cluster/nodes"
	"github.com/kinc-dev/kinc/pkg/internal/cli"
	"github.com/kinc-dev/kinc/pkg/log"
	"github.com/kinc-dev/kinc/pkg/pki"
)

// Action is one step of creating a cluster. Execute may be cancelled
// through ctx; its error says what failed (the caller adds which step).
type Action interface {
	Execute(ctx context.Context, actx *ActionContext) error
}

// ActionContext is what the steps share. Steps run one after another, so
// fields set by one are read by the next without locking.
type ActionContext struct {
	Logger   log.Logger
	Status   *cli.Status
	Config   *config.Cluster // defaulted and valid
	Provider providers.Provider

	// Nodes are the node containers, set by the provision step, in the
	// order of Config.Nodes.
	Nodes []nodes.Node
	// NodeConfigs describe the nodes for rendering (same order), with IPs
	// and cgroup drivers filled in by the pki step.
	NodeConfigs []nodeconfig.Node
	// PKI is the cluster's key material, set by the pki step.
	PKI *pki.ClusterPKI

	// PollInterval is how often waits poll; BootTimeout, ReadyTimeout
	// bound the waits for systemd in the nodes and for the apiserver.
	PollInterval time.Duration
	BootTimeout  time.Duration
	ReadyTimeout time.Duration
	// WaitForReady is how long to wait for the nodes to be Ready (0: not).
	WaitForReady time.Duration
}

// ForEachNode runs fn for every node concurrently and joins the errors.
func ForEachNode(list []nodes.Node, fn func(i int, n nodes.Node) error) error {
	errs := make([]error, len(list))
	var wg sync.WaitGroup
	for i, n := range list {
		wg.Go(func() { errs[i] = fn(i, n) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Poll calls fn every interval until it reports done, fails, or timeout
// passes; a timeout is an error wrapping the last thing fn said.
func Poll(ctx context.Context, interval, timeout time.Duration, what string, fn func(context.Context) (done bool, err error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		done, err := fn(ctx)
		if done {
			return err
		}
		// An error caused by the deadline itself says less than the one
		// before it.
		if err != nil && (last == nil || ctx.Err() == nil) {
			last = err
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			if last != nil {
				return fmt.Errorf("timed out after %s waiting for %s: %w", timeout, what, last)
			}
			return fmt.Errorf("timed out after %s waiting for %s", timeout, what)
		case <-t.C:
		}
	}
}
