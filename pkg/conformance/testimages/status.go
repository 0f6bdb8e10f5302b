package testimages

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/kinc-dev/kinc/pkg/exec"
	"github.com/kinc-dev/kinc/pkg/log"
)

// Progress lines for humans, as the node image build writes them:
// " • doing ...", " ✓ done".

func (b *builder) step(format string, args ...any) {
	b.logger.V(0).Infof(" • "+format+" ...", args...)
}

func (b *builder) done(format string, args ...any) {
	b.logger.V(0).Infof(" ✓ "+format, args...)
}

func (b *builder) since(t time.Time) string {
	return b.now().Sub(t).Round(100 * time.Millisecond).String()
}

// command returns a command whose output is shown at verbosity 1 (it is
// captured for errors either way).
func (b *builder) command(ctx context.Context, name string, args ...string) exec.Cmd {
	cmd := b.cmder.CommandContext(ctx, name, args...)
	if info := b.logger.V(1); info.Enabled() {
		w := &lineWriter{info: info}
		cmd.SetStdout(w).SetStderr(w)
	}
	return cmd
}

// lineWriter sends each complete line written to it to an InfoLogger.
// Safe for concurrent use: a command's stdout and stderr may share it.
type lineWriter struct {
	info    log.InfoLogger
	mu      sync.Mutex // guards partial
	partial string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	lines := strings.Split(w.partial+string(p), "\n")
	w.partial = lines[len(lines)-1]
	for _, l := range lines[:len(lines)-1] {
		w.info.Info("     " + l)
	}
	return len(p), nil
}
