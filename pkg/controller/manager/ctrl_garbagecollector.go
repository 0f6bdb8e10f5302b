package manager

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/metadata"

	"github.com/kinc-dev/kinc/pkg/controller"
	"github.com/kinc-dev/kinc/pkg/controller/garbagecollector"
)

// newGarbageCollector is upstream's garbage-collector-controller, under
// the service account generic-garbage-collector. As upstream, its metadata
// client may go twice --kube-api-qps (a collected object costs a read and
// a delete), and --enable-garbage-collector=false skips it.
func newGarbageCollector(_ context.Context, cc Context) (controller.Controller, error) {
	if !cc.Options.EnableGarbageCollector {
		cc.Logger.Info("garbage collector disabled by --enable-garbage-collector=false", "controller", "garbage-collector-controller")
		return nil, nil
	}
	cfg, err := cc.ClientConfig("generic-garbage-collector")
	if err != nil {
		return nil, err
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("discovery client for generic-garbage-collector: %w", err)
	}
	cfg.QPS *= 2
	meta, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("metadata client for generic-garbage-collector: %w", err)
	}
	// Cached between two discoveries (the collector invalidates it on each),
	// as upstream's: the kinds and the resources come from one round.
	return garbagecollector.New(meta, memory.NewMemCacheClient(disc), garbagecollector.Options{
		Recorder: cc.Events.NewRecorder(scheme.Scheme, corev1.EventSource{Component: garbagecollector.EventComponent}),
		Logger:   cc.Logger, Clock: cc.Clock,
	}), nil
}
