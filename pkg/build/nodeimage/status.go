package nodeimage

import (
	"context"
	"time"

	"github.com/kinc-dev/kinc/pkg/build/buildlog"
	"github.com/kinc-dev/kinc/pkg/exec"
)

// Progress lines for humans (buildlog): " • doing ...", " ✓ done", "   detail".

func (b *builder) step(format string, args ...any) { buildlog.Step(b.logger, format, args...) }
func (b *builder) done(format string, args ...any) { buildlog.Done(b.logger, format, args...) }
func (b *builder) note(format string, args ...any) { buildlog.Note(b.logger, format, args...) }

func (b *builder) since(t time.Time) string {
	return b.now().Sub(t).Round(100 * time.Millisecond).String()
}

// command returns a command whose output is shown at verbosity 1 (it is
// captured for errors either way).
func (b *builder) command(ctx context.Context, name string, args ...string) exec.Cmd {
	return buildlog.Command(ctx, b.cmder, b.logger, name, args...)
}
