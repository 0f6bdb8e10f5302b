package etcd3

import (
	"bytes"
	"context"
	"fmt"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/storage"
)

// objState is what a read-modify-write knows about the key it works on.
type objState struct {
	obj    runtime.Object // decoded, resourceVersion set; zero value when !exists
	data   []byte         // plaintext (encoded object, not as stored)
	stale  bool           // data is stored the way the transformer no longer writes
	rev    int64          // ModRevision; 0 when !exists
	lease  clientv3.LeaseID
	exists bool
}

// state decodes the result of reading key (a Get, or the Else branch of a failed
// transaction).
func (s *store) state(key string, kvs []*mvccpb.KeyValue) (*objState, error) {
	if len(kvs) == 0 {
		return &objState{obj: s.newFunc()}, nil
	}
	kv := kvs[0]
	data, stale, err := s.fromStorage(key, kv.Key, kv.Value)
	if err != nil {
		return nil, err
	}
	obj := s.newFunc()
	if err := s.decode(key, data, obj, kv.ModRevision); err != nil {
		return nil, err
	}
	return &objState{obj: obj, data: data, stale: stale, rev: kv.ModRevision, lease: clientv3.LeaseID(kv.Lease),
		exists: true}, nil
}

func (s *store) readState(ctx context.Context, key, etcdKey string) (*objState, error) {
	resp, err := s.client.Get(ctx, etcdKey)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	return s.state(key, resp.Kvs)
}

// GuaranteedUpdate implements storage.Interface.
func (s *store) GuaranteedUpdate(ctx context.Context, key string, dest runtime.Object, ignoreNotFound bool,
	preconditions *storage.Preconditions, tryUpdate storage.UpdateFunc) error {
	etcdKey, err := s.prepareKey(key)
	if err != nil {
		return err
	}
	st, err := s.readState(ctx, key, etcdKey)
	if err != nil {
		return err
	}
	for {
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
		if st.exists && !st.stale && bytes.Equal(data, st.data) {
			// Nothing changed: do not write (and do not bump the revision).
			// Stale data is written again, so an update re-encrypts it with
			// the current key, as upstream.
			return s.decode(key, st.data, dest, st.rev)
		}
		stored, err := s.toStorage(key, etcdKey, data)
		if err != nil {
			return err
		}
		var putOpts []clientv3.OpOption
		if st.lease != 0 {
			putOpts = append(putOpts, clientv3.WithLease(st.lease))
		}
		resp, err := s.client.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(etcdKey), "=", st.rev)).
			Then(clientv3.OpPut(etcdKey, string(stored), putOpts...)).
			Else(clientv3.OpGet(etcdKey)).
			Commit()
		if err != nil {
			return fmt.Errorf("update %s: %w", key, err)
		}
		if !resp.Succeeded {
			// Someone else wrote first: start again from what is stored now.
			if st, err = s.state(key, resp.Responses[0].GetResponseRange().GetKvs()); err != nil {
				return err
			}
			continue
		}
		return s.decode(key, data, dest, resp.Header.Revision)
	}
}

// Delete implements storage.Interface.
func (s *store) Delete(ctx context.Context, key string, out runtime.Object, preconditions *storage.Preconditions,
	validateDeletion storage.ValidateObjectFunc) error {
	etcdKey, err := s.prepareKey(key)
	if err != nil {
		return err
	}
	st, err := s.readState(ctx, key, etcdKey)
	if err != nil {
		return err
	}
	for {
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
		resp, err := s.client.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(etcdKey), "=", st.rev)).
			Then(clientv3.OpDelete(etcdKey)).
			Else(clientv3.OpGet(etcdKey)).
			Commit()
		if err != nil {
			return fmt.Errorf("delete %s: %w", key, err)
		}
		if !resp.Succeeded {
			if st, err = s.state(key, resp.Responses[0].GetResponseRange().GetKvs()); err != nil {
				return err
			}
			continue
		}
		if out == nil {
			return nil
		}
		return s.decode(key, st.data, out, resp.Header.Revision)
	}
}
