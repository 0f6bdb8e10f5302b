package pki

// Directories on a node, as kubeadm lays them out.
const (
	// KubernetesDir is the directory KubernetesFiles are relative to.
	KubernetesDir = "/etc/kubernetes"
	// KubeletDir is the directory KubeletFiles are relative to.
	KubeletDir = "/var/lib/kubelet"
)

// File names relative to KubernetesDir.
const (
	AdminConf             = "admin.conf"
	SuperAdminConf        = "super-admin.conf"
	KubeletConf           = "kubelet.conf"
	BootstrapKubeletConf  = "bootstrap-kubelet.conf"
	NodeAgentConf         = "kinc-node.conf"
	ControllerManagerConf = "controller-manager.conf"
	SchedulerConf         = "scheduler.conf"

	CACert                     = "pki/ca.crt"
	CAKey                      = "pki/ca.key"
	APIServerCert              = "pki/apiserver.crt"
	APIServerKey               = "pki/apiserver.key"
	APIServerKubeletClientCert = "pki/apiserver-kubelet-client.crt"
	APIServerKubeletClientKey  = "pki/apiserver-kubelet-client.key"
	APIServerEtcdClientCert    = "pki/apiserver-etcd-client.crt"
	APIServerEtcdClientKey     = "pki/apiserver-etcd-client.key"
	FrontProxyCACert           = "pki/front-proxy-ca.crt"
	FrontProxyCAKey            = "pki/front-proxy-ca.key"
	FrontProxyClientCert       = "pki/front-proxy-client.crt"
	FrontProxyClientKey        = "pki/front-proxy-client.key"
	ServiceAccountKeyFile      = "pki/sa.key"
	ServiceAccountPubFile      = "pki/sa.pub"
	EtcdCACert                 = "pki/etcd/ca.crt"
	EtcdCAKey                  = "pki/etcd/ca.key"
	EtcdServerCert             = "pki/etcd/server.crt"
	EtcdServerKey              = "pki/etcd/server.key"
	EtcdPeerCert               = "pki/etcd/peer.crt"
	EtcdPeerKey                = "pki/etcd/peer.key"
	EtcdHealthcheckClientCert  = "pki/etcd/healthcheck-client.crt"
	EtcdHealthcheckClientKey   = "pki/etcd/healthcheck-client.key"
)

// File names relative to KubeletDir.
const (
	KubeletServingCert = "pki/kubelet.crt"
	KubeletServingKey  = "pki/kubelet.key"
)

// File modes, as kubeadm writes them: certificates world-readable, private
// keys, sa.pub and kubeconfigs owner-only.
const (
	CertMode       = 0o644
	KeyMode        = 0o600
	KubeconfigMode = 0o600
	DirMode        = 0o755
)
