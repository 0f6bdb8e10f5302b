package server

import (
	"fmt"
	"log/slog"
	"net"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/apiserver/encryption"
	"github.com/kinc-dev/kinc/pkg/apiserver/handlers"
	"github.com/kinc-dev/kinc/pkg/apiserver/printers"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/generic"
	"github.com/kinc-dev/kinc/pkg/apiserver/storage"
	"github.com/kinc-dev/kinc/pkg/apiserver/storage/cacher"
	"github.com/kinc-dev/kinc/pkg/apiserver/storage/etcd3"
)

var gvrNamespaces = corev1.SchemeGroupVersion.WithResource("namespaces")

// storeSet is every resource of the list, wired to etcd through a shared
// watch cache per stored resource, and served.
type storeSet struct {
	descriptors []registry.Resource
	resources   []*handlers.Resource
	byGVR       map[schema.GroupVersionResource]*generic.Store
	// storeless are the stores of the resources without storage
	// (registry.Resource.NewStore).
	storeless map[schema.GroupVersionResource]registry.Store
	cachers   []*cacher.Cacher
}

func (s *storeSet) store(gvr schema.GroupVersionResource) *generic.Store { return s.byGVR[gvr] }

// lookup is registry.Deps.Stores: nil for a resource not served.
func (s *storeSet) lookup(gvr schema.GroupVersionResource) registry.Store {
	if st, ok := s.byGVR[gvr]; ok {
		return st
	}
	if st, ok := s.storeless[gvr]; ok {
		return st
	}
	return nil
}

// tables returns the printer of every resource.
func (s *storeSet) tables() []printers.Printer {
	out := make([]printers.Printer, 0, len(s.descriptors))
	for i := range s.descriptors {
		out = append(out, s.descriptors[i].Table)
	}
	return out
}

func (s *storeSet) stop() {
	for _, c := range s.cachers {
		c.Stop()
	}
}

// newDeps returns what the resources' constructors get from opts; stores
// answers registry.Deps.Stores.
func newDeps(opts *Options, stores func(schema.GroupVersionResource) registry.Store, clk clock.PassiveClock, auth *registry.Auth) (registry.Deps, error) {
	_, cidr, err := net.ParseCIDR(opts.ServiceClusterIPRange)
	if err != nil {
		return registry.Deps{}, fmt.Errorf("--service-cluster-ip-range: %w", err)
	}
	return registry.Deps{ServiceClusterIPRange: cidr, Stores: stores, Clock: clk, Auth: auth,
		Kubelet: registry.KubeletClientConfig{CertFile: opts.KubeletClientCertificate, KeyFile: opts.KubeletClientKey},
		DefaultTolerationSeconds: &registry.TolerationSeconds{
			NotReady: opts.DefaultNotReadyTolerationSeconds, Unreachable: opts.DefaultUnreachableTolerationSeconds}}, nil
}

func newStoreSet(opts *Options, etcd *clientv3.Client, clk clock.WithTicker, auth *registry.Auth, log *slog.Logger) (*storeSet, error) {
	set := &storeSet{byGVR: map[schema.GroupVersionResource]*generic.Store{},
		storeless: map[schema.GroupVersionResource]registry.Store{}}
	deps, err := newDeps(opts, set.lookup, clk, auth)
	if err != nil {
		return nil, err
	}
	set.descriptors = resources(deps)
	var encrypt *encryption.Transformers // nil: identity
	if opts.EncryptionProviderConfig != "" {
		if encrypt, err = encryption.Load(opts.EncryptionProviderConfig); err != nil {
			return nil, fmt.Errorf("--encryption-provider-config: %w", err)
		}
	}
	cacheAttrs := sharedCacheAttrs(set.descriptors)
	for i := range set.descriptors {
		d := &set.descriptors[i]
		if d.NewStore != nil {
			set.storeless[d.GroupVersionResource()] = d.NewStore()
			continue
		}
		var store storage.Interface
		if conv := d.SharedStorage; conv != nil {
			shared, ok := set.byGVR[conv.Storage]
			if !ok {
				set.stop()
				return nil, fmt.Errorf("%s shares the storage of %s, which must come first", d.Name, conv.Storage)
			}
			store = generic.NewConvertingStorage(shared.Storage, *conv, attrsOf(d))
		} else {
			raw, err := etcd3.New(etcd3.Config{Client: etcd, Codec: storageCodec(d.GVK.GroupVersion()),
				NewFunc: d.NewFunc, Prefix: opts.EtcdPrefix, Clock: clk,
				Transformer: encrypt.For(schema.GroupResource{Group: d.GVK.Group, Resource: d.Name})})
			if err != nil {
				set.stop()
				return nil, fmt.Errorf("storage for %s: %w", d.Name, err)
			}
			c, err := cacher.New(cacher.Config{Storage: raw, ResourcePrefix: d.KeyRoot, NewFunc: d.NewFunc,
				NewListFunc: d.NewList, GetAttrs: cacheAttrs[d.GroupVersionResource()], Clock: clk,
				Logger: log.With("resource", d.Name)})
			if err != nil {
				set.stop()
				return nil, fmt.Errorf("watch cache for %s: %w", d.Name, err)
			}
			set.cachers = append(set.cachers, c)
			store = c
		}
		set.byGVR[d.GroupVersionResource()] = newStore(d, store, clk)
	}
	for i := range set.descriptors {
		d := &set.descriptors[i]
		if st, ok := set.storeless[d.GroupVersionResource()]; ok {
			set.resources = append(set.resources, serve(d, st))
			continue
		}
		st := set.byGVR[d.GroupVersionResource()]
		set.resources = append(set.resources, serve(d, st))
	}
	return set, nil
}

// newStore returns the generic store of d over s.
func newStore(d *registry.Resource, s storage.Interface, clk clock.PassiveClock) *generic.Store {
	st := &generic.Store{
		Resource: schema.GroupResource{Group: d.GVK.Group, Resource: d.Name}, Kind: d.GVK,
		Namespaced: d.Namespaced, KeyRoot: d.KeyRoot, NewFunc: d.NewFunc, NewListFunc: d.NewList,
		Strategy: d.Strategy, StatusStrategy: d.StatusStrategy, GetAttrs: attrsOf(d), NameFunc: d.NameFunc,
		Storage: s, Clock: clk, AllowCreateOnUpdate: d.CreateOnUpdate,
	}
	if ttl := d.TTLSeconds; ttl > 0 {
		st.TTL = func(runtime.Object) uint64 { return ttl }
	}
	return st
}

// serve returns how the handlers serve d from its store st: discovery's
// entry, the store (wrapped when d says so) and the subresources.
func serve(d *registry.Resource, st registry.Store) *handlers.Resource {
	served := st
	if d.WrapStore != nil {
		served = d.WrapStore(st)
	}
	res := &handlers.Resource{GVK: d.GVK, Name: d.Name, SingularName: d.Singular, ShortNames: d.ShortNames,
		Categories: d.Categories, Namespaced: d.Namespaced, Verbs: d.Verbs, Store: served}
	for _, sub := range d.AllSubresources() {
		hs := handlers.Subresource{Name: sub.Name, Kind: sub.Kind, Verbs: sub.Verbs}
		if hs.Kind.Empty() {
			hs.Kind = d.GVK
		}
		switch {
		case sub.View != nil:
			hs.View = sub.View(st)
		case sub.Creater != nil:
			hs.Creater = sub.Creater(st)
		case sub.Connecter != nil:
			hs.Connecter = sub.Connecter(st)
		}
		res.Subresources = append(res.Subresources, hs)
	}
	return res
}

// attrsOf returns d's attributes, or the metadata-only default.
func attrsOf(d *registry.Resource) registry.AttrFunc {
	switch {
	case d.Attrs != nil:
		return d.Attrs
	case d.Namespaced:
		return storage.DefaultNamespaceScopedAttrs
	default:
		return storage.DefaultClusterScopedAttrs
	}
}

// sharedCacheAttrs returns the attributes each stored resource's watch
// cache computes: its own, widened by the fields of every resource served
// from the same storage, so the shared cache can filter for either.
func sharedCacheAttrs(ds []registry.Resource) map[schema.GroupVersionResource]registry.AttrFunc {
	out := map[schema.GroupVersionResource]registry.AttrFunc{}
	for i := range ds {
		d := &ds[i]
		if d.NewStore != nil {
			continue
		}
		if conv := d.SharedStorage; conv != nil {
			if base, ok := out[conv.Storage]; ok {
				out[conv.Storage] = generic.MergeAttrs(base, conv.FromStorage, attrsOf(d))
			}
			continue
		}
		out[d.GroupVersionResource()] = attrsOf(d)
	}
	return out
}

// storageCodec encodes objects in etcd as upstream does: Kubernetes protobuf
// (the "k8s\x00" envelope with apiVersion and kind), which decodes several
// times faster than JSON on every list.
func storageCodec(gv schema.GroupVersion) runtime.Codec {
	pb := protobuf.NewSerializer(scheme.Scheme, scheme.Scheme)
	return scheme.Codecs.CodecForVersions(pb, pb, gv, gv)
}
