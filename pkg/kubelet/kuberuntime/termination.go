package kuberuntime

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	v1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// annotationTerminationMsgHost is where an attempt's termination message
// file lives on the node.
const annotationTerminationMsgHost = "io.kinc.container.terminationMessageHostPath"

// Upstream's limits on termination messages.
const (
	maxTerminationMessageBytes = 4096
	fallbackLogLines           = 80
	fallbackLogBytes           = 2048
)

// terminationMessageMount creates the (empty) file of one attempt's
// termination message, <pod dir>/containers/<name>/<attempt>, and returns
// its mount at c.TerminationMessagePath; nil when the container has none.
func (m *Manager) terminationMessageMount(pod *v1.Pod, c *v1.Container, attempt int) (*runtimeapi.Mount, error) {
	if c.TerminationMessagePath == "" {
		return nil, nil
	}
	dir := filepath.Join(m.PodDir(pod), "containers", c.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	host := filepath.Join(dir, fmt.Sprint(attempt))
	if err := os.WriteFile(host, nil, 0o666); err != nil {
		return nil, err
	}
	return &runtimeapi.Mount{ContainerPath: c.TerminationMessagePath, HostPath: host}, nil
}

// terminationMessage is an exited container's message: its termination
// message file, else (terminationMessagePolicy FallbackToLogsOnError and a
// failure) the tail of its log.
func terminationMessage(cs *runtimeapi.ContainerStatus, policy v1.TerminationMessagePolicy) string {
	if p := cs.Annotations[annotationTerminationMsgHost]; p != "" {
		if b, err := os.ReadFile(p); err == nil && len(b) > 0 {
			if len(b) > maxTerminationMessageBytes {
				b = b[:maxTerminationMessageBytes]
			}
			return string(b)
		}
	}
	if policy != v1.TerminationMessageFallbackToLogsOnError || cs.ExitCode == 0 || cs.LogPath == "" {
		return cs.Message
	}
	data, err := os.ReadFile(cs.LogPath)
	if err != nil {
		return cs.Message
	}
	lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	if len(lines) > fallbackLogLines {
		lines = lines[len(lines)-fallbackLogLines:]
	}
	var out bytes.Buffer
	for _, l := range lines {
		// "<time> <stream> <tag> <msg>": keep the message.
		if parts := bytes.SplitN(l, []byte(" "), 4); len(parts) == 4 {
			out.Write(parts[3])
			if string(parts[2]) == "F" {
				out.WriteByte('\n')
			}
		}
	}
	b := out.Bytes()
	if len(b) > fallbackLogBytes {
		b = b[len(b)-fallbackLogBytes:]
	}
	return string(b)
}
