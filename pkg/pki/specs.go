package pki

import (
	"crypto/x509"
	"net"
)

// Common names and groups kubeadm gives its certificates.
const (
	CACommonName            = "kubernetes"
	FrontProxyCACommonName  = "front-proxy-ca"
	EtcdCACommonName        = "etcd-ca"
	APIServerCommonName     = "kube-apiserver"
	KubeletClientCommonName = "kube-apiserver-kubelet-client"
	EtcdClientCommonName    = "kube-apiserver-etcd-client"
	FrontProxyClientName    = "front-proxy-client"
	EtcdHealthcheckName     = "kube-etcd-healthcheck-client"
	AdminUser               = "kubernetes-admin"
	SuperAdminUser          = "kubernetes-super-admin"
	ControllerManagerUser   = "system:kube-controller-manager"
	SchedulerUser           = "system:kube-scheduler"
	NodeUserPrefix          = "system:node:"
	NodeAgentUserPrefix     = "kinc:node-agent:"
	NodeAgentsGroup         = "kinc:node-agents"
	NodesGroup              = "system:nodes"
	MastersGroup            = "system:masters"
	ClusterAdminsGroup      = "kubeadm:cluster-admins"
)

// APIServerSpec is the serving certificate of the apiserver on node: DNS
// SANs node name, kubernetes, kubernetes.default, kubernetes.default.svc,
// kubernetes.default.svc.<domain>, localhost and the control-plane endpoint
// host; IP SANs the node IPs, the first service IP, 127.0.0.1 and the host
// address; plus CertSANs. opts is defaulted as GenerateClusterPKI does.
func APIServerSpec(opts ClusterOptions, node NodeInfo) (CertSpec, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return CertSpec{}, err
	}
	svcIP, err := FirstIP(o.ServiceCIDR)
	if err != nil {
		return CertSpec{}, err
	}
	endpointHost, _, _ := net.SplitHostPort(o.ControlPlaneEndpoint)
	dns := []string{
		node.Name,
		"kubernetes",
		"kubernetes.default",
		"kubernetes.default.svc",
		"kubernetes.default.svc." + o.DNSDomain,
		"localhost",
	}
	ips := append([]net.IP{}, node.IPs...)
	ips = append(ips, svcIP, net.IPv4(127, 0, 0, 1))
	extraDNS, extraIPs := splitHostsIPs(append([]string{endpointHost, o.HostAddress}, o.CertSANs...)...)
	spec := ServerSpec(APIServerCommonName, append(dns, extraDNS...), append(ips, extraIPs...))
	return spec, nil
}

// EtcdServerSpec is the etcd serving certificate of node (CN the node
// name; SANs node name, localhost, node IPs, 127.0.0.1, ::1). Like kubeadm
// it also allows client auth, which etcd requires of its server cert.
func EtcdServerSpec(node NodeInfo) CertSpec {
	return etcdSpec(node)
}

// EtcdPeerSpec is the etcd peer certificate of node; same names as
// EtcdServerSpec, server and client auth.
func EtcdPeerSpec(node NodeInfo) CertSpec {
	return etcdSpec(node)
}

func etcdSpec(node NodeInfo) CertSpec {
	ips := append([]net.IP{}, node.IPs...)
	ips = append(ips, net.IPv4(127, 0, 0, 1), net.IPv6loopback)
	return CertSpec{
		CommonName: node.Name,
		DNSNames:   []string{node.Name, "localhost"},
		IPs:        ips,
		Usages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
}

// KubeletServingSpec is the serving certificate of node's kubelet on
// :10250 (CN and DNS SAN the node name, IP SANs the node IPs).
func KubeletServingSpec(node NodeInfo) CertSpec {
	return ServerSpec(node.Name, []string{node.Name}, node.IPs)
}

// NodeAgentSpec is the client certificate of node's kinc-node agent
// (NodeAgentUserPrefix<node> in NodeAgentsGroup), the identity in
// kinc-node.conf. The agent routes pod ranges to every node, so it must
// read every Node, which a kubelet's identity may not (the Node
// authorizer lets a kubelet read only its own); kind's kindnetd likewise
// runs with an identity of its own.
func NodeAgentSpec(nodeName string) CertSpec {
	return ClientSpec(NodeAgentUserPrefix+nodeName, NodeAgentsGroup)
}

// KubeletClientSpec is the client certificate of node's kubelet
// (system:node:<node> in system:nodes), the identity in kubelet.conf.
func KubeletClientSpec(nodeName string) CertSpec {
	return ClientSpec(NodeUserPrefix+nodeName, NodesGroup)
}
