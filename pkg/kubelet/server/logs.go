package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// LogOptions are the containerLogs query parameters.
type LogOptions struct {
	Follow     bool
	Timestamps bool
	TailLines  *int64
	LimitBytes *int64
	Since      time.Time // zero: from the start
}

// logLine is one parsed CRI log line: "<RFC3339Nano> stdout|stderr F|P <msg>".
type logLine struct {
	ts      time.Time
	stream  string
	partial bool
	msg     []byte
}

var errBadLine = errors.New("not a CRI log line")

func parseCRILine(line []byte) (logLine, error) {
	var l logLine
	line = bytes.TrimSuffix(line, []byte("\n"))
	parts := bytes.SplitN(line, []byte(" "), 4)
	if len(parts) < 3 {
		return l, errBadLine
	}
	ts, err := time.Parse(time.RFC3339Nano, string(parts[0]))
	if err != nil {
		return l, errBadLine
	}
	l.ts, l.stream = ts, string(parts[1])
	if l.stream != "stdout" && l.stream != "stderr" {
		return l, errBadLine
	}
	switch string(parts[2]) {
	case "P":
		l.partial = true
	case "F":
	default:
		return l, errBadLine
	}
	if len(parts) == 4 {
		l.msg = parts[3]
	}
	return l, nil
}

// limitedWriter stops accepting bytes after n.
type limitedWriter struct {
	w io.Writer
	n int64
}

var errLimit = errors.New("limit reached")

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errLimit
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.w.Write(p)
	l.n -= int64(n)
	if err == nil && l.n <= 0 {
		err = errLimit
	}
	return n, err
}

// WriteLogs copies the log file at path to w as kubectl logs shows it:
// messages only (with their RFC3339Nano timestamp when opts.Timestamps),
// partial lines joined. With Follow it keeps reading new lines until ctx
// ends or stillRunning reports false once the file has no more data.
func WriteLogs(ctx context.Context, path string, opts LogOptions, w io.Writer, stillRunning func() bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if opts.LimitBytes != nil {
		w = &limitedWriter{w: w, n: *opts.LimitBytes}
	}
	if opts.TailLines != nil {
		if err := seekTail(f, *opts.TailLines); err != nil {
			return err
		}
	}
	flusher, _ := w.(interface{ Flush() })
	r := bufio.NewReader(f)
	var pending []byte // an unterminated line read so far (file still being written)
	for {
		chunk, err := r.ReadBytes('\n')
		pending = append(pending, chunk...)
		if err == io.EOF {
			if !opts.Follow {
				return nil
			}
			if flusher != nil {
				flusher.Flush()
			}
			if stillRunning != nil && !stillRunning() {
				// The container stopped: write what it logged last, then end.
				more, _ := io.ReadAll(r)
				for _, line := range bytes.SplitAfter(append(pending, more...), []byte("\n")) {
					if len(line) == 0 {
						continue
					}
					if err := writeLine(w, line, opts); err != nil {
						return ignoreLimit(err)
					}
				}
				return nil
			}
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		if err != nil {
			return err
		}
		line := pending
		pending = nil
		if err := writeLine(w, line, opts); err != nil {
			return ignoreLimit(err)
		}
	}
}

func ignoreLimit(err error) error {
	if errors.Is(err, errLimit) {
		return nil
	}
	return err
}

func writeLine(w io.Writer, raw []byte, opts LogOptions) error {
	l, err := parseCRILine(raw)
	if err != nil {
		return nil // skip garbage, as upstream does
	}
	if !opts.Since.IsZero() && l.ts.Before(opts.Since) {
		return nil
	}
	var b bytes.Buffer
	if opts.Timestamps {
		b.WriteString(l.ts.Format(time.RFC3339Nano))
		b.WriteByte(' ')
	}
	b.Write(l.msg)
	if !l.partial {
		b.WriteByte('\n')
	}
	_, err = w.Write(b.Bytes())
	return err
}

// seekTail positions f at the start of the last n full log lines.
func seekTail(f *os.File, n int64) error {
	if n < 0 {
		return nil
	}
	if n == 0 {
		_, err := f.Seek(0, io.SeekEnd)
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	size := fi.Size()
	const block = 4096
	var count int64
	pos := size
	buf := make([]byte, block)
	for pos > 0 {
		step := int64(block)
		if pos < step {
			step = pos
		}
		pos -= step
		if _, err := f.ReadAt(buf[:step], pos); err != nil && err != io.EOF {
			return err
		}
		for i := step - 1; i >= 0; i-- {
			if buf[i] != '\n' || pos+i == size-1 {
				continue
			}
			// count physical lines after this newline, as upstream does
			count++
			if count == n {
				_, err := f.Seek(pos+i+1, io.SeekStart)
				return err
			}
		}
	}
	_, err = f.Seek(0, io.SeekStart)
	return err
}

func parseInt(s string) (*int64, error) {
	if s == "" {
		return nil, nil
	}
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		return nil, fmt.Errorf("invalid integer %q", s)
	}
	return &n, nil
}
