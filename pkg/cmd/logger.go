package cmd

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/kinc-dev/kinc/pkg/log"
)

// Logger writes log lines to a writer (stderr) at a chosen verbosity. Quiet
// suppresses everything but errors. Safe for concurrent use.
type Logger struct {
	mu        sync.Mutex // guards writes to w and verbosity
	w         io.Writer
	verbosity log.Level
	quiet     bool
	// terminal: w is a terminal, so status lines are redrawn in place;
	// statusLine: one is on screen now (other lines clear it first).
	terminal   bool
	statusLine bool
}

var _ log.Logger = (*Logger)(nil)

// NewLogger returns a Logger writing to w.
func NewLogger(w io.Writer, verbosity log.Level) *Logger {
	return &Logger{w: w, verbosity: verbosity}
}

// SetVerbosity changes the verbosity; flags are parsed after the logger exists.
func (l *Logger) SetVerbosity(v log.Level) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.verbosity = v
}

// SetQuiet silences warnings and info lines.
func (l *Logger) SetQuiet(q bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.quiet = q
}

func (l *Logger) write(prefix, msg string, always bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.quiet && !always {
		return
	}
	if !strings.HasSuffix(msg, "\n") {
		msg += "\n"
	}
	if l.statusLine {
		prefix = clearLine + prefix
		l.statusLine = false
	}
	fmt.Fprint(l.w, prefix+msg)
}

// clearLine returns the cursor to the start of the line and erases it.
const clearLine = "\r\x1b[K"

// SetTerminal tells the logger its writer is a terminal, enabling
// status lines redrawn in place (cli.StatusWriter).
func (l *Logger) SetTerminal(t bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.terminal = t
}

// WriteStatus draws a status line in place on a terminal; final ends it.
// Elsewhere only final lines are written. Quiet suppresses both.
func (l *Logger) WriteStatus(line string, final bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.quiet || l.verbosity < 0 {
		return
	}
	switch {
	case l.terminal && final:
		fmt.Fprint(l.w, clearLine+line+"\n")
		l.statusLine = false
	case l.terminal:
		fmt.Fprint(l.w, clearLine+line)
		l.statusLine = true
	case final:
		fmt.Fprintln(l.w, line)
	}
}

// IsSmartTerminal reports whether w is a terminal that understands cursor
// movement: a character device, with TERM set and not "dumb".
func IsSmartTerminal(w io.Writer, getenv func(string) string) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	term := getenv("TERM")
	return term != "" && term != "dumb"
}

func (l *Logger) Warn(m string)                    { l.write("WARNING: ", m, false) }
func (l *Logger) Warnf(f string, a ...any)         { l.Warn(fmt.Sprintf(f, a...)) }
func (l *Logger) Error(m string)                   { l.write("ERROR: ", m, true) }
func (l *Logger) Errorf(f string, a ...any)        { l.Error(fmt.Sprintf(f, a...)) }
func (l *Logger) V(level log.Level) log.InfoLogger { return infoLogger{l: l, level: level} }

type infoLogger struct {
	l     *Logger
	level log.Level
}

func (i infoLogger) Enabled() bool {
	i.l.mu.Lock()
	defer i.l.mu.Unlock()
	return !i.l.quiet && i.l.verbosity >= i.level
}

func (i infoLogger) Info(m string) {
	if i.Enabled() {
		i.l.write("", m, false)
	}
}

func (i infoLogger) Infof(f string, a ...any) {
	if i.Enabled() {
		i.l.write("", fmt.Sprintf(f, a...), false)
	}
}
