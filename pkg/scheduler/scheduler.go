package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"

	schedcache "github.com/kinc-dev/kinc/pkg/scheduler/cache"
	"github.com/kinc-dev/kinc/pkg/scheduler/framework"
	"github.com/kinc-dev/kinc/pkg/scheduler/framework/plugins"
	"github.com/kinc-dev/kinc/pkg/scheduler/metrics"
	"github.com/kinc-dev/kinc/pkg/scheduler/queue"
)

// DefaultMaxConcurrentBinds is how many bindings may be in flight at once.
const DefaultMaxConcurrentBinds = 32

// Config is what New needs. Client and InformerFactory are required.
type Config struct {
	Client          kubernetes.Interface
	InformerFactory informers.SharedInformerFactory
	// Profiles are the resolved profiles, one per schedulerName.
	Profiles []framework.ProfileConfig
	// Parallelism bounds how many nodes are filtered at once (default 16).
	Parallelism int
	Queue       queue.Options
	// Broadcaster records events; nil records none.
	Broadcaster record.EventBroadcaster
	// Recorder, when set, records every profile's events instead (tests).
	Recorder record.EventRecorder
	Logger   *slog.Logger
	Clock    clock.WithTicker // default: the real clock
	Metrics  *metrics.Metrics // nil: none
	// MaxConcurrentBinds bounds the bindings in flight (default
	// DefaultMaxConcurrentBinds); when all are busy the next pod waits, so
	// assumed pods never pile up far ahead of the apiserver.
	MaxConcurrentBinds int
	// Registry overrides the in-tree plugins (tests).
	Registry framework.Registry
}

// Scheduler schedules the pods of its profiles.
type Scheduler struct {
	client      kubernetes.Interface
	cache       *schedcache.Cache
	queue       *queue.PriorityQueue
	snapshot    *schedcache.Snapshot
	profiles    map[string]*framework.Framework
	recorders   map[string]record.EventRecorder
	podLister   corelisters.PodLister
	nsLister    corelisters.NamespaceLister
	defaultSel  defaultSelector
	synced      []cache.InformerSynced
	logger      *slog.Logger
	parallelism int
	// parallelFilterThreshold is parallelFilterThreshold (benchmarks vary it).
	parallelFilterThreshold int
	clock                   clock.WithTicker
	metrics                 *metrics.Metrics
	// Used only by the scheduling goroutine.
	rand               *rand.Rand
	bindSem            chan struct{}
	nextStartNodeIndex int
}

// New builds a scheduler and registers its informer handlers; call Run
// after starting the informer factory.
func New(cfg Config) (*Scheduler, error) {
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Parallelism <= 0 {
		cfg.Parallelism = 16
	}
	if cfg.MaxConcurrentBinds <= 0 {
		cfg.MaxConcurrentBinds = DefaultMaxConcurrentBinds
	}
	if cfg.Registry == nil {
		cfg.Registry = plugins.NewInTreeRegistry()
	}
	f := cfg.InformerFactory
	s := &Scheduler{
		client:    cfg.Client,
		cache:     schedcache.New(),
		queue:     queue.New(cfg.Clock, cfg.Queue),
		snapshot:  schedcache.NewEmptySnapshot(),
		profiles:  map[string]*framework.Framework{},
		recorders: map[string]record.EventRecorder{},
		podLister: f.Core().V1().Pods().Lister(),
		nsLister:  f.Core().V1().Namespaces().Lister(),
		defaultSel: defaultSelector{services: f.Core().V1().Services().Lister(),
			replicaSets: f.Apps().V1().ReplicaSets().Lister(), statefulSets: f.Apps().V1().StatefulSets().Lister()},
		logger:                  cfg.Logger,
		parallelism:             cfg.Parallelism,
		parallelFilterThreshold: parallelFilterThreshold,
		clock:                   cfg.Clock,
		metrics:                 cfg.Metrics,
		rand:                    rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0)),
		bindSem:                 make(chan struct{}, cfg.MaxConcurrentBinds),
	}
	h := handle{s}
	for _, p := range cfg.Profiles {
		fwk, err := framework.New(p, cfg.Registry, h)
		if err != nil {
			return nil, err
		}
		if _, dup := s.profiles[p.SchedulerName]; dup {
			return nil, fmt.Errorf("duplicate profile %q", p.SchedulerName)
		}
		s.profiles[p.SchedulerName] = fwk
		switch {
		case cfg.Recorder != nil:
			s.recorders[p.SchedulerName] = cfg.Recorder
		case cfg.Broadcaster != nil:
			s.recorders[p.SchedulerName] = cfg.Broadcaster.NewRecorder(scheme.Scheme, v1.EventSource{Component: p.SchedulerName})
		default:
			s.recorders[p.SchedulerName] = &record.FakeRecorder{}
		}
	}
	if len(s.profiles) == 0 {
		return nil, fmt.Errorf("at least one profile is required")
	}
	if err := s.addEventHandlers(f); err != nil {
		return nil, err
	}
	return s, nil
}

// Queue returns the scheduling queue (for metrics).
func (s *Scheduler) Queue() *queue.PriorityQueue { return s.queue }

// WaitForCacheSync waits until the informers have listed everything.
func (s *Scheduler) WaitForCacheSync(ctx context.Context) bool {
	return cache.WaitForCacheSync(ctx.Done(), s.synced...)
}

// Run schedules pods until ctx ends. Informers must be started and synced.
// Bindings in flight when ctx ends are left to finish.
func (s *Scheduler) Run(ctx context.Context) {
	go s.queue.Run(ctx)
	s.logger.Info("scheduler started", "profiles", len(s.profiles))
	for ctx.Err() == nil {
		if !s.scheduleOne(ctx) {
			return
		}
	}
}

// handle is the framework.Handle plugins get.
type handle struct{ s *Scheduler }

func (h handle) SnapshotSharedLister() framework.NodeInfoLister { return h.s.snapshot }

func (h handle) DefaultSelector(pod *v1.Pod) labels.Selector { return h.s.defaultSel.forPod(pod) }

func (h handle) NamespaceLabels(ns string) labels.Set {
	n, err := h.s.nsLister.Get(ns)
	if err != nil {
		return nil
	}
	return n.Labels
}
