package manager

import (
	"context"

	"github.com/kinc-dev/kinc/pkg/controller"
	"github.com/kinc-dev/kinc/pkg/controller/clusterroleaggregation"
	"github.com/kinc-dev/kinc/pkg/controller/nodeipam"
)

// Constructor builds one controller from the shared Context. It must only
// register with informers (the manager starts the factory once every
// enabled controller is built) and must not start goroutines: the manager
// calls Run. A nil Controller with a nil error means the controller has
// nothing to do with these options (as upstream's node-ipam-controller
// without --allocate-node-cidrs) and is skipped; an error stops the
// manager.
type Constructor func(ctx context.Context, cc Context) (controller.Controller, error)

// Descriptor describes one controller upstream's kube-controller-manager
// knows.
type Descriptor struct {
	// Name is upstream's canonical name ("serviceaccount-controller").
	Name string
	// Aliases are the older names --controllers also accepts
	// ("serviceaccount").
	Aliases []string
	// DisabledByDefault controllers run only when --controllers names
	// them; "*" does not enable them.
	DisabledByDefault bool
	// New builds the controller; nil means kinc does not implement it yet,
	// and the manager logs it as skipped when it is enabled.
	New Constructor
	// Workers returns how many workers Run gets (upstream's
	// --concurrent-*-syncs flag of the controller); nil means 1.
	Workers func(o *Options) int
}

// workers returns d's worker count for o.
func (d Descriptor) workers(o *Options) int {
	if d.Workers == nil {
		return 1
	}
	return d.Workers(o)
}

// Known returns every controller upstream's kube-controller-manager knows,
// in upstream's registration order, with its aliases and whether it is
// disabled by default; the ones kinc implements have a constructor. The
// names are upstream's (cmd/kube-controller-manager/names), so that any
// --controllers value upstream accepts is accepted here, and an unknown
// name is refused as upstream refuses it.
func Known() []Descriptor {
	return []Descriptor{
		{Name: "serviceaccount-token-controller", Aliases: []string{"serviceaccount-token"}},
		{Name: "endpoints-controller", Aliases: []string{"endpoint"}, New: newEndpointsController,
			Workers: func(o *Options) int { return int(o.ConcurrentEndpointSyncs) }},
		{Name: "endpointslice-controller", Aliases: []string{"endpointslice"}, New: newEndpointSliceController,
			Workers: func(o *Options) int { return int(o.ConcurrentServiceEndpointSyncs) }},
		{Name: "endpointslice-mirroring-controller", Aliases: []string{"endpointslicemirroring"}},
		{Name: "replicationcontroller-controller", Aliases: []string{"replicationcontroller"}},
		{Name: "pod-garbage-collector-controller", Aliases: []string{"podgc"}, New: newPodGCController},
		{Name: "resourcequota-controller", Aliases: []string{"resourcequota"}},
		{Name: "namespace-controller", Aliases: []string{"namespace"}, New: newNamespaceController,
			Workers: func(o *Options) int { return int(o.ConcurrentNamespaceSyncs) }},
		{Name: "serviceaccount-controller", Aliases: []string{"serviceaccount"}, New: newServiceAccountController},
		{Name: "garbage-collector-controller", Aliases: []string{"garbagecollector"}, New: newGarbageCollector,
			Workers: func(o *Options) int { return int(o.ConcurrentGCSyncs) }},
		{Name: "daemonset-controller", Aliases: []string{"daemonset"}, New: newDaemonSetController,
			Workers: func(o *Options) int { return int(o.ConcurrentDaemonSetSyncs) }},
		{Name: "job-controller", Aliases: []string{"job"}, New: newJobController,
			Workers: func(o *Options) int { return int(o.ConcurrentJobSyncs) }},
		{Name: "deployment-controller", Aliases: []string{"deployment"}, New: newDeploymentController,
			Workers: func(o *Options) int { return int(o.ConcurrentDeploymentSyncs) }},
		{Name: "replicaset-controller", Aliases: []string{"replicaset"}, New: newReplicaSetController,
			Workers: func(o *Options) int { return int(o.ConcurrentReplicaSetSyncs) }},
		{Name: "horizontal-pod-autoscaler-controller", Aliases: []string{"horizontalpodautoscaling"}},
		{Name: "disruption-controller", Aliases: []string{"disruption"}, New: newDisruptionController,
			Workers: func(o *Options) int { return int(o.ConcurrentDisruptionSyncs) }},
		{Name: "statefulset-controller", Aliases: []string{"statefulset"}, New: newStatefulSetController,
			Workers: func(o *Options) int { return int(o.ConcurrentStatefulSetSyncs) }},
		{Name: "cronjob-controller", Aliases: []string{"cronjob"}, New: newCronJobController,
			Workers: func(o *Options) int { return int(o.ConcurrentCronJobSyncs) }},
		{Name: "certificatesigningrequest-signing-controller", Aliases: []string{"csrsigning"}, New: newCSRSigningController,
			Workers: func(*Options) int { return csrSigningWorkers }},
		{Name: "certificatesigningrequest-approving-controller", Aliases: []string{"csrapproving"}, New: newCSRApprovingController,
			Workers: func(*Options) int { return csrApprovingWorkers }},
		{Name: "certificatesigningrequest-cleaner-controller", Aliases: []string{"csrcleaner"}, New: newCSRCleanerController,
			Workers: func(*Options) int { return csrCleanerWorkers }},
		{Name: "podcertificaterequest-cleaner-controller"},
		{Name: "ttl-controller", Aliases: []string{"ttl"}},
		{Name: "bootstrap-signer-controller", Aliases: []string{"bootstrapsigner"}, DisabledByDefault: true},
		{Name: "token-cleaner-controller", Aliases: []string{"tokencleaner"}, DisabledByDefault: true},
		{Name: "node-ipam-controller", Aliases: []string{"nodeipam"}, New: newNodeIPAMController,
			Workers: func(*Options) int { return nodeipam.Workers }},
		{Name: "node-lifecycle-controller", Aliases: []string{"nodelifecycle"}, New: newNodeLifecycleController,
			Workers: func(*Options) int { return nodeLifecycleWorkers }},
		// Cloud provider controllers: upstream's kube-controller-manager
		// knows them and always skips them (no in-tree cloud providers).
		{Name: "service-lb-controller", Aliases: []string{"service"}},
		{Name: "node-route-controller", Aliases: []string{"route"}},
		{Name: "cloud-node-lifecycle-controller", Aliases: []string{"cloud-node-lifecycle"}},
		{Name: "persistentvolume-binder-controller", Aliases: []string{"persistentvolume-binder"}},
		{Name: "persistentvolume-attach-detach-controller", Aliases: []string{"attachdetach"}},
		{Name: "persistentvolume-expander-controller", Aliases: []string{"persistentvolume-expander"}},
		{Name: "clusterrole-aggregation-controller", Aliases: []string{"clusterrole-aggregation"}, New: newClusterRoleAggregationController,
			Workers: func(*Options) int { return clusterroleaggregation.Workers }},
		{Name: "persistentvolumeclaim-protection-controller", Aliases: []string{"pvc-protection"}},
		{Name: "persistentvolume-protection-controller", Aliases: []string{"pv-protection"}},
		{Name: "volumeattributesclass-protection-controller"},
		{Name: "ttl-after-finished-controller", Aliases: []string{"ttl-after-finished"}, New: newTTLAfterFinishedController,
			Workers: func(o *Options) int { return int(o.ConcurrentTTLSyncs) }},
		{Name: "root-ca-certificate-publisher-controller", Aliases: []string{"root-ca-cert-publisher"}, New: newRootCACertPublisher},
		{Name: "kube-apiserver-serving-clustertrustbundle-publisher-controller"},
		{Name: "ephemeral-volume-controller", Aliases: []string{"ephemeral-volume"}},
		{Name: "storageversion-garbage-collector-controller", Aliases: []string{"storage-version-gc"}},
		{Name: "resourceclaim-controller", Aliases: []string{"resource-claim-controller"}},
		{Name: "device-taint-eviction-controller"},
		{Name: "legacy-serviceaccount-token-cleaner-controller", Aliases: []string{"legacy-service-account-token-cleaner"}},
		{Name: "validatingadmissionpolicy-status-controller"},
		{Name: "taint-eviction-controller", New: newTaintEvictionController,
			Workers: func(*Options) int { return taintEvictionWorkers }},
		{Name: "service-cidr-controller"},
		{Name: "storage-version-migrator-controller"},
		{Name: "selinux-warning-controller", DisabledByDefault: true},
	}
}
