package memory

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/apiserver/storage"
)

// DefaultHistorySize is how many revisions a store keeps when
// Config.HistorySize is not set.
const DefaultHistorySize = 1000

// DefaultProgressNotifyInterval is etcd's default interval of progress
// notifications to idle watches.
const DefaultProgressNotifyInterval = 10 * time.Minute

// Config configures a store for one resource.
type Config struct {
	// Codec encodes objects and decodes them back; required.
	Codec runtime.Codec
	// NewFunc returns an empty object of the resource; required.
	NewFunc func() runtime.Object
	// Versioner defaults to storage.APIObjectVersioner.
	Versioner storage.Versioner
	// Clock measures TTLs and drives progress notifications; the real clock
	// when nil.
	Clock clock.WithTicker
	// HistorySize is the number of most recent revisions that stay readable
	// (lists at an exact revision, continue tokens, watches from a revision);
	// older ones are compacted automatically, in batches, so between
	// HistorySize and twice as many are kept. DefaultHistorySize when <= 0.
	HistorySize int
	// ProgressNotifyInterval is how often watches opened with bookmarks get a
	// BOOKMARK at the current revision; DefaultProgressNotifyInterval when 0,
	// never when negative.
	ProgressNotifyInterval time.Duration
}

// Store is an in-memory storage.Interface and storage.ProgressRequester.
// Create it with New; it needs no closing (watches end with their context or
// Stop).
type Store struct {
	codec       runtime.Codec
	newFunc     func() runtime.Object
	versioner   storage.Versioner
	clock       clock.WithTicker
	historySize int64
	interval    time.Duration

	// mu guards everything below.
	mu sync.Mutex
	history
	// expiring holds the expiry of the keys created with a TTL.
	expiring map[string]time.Time
	// changed is closed and replaced after every write and progress request:
	// watchers wait on it.
	changed chan struct{}
	// progress counts RequestWatchProgress calls.
	progress uint64
}

var (
	_ storage.Interface         = (*Store)(nil)
	_ storage.ProgressRequester = (*Store)(nil)
)

// New returns an empty store at revision 1, as a fresh etcd is.
func New(cfg Config) (*Store, error) {
	if cfg.Codec == nil || cfg.NewFunc == nil {
		return nil, errors.New("memory: Codec and NewFunc are required")
	}
	if cfg.Versioner == nil {
		cfg.Versioner = storage.APIObjectVersioner{}
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.HistorySize <= 0 {
		cfg.HistorySize = DefaultHistorySize
	}
	if cfg.ProgressNotifyInterval == 0 {
		cfg.ProgressNotifyInterval = DefaultProgressNotifyInterval
	}
	return &Store{
		codec:       cfg.Codec,
		newFunc:     cfg.NewFunc,
		versioner:   cfg.Versioner,
		clock:       cfg.Clock,
		historySize: int64(cfg.HistorySize),
		interval:    cfg.ProgressNotifyInterval,
		history:     newHistory(),
		expiring:    map[string]time.Time{},
		changed:     make(chan struct{}),
	}, nil
}

// Create implements storage.Interface.
func (s *Store) Create(ctx context.Context, key string, obj, out runtime.Object, ttl uint64) error {
	k, err := prepareKey(key)
	if err != nil {
		return err
	}
	if rv, err := s.versioner.ObjectResourceVersion(obj); err != nil {
		return storage.NewInvalidObjError(key, err)
	} else if rv != 0 {
		return storage.NewInvalidObjError(key, errors.New("resourceVersion should not be set on objects to be created"))
	}
	if err := s.versioner.PrepareObjectForStorage(obj); err != nil {
		return storage.NewInvalidObjError(key, err)
	}
	data, err := runtime.Encode(s.codec, obj)
	if err != nil {
		return storage.NewInvalidObjError(key, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("create %s: %w", key, err)
	}
	s.mu.Lock()
	s.expireLocked()
	if cur, ok := s.latest(k); ok {
		s.mu.Unlock()
		return storage.NewKeyExistsError(key, cur.rev)
	}
	rev := s.writeLocked(k, data)
	if ttl > 0 {
		s.expiring[k] = s.clock.Now().Add(time.Duration(ttl) * time.Second)
	}
	s.mu.Unlock()
	if out == nil {
		return nil
	}
	return s.decode(key, data, out, rev)
}

// Get implements storage.Interface.
func (s *Store) Get(ctx context.Context, key string, opts storage.GetOptions, out runtime.Object) error {
	k, err := prepareKey(key)
	if err != nil {
		return err
	}
	minRV, err := parseRV(key, opts.ResourceVersion)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("get %s: %w", key, err)
	}
	s.mu.Lock()
	s.expireLocked()
	cur, ok := s.latest(k)
	rev := s.rev
	s.mu.Unlock()
	if minRV > rev {
		return storage.NewTooLargeResourceVersionError(key, minRV, rev)
	}
	if !ok {
		if opts.IgnoreNotFound {
			return runtime.SetZeroValue(out)
		}
		return storage.NewKeyNotFoundError(key, 0)
	}
	return s.decode(key, cur.data, out, cur.rev)
}

// GetCurrentResourceVersion implements storage.Interface.
func (s *Store) GetCurrentResourceVersion(ctx context.Context) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("get current revision: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked()
	return uint64(s.rev), nil
}

// RequestWatchProgress implements storage.ProgressRequester: every watch with
// bookmarks sends a BOOKMARK at the current revision once it has delivered
// every event up to it.
func (s *Store) RequestWatchProgress(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("request watch progress: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.progress++
	s.notifyLocked()
	return nil
}

// Compact discards the history before revision rev, as etcd's compaction
// does: lists at older revisions, continue tokens pinned to them and watches
// from before rev-1 become 410 Expired. It fails when rev is beyond the
// current revision or already compacted.
func (s *Store) Compact(ctx context.Context, rev int64) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case rev > s.rev:
		return fmt.Errorf("compact to revision %d: %w", rev, errFutureRev)
	case rev <= s.compacted:
		return fmt.Errorf("compact to revision %d: %w", rev, errCompacted)
	}
	s.compactLocked(rev)
	return nil
}

// Expire deletes, now, the keys whose TTL has passed (every operation does it
// too); it returns how many it deleted.
func (s *Store) Expire() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.expireLocked()
}

var (
	errCompacted = errors.New("required revision has been compacted")
	errFutureRev = errors.New("required revision is a future revision")
)

// writeLocked stores data (nil: a deletion) at key as a new revision, records
// the event, wakes the watchers and compacts when the history is full. It
// returns the new revision.
func (s *Store) writeLocked(key string, data []byte) int64 {
	rev := s.appendLocked(key, data)
	if data == nil {
		delete(s.expiring, key)
	}
	if s.rev-s.compacted >= 2*s.historySize {
		s.compactLocked(s.rev - s.historySize + 1)
	}
	s.notifyLocked()
	return rev
}

func (s *Store) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// expireLocked deletes the keys whose TTL has passed.
func (s *Store) expireLocked() int {
	if len(s.expiring) == 0 {
		return 0
	}
	now := s.clock.Now()
	var due []string
	for key, at := range s.expiring {
		if !now.Before(at) {
			due = append(due, key)
		}
	}
	sortStrings(due)
	for _, key := range due {
		s.writeLocked(key, nil)
	}
	return len(due)
}

// decode decodes data into out (reset first) and sets its resourceVersion.
func (s *Store) decode(key string, data []byte, out runtime.Object, rev int64) error {
	if err := runtime.SetZeroValue(out); err != nil {
		return storage.NewInvalidObjError(key, err)
	}
	if _, _, err := s.codec.Decode(data, nil, out); err != nil {
		return storage.NewInvalidObjError(key, err)
	}
	if err := s.versioner.UpdateObject(out, uint64(rev)); err != nil {
		return storage.NewInvalidObjError(key, err)
	}
	return nil
}

// decodeNew decodes data into a new object of the resource.
func (s *Store) decodeNew(key string, data []byte, rev int64) (runtime.Object, error) {
	obj := s.newFunc()
	if err := s.decode(key, data, obj, rev); err != nil {
		return nil, err
	}
	return obj, nil
}

// prepareKey refuses keys that are empty or that would escape their prefix,
// as etcd3 does, and returns the key with a leading "/" (etcd3 maps "pods/x"
// and "/pods/x" to the same etcd key).
func prepareKey(key string) (string, error) {
	if key == "" || key == "/" {
		return "", storage.NewBadRequestError(key, "empty key")
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "." || seg == ".." {
			return "", storage.NewBadRequestError(key, "invalid key")
		}
	}
	return "/" + strings.TrimPrefix(key, "/"), nil
}

// parseRV parses a client-supplied resourceVersion into a revision.
func parseRV(key, rv string) (int64, error) {
	v, err := storage.ParseResourceVersion(rv)
	if err != nil {
		return 0, storage.NewBadRequestError(key, err.Error())
	}
	return int64(v), nil
}
