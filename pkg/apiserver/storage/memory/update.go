package memory

import (
	"bytes"
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/storage"
)

// objState is what a read-modify-write knows about the key it works on.
type objState struct {
	obj    runtime.Object // decoded, resourceVersion set; zero value when !exists
	data   []byte
	rev    int64 // the revision of the last write; 0 when !exists
	exists bool
}

// readState reads and decodes the current state of k.
func (s *Store) readState(key, k string) (*objState, error) {
	s.mu.Lock()
	s.expireLocked()
	cur, ok := s.latest(k)
	s.mu.Unlock()
	if !ok {
		return &objState{obj: s.newFunc()}, nil
	}
	obj, err := s.decodeNew(key, cur.data, cur.rev)
	if err != nil {
		return nil, err
	}
	return &objState{obj: obj, data: cur.data, rev: cur.rev, exists: true}, nil
}

// commitLocked writes data (nil: delete) at k if k is still at st.rev (the
// compare-and-swap of etcd3's transactions). It returns the new revision, or
// 0 when another writer got there first.
func (s *Store) commitLocked(k string, st *objState, data []byte) int64 {
	s.expireLocked()
	cur, ok := s.latest(k)
	if ok != st.exists || ok && cur.rev != st.rev {
		return 0
	}
	return s.writeLocked(k, data)
}

// GuaranteedUpdate implements storage.Interface.
func (s *Store) GuaranteedUpdate(ctx context.Context, key string, dest runtime.Object, ignoreNotFound bool,
	preconditions *storage.Preconditions, tryUpdate storage.UpdateFunc) error {
	k, err := prepareKey(key)
	if err != nil {
		return err
	}
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("update %s: %w", key, err)
		}
		st, err := s.readState(key, k)
		if err != nil {
			return err
		}
		if !st.exists && !ignoreNotFound {
			return storage.NewKeyNotFoundError(key, 0)
		}
		if err := preconditions.Check(key, st.obj); err != nil {
			return err
		}
		ret, err := tryUpdate(st.obj)
		if err != nil {
			return err
		}
		if err := s.versioner.PrepareObjectForStorage(ret); err != nil {
			return storage.NewInvalidObjError(key, err)
		}
		data, err := runtime.Encode(s.codec, ret)
		if err != nil {
			return storage.NewInvalidObjError(key, err)
		}
		if st.exists && bytes.Equal(data, st.data) {
			// Nothing changed: do not write (and do not bump the revision).
			return s.decode(key, st.data, dest, st.rev)
		}
		s.mu.Lock()
		rev := s.commitLocked(k, st, data)
		s.mu.Unlock()
		if rev == 0 {
			continue // someone else wrote first: start again from what is stored now
		}
		return s.decode(key, data, dest, rev)
	}
}

// Delete implements storage.Interface.
func (s *Store) Delete(ctx context.Context, key string, out runtime.Object, preconditions *storage.Preconditions,
	validateDeletion storage.ValidateObjectFunc) error {
	k, err := prepareKey(key)
	if err != nil {
		return err
	}
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("delete %s: %w", key, err)
		}
		st, err := s.readState(key, k)
		if err != nil {
			return err
		}
		if !st.exists {
			return storage.NewKeyNotFoundError(key, 0)
		}
		if err := preconditions.Check(key, st.obj); err != nil {
			return err
		}
		if validateDeletion != nil {
			if err := validateDeletion(ctx, st.obj); err != nil {
				return err
			}
		}
		s.mu.Lock()
		rev := s.commitLocked(k, st, nil)
		s.mu.Unlock()
		if rev == 0 {
			continue
		}
		if out == nil {
			return nil
		}
		return s.decode(key, st.data, out, rev)
	}
}
