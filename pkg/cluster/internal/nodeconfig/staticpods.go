package nodeconfig

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/kinc-dev/kinc/manifests"
	"github.com/kinc-dev/kinc/pkg/cluster/config"
	"github.com/kinc-dev/kinc/pkg/cluster/constants"
	"github.com/kinc-dev/kinc/pkg/version"
)

// File is a rendered file for a node.
type File struct {
	Path string
	Data []byte
}

// EncryptionConfigPath is where kinc writes the EncryptionConfiguration it
// generates for the cluster config's encryptionAtRest: under the pki
// directory the apiserver's static pod mounts, like kubeadm's certificates.
const EncryptionConfigPath = "/etc/kubernetes/pki/encryption-config.yaml"

// apiServerFlags are the flags cmd/kube-apiserver implements
// (pkg/apiserver/server.Options.AddFlags, and v from pkg/daemon.Command;
// a test keeps them in sync).
var apiServerFlags = []string{
	"advertise-address", "allow-privileged", "anonymous-auth", "api-audiences", "audit-log-format",
	"audit-log-maxage", "audit-log-maxbackup", "audit-log-maxsize", "audit-log-path", "audit-policy-file",
	"authorization-mode", "bind-address", "client-ca-file", "default-not-ready-toleration-seconds",
	"default-unreachable-toleration-seconds", "disable-admission-plugins", "enable-admission-plugins",
	"enable-bootstrap-token-auth", "encryption-provider-config", "etcd-cafile", "etcd-certfile",
	"etcd-compaction-interval", "etcd-keyfile", "etcd-prefix", "etcd-servers", "kubelet-client-certificate", "kubelet-client-key",
	"max-mutating-requests-inflight", "max-requests-inflight", "profiling", "proxy-client-cert-file",
	"proxy-client-key-file", "requestheader-allowed-names", "requestheader-client-ca-file",
	"requestheader-extra-headers-prefix", "requestheader-group-headers", "requestheader-uid-headers",
	"requestheader-username-headers", "secure-port", "service-account-issuer", "service-account-key-file",
	"service-account-lookup", "service-account-max-token-expiration", "service-account-signing-key-file",
	"service-cluster-ip-range", "tls-cert-file", "tls-private-key-file", "token-auth-file", "v",
}

// schedulerFlags are the flags kinc's kube-scheduler implements
// (pkg/scheduler/app/options.go).
var schedulerFlags = []string{
	"authentication-kubeconfig", "authentication-token-webhook-cache-ttl", "authorization-always-allow-paths",
	"authorization-kubeconfig", "authorization-webhook-cache-authorized-ttl",
	"authorization-webhook-cache-unauthorized-ttl", "bind-address", "cert-dir", "client-ca-file", "config",
	"kube-api-burst", "kube-api-content-type", "kube-api-qps", "kubeconfig", "leader-elect",
	"leader-elect-lease-duration", "leader-elect-renew-deadline", "leader-elect-resource-lock",
	"leader-elect-resource-name", "leader-elect-resource-namespace", "leader-elect-retry-period", "master",
	"secure-port", "tls-cert-file", "tls-private-key-file", "v",
}

// controllerManagerFlags are the flags kinc's kube-controller-manager
// implements (pkg/controller/manager.Options.AddFlags, and v from
// pkg/daemon.Command; a test keeps them in sync).
var controllerManagerFlags = []string{
	"allocate-node-cidrs", "authentication-kubeconfig", "authentication-token-webhook-cache-ttl",
	"authorization-always-allow-paths", "authorization-kubeconfig",
	"authorization-webhook-cache-authorized-ttl", "authorization-webhook-cache-unauthorized-ttl",
	"bind-address", "cert-dir", "client-ca-file", "cluster-cidr", "cluster-name", "cluster-signing-cert-file",
	"cluster-signing-duration", "cluster-signing-key-file", "cluster-signing-kube-apiserver-client-cert-file",
	"cluster-signing-kube-apiserver-client-key-file", "cluster-signing-kubelet-client-cert-file",
	"cluster-signing-kubelet-client-key-file", "cluster-signing-kubelet-serving-cert-file",
	"cluster-signing-kubelet-serving-key-file", "cluster-signing-legacy-unknown-cert-file",
	"cluster-signing-legacy-unknown-key-file", "concurrent-cron-job-syncs", "concurrent-daemonset-syncs",
	"concurrent-deployment-syncs", "concurrent-disruption-syncs", "concurrent-endpoint-syncs",
	"concurrent-gc-syncs", "concurrent-job-syncs", "concurrent-namespace-syncs", "concurrent-replicaset-syncs",
	"concurrent-service-endpoint-syncs", "concurrent-statefulset-syncs", "concurrent-ttl-after-finished-syncs",
	"controllers", "enable-garbage-collector", "endpoint-updates-batch-period",
	"endpointslice-updates-batch-period", "kube-api-burst", "kube-api-qps", "kubeconfig",
	"large-cluster-size-threshold", "leader-elect", "leader-elect-lease-duration",
	"leader-elect-renew-deadline", "leader-elect-resource-lock", "leader-elect-resource-name",
	"leader-elect-resource-namespace", "leader-elect-retry-period", "max-endpoints-per-slice",
	"namespace-sync-period", "node-cidr-mask-size", "node-eviction-rate", "node-monitor-grace-period",
	"node-monitor-period", "node-startup-grace-period", "requestheader-client-ca-file", "root-ca-file",
	"secondary-node-eviction-rate", "secure-port", "service-account-private-key-file",
	"service-cluster-ip-range", "terminated-pod-gc-threshold", "tls-cert-file", "tls-private-key-file",
	"unhealthy-zone-threshold", "use-service-account-credentials", "v",
}

// StaticPods renders etcd.yaml, kube-apiserver.yaml,
// kube-controller-manager.yaml and kube-scheduler.yaml for a control-plane
// node. Extra args from ClusterConfiguration patches
// override or add flags; a flag the component does not implement is an
// error naming it (etcd is the real etcd and checks its own flags).
func StaticPods(cfg *config.Cluster, n Node) ([]File, error) {
	var extra struct{ api, cm, sched, etcd map[string]string }
	if n.Patches != nil {
		extra.api, extra.sched, extra.etcd = n.Patches.APIServerArgs, n.Patches.SchedulerArgs, n.Patches.EtcdArgs
		extra.cm = n.Patches.ControllerManagerArgs
	}
	if err := checkFlags("kube-apiserver", "apiServer", extra.api, apiServerFlags); err != nil {
		return nil, err
	}
	if err := checkFlags("kube-controller-manager", "controllerManager", extra.cm, controllerManagerFlags); err != nil {
		return nil, err
	}
	if err := checkFlags("kube-scheduler", "scheduler", extra.sched, schedulerFlags); err != nil {
		return nil, err
	}
	pki := "/etc/kubernetes/pki/"
	ip := n.IP
	etcd := map[string]string{
		"advertise-client-urls":       "https://" + ip + ":2379",
		"cert-file":                   pki + "etcd/server.crt",
		"client-cert-auth":            "true",
		"data-dir":                    "/var/lib/etcd",
		"initial-advertise-peer-urls": "https://" + ip + ":2380",
		"initial-cluster":             n.Name + "=https://" + ip + ":2380",
		"key-file":                    pki + "etcd/server.key",
		"listen-client-urls":          "https://127.0.0.1:2379,https://" + ip + ":2379",
		"listen-metrics-urls":         "http://127.0.0.1:2381",
		"listen-peer-urls":            "https://" + ip + ":2380",
		"name":                        n.Name,
		"peer-cert-file":              pki + "etcd/peer.crt",
		"peer-client-cert-auth":       "true",
		"peer-key-file":               pki + "etcd/peer.key",
		"peer-trusted-ca-file":        pki + "etcd/ca.crt",
		"snapshot-count":              "10000",
		"trusted-ca-file":             pki + "etcd/ca.crt",
	}
	api := map[string]string{
		"advertise-address":                  ip,
		"allow-privileged":                   "true",
		"authorization-mode":                 "Node,RBAC",
		"client-ca-file":                     pki + "ca.crt",
		"enable-admission-plugins":           "NodeRestriction",
		"enable-bootstrap-token-auth":        "true",
		"proxy-client-cert-file":             pki + "front-proxy-client.crt",
		"proxy-client-key-file":              pki + "front-proxy-client.key",
		"requestheader-allowed-names":        "front-proxy-client",
		"requestheader-client-ca-file":       pki + "front-proxy-ca.crt",
		"requestheader-extra-headers-prefix": "X-Remote-Extra-",
		"requestheader-group-headers":        "X-Remote-Group",
		"requestheader-username-headers":     "X-Remote-User",
		"service-account-issuer":             "https://kubernetes.default.svc.cluster.local",
		"service-account-key-file":           pki + "sa.pub",
		"service-account-signing-key-file":   pki + "sa.key",
		"etcd-cafile":                        pki + "etcd/ca.crt",
		"etcd-certfile":                      pki + "apiserver-etcd-client.crt",
		"etcd-keyfile":                       pki + "apiserver-etcd-client.key",
		"etcd-servers":                       "https://127.0.0.1:2379",
		"kubelet-client-certificate":         pki + "apiserver-kubelet-client.crt",
		"kubelet-client-key":                 pki + "apiserver-kubelet-client.key",
		"secure-port":                        strconv.Itoa(constants.APIServerInternalPort),
		"service-cluster-ip-range":           cfg.Networking.ServiceSubnet,
		"tls-cert-file":                      pki + "apiserver.crt",
		"tls-private-key-file":               pki + "apiserver.key",
	}
	if cfg.EncryptionAtRest != nil {
		api["encryption-provider-config"] = EncryptionConfigPath
	}
	// As kubeadm renders it (kind's cluster name; no
	// --enable-hostpath-provisioner: kinc has no volume controllers yet).
	cmConf := "/etc/kubernetes/controller-manager.conf"
	cm := map[string]string{
		"allocate-node-cidrs":              "true",
		"authentication-kubeconfig":        cmConf,
		"authorization-kubeconfig":         cmConf,
		"bind-address":                     "127.0.0.1",
		"client-ca-file":                   pki + "ca.crt",
		"cluster-cidr":                     cfg.Networking.PodSubnet,
		"cluster-name":                     cfg.Name,
		"cluster-signing-cert-file":        pki + "ca.crt",
		"cluster-signing-key-file":         pki + "ca.key",
		"controllers":                      "*,bootstrapsigner,tokencleaner",
		"kubeconfig":                       cmConf,
		"leader-elect":                     "true",
		"requestheader-client-ca-file":     pki + "front-proxy-ca.crt",
		"root-ca-file":                     pki + "ca.crt",
		"service-account-private-key-file": pki + "sa.key",
		"service-cluster-ip-range":         cfg.Networking.ServiceSubnet,
		"use-service-account-credentials":  "true",
	}
	sched := map[string]string{
		"authentication-kubeconfig": "/etc/kubernetes/scheduler.conf",
		"authorization-kubeconfig":  "/etc/kubernetes/scheduler.conf",
		"bind-address":              "127.0.0.1",
		"kubeconfig":                "/etc/kubernetes/scheduler.conf",
		"leader-elect":              "true",
	}
	pods := []struct {
		file, binary, image string
		flags, extra        map[string]string
	}{
		{"etcd.yaml", "etcd", version.EtcdImage, etcd, extra.etcd},
		{"kube-apiserver.yaml", "kube-apiserver", version.APIServerImage, api, extra.api},
		{"kube-controller-manager.yaml", "kube-controller-manager", version.ControllerManagerImage, cm, extra.cm},
		{"kube-scheduler.yaml", "kube-scheduler", version.SchedulerImage, sched, extra.sched},
	}
	var files []File
	for _, p := range pods {
		data, err := renderPod(p.file, p.image, ip, Command(p.binary, p.flags, p.extra))
		if err != nil {
			return nil, err
		}
		files = append(files, File{Path: ManifestsDir + "/" + p.file, Data: data})
	}
	return files, nil
}

func checkFlags(component, field string, extra map[string]string, known []string) error {
	var bad []string
	for name := range extra {
		i := sort.SearchStrings(known, name)
		if i == len(known) || known[i] != name {
			bad = append(bad, "--"+name)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	return fmt.Errorf("kubeadmConfigPatches: ClusterConfiguration %s.extraArgs: %s not implemented by kinc's %s (it implements --%s)",
		field, strings.Join(bad, ", "), component, strings.Join(known, ", --"))
}

// Command returns argv as kubeadm builds it: the binary, then --flag=value
// sorted by flag, extra overriding flags.
func Command(binary string, flags, extra map[string]string) []string {
	merged := map[string]string{}
	for k, v := range flags {
		merged[k] = v
	}
	for k, v := range extra {
		merged[k] = v
	}
	keys := make([]string, 0, len(merged))
	for k := range merged {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	argv := []string{binary}
	for _, k := range keys {
		argv = append(argv, "--"+k+"="+merged[k])
	}
	return argv
}

func renderPod(file, image, ip string, command []string) ([]byte, error) {
	t, err := template.New(file).Funcs(template.FuncMap{"quote": yamlString}).
		Option("missingkey=error").ParseFS(manifests.ControlPlane, "controlplane/"+file)
	if err != nil {
		return nil, fmt.Errorf("static pod template %s: %w", file, err)
	}
	var b bytes.Buffer
	err = t.Execute(&b, struct {
		Image, NodeIP string
		Command       []string
	}{image, ip, command})
	if err != nil {
		return nil, fmt.Errorf("render static pod %s: %w", file, err)
	}
	return b.Bytes(), nil
}

// yamlString writes s as a plain YAML scalar when that is safe (as kubeadm's
// manifests show flags), double-quoted otherwise.
func yamlString(s string) string {
	if s == "" || strings.ContainsAny(s, "\"'#\\\n\t{}[]&*!|>%@`") || strings.Contains(s, ": ") ||
		strings.HasSuffix(s, ":") || strings.HasPrefix(s, " ") || strings.HasSuffix(s, " ") ||
		strings.HasPrefix(s, "- ") || strings.HasPrefix(s, "? ") || strings.HasPrefix(s, ",") {
		return strconv.Quote(s)
	}
	return s
}
