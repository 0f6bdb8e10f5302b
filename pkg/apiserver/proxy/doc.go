// Package proxy carries the apiserver's connect subresources to their
// backends: the kubelet of a pod's node (pods/exec, pods/attach,
// pods/portforward, pods/log, nodes/proxy) or an address in the cluster
// (pods/proxy, services/proxy).
//
// Upgraded connections (SPDY/3.1, WebSocket) are relayed byte for byte with
// apimachinery's UpgradeAwareHandler. Kubelets speak SPDY only, so the
// WebSocket protocols kubectl 1.30 and later uses are translated here, as
// upstream's apiserver does: v5.channel.k8s.io exec and attach sessions are
// terminated and replayed as an SPDY remote command (Translator), and
// SPDY/3.1+portforward.k8s.io port-forwards are SPDY frames tunnelled in
// WebSocket messages, unwrapped onto an SPDY upgrade of the kubelet
// (Tunnel).
package proxy
