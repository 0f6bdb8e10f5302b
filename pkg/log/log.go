// Package log is the small logging interface of kinc's CLI and library code.
//
// Library code takes a Logger and defaults to NoopLogger; the CLI supplies one
// that writes to stderr at the verbosity the user chose. Daemons (apiserver,
// kubelet, …) use log/slog instead.
package log

// Level is a verbosity level, as in klog: 0 is always shown, higher is chattier.
type Level int32

// Logger logs warnings and errors always, and info lines at a verbosity.
// Implementations must be safe for concurrent use.
type Logger interface {
	Warn(message string)
	Warnf(format string, args ...any)
	Error(message string)
	Errorf(format string, args ...any)
	// V returns an InfoLogger that writes only when the logger's verbosity is
	// at least level.
	V(level Level) InfoLogger
}

// InfoLogger writes informational lines at one verbosity level.
type InfoLogger interface {
	Info(message string)
	Infof(format string, args ...any)
	// Enabled tells whether lines written at this level are shown, so callers
	// can skip costly formatting.
	Enabled() bool
}

// NoopLogger discards everything. It is the default for library code.
type NoopLogger struct{}

var _ Logger = NoopLogger{}

func (NoopLogger) Warn(string)           {}
func (NoopLogger) Warnf(string, ...any)  {}
func (NoopLogger) Error(string)          {}
func (NoopLogger) Errorf(string, ...any) {}
func (NoopLogger) V(Level) InfoLogger    { return NoopInfoLogger{} }

// NoopInfoLogger discards everything.
type NoopInfoLogger struct{}

func (NoopInfoLogger) Info(string)          {}
func (NoopInfoLogger) Infof(string, ...any) {}
func (NoopInfoLogger) Enabled() bool        { return false }
