// Package provision is the step that creates the node containers and waits
// for systemd to finish booting in each.
package provision

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/kinc-dev/kinc/pkg/cluster/internal/create/actions"
	"github.com/kinc-dev/kinc/pkg/cluster/nodes"
)

type action struct{}

// NewAction returns the step.
func NewAction() actions.Action { return action{} }

// Execute implements actions.Action.
func (action) Execute(ctx context.Context, actx *actions.ActionContext) error {
	actx.Status.Start("Preparing nodes 📦")
	created, err := actx.Provider.Provision(ctx, actx.Config)
	if err != nil {
		return err
	}
	actx.Nodes = created
	return actions.ForEachNode(created, func(_ int, n nodes.Node) error {
		return WaitForBoot(ctx, actx, n)
	})
}

// WaitForBoot waits until systemd in node has finished starting up
// ("running", or "degraded" when some unit failed, which the later steps
// diagnose better).
func WaitForBoot(ctx context.Context, actx *actions.ActionContext, n nodes.Node) error {
	var state string
	err := actions.Poll(ctx, actx.PollInterval, actx.BootTimeout, "systemd to boot in "+n.String(), func(ctx context.Context) (bool, error) {
		var out bytes.Buffer
		// Non-zero exit for anything but "running"; the state is what counts.
		_ = n.CommandContext(ctx, "systemctl", "is-system-running").SetStdout(&out).Run()
		state = strings.TrimSpace(out.String())
		if state == "running" || state == "degraded" {
			return true, nil
		}
		return false, fmt.Errorf("system state %q", state)
	})
	if err != nil {
		return fmt.Errorf("node %s did not finish booting (does its image run systemd? create with --retain and run `kinc export logs`): %w", n, err)
	}
	return nil
}
