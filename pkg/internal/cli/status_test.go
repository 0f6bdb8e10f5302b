package cli

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kinc-dev/kinc/pkg/log"
)

type lines struct {
	log.NoopLogger
	mu  sync.Mutex
	out []string
}

type infoTo struct{ l *lines }

func (i infoTo) Info(m string)            { i.l.add(m) }
func (i infoTo) Infof(f string, a ...any) { i.l.add(strings.TrimSpace(fmt.Sprintf(f, a...))) }
func (i infoTo) Enabled() bool            { return true }

func (l *lines) V(log.Level) log.InfoLogger { return infoTo{l} }
func (l *lines) add(s string)               { l.mu.Lock(); l.out = append(l.out, s); l.mu.Unlock() }

type term struct {
	lines
	final []string
}

func (t *term) WriteStatus(line string, final bool) {
	if final {
		t.mu.Lock()
		t.final = append(t.final, strings.TrimSpace(line))
		t.mu.Unlock()
	}
}

func TestPlainStatus(t *testing.T) {
	t.Parallel()
	l := &lines{}
	s := StatusForLogger(l)
	s.Start("one")
	s.Start("two")
	s.End(false)
	s.End(true)
	want := "• one ...|✓ one|• two ...|✗ two"
	if got := strings.Join(l.out, "|"); got != want {
		t.Fatalf("got %q want %q", got, want)
	}
}

func TestSpinnerStatus(t *testing.T) {
	t.Parallel()
	tm := &term{}
	s := StatusForLogger(tm)
	s.tick = time.Millisecond
	s.Start("one")
	time.Sleep(5 * time.Millisecond)
	s.End(true)
	if len(tm.final) != 1 || tm.final[0] != "✓ one" {
		t.Fatalf("final lines %q", tm.final)
	}
}
