package cluster

import (
	"fmt"
	"os"
	"time"

	"github.com/kinc-dev/kinc/pkg/cluster/config"
	internalcreate "github.com/kinc-dev/kinc/pkg/cluster/internal/create"
)

// CreateOption configures Create.
type CreateOption func(*internalcreate.Options) error

// CreateWithConfigFile reads the cluster config from path.
func CreateWithConfigFile(path string) CreateOption {
	return func(o *internalcreate.Options) error {
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("read cluster config: %w", err)
		}
		return CreateWithRawConfig(data)(o)
	}
}

// CreateWithRawConfig decodes the cluster config from YAML.
func CreateWithRawConfig(data []byte) CreateOption {
	return func(o *internalcreate.Options) error {
		cfg, err := config.Load(data)
		if err != nil {
			return err
		}
		o.Config = cfg
		return nil
	}
}

// CreateWithV1Alpha4Config uses an already decoded config.
func CreateWithV1Alpha4Config(cfg *config.Cluster) CreateOption {
	return func(o *internalcreate.Options) error { o.Config = cfg; return nil }
}

// CreateWithNodeImage overrides the image of every node.
func CreateWithNodeImage(image string) CreateOption {
	return func(o *internalcreate.Options) error { o.NodeImage = image; return nil }
}

// CreateWithRetain keeps the nodes when creation fails, to debug them.
func CreateWithRetain(retain bool) CreateOption {
	return func(o *internalcreate.Options) error { o.Retain = retain; return nil }
}

// CreateWithWaitForReady waits up to d for the nodes to be Ready.
func CreateWithWaitForReady(d time.Duration) CreateOption {
	return func(o *internalcreate.Options) error { o.WaitForReady = d; return nil }
}

// CreateWithKubeconfigPath merges the kubeconfig into path instead of
// $KUBECONFIG or ~/.kube/config.
func CreateWithKubeconfigPath(path string) CreateOption {
	return func(o *internalcreate.Options) error { o.KubeconfigPath = path; return nil }
}

// CreateWithStopBeforeSettingUpKubernetes stops after the node containers
// have booted: no certificates, configuration or control plane (as kind's
// option of the same name; for tests and debugging).
func CreateWithStopBeforeSettingUpKubernetes(stop bool) CreateOption {
	return func(o *internalcreate.Options) error { o.StopBeforeKubernetes = stop; return nil }
}
