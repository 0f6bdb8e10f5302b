package config

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"
)

// FileSource watches a static pod directory by polling it. It needs no
// apiserver: static pods run before any control plane exists.
type FileSource struct {
	Dir      string
	NodeName string
	// Interval between re-reads of Dir.
	Interval time.Duration
	Clock    clock.Clock
	Logger   *slog.Logger

	// seen keeps each pod's first-seen time so config.seen (and the UID
	// derived without it) stays stable across re-reads. Used only by Run's goroutine.
	seen map[string]time.Time
}

// Run reads Dir now and then every Interval until ctx ends, calling update
// with the full set of static pods whenever the set (by UID) changes. A
// missing directory is an empty set; a file that cannot be parsed is logged
// and skipped. update is called from Run's goroutine only.
func (s *FileSource) Run(ctx context.Context, update func([]*v1.Pod)) {
	var last string
	first := true
	for {
		pods := s.Read()
		key := podsKey(pods)
		if first || key != last {
			update(pods)
			first, last = false, key
		}
		select {
		case <-ctx.Done():
			return
		case <-s.Clock.After(s.Interval):
		}
	}
}

// Read returns the static pods in Dir, sorted by file name.
func (s *FileSource) Read() []*v1.Pod {
	if s.seen == nil {
		s.seen = map[string]time.Time{}
	}
	entries, err := os.ReadDir(s.Dir)
	if err != nil {
		if !os.IsNotExist(err) {
			s.Logger.Error("read static pod directory", "path", s.Dir, "err", err)
		}
		return nil
	}
	var pods []*v1.Pod
	live := map[string]bool{}
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		path := filepath.Join(s.Dir, e.Name())
		data, err := os.ReadFile(path)
		if err != nil {
			s.Logger.Error("read static pod manifest", "path", path, "err", err)
			continue
		}
		seenKey := path + "\x00" + string(data)
		seen, ok := s.seen[seenKey]
		if !ok {
			seen = s.Clock.Now()
			s.seen[seenKey] = seen
		}
		live[seenKey] = true
		pod, err := decodeManifest(data, path, s.NodeName, seen)
		if err != nil {
			s.Logger.Error("invalid static pod manifest", "path", path, "err", err)
			continue
		}
		pods = append(pods, pod)
	}
	for k := range s.seen {
		if !live[k] {
			delete(s.seen, k)
		}
	}
	return pods
}

func podsKey(pods []*v1.Pod) string {
	uids := make([]string, 0, len(pods))
	for _, p := range pods {
		uids = append(uids, string(p.UID))
	}
	sort.Strings(uids)
	return strings.Join(uids, ",")
}
