package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// LogOptions are the --audit-log-* flags.
type LogOptions struct {
	// Path is the log file; "-" is standard output; "" turns the log off.
	Path string
	// MaxAge is how many days rotated files are kept (0: no limit).
	MaxAge int
	// MaxBackups is how many rotated files are kept (0: no limit).
	MaxBackups int
	// MaxSize is the size in megabytes at which the file is rotated
	// (0: 100, as upstream's log writer).
	MaxSize int
	// Format is "json" (the default); upstream's "legacy" text format is
	// refused.
	Format string
}

// FormatJSON is the only supported --audit-log-format.
const FormatJSON = "json"

const defaultMaxSizeMB = 100

// Validate reports every problem of o.
func (o LogOptions) Validate() error {
	var errs []error
	if o.MaxAge < 0 {
		errs = append(errs, fmt.Errorf("--audit-log-maxage %d can't be a negative number", o.MaxAge))
	}
	if o.MaxBackups < 0 {
		errs = append(errs, fmt.Errorf("--audit-log-maxbackup %d can't be a negative number", o.MaxBackups))
	}
	if o.MaxSize < 0 {
		errs = append(errs, fmt.Errorf("--audit-log-maxsize %d can't be a negative number", o.MaxSize))
	}
	switch o.Format {
	case "", FormatJSON:
	case "legacy":
		errs = append(errs, errors.New(`--audit-log-format "legacy" is not supported by kinc: use "json"`))
	default:
		errs = append(errs, fmt.Errorf("--audit-log-format %q is invalid: allowed formats are json", o.Format))
	}
	return errors.Join(errs...)
}

// Log writes events as JSON lines, one per event, in the order Write is
// called. It is safe for concurrent use. A Write error is returned and the
// event lost; the next Write tries again.
type Log struct {
	mu     sync.Mutex
	w      io.Writer
	closer io.Closer
}

// NewLog writes events to w (which Close does not close).
func NewLog(w io.Writer) *Log { return &Log{w: w} }

// OpenLog opens the log o describes: standard output for "-", else the
// file (its directory created 0700, the file 0600, appended to), rotated
// by size. c names rotated files and ages them.
func OpenLog(o LogOptions, c clock.PassiveClock) (*Log, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.Path == "-" {
		return NewLog(os.Stdout), nil
	}
	f, err := OpenRotatingFile(o.Path, o.MaxSize, o.MaxBackups, o.MaxAge, c)
	if err != nil {
		return nil, err
	}
	return &Log{w: f, closer: f}, nil
}

// Write appends ev as one line.
func (l *Log) Write(ev *Event) error {
	data, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encoding audit event: %w", err)
	}
	data = append(data, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.w.Write(data); err != nil {
		return fmt.Errorf("writing audit event: %w", err)
	}
	return nil
}

// Close closes the file the log writes to, if it opened one.
func (l *Log) Close() error {
	if l.closer == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closer.Close()
}

// backupTimeFormat names rotated files as upstream's log writer does:
// audit-2026-12-07T04-05-06.789.log next to audit.log, in UTC.
const backupTimeFormat = "2006-01-02T15-04-05.000"

// RotatingFile is a file that, before a write would take it past its
// maximum size, is renamed to <name>-<UTC time><ext> and started again;
// rotated files beyond the maximum count or age are then removed. A single
// write larger than the maximum goes whole into a fresh file. Not safe for
// concurrent use (Log serializes).
type RotatingFile struct {
	path       string
	maxSize    int64
	maxBackups int
	maxAge     time.Duration
	clock      clock.PassiveClock
	f          *os.File
	size       int64
}

// OpenRotatingFile opens path for appending, rotating at maxSizeMB
// megabytes (0: 100) and keeping at most maxBackups rotated files (0: all)
// of at most maxAgeDays days (0: any age).
func OpenRotatingFile(path string, maxSizeMB, maxBackups, maxAgeDays int, c clock.PassiveClock) (*RotatingFile, error) {
	if maxSizeMB == 0 {
		maxSizeMB = defaultMaxSizeMB
	}
	r := &RotatingFile{path: path, maxSize: int64(maxSizeMB) * 1024 * 1024, maxBackups: maxBackups,
		maxAge: time.Duration(maxAgeDays) * 24 * time.Hour, clock: c}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating the audit log directory: %w", err)
	}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *RotatingFile) open() error {
	f, err := os.OpenFile(r.path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("opening the audit log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("opening the audit log: %w", err)
	}
	r.f, r.size = f, st.Size()
	return nil
}

// Write appends p, rotating first if needed.
func (r *RotatingFile) Write(p []byte) (int, error) {
	if r.f == nil {
		if err := r.open(); err != nil {
			return 0, err
		}
	}
	if r.size > 0 && r.size+int64(len(p)) > r.maxSize {
		if err := r.rotate(); err != nil {
			return 0, err
		}
		// The event goes in even if old files could not be removed.
		pruneErr := r.prune()
		n, err := r.f.Write(p)
		r.size += int64(n)
		if err == nil && pruneErr != nil {
			err = fmt.Errorf("removing old rotated audit logs: %w", pruneErr)
		}
		return n, err
	}
	n, err := r.f.Write(p)
	r.size += int64(n)
	return n, err
}

func (r *RotatingFile) rotate() error {
	if err := r.f.Close(); err != nil {
		return fmt.Errorf("rotating the audit log: %w", err)
	}
	r.f = nil
	ext := filepath.Ext(r.path)
	base := strings.TrimSuffix(r.path, ext)
	backup := base + "-" + r.clock.Now().UTC().Format(backupTimeFormat) + ext
	if err := os.Rename(r.path, backup); err != nil {
		return fmt.Errorf("rotating the audit log: %w", err)
	}
	return r.open()
}

// prune removes rotated files beyond maxBackups (oldest first) or older
// than maxAge.
func (r *RotatingFile) prune() error {
	if r.maxBackups == 0 && r.maxAge == 0 {
		return nil
	}
	ext := filepath.Ext(r.path)
	prefix := filepath.Base(strings.TrimSuffix(r.path, ext)) + "-"
	entries, err := os.ReadDir(filepath.Dir(r.path))
	if err != nil {
		return fmt.Errorf("listing rotated audit logs: %w", err)
	}
	type backup struct {
		name string
		at   time.Time
	}
	var backups []backup
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasPrefix(n, prefix) || !strings.HasSuffix(n, ext) {
			continue
		}
		at, err := time.Parse(backupTimeFormat, strings.TrimSuffix(strings.TrimPrefix(n, prefix), ext))
		if err != nil {
			continue // not one of ours
		}
		backups = append(backups, backup{n, at})
	}
	sort.Slice(backups, func(i, j int) bool { return backups[i].at.After(backups[j].at) })
	var errs []error
	cutoff := r.clock.Now().Add(-r.maxAge)
	for i, b := range backups {
		if (r.maxBackups > 0 && i >= r.maxBackups) || (r.maxAge > 0 && b.at.Before(cutoff)) {
			if err := os.Remove(filepath.Join(filepath.Dir(r.path), b.name)); err != nil && !os.IsNotExist(err) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Close closes the current file.
func (r *RotatingFile) Close() error {
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}
