package pki

import (
	"errors"
	"fmt"
	"sync"
)

// ClusterPKI is the complete key material of a cluster, as GenerateClusterPKI
// makes it. Fields are read-only once returned; ReissueNode replaces a
// node's entry and must not run concurrently with readers.
type ClusterPKI struct {
	// Options are the defaulted options the tree was generated from.
	Options ClusterOptions

	CA             *CA // pki/ca.{crt,key}
	FrontProxyCA   *CA // pki/front-proxy-ca.{crt,key}
	EtcdCA         *CA // pki/etcd/ca.{crt,key}
	ServiceAccount *ServiceAccountKey

	APIServerKubeletClient *KeyPair // CN kube-apiserver-kubelet-client, O kubeadm:cluster-admins
	APIServerEtcdClient    *KeyPair // CN kube-apiserver-etcd-client (etcd CA)
	FrontProxyClient       *KeyPair // CN front-proxy-client (front-proxy CA)
	EtcdHealthcheckClient  *KeyPair // CN kube-etcd-healthcheck-client (etcd CA)

	Admin             *KeyPair // admin.conf: kubernetes-admin, kubeadm:cluster-admins
	SuperAdmin        *KeyPair // super-admin.conf: kubernetes-super-admin, system:masters
	ControllerManager *KeyPair // controller-manager.conf
	Scheduler         *KeyPair // scheduler.conf

	// BootstrapToken is the cluster's bootstrap token (kubeadm's default
	// token, "<id>.<secret>") with which workers join: their kubelets
	// request their client certificates with it (TLS bootstrap).
	BootstrapToken BootstrapToken

	// Nodes holds the per-node certificates by node name.
	Nodes map[string]*NodeCerts
}

// NodeCerts are the certificates specific to one node.
type NodeCerts struct {
	Node         NodeInfo
	ControlPlane bool
	// Init is true for the first control-plane node (gets super-admin.conf).
	Init bool

	APIServer  *KeyPair // control planes only
	EtcdServer *KeyPair // control planes only
	EtcdPeer   *KeyPair // control planes only

	KubeletClient  *KeyPair // system:node:<name>, embedded in kubelet.conf (control planes only: workers TLS-bootstrap)
	NodeAgent      *KeyPair // kinc:node-agent:<name>, embedded in kinc-node.conf
	KubeletServing *KeyPair // the kubelet's :10250 certificate
}

// GenerateClusterPKI creates CAs, the service-account key and every
// certificate of a kubeadm-like cluster with the given nodes. Keys are made
// in parallel.
func GenerateClusterPKI(opts ClusterOptions) (*ClusterPKI, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	p := &ClusterPKI{Options: o, Nodes: map[string]*NodeCerts{}}
	if p.BootstrapToken, err = NewBootstrapToken(); err != nil {
		return nil, err
	}
	caOpts := o.caOptions()
	err = parallel(
		func() (err error) { p.CA, err = NewCA(CACommonName, caOpts); return err },
		func() (err error) { p.FrontProxyCA, err = NewCA(FrontProxyCACommonName, caOpts); return err },
		func() (err error) { p.EtcdCA, err = NewCA(EtcdCACommonName, caOpts); return err },
		func() (err error) { p.ServiceAccount, err = NewServiceAccountKey(o.KeyAlgorithm); return err },
	)
	if err != nil {
		return nil, fmt.Errorf("generate cluster pki: %w", err)
	}

	issue := issueInto
	tasks := []func() error{
		issue(&p.APIServerKubeletClient, p.CA, ClientSpec(KubeletClientCommonName, ClusterAdminsGroup)),
		issue(&p.APIServerEtcdClient, p.EtcdCA, ClientSpec(EtcdClientCommonName)),
		issue(&p.FrontProxyClient, p.FrontProxyCA, ClientSpec(FrontProxyClientName)),
		issue(&p.EtcdHealthcheckClient, p.EtcdCA, ClientSpec(EtcdHealthcheckName)),
		issue(&p.Admin, p.CA, ClientSpec(AdminUser, ClusterAdminsGroup)),
		issue(&p.SuperAdmin, p.CA, ClientSpec(SuperAdminUser, MastersGroup)),
		issue(&p.ControllerManager, p.CA, ClientSpec(ControllerManagerUser)),
		issue(&p.Scheduler, p.CA, ClientSpec(SchedulerUser)),
	}
	for i, n := range o.ControlPlanes {
		nc := &NodeCerts{Node: n, ControlPlane: true, Init: i == 0}
		p.Nodes[n.Name] = nc
		t, err := p.nodeTasks(nc, true)
		if err != nil {
			return nil, fmt.Errorf("generate cluster pki: %w", err)
		}
		tasks = append(tasks, t...)
	}
	for _, n := range o.Workers {
		nc := &NodeCerts{Node: n}
		p.Nodes[n.Name] = nc
		t, err := p.nodeTasks(nc, true)
		if err != nil {
			return nil, fmt.Errorf("generate cluster pki: %w", err)
		}
		tasks = append(tasks, t...)
	}
	if err := parallel(tasks...); err != nil {
		return nil, fmt.Errorf("generate cluster pki: %w", err)
	}
	return p, nil
}

// issueInto returns a task that issues spec from ca into *dst.
func issueInto(dst **KeyPair, ca *CA, spec CertSpec) func() error {
	return func() (err error) { *dst, err = ca.Issue(spec); return err }
}

// nodeTasks returns the work that fills nc's certificates; the kubelet's
// and the node agent's client certificates only when withClient is set.
func (p *ClusterPKI) nodeTasks(nc *NodeCerts, withClient bool) ([]func() error, error) {
	issue := issueInto
	tasks := []func() error{issue(&nc.KubeletServing, p.CA, KubeletServingSpec(nc.Node))}
	if withClient {
		tasks = append(tasks, issue(&nc.NodeAgent, p.CA, NodeAgentSpec(nc.Node.Name)))
		if nc.ControlPlane {
			tasks = append(tasks, issue(&nc.KubeletClient, p.CA, KubeletClientSpec(nc.Node.Name)))
		}
	}
	if nc.ControlPlane {
		apiSpec, err := APIServerSpec(p.Options, nc.Node)
		if err != nil {
			return nil, err
		}
		tasks = append(tasks,
			issue(&nc.APIServer, p.CA, apiSpec),
			issue(&nc.EtcdServer, p.EtcdCA, EtcdServerSpec(nc.Node)),
			issue(&nc.EtcdPeer, p.EtcdCA, EtcdPeerSpec(nc.Node)),
		)
	}
	return tasks, nil
}

// ReissueNode issues fresh certificates for an existing node whose IPs
// changed: the kubelet serving certificate and, on a control plane, the
// apiserver and etcd server/peer certificates. Everything else, including
// the CAs, is kept. The node's IPs in p.Options are updated too.
func (p *ClusterPKI) ReissueNode(node NodeInfo) error {
	old, ok := p.Nodes[node.Name]
	if !ok {
		return fmt.Errorf("reissue node certificates: unknown node %q", node.Name)
	}
	node = cloneNodes([]NodeInfo{node})[0]
	nc := &NodeCerts{Node: node, ControlPlane: old.ControlPlane, Init: old.Init, KubeletClient: old.KubeletClient,
		NodeAgent: old.NodeAgent}
	tasks, err := p.nodeTasks(nc, false)
	if err != nil {
		return fmt.Errorf("reissue node certificates: %w", err)
	}
	if err := parallel(tasks...); err != nil {
		return fmt.Errorf("reissue node certificates: %w", err)
	}
	p.Nodes[node.Name] = nc
	for _, list := range [][]NodeInfo{p.Options.ControlPlanes, p.Options.Workers} {
		for i := range list {
			if list[i].Name == node.Name {
				list[i] = node
			}
		}
	}
	return nil
}

// parallel runs fns concurrently and joins their errors.
func parallel(fns ...func() error) error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Go(func() { errs[i] = fn() })
	}
	wg.Wait()
	return errors.Join(errs...)
}
