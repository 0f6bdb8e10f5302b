package pki

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/kinc-dev/kinc/pkg/pki/kubeconfig"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// File is one file to put on a node.
type File struct {
	// Path is slash-separated and relative to the directory the file list
	// belongs to (KubernetesDir or KubeletDir).
	Path string
	Mode fs.FileMode
	Data []byte
}

// KubernetesFiles returns the files of node under /etc/kubernetes, in a
// stable order. A control-plane node gets the whole pki/ tree, admin.conf,
// controller-manager.conf, scheduler.conf, kubelet.conf and kinc-node.conf,
// and the init node also super-admin.conf; a worker gets
// bootstrap-kubelet.conf (the bootstrap token, with which its kubelet
// requests its certificate and writes kubelet.conf, as after kubeadm
// join), kinc-node.conf and pki/ca.crt.
//
// admin.conf, super-admin.conf and kubelet.conf point at the control-plane
// endpoint; controller-manager.conf and scheduler.conf at the node's own
// apiserver (https://<node>:6443), as kubeadm points them at the local
// endpoint. All embed the CA and client credentials.
func (p *ClusterPKI) KubernetesFiles(node string) ([]File, error) {
	nc, ok := p.Nodes[node]
	if !ok {
		return nil, fmt.Errorf("kubernetes files: unknown node %q", node)
	}
	var files []File
	add := func(path string, mode fs.FileMode, data []byte) {
		files = append(files, File{Path: path, Mode: mode, Data: data})
	}
	endpoint := "https://" + p.Options.ControlPlaneEndpoint
	agent, err := p.kubeconfigFile(endpoint, NodeAgentUserPrefix+node, nc.NodeAgent)
	if err != nil {
		return nil, err
	}
	if !nc.ControlPlane {
		// As kubeadm join: the kubelet requests its client certificate
		// with the bootstrap token and writes kubelet.conf itself.
		cfg, err := kubeconfig.Build(kubeconfig.Params{Server: endpoint, CAData: p.CA.CertPEM,
			Token: p.BootstrapToken.String(), ClusterName: p.Options.ClusterName, UserName: "tls-bootstrap-token-user"})
		if err != nil {
			return nil, err
		}
		bootstrap, err := kubeconfig.Serialize(cfg)
		if err != nil {
			return nil, err
		}
		add(BootstrapKubeletConf, KubeconfigMode, bootstrap)
		add(NodeAgentConf, KubeconfigMode, agent)
		add(CACert, CertMode, p.CA.CertPEM)
		return files, nil
	}
	kubelet, err := p.kubeconfigFile(endpoint, NodeUserPrefix+node, nc.KubeletClient)
	if err != nil {
		return nil, err
	}

	local := "https://" + node + ":" + strconv.Itoa(DefaultAPIServerPort)
	type conf struct {
		name, server, user string
		kp                 *KeyPair
	}
	confs := []conf{
		{AdminConf, endpoint, AdminUser, p.Admin},
		{ControllerManagerConf, local, ControllerManagerUser, p.ControllerManager},
		{SchedulerConf, local, SchedulerUser, p.Scheduler},
	}
	if nc.Init {
		confs = append(confs, conf{SuperAdminConf, endpoint, SuperAdminUser, p.SuperAdmin})
	}
	for _, c := range confs {
		data, err := p.kubeconfigFile(c.server, c.user, c.kp)
		if err != nil {
			return nil, err
		}
		add(c.name, KubeconfigMode, data)
	}
	add(KubeletConf, KubeconfigMode, kubelet)
	add(NodeAgentConf, KubeconfigMode, agent)

	pairs := []struct {
		cert, key string
		kp        *KeyPair
	}{
		{CACert, CAKey, &p.CA.KeyPair},
		{APIServerCert, APIServerKey, nc.APIServer},
		{APIServerKubeletClientCert, APIServerKubeletClientKey, p.APIServerKubeletClient},
		{APIServerEtcdClientCert, APIServerEtcdClientKey, p.APIServerEtcdClient},
		{FrontProxyCACert, FrontProxyCAKey, &p.FrontProxyCA.KeyPair},
		{FrontProxyClientCert, FrontProxyClientKey, p.FrontProxyClient},
		{EtcdCACert, EtcdCAKey, &p.EtcdCA.KeyPair},
		{EtcdServerCert, EtcdServerKey, nc.EtcdServer},
		{EtcdPeerCert, EtcdPeerKey, nc.EtcdPeer},
		{EtcdHealthcheckClientCert, EtcdHealthcheckClientKey, p.EtcdHealthcheckClient},
	}
	for _, kp := range pairs {
		add(kp.cert, CertMode, kp.kp.CertPEM)
		add(kp.key, KeyMode, kp.kp.KeyPEM)
	}
	add(ServiceAccountKeyFile, KeyMode, p.ServiceAccount.PrivatePEM)
	add(ServiceAccountPubFile, KeyMode, p.ServiceAccount.PublicPEM)
	return files, nil
}

// KubeletFiles returns the files of node under /var/lib/kubelet: the
// kubelet serving certificate pki/kubelet.{crt,key}.
func (p *ClusterPKI) KubeletFiles(node string) ([]File, error) {
	nc, ok := p.Nodes[node]
	if !ok {
		return nil, fmt.Errorf("kubelet files: unknown node %q", node)
	}
	return []File{
		{Path: KubeletServingCert, Mode: CertMode, Data: nc.KubeletServing.CertPEM},
		{Path: KubeletServingKey, Mode: KeyMode, Data: nc.KubeletServing.KeyPEM},
	}, nil
}

// WriteTo writes the /etc/kubernetes files of the init control-plane node
// (ControlPlanes[0]) under dir.
func (p *ClusterPKI) WriteTo(dir string) error {
	return p.WriteNodeTo(dir, p.Options.ControlPlanes[0].Name)
}

// WriteNodeTo writes the /etc/kubernetes files of node under dir.
func (p *ClusterPKI) WriteNodeTo(dir, node string) error {
	files, err := p.KubernetesFiles(node)
	if err != nil {
		return err
	}
	return WriteFiles(dir, files)
}

// AdminKubeconfig returns a kubeconfig for kubernetes-admin reaching the
// apiserver at server, with the cluster, user and context all named name
// (e.g. kubeconfig.ContextName(cluster)) and selected as current context.
func (p *ClusterPKI) AdminKubeconfig(server, name string) (*clientcmdapi.Config, error) {
	return kubeconfig.Build(kubeconfig.Params{
		Server: server, CAData: p.CA.CertPEM,
		ClientCertData: p.Admin.CertPEM, ClientKeyData: p.Admin.KeyPEM,
		ClusterName: name, UserName: name, ContextName: name,
	})
}

// kubeconfigFile serializes a kubeadm-style kubeconfig: cluster named
// Options.ClusterName, context "<user>@<cluster>".
func (p *ClusterPKI) kubeconfigFile(server, user string, kp *KeyPair) ([]byte, error) {
	cfg, err := kubeconfig.Build(kubeconfig.Params{
		Server: server, CAData: p.CA.CertPEM,
		ClientCertData: kp.CertPEM, ClientKeyData: kp.KeyPEM,
		ClusterName: p.Options.ClusterName, UserName: user,
	})
	if err != nil {
		return nil, err
	}
	return kubeconfig.Serialize(cfg)
}

// WriteFiles writes files under dir, creating directories with DirMode and
// giving each file exactly its Mode (regardless of umask or an existing
// file's mode). Existing files are overwritten.
func WriteFiles(dir string, files []File) error {
	for _, f := range files {
		path := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(path), DirMode); err != nil {
			return fmt.Errorf("write %s: %w", f.Path, err)
		}
		if err := os.WriteFile(path, f.Data, f.Mode); err != nil {
			return fmt.Errorf("write %s: %w", f.Path, err)
		}
		if err := os.Chmod(path, f.Mode); err != nil {
			return fmt.Errorf("write %s: %w", f.Path, err)
		}
	}
	return nil
}
