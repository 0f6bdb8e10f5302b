package cmd

import (
	"fmt"
	"io"
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
	fmt.Fprint(l.w, prefix+msg)
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
