package kubeconfig

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Params describe a single-cluster, single-user kubeconfig.
type Params struct {
	// Server is the API server URL, e.g. https://kind-control-plane:6443.
	Server string
	// CAData is the PEM of the cluster CA.
	CAData []byte
	// ClientCertData and ClientKeyData are the PEM of the client certificate
	// and its key.
	ClientCertData []byte
	ClientKeyData  []byte
	// Token, when set, is the user's bearer token (a bootstrap token).
	Token string
	// ClusterName and UserName name the cluster and user entries.
	ClusterName string
	UserName    string
	// ContextName names the context; empty means "<UserName>@<ClusterName>"
	// (kubeadm's convention).
	ContextName string
}

// Build returns a kubeconfig holding one cluster, one user and one context
// made from p, with current-context set to that context.
func Build(p Params) (*clientcmdapi.Config, error) {
	switch {
	case p.Server == "":
		return nil, errors.New("build kubeconfig: server is empty")
	case p.ClusterName == "":
		return nil, errors.New("build kubeconfig: cluster name is empty")
	case p.UserName == "":
		return nil, errors.New("build kubeconfig: user name is empty")
	}
	ctx := p.ContextName
	if ctx == "" {
		ctx = p.UserName + "@" + p.ClusterName
	}
	cfg := clientcmdapi.NewConfig()
	cluster := clientcmdapi.NewCluster()
	cluster.Server = p.Server
	cluster.CertificateAuthorityData = p.CAData
	cfg.Clusters[p.ClusterName] = cluster
	user := clientcmdapi.NewAuthInfo()
	user.ClientCertificateData = p.ClientCertData
	user.ClientKeyData = p.ClientKeyData
	user.Token = p.Token
	cfg.AuthInfos[p.UserName] = user
	c := clientcmdapi.NewContext()
	c.Cluster = p.ClusterName
	c.AuthInfo = p.UserName
	cfg.Contexts[ctx] = c
	cfg.CurrentContext = ctx
	return cfg, nil
}

// Serialize encodes cfg as kubeconfig YAML.
func Serialize(cfg *clientcmdapi.Config) ([]byte, error) {
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return nil, fmt.Errorf("serialize kubeconfig: %w", err)
	}
	return data, nil
}

// Parse decodes kubeconfig YAML or JSON. Empty input gives an empty config.
func Parse(data []byte) (*clientcmdapi.Config, error) {
	cfg, err := clientcmd.Load(data)
	if err != nil {
		return nil, fmt.Errorf("parse kubeconfig: %w", err)
	}
	return cfg, nil
}

// RESTConfig returns the client configuration for cfg's current context, or
// for contextName when it is not empty.
func RESTConfig(cfg *clientcmdapi.Config, contextName string) (*rest.Config, error) {
	overrides := &clientcmd.ConfigOverrides{CurrentContext: contextName}
	rc, err := clientcmd.NewDefaultClientConfig(*cfg, overrides).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig to rest config: %w", err)
	}
	return rc, nil
}

// ContextName returns the name kinc uses for the cluster, user and context
// entries of a cluster in the user's kubeconfig: "kinc-<cluster>".
func ContextName(cluster string) string {
	return "kinc-" + cluster
}

// WriteFile writes cfg to path with mode 0600, replacing any existing file
// atomically and creating the parent directory when needed. Unlike Merge it
// does not read or lock the existing file.
func WriteFile(path string, cfg *clientcmdapi.Config) error {
	data, err := Serialize(cfg)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create kubeconfig directory: %w", err)
	}
	return writeAtomic(path, data, 0o600)
}
