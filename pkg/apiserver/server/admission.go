package server

import (
	"fmt"
	"log/slog"
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/kinc-dev/kinc/pkg/apiserver/admission"
	"github.com/kinc-dev/kinc/pkg/apiserver/admission/namespacelifecycle"
	"github.com/kinc-dev/kinc/pkg/apiserver/admission/noderestriction"
	"github.com/kinc-dev/kinc/pkg/apiserver/admission/podsecurity"
	"github.com/kinc-dev/kinc/pkg/apiserver/admission/privileged"
	"github.com/kinc-dev/kinc/pkg/apiserver/admission/serviceaccount"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// admissionPlugins returns the constructor of every plugin kinc implements,
// by upstream name. deps.Stores answers once the stores are assembled.
func admissionPlugins(deps registry.Deps) map[string]func() (admission.Plugin, error) {
	store := func(resource string) func() registry.Store {
		gvr := corev1.SchemeGroupVersion.WithResource(resource)
		return func() registry.Store { return deps.Stores(gvr) }
	}
	return map[string]func() (admission.Plugin, error){
		admission.NamespaceLifecycle: func() (admission.Plugin, error) {
			return namespacelifecycle.New(store("namespaces")), nil
		},
		admission.ServiceAccount: func() (admission.Plugin, error) {
			return serviceaccount.New(store("serviceaccounts")), nil
		},
		admission.NodeRestriction: func() (admission.Plugin, error) { return noderestriction.New(deps), nil },
		admission.PodSecurity: func() (admission.Plugin, error) {
			return podsecurity.New(store("namespaces"), store("pods"))
		},
	}
}

// newAdmission builds the admission chain --enable-admission-plugins and
// --disable-admission-plugins select, in upstream's order, preceded by the
// --allow-privileged=false check. An unknown plugin name is an error. A
// selected plugin kinc does not implement is skipped, and the skipped ones
// are logged once.
func newAdmission(opts *Options, deps registry.Deps, log *slog.Logger) (admission.Chain, error) {
	// The pod registry applies these plugins' effect itself, always
	// (pkg/apiserver/registry/core/pod): the flags cannot turn them off yet.
	inPodRegistry := []string{admission.Priority, admission.DefaultTolerationSeconds}
	names, err := admission.Enabled(opts.EnableAdmissionPlugins, opts.DisableAdmissionPlugins)
	if err != nil {
		return nil, err
	}
	var chain admission.Chain
	if !opts.AllowPrivileged {
		chain = append(chain, privileged.Plugin{})
	}
	plugins := admissionPlugins(deps)
	var enabled, skipped []string
	for _, name := range names {
		newPlugin, ok := plugins[name]
		switch {
		case ok:
			p, err := newPlugin()
			if err != nil {
				return nil, fmt.Errorf("admission plugin %s: %w", name, err)
			}
			chain = append(chain, p)
			enabled = append(enabled, name)
		case slices.Contains(inPodRegistry, name):
			enabled = append(enabled, name)
		default:
			skipped = append(skipped, name)
		}
	}
	log.Info("admission chain", "plugins", enabled, "allowPrivileged", opts.AllowPrivileged)
	if len(skipped) > 0 {
		log.Warn("admission plugins not implemented by kinc yet, skipped", "plugins", skipped)
	}
	for _, name := range inPodRegistry {
		if slices.Contains(opts.DisableAdmissionPlugins, name) {
			log.Warn("admission plugin applied by the pod registry, cannot be disabled yet", "plugin", name)
		}
	}
	return chain, nil
}
