// Package cli shows progress to people: a status line per step, animated
// with a spinner when the logger writes to a terminal and plain lines
// otherwise (CI logs).
package cli

import (
	"sync"
	"time"

	"github.com/kinc-dev/kinc/pkg/log"
)

// StatusWriter is implemented by loggers that can redraw one status line in
// place (a terminal). final ends the line.
type StatusWriter interface {
	WriteStatus(line string, final bool)
}

// Status is the status of one step at a time: Start, then End.
type Status struct {
	logger log.Logger
	sw     StatusWriter // nil: plain lines
	tick   time.Duration

	mu      sync.Mutex // guards msg and stop
	msg     string
	stop    chan struct{}
	stopped chan struct{}
}

// StatusForLogger returns a Status writing through logger, with a spinner
// when logger implements StatusWriter.
func StatusForLogger(logger log.Logger) *Status {
	if logger == nil {
		logger = log.NoopLogger{}
	}
	s := &Status{logger: logger, tick: 100 * time.Millisecond}
	if sw, ok := logger.(StatusWriter); ok {
		s.sw = sw
	}
	return s
}

var frames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// Start ends the current step as successful, if any, and starts msg.
func (s *Status) Start(msg string) {
	s.End(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msg = msg
	if s.sw == nil {
		s.logger.V(0).Infof(" • %s ...", msg)
		return
	}
	s.stop, s.stopped = make(chan struct{}), make(chan struct{})
	go s.spin(msg, s.stop, s.stopped)
}

func (s *Status) spin(msg string, stop, stopped chan struct{}) {
	defer close(stopped)
	t := time.NewTicker(s.tick)
	defer t.Stop()
	for i := 0; ; i++ {
		s.sw.WriteStatus(" "+frames[i%len(frames)]+" "+msg, false)
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

// End ends the current step, marking it ✓ or ✗. Without a step it does
// nothing.
func (s *Status) End(success bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.msg == "" {
		return
	}
	mark := "✓"
	if !success {
		mark = "✗"
	}
	if s.sw == nil {
		s.logger.V(0).Infof(" %s %s", mark, s.msg)
	} else {
		close(s.stop)
		<-s.stopped
		s.sw.WriteStatus(" "+mark+" "+s.msg, true)
	}
	s.msg = ""
}
