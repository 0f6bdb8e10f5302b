package daemon

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"k8s.io/klog/v2"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestLevel(t *testing.T) {
	t.Parallel()
	for v, want := range map[int]slog.Level{-1: slog.LevelInfo, 0: slog.LevelInfo, 2: -2, 4: slog.LevelDebug, 6: -6} {
		if got := Level(v); got != want {
			t.Errorf("Level(%d) = %v, want %v", v, got, want)
		}
	}
	var b bytes.Buffer
	l := NewLogger(&b, 3)
	if l.Enabled(context.Background(), slog.LevelDebug) || !l.Enabled(context.Background(), -3) {
		t.Error("--v=3 enables debug, or not V(3)")
	}
}

// TestRouteKlog: what client-go logs through klog reaches the slog logger,
// filtered by --v as klog's V levels. Not parallel: klog is global.
func TestRouteKlog(t *testing.T) {
	var b syncBuffer
	RouteKlog(NewLogger(&b, 2), 2)
	defer klog.ClearLogger()
	klog.Info("plain info")
	klog.V(2).InfoS("reflector v2", "resource", "pods")
	klog.V(3).Info("hidden v3")
	klog.ErrorS(nil, "lease lost", "lease", "kube-system/x")
	klog.Background().V(1).Info("contextual v1")
	out := b.String()
	for _, want := range []string{"level=INFO msg=\"plain info\"", "msg=\"reflector v2\" resource=pods",
		"level=ERROR msg=\"lease lost\" lease=kube-system/x", "msg=\"contextual v1\""} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "hidden v3") {
		t.Errorf("V(3) logged at --v=2:\n%s", out)
	}
}
