package manager

import (
	"context"
	"fmt"
	"os"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"

	"github.com/kinc-dev/kinc/pkg/controller"
	"github.com/kinc-dev/kinc/pkg/controller/namespace"
	"github.com/kinc-dev/kinc/pkg/controller/rootcacertpublisher"
	"github.com/kinc-dev/kinc/pkg/controller/serviceaccount"
)

// The constructors of the controllers kinc implements, in Known's order.
// Each takes its client under upstream's service account name and runs
// with upstream's worker count (both of these run one worker upstream, and
// have no --concurrent-*-syncs flag).

// newNamespaceController is upstream's namespace-controller: it empties
// namespaces being deleted and finalizes them. As upstream, its client
// may go 20 times faster than --kube-api-qps and burst 100 times
// --kube-api-burst: deleting a namespace's content is many requests.
func newNamespaceController(_ context.Context, cc Context) (controller.Controller, error) {
	cfg, err := cc.ClientConfig("namespace-controller")
	if err != nil {
		return nil, err
	}
	cfg.QPS *= 20
	cfg.Burst *= 100
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("client for namespace-controller: %w", err)
	}
	meta, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("metadata client for namespace-controller: %w", err)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("discovery client for namespace-controller: %w", err)
	}
	return namespace.New(client, meta, disc, cc.InformerFactory.Core().V1().Namespaces(), cc.Logger, cc.Clock,
		namespace.Options{ResyncPeriod: cc.Options.NamespaceSyncPeriod}), nil
}

// newServiceAccountController is upstream's serviceaccount-controller.
func newServiceAccountController(_ context.Context, cc Context) (controller.Controller, error) {
	client, err := cc.NewClient("service-account-controller")
	if err != nil {
		return nil, err
	}
	core := cc.InformerFactory.Core().V1()
	return serviceaccount.New(client, core.Namespaces(), core.ServiceAccounts(),
		serviceaccount.Options{Logger: cc.Logger, Clock: cc.Clock}), nil
}

// newRootCACertPublisher is upstream's
// root-ca-certificate-publisher-controller. It publishes --root-ca-file,
// or without it the CA the kubeconfig trusts (as upstream); with neither
// it has nothing to publish and is skipped.
func newRootCACertPublisher(_ context.Context, cc Context) (controller.Controller, error) {
	rootCA, err := rootCA(cc)
	if err != nil {
		return nil, err
	}
	if len(rootCA) == 0 {
		cc.Logger.Warn("no root CA to publish: neither --root-ca-file nor a CA in the kubeconfig", "controller", "root-ca-certificate-publisher-controller")
		return nil, nil
	}
	client, err := cc.NewClient("root-ca-cert-publisher")
	if err != nil {
		return nil, err
	}
	core := cc.InformerFactory.Core().V1()
	return rootcacertpublisher.New(client, core.Namespaces(), core.ConfigMaps(), rootCA,
		rootcacertpublisher.Options{Logger: cc.Logger, Clock: cc.Clock}), nil
}

// rootCA returns the contents of --root-ca-file (checked to hold
// certificates), else the CA data of the root-ca-cert-publisher's client
// configuration (its file when the kubeconfig names one), else nothing.
func rootCA(cc Context) ([]byte, error) {
	if f := cc.Options.RootCAFile; f != "" {
		return readCertificates("--root-ca-file", f)
	}
	cfg, err := cc.ClientConfig("root-ca-cert-publisher")
	if err != nil {
		return nil, err
	}
	if len(cfg.CAData) > 0 || cfg.CAFile == "" {
		return cfg.CAData, nil
	}
	data, err := os.ReadFile(cfg.CAFile)
	if err != nil {
		return nil, fmt.Errorf("reading the kubeconfig's certificate authority: %w", err)
	}
	return data, nil
}
