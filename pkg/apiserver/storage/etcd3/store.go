package etcd3

import (
	"context"
	"errors"
	"fmt"
	"path"
	"reflect"
	"strings"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/apiserver/storage"
	"github.com/kinc-dev/kinc/pkg/apiserver/storage/value"
)

// DefaultPrefix is the default etcd key prefix (kube-apiserver's --etcd-prefix).
const DefaultPrefix = "/registry"

// Config configures a store for one resource.
type Config struct {
	// Client is the etcd client; required. The store never closes it.
	Client *clientv3.Client
	// Codec encodes objects for etcd and decodes them back; required.
	Codec runtime.Codec
	// NewFunc returns an empty object of the resource (e.g. &corev1.Pod{});
	// required. Used for watch events, bookmarks and update-creates.
	NewFunc func() runtime.Object
	// Prefix is prepended to every key; DefaultPrefix when empty.
	Prefix string
	// Versioner defaults to storage.APIObjectVersioner.
	Versioner storage.Versioner
	// Clock drives TTL lease reuse; the real clock when nil.
	Clock clock.PassiveClock
	// Transformer turns encoded objects into the values stored in etcd and
	// back (encryption at rest), with the etcd key as context; value.Identity
	// when nil.
	Transformer value.Transformer
}

// store implements storage.Interface over etcd.
type store struct {
	client     *clientv3.Client
	codec      runtime.Codec
	newFunc    func() runtime.Object
	versioner  storage.Versioner
	pathPrefix string // always ends in "/"
	leases     *leaseManager
	// transformer applies to every value written and read, on every path.
	transformer value.Transformer
}

var (
	_ storage.Interface         = (*store)(nil)
	_ storage.ProgressRequester = (*store)(nil)
)

// New returns a store for one resource. It also implements
// storage.ProgressRequester.
func New(cfg Config) (storage.Interface, error) {
	if cfg.Client == nil || cfg.Codec == nil || cfg.NewFunc == nil {
		return nil, errors.New("etcd3: Client, Codec and NewFunc are required")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if cfg.Versioner == nil {
		cfg.Versioner = storage.APIObjectVersioner{}
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.Transformer == nil {
		cfg.Transformer = value.Identity{}
	}
	pathPrefix := path.Join("/", cfg.Prefix)
	if !strings.HasSuffix(pathPrefix, "/") {
		pathPrefix += "/"
	}
	return &store{
		client:     cfg.Client,
		codec:      cfg.Codec,
		newFunc:    cfg.NewFunc,
		versioner:  cfg.Versioner,
		pathPrefix: pathPrefix,
		leases:     newLeaseManager(cfg.Client, cfg.Clock),

		transformer: cfg.Transformer,
	}, nil
}

// Create implements storage.Interface.
func (s *store) Create(ctx context.Context, key string, obj, out runtime.Object, ttl uint64) error {
	etcdKey, err := s.prepareKey(key)
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
	stored, err := s.toStorage(key, etcdKey, data)
	if err != nil {
		return err
	}
	var putOpts []clientv3.OpOption
	if ttl > 0 {
		id, err := s.leases.lease(ctx, int64(ttl))
		if err != nil {
			return fmt.Errorf("create %s: %w", key, err)
		}
		putOpts = append(putOpts, clientv3.WithLease(id))
	}
	resp, err := s.client.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(etcdKey), "=", 0)).
		Then(clientv3.OpPut(etcdKey, string(stored), putOpts...)).
		Else(clientv3.OpGet(etcdKey, clientv3.WithKeysOnly())).
		Commit()
	if err != nil {
		return fmt.Errorf("create %s: %w", key, err)
	}
	if !resp.Succeeded {
		var rv int64
		if kvs := resp.Responses[0].GetResponseRange().GetKvs(); len(kvs) > 0 {
			rv = kvs[0].ModRevision
		}
		return storage.NewKeyExistsError(key, rv)
	}
	if out == nil {
		return nil
	}
	return s.stored(key, obj, data, out, resp.Header.Revision)
}

// stored fills out with what was just written: a copy of obj when out is of
// its type (several times cheaper than decoding data again), else data
// decoded.
func (s *store) stored(key string, obj runtime.Object, data []byte, out runtime.Object, rev int64) error {
	dst, src := reflect.ValueOf(out), reflect.ValueOf(obj)
	if dst.Type() != src.Type() || dst.Kind() != reflect.Pointer {
		return s.decode(key, data, out, rev)
	}
	dst.Elem().Set(reflect.ValueOf(obj.DeepCopyObject()).Elem())
	if err := s.versioner.UpdateObject(out, uint64(rev)); err != nil {
		return storage.NewInvalidObjError(key, err)
	}
	return nil
}

// Get implements storage.Interface.
func (s *store) Get(ctx context.Context, key string, opts storage.GetOptions, out runtime.Object) error {
	etcdKey, err := s.prepareKey(key)
	if err != nil {
		return err
	}
	minRV, err := parseRV(key, opts.ResourceVersion)
	if err != nil {
		return err
	}
	resp, err := s.client.Get(ctx, etcdKey)
	if err != nil {
		return fmt.Errorf("get %s: %w", key, err)
	}
	if minRV > resp.Header.Revision {
		return storage.NewTooLargeResourceVersionError(key, minRV, resp.Header.Revision)
	}
	if len(resp.Kvs) == 0 {
		if opts.IgnoreNotFound {
			return runtime.SetZeroValue(out)
		}
		return storage.NewKeyNotFoundError(key, 0)
	}
	return s.decodeKV(key, resp.Kvs[0], out)
}

// GetCurrentResourceVersion implements storage.Interface.
func (s *store) GetCurrentResourceVersion(ctx context.Context) (uint64, error) {
	resp, err := s.client.Get(ctx, s.pathPrefix, clientv3.WithCountOnly())
	if err != nil {
		return 0, fmt.Errorf("get current revision: %w", err)
	}
	return uint64(resp.Header.Revision), nil
}

// RequestWatchProgress implements storage.ProgressRequester.
func (s *store) RequestWatchProgress(ctx context.Context) error {
	if err := s.client.RequestProgress(watchContext(ctx)); err != nil {
		return fmt.Errorf("request watch progress: %w", err)
	}
	return nil
}

// prepareKey turns a storage key into an etcd key, refusing keys that are empty
// or that would escape the prefix.
func (s *store) prepareKey(key string) (string, error) {
	if key == "" || key == "/" {
		return "", storage.NewBadRequestError(key, "empty key")
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "." || seg == ".." {
			return "", storage.NewBadRequestError(key, "invalid key")
		}
	}
	return s.pathPrefix + strings.TrimPrefix(key, "/"), nil
}

// decode decodes data into out (reset first) and sets its resourceVersion.
func (s *store) decode(key string, data []byte, out runtime.Object, rev int64) error {
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

// decodeKV decodes the value of kv (as stored: transformed) into out.
func (s *store) decodeKV(key string, kv *mvccpb.KeyValue, out runtime.Object) error {
	data, _, err := s.fromStorage(key, kv.Key, kv.Value)
	if err != nil {
		return err
	}
	return s.decode(key, data, out, kv.ModRevision)
}

// decodeNewStored decodes data as stored at etcdKey (transformed) into a new
// object of the resource.
func (s *store) decodeNewStored(key string, etcdKey, data []byte, rev int64) (runtime.Object, error) {
	plain, _, err := s.fromStorage(key, etcdKey, data)
	if err != nil {
		return nil, err
	}
	obj := s.newFunc()
	if err := s.decode(key, plain, obj, rev); err != nil {
		return nil, err
	}
	return obj, nil
}

// fromStorage returns the plaintext of data stored at etcdKey, and whether
// writing it again would store it differently (another key or provider).
// Data no provider reads is an internal error naming the key.
func (s *store) fromStorage(key string, etcdKey, data []byte) ([]byte, bool, error) {
	plain, stale, err := s.transformer.TransformFromStorage(data, etcdKey)
	if err != nil {
		return nil, false, storage.NewInvalidObjError(key, fmt.Errorf("unable to transform key %q: %w", etcdKey, err))
	}
	return plain, stale, nil
}

// toStorage returns what to store at etcdKey for the encoded object data.
func (s *store) toStorage(key, etcdKey string, data []byte) ([]byte, error) {
	stored, err := s.transformer.TransformToStorage(data, []byte(etcdKey))
	if err != nil {
		return nil, storage.NewInvalidObjError(key, fmt.Errorf("unable to transform key %q: %w", etcdKey, err))
	}
	return stored, nil
}

// storageKey turns an etcd key back into a storage key, for error messages.
func (s *store) storageKey(kv *mvccpb.KeyValue) string {
	return "/" + strings.TrimPrefix(string(kv.Key), s.pathPrefix)
}

// parseRV parses a client-supplied resourceVersion into a revision.
func parseRV(key, rv string) (int64, error) {
	v, err := storage.ParseResourceVersion(rv)
	if err != nil {
		return 0, storage.NewBadRequestError(key, err.Error())
	}
	return int64(v), nil
}
