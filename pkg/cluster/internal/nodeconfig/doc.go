// Package nodeconfig renders the files kinc lays into a node, kubeadm's way:
// the kubelet's /var/lib/kubelet/config.yaml and kubeadm-flags.env, the
// control-plane static pods of /etc/kubernetes/manifests, and the default
// CNI configuration. It is pure: the same inputs give the same bytes, so it
// is used both before creating anything (to reject a bad config early) and
// to write the real files.
package nodeconfig
