// Package waitforready is the step that waits, when asked (--wait), until
// every node reports Ready. As in kind, running out of time is a warning,
// not a failure: the cluster exists and may still become Ready.
package waitforready

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/kinc-dev/kinc/pkg/cluster/internal/create/actions"
	"github.com/kinc-dev/kinc/pkg/cluster/internal/create/actions/controlplane"
)

type action struct{}

// NewAction returns the step.
func NewAction() actions.Action { return action{} }

// Execute implements actions.Action.
func (action) Execute(ctx context.Context, actx *actions.ActionContext) error {
	if actx.WaitForReady <= 0 {
		return nil
	}
	actx.Status.Start(fmt.Sprintf("Waiting ≤ %s for nodes = Ready ⏳", actx.WaitForReady))
	endpoint, err := actx.Provider.APIServerEndpoint(ctx, actx.Config.Name)
	if err != nil {
		return err
	}
	client, err := controlplane.HTTPClient(actx.PKI)
	if err != nil {
		return err
	}
	start := time.Now()
	want := len(actx.Nodes)
	err = actions.Poll(ctx, actx.PollInterval, actx.WaitForReady, "nodes to be Ready", func(ctx context.Context) (bool, error) {
		notReady, err := NotReady(ctx, client, "https://"+endpoint, want)
		if err != nil {
			return false, err
		}
		if len(notReady) > 0 {
			return false, fmt.Errorf("not Ready: %s", strings.Join(notReady, ", "))
		}
		return true, nil
	})
	if err != nil {
		actx.Status.End(false)
		actx.Logger.Warnf("Timed out waiting for Ready ⚠️  (%v)", err)
		return nil
	}
	actx.Status.End(true)
	actx.Logger.V(0).Infof(" • Ready after %s 💚", time.Since(start).Round(time.Second))
	return nil
}

// NotReady lists the nodes that are not Ready, counting missing ones
// (fewer than want registered) as "<n> not registered".
func NotReady(ctx context.Context, client *http.Client, server string, want int) ([]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, server+"/api/v1/nodes", nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("list nodes: %s", resp.Status)
	}
	var list corev1.NodeList
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	var out []string
	for _, n := range list.Items {
		ready := false
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				ready = true
			}
		}
		if !ready {
			out = append(out, n.Name)
		}
	}
	sort.Strings(out)
	if missing := want - len(list.Items); missing > 0 {
		out = append(out, fmt.Sprintf("%d not registered", missing))
	}
	return out, nil
}
