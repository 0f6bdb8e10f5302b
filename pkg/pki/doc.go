// Package pki creates and loads the X.509 material of a kinc cluster: the
// three certificate authorities kubeadm uses (cluster CA, front-proxy CA,
// etcd CA), every leaf certificate signed by them, the service-account key
// pair, and the in-node kubeconfig files that embed client certificates.
//
// Only the standard library's crypto/x509 is used to build certificates.
//
// # Keys
//
// Keys are ECDSA P-256 by default: generating one takes microseconds, against
// tens of milliseconds for RSA 2048, which dominates the time to bring up a
// cluster when a tree needs ~20 keys. Every Kubernetes component, etcd,
// kubectl and client-go accept ECDSA keys (kubeadm itself supports
// "ECDSA-P256" as its encryptionAlgorithm). Set KeyAlgorithm to RSA2048 to
// get kubeadm's default key type instead. Private keys are PEM encoded the
// way kubeadm writes them: "EC PRIVATE KEY" (SEC 1) or "RSA PRIVATE KEY"
// (PKCS #1); public keys as "PUBLIC KEY" (PKIX).
//
// # Layout
//
// GenerateClusterPKI builds the whole tree a kubeadm cluster has under
// /etc/kubernetes (see reference/kubernetes-api.md §7) for a set of
// control-plane and worker nodes; ClusterPKI.KubernetesFiles and
// ClusterPKI.KubeletFiles return one node's files, and WriteTo / WriteNodeTo
// write them to a directory. Validity follows kubeadm: CAs 10 years, leaves
// 1 year, both backdated by five minutes to tolerate clock skew.
//
// # Issuing later
//
// Node IPs can change across restarts. The certificates whose SANs carry
// node IPs (apiserver, etcd server and peer, kubelet serving) are described
// by APIServerSpec, EtcdServerSpec, EtcdPeerSpec and KubeletServingSpec, so a
// caller holding only ca.crt/ca.key (ParseCA, LoadCA) can issue a single
// replacement with CA.Issue without regenerating the tree;
// ClusterPKI.ReissueNode does the same for an in-memory tree.
//
// Nothing in this package keeps global state; all values are safe to read
// concurrently, and a CA may issue certificates from several goroutines.
package pki
