package config

import (
	"strings"
	"testing"
)

// Verbatim from kind's documentation (reference/kind.md §2).
const (
	kindAllFields = `# this config file contains all config fields with comments
# NOTE: this is not a particularly useful config file
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
# patch the generated kubeadm config with some extra settings
kubeadmConfigPatches:
- |
  apiVersion: kubelet.config.k8s.io/v1beta1
  kind: KubeletConfiguration
  evictionHard:
    nodefs.available: "0%"
# patch it further using a JSON 6902 patch
kubeadmConfigPatchesJSON6902:
- group: kubeadm.k8s.io
  version: v1beta3
  kind: ClusterConfiguration
  patch: |
    - op: add
      path: /apiServer/certSANs/-
      value: my-hostname
# 1 control plane node and 3 workers
nodes:
# the control plane node config
- role: control-plane
# the three workers
- role: worker
- role: worker
- role: worker
`
	kindPortMapping = `kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
- role: control-plane
  # port forward 80 on the host to 80 on this node
  extraPortMappings:
  - containerPort: 80
    hostPort: 80
    # optional: set the bind address on the host
    # 0.0.0.0 is the current default
    listenAddress: "127.0.0.1"
    # optional: set the protocol to one of TCP, UDP, SCTP.
    # TCP is the default
    protocol: TCP
`
	kindMounts = `kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
- role: control-plane
  # add a mount from /path/to/my/files on the host to /files on the node
  extraMounts:
  - hostPath: /path/to/my/files
    containerPath: /files
  #
  # add an additional mount leveraging *all* of the config fields
  #
  # generally you only need the two fields above ...
  #
  - hostPath: /path/to/my/other-files/
    containerPath: /other-files
    # optional: if set, the mount is read-only.
    # default false
    readOnly: true
    # optional: if set, the mount needs SELinux relabeling.
    # default false
    selinuxRelabel: false
    # optional: set propagation mode (None, HostToContainer or Bidirectional)
    # see https://kubernetes.io/docs/concepts/storage/volumes/#mount-propagation
    # default None
    #
    # WARNING: You very likely do not need this field.
    #
    # This field controls propagation of *additional* mounts created
    # *at runtime* underneath this mount.
    #
    # On MacOS with Docker Desktop, if the mount is from macOS and not the
    # docker desktop VM, you cannot use this field. You can use it for
    # mounts to the linux VM.
    propagation: None
`
	kindHA = `# a cluster with 3 control-plane nodes and 3 workers
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
- role: control-plane
- role: control-plane
- role: control-plane
- role: worker
- role: worker
- role: worker
`
	multiNode = `kind: Cluster
apiVersion: kinc.dev/v1alpha4
name: multi
nodes:
- role: control-plane
  labels:
    ingress-ready: "true"
- role: worker
- role: worker
networking:
  apiServerPort: 6443
  podSubnet: 10.245.0.0/16
kubeadmConfigPatches:
- |
  kind: ClusterConfiguration
  apiServer:
    certSANs: [my-host, 10.0.0.1]
    extraArgs:
      max-requests-inflight: "800"
  scheduler:
    extraArgs:
    - name: kube-api-qps
      value: "100"
  etcd:
    local:
      extraArgs:
        snapshot-count: "5000"
- |
  kind: InitConfiguration
  nodeRegistration:
    kubeletExtraArgs:
      node-labels: "ingress=yes,zone=a"
containerdConfigPatches:
- |-
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."localhost:5000"]
    endpoint = ["http://kind-registry:5000"]
`
)

func load(t *testing.T, doc string) (*Cluster, error) {
	t.Helper()
	c, err := Load([]byte(doc))
	if err != nil {
		return nil, err
	}
	SetDefaults(c, "kinc/node:test")
	return c, Validate(c)
}

func TestExamples(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		doc     string
		wantErr []string // substrings; all must appear. Empty: valid.
		check   func(t *testing.T, c *Cluster)
	}{
		{name: "empty", doc: "", check: func(t *testing.T, c *Cluster) {
			if c.Name != "kinc" || len(c.Nodes) != 1 || c.Nodes[0].Role != ControlPlaneRole || c.Nodes[0].Image != "kinc/node:test" {
				t.Errorf("defaults: %+v", c)
			}
			n := c.Networking
			if n.APIServerAddress != "127.0.0.1" || n.APIServerPort != 0 || n.PodSubnet != "10.244.0.0/16" || n.ServiceSubnet != "10.96.0.0/16" {
				t.Errorf("networking defaults: %+v", n)
			}
		}},
		{name: "port mapping", doc: kindPortMapping, check: func(t *testing.T, c *Cluster) {
			pm := c.Nodes[0].ExtraPortMappings[0]
			if pm.ContainerPort != 80 || pm.HostPort != 80 || pm.ListenAddress != "127.0.0.1" || pm.Protocol != "TCP" {
				t.Errorf("port mapping %+v", pm)
			}
		}},
		{name: "mounts", doc: kindMounts, check: func(t *testing.T, c *Cluster) {
			m := c.Nodes[0].ExtraMounts
			if len(m) != 2 || m[0].Propagation != MountPropagationNone || !m[1].ReadOnly || m[1].HostPath != "/path/to/my/other-files/" {
				t.Errorf("mounts %+v", m)
			}
		}},
		{name: "multi-node with patches", doc: multiNode, check: func(t *testing.T, c *Cluster) {
			if c.Name != "multi" || len(c.Nodes) != 3 || c.Nodes[2].Role != WorkerRole {
				t.Errorf("nodes %+v", c.Nodes)
			}
			p, err := ParsePatches(c.KubeadmConfigPatches)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.CertSANs) != 2 || p.APIServerArgs["max-requests-inflight"] != "800" ||
				p.SchedulerArgs["kube-api-qps"] != "100" || p.EtcdArgs["snapshot-count"] != "5000" ||
				p.InitNodeLabels["zone"] != "a" {
				t.Errorf("patches %+v", p)
			}
		}},
		// All fields: only what kinc cannot honour is an error; the
		// evictionHard "0%" kubelet patch is honoured (kinc never evicts).
		{name: "all fields", doc: kindAllFields, wantErr: []string{"kubeadmConfigPatchesJSON6902: not supported"}},
		{name: "HA", doc: kindHA, wantErr: []string{"3 control-plane nodes", "no HA control plane"}},
		{name: "bogus field", doc: "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nbogus: 1\n", wantErr: []string{`unknown field "bogus"`}},
		{name: "bogus node field", doc: "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: worker\n  imag: x\n", wantErr: []string{`unknown field "imag"`}},
		{name: "bad apiVersion", doc: "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha3\n", wantErr: []string{`unknown apiVersion "kind.x-k8s.io/v1alpha3"`}},
		{name: "bad kind", doc: "kind: Clusters\napiVersion: kinc.dev/v1alpha4\n", wantErr: []string{`unknown kind "Clusters"`}},
		{name: "second document", doc: "kind: Cluster\napiVersion: kinc.dev/v1alpha4\n---\nkind: Cluster\napiVersion: kinc.dev/v1alpha4\nname: other\n",
			wantErr: []string{"a second YAML document starts at line 3", "one Cluster"}},
		{name: "duplicate key", doc: "kind: Cluster\napiVersion: kinc.dev/v1alpha4\nname: a\nname: b\n", wantErr: []string{`key "name" already set`}},
		{name: "duplicate node key", doc: "kind: Cluster\napiVersion: kinc.dev/v1alpha4\nnodes:\n- role: control-plane\n  role: worker\n", wantErr: []string{`key "role" already set`}},
		{name: "bad kubelet patch values", doc: `kind: Cluster
apiVersion: kinc.dev/v1alpha4
kubeadmConfigPatches:
- |
  kind: KubeletConfiguration
  nodeStatusUpdateFrequency: -10s
  nodeLeaseDurationSeconds: -1
  address: localhost
nodes:
- role: control-plane
  kubeadmConfigPatches:
  - |
    kind: KubeletConfiguration
    podCIDR: 10.244.0.0
    clusterDNS: [10.96.0.10, dns]
`, wantErr: []string{
			`kubeadmConfigPatches[0]: KubeletConfiguration: [address: Invalid value: "localhost": must be a valid IP address`,
			`nodeStatusUpdateFrequency: Invalid value: "-10s": must be greater than or equal to 0`,
			"nodeLeaseDurationSeconds: Invalid value: -1: must be greater than 0",
			`nodes[0].kubeadmConfigPatches[0]: KubeletConfiguration: [podCIDR: Invalid value: "10.244.0.0"`,
			`clusterDNS[1]: Invalid value: "dns"`}},
		{name: "bad indent", doc: "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n   image: foo\n", wantErr: []string{"yaml"}},
		{name: "bad name", doc: "kind: Cluster\napiVersion: kinc.dev/v1alpha4\nname: My_Cluster\n", wantErr: []string{`name: "My_Cluster" is not a valid cluster name`}},
		{name: "no control plane", doc: "kind: Cluster\napiVersion: kinc.dev/v1alpha4\nnodes:\n- role: worker\n", wantErr: []string{"at least one node must have role"}},
		{name: "bad role", doc: "kind: Cluster\napiVersion: kinc.dev/v1alpha4\nnodes:\n- role: control-plane\n- role: master\n", wantErr: []string{`nodes[1].role: "master" is not a valid role`}},
		{name: "ports", doc: `kind: Cluster
apiVersion: kinc.dev/v1alpha4
networking:
  apiServerPort: 70000
nodes:
- role: control-plane
  extraPortMappings:
  - {containerPort: 0, hostPort: 80}
  - {containerPort: 80, hostPort: 80, listenAddress: 127.0.0.1}
  - {containerPort: 81, hostPort: 8080, protocol: ICMP}
- role: worker
  extraPortMappings:
  - {containerPort: 80, hostPort: 80, listenAddress: 127.0.0.2, protocol: TCP}
  - {containerPort: 53, hostPort: 53, protocol: UDP}
  - {containerPort: 53, hostPort: 53, protocol: TCP}
`, wantErr: []string{
			"networking.apiServerPort: 70000 is out of range",
			"nodes[0].extraPortMappings[0].containerPort: 0 is out of range",
			"nodes[0].extraPortMappings[1]: host port 127.0.0.1:80/TCP is already used by nodes[0].extraPortMappings[0]",
			`nodes[0].extraPortMappings[2].protocol: "ICMP"`,
			"nodes[1].extraPortMappings[0]: host port 127.0.0.2:80/TCP is already used",
		}},
		{name: "cidrs", doc: `kind: Cluster
apiVersion: kinc.dev/v1alpha4
networking:
  podSubnet: 10.96.0.0/12
  serviceSubnet: 10.96.0.0/16
  apiServerAddress: localhost
`, wantErr: []string{"podSubnet 10.96.0.0/12 and serviceSubnet 10.96.0.0/16 overlap", `apiServerAddress: "localhost" is not an IP`}},
		{name: "bad cidr", doc: "kind: Cluster\napiVersion: kinc.dev/v1alpha4\nnetworking:\n  serviceSubnet: 10.96.0.0\n", wantErr: []string{`networking.serviceSubnet: "10.96.0.0" is not a CIDR`}},
		{name: "unsupported fields", doc: `kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
featureGates:
  SomeGate: true
runtimeConfig:
  api/alpha: "false"
networking:
  ipFamily: dual
  kubeProxyMode: ipvs
  dnsSearch: []
containerdConfigPatchesJSON6902:
- "[]"
`, wantErr: []string{"featureGates: not supported", "runtimeConfig: not supported", `networking.ipFamily: "dual" is not supported`,
			`networking.kubeProxyMode: "ipvs" is not supported`, "networking.dnsSearch: not supported", "containerdConfigPatchesJSON6902: not supported"}},
		{name: "kube-proxy none", doc: "kind: Cluster\napiVersion: kinc.dev/v1alpha4\nnetworking:\n  kubeProxyMode: none\n  disableDefaultCNI: true\n"},
		{name: "bad patches", doc: `kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
kubeadmConfigPatches:
- |
  kind: ClusterConfiguration
  dns:
    imageTag: v1.11.3
- |
  kind: KubeProxyConfiguration
  mode: ipvs
- |
  kind: JoinConfiguration
  nodeRegistration:
    kubeletExtraArgs:
      max-pods: "10"
containerdConfigPatches:
- "[[plugins.x]]"
nodes:
- role: control-plane
  labels:
    "bad key!": x
`, wantErr: []string{`kubeadmConfigPatches[0]: ClusterConfiguration`, `unknown field "dns"`,
			`kubeadmConfigPatches[1]: kind "KubeProxyConfiguration"`, "kubeletExtraArgs max-pods not supported",
			"containerdConfigPatches[0]: line 1: arrays of tables", `nodes[0].labels: key "bad key!"`}},
		{name: "mount errors", doc: "kind: Cluster\napiVersion: kinc.dev/v1alpha4\nnodes:\n- extraMounts:\n  - {hostPath: /a, containerPath: rel, propagation: Sideways}\n", wantErr: []string{
			`nodes[0].extraMounts[0].containerPath: "rel" must be an absolute path`, `propagation: "Sideways"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := load(t, tt.doc)
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if tt.check != nil {
					tt.check(t, c)
				}
				return
			}
			if err == nil {
				t.Fatalf("want errors %q, got none", tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestAllFieldsOnlyUnsupportedErrors(t *testing.T) {
	t.Parallel()
	_, err := load(t, kindAllFields)
	if err == nil {
		t.Fatal("want an error")
	}
	if lines := strings.Split(err.Error(), "\n"); len(lines) != 1 {
		t.Fatalf("want exactly the JSON6902 error, got:\n%v", err)
	}
}

// TestKubeletPatchEvictionHard: thresholds reach the kubelet, which reports
// its pressure conditions from them; an unknown signal or a bad value is
// refused by the kubelet's validation, naming the field.
func TestKubeletPatchEvictionHard(t *testing.T) {
	t.Parallel()
	p, err := ParsePatches([]string{"kind: KubeletConfiguration\nevictionHard:\n  memory.available: 100Mi\n  nodefs.available: 0%\nmaxPods: 50\n"})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Kubelet) != 1 || !strings.Contains(string(p.Kubelet[0]), `"memory.available":"100Mi"`) || strings.Contains(string(p.Kubelet[0]), "kind") {
		t.Fatalf("kubelet patch %s", p.Kubelet)
	}
	_, err = ParsePatches([]string{"kind: KubeletConfiguration\nevictionHard:\n  disk.free: 10%\n"})
	if err == nil || !strings.Contains(err.Error(), `evictionHard[disk.free]: Unsupported value: "disk.free"`) {
		t.Fatalf("ParsePatches error = %v, want the unknown signal named", err)
	}
}
