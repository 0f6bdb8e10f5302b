package manager

import (
	"context"
	"fmt"
	"os"

	"github.com/kinc-dev/kinc/pkg/controller"
	"github.com/kinc-dev/kinc/pkg/controller/rootcacertpublisher"
	"github.com/kinc-dev/kinc/pkg/controller/serviceaccount"
)

// The constructors of the controllers kinc implements, in Known's order.
// Each takes its client under upstream's service account name and runs
// with upstream's worker count (both of these run one worker upstream, and
// have no --concurrent-*-syncs flag).

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
