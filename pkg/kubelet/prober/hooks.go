package prober

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	v1 "k8s.io/api/core/v1"
)

// RunHook runs a container lifecycle handler (postStart or preStop): exec
// through CRI, httpGet, sleep, or the deprecated tcpSocket. It returns when
// the handler is done or ctx ends, with an error saying why it failed.
func (m *Manager) RunHook(ctx context.Context, t Target, h *v1.LifecycleHandler) error {
	switch {
	case h.Exec != nil:
		resp, err := m.runner.runtime.ExecSync(ctx, t.ContainerID, h.Exec.Command, 0)
		if err != nil {
			return err
		}
		if resp.ExitCode != 0 {
			return fmt.Errorf("command %q exited with %d: %s", h.Exec.Command, resp.ExitCode, resp.Stdout)
		}
		return nil
	case h.HTTPGet != nil:
		if ok, msg := m.runner.httpGet(ctx, t, h.HTTPGet); !ok {
			return fmt.Errorf("%s", msg)
		}
		return nil
	case h.Sleep != nil:
		select {
		case <-ctx.Done():
		case <-m.clock.After(time.Duration(h.Sleep.Seconds) * time.Second):
		}
		return nil
	case h.TCPSocket != nil:
		port, err := resolvePort(h.TCPSocket.Port, t.Container)
		if err != nil {
			return err
		}
		host := h.TCPSocket.Host
		if host == "" {
			host = t.PodIP
		}
		conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return err
		}
		return conn.Close()
	}
	return fmt.Errorf("lifecycle handler has no action")
}
