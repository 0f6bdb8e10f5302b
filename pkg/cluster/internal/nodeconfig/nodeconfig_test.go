package nodeconfig

import (
	"sort"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/kinc-dev/kinc/pkg/apiserver/server"
	"github.com/kinc-dev/kinc/pkg/cluster/config"
	"github.com/kinc-dev/kinc/pkg/controller/manager"
)

func cluster(t *testing.T, doc string) (*config.Cluster, []Node) {
	t.Helper()
	c, err := config.Load([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	config.SetDefaults(c, "img")
	if err := config.Validate(c); err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(c.Nodes))
	for i := range names {
		names[i] = "n" + string(rune('0'+i))
	}
	nodes, err := Nodes(c, names)
	if err != nil {
		t.Fatal(err)
	}
	for i := range nodes {
		nodes[i].IP = "172.18.0." + string(rune('2'+i))
	}
	return c, nodes
}

func TestFlagListsSortedAndInSyncWithAPIServer(t *testing.T) {
	t.Parallel()
	if !sort.StringsAreSorted(apiServerFlags) || !sort.StringsAreSorted(schedulerFlags) || !sort.StringsAreSorted(controllerManagerFlags) {
		t.Fatal("flag lists must be sorted")
	}
	for _, c := range []struct {
		name     string
		addFlags func(*pflag.FlagSet)
		list     []string
	}{
		{"kube-apiserver", server.NewOptions().AddFlags, apiServerFlags},
		{"kube-controller-manager", manager.NewOptions().AddFlags, controllerManagerFlags},
	} {
		fs := pflag.NewFlagSet(c.name, pflag.ContinueOnError)
		c.addFlags(fs)
		real := []string{"v"} // the daemon base's (pkg/daemon.Command), not the component's
		fs.VisitAll(func(f *pflag.Flag) { real = append(real, f.Name) })
		sort.Strings(real)
		if strings.Join(real, ",") != strings.Join(c.list, ",") {
			t.Errorf("%s flags out of date:\nhave %v\nwant %v", c.name, c.list, real)
		}
	}
}

func TestStaticPods(t *testing.T) {
	t.Parallel()
	c, nodes := cluster(t, `kind: Cluster
apiVersion: kinc.dev/v1alpha4
networking: {serviceSubnet: 10.100.0.0/16}
kubeadmConfigPatches:
- |
  kind: ClusterConfiguration
  apiServer:
    extraArgs: {max-requests-inflight: "800", v: "4"}
  controllerManager:
    extraArgs: {controllers: "*,-podgc"}
  etcd:
    local:
      extraArgs: {snapshot-count: "5000"}
`)
	files, err := StaticPods(c, nodes[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 4 {
		t.Fatalf("%d files", len(files))
	}
	for _, f := range files {
		var pod corev1.Pod
		if err := yaml.UnmarshalStrict(f.Data, &pod); err != nil {
			t.Fatalf("%s does not parse as a Pod: %v\n%s", f.Path, err, f.Data)
		}
		name := strings.TrimSuffix(strings.TrimPrefix(f.Path, ManifestsDir+"/"), ".yaml")
		if pod.Name != name || pod.Namespace != "kube-system" || !pod.Spec.HostNetwork ||
			pod.Labels["component"] != name || pod.Labels["tier"] != "control-plane" {
			t.Errorf("%s: metadata %+v hostNetwork %v", f.Path, pod.ObjectMeta, pod.Spec.HostNetwork)
		}
		cmd := pod.Spec.Containers[0].Command
		if cmd[0] != name || !sort.StringsAreSorted(cmd[1:]) {
			t.Errorf("%s: command %v", f.Path, cmd)
		}
		joined := strings.Join(cmd, " ")
		switch name {
		case "kube-apiserver":
			for _, want := range []string{"--advertise-address=172.18.0.2", "--etcd-servers=https://127.0.0.1:2379",
				"--max-requests-inflight=800", "--service-cluster-ip-range=10.100.0.0/16", "--v=4"} {
				if !strings.Contains(joined, want) {
					t.Errorf("apiserver command lacks %s: %s", want, joined)
				}
			}
			if pod.Spec.Containers[0].Image != "registry.k8s.io/kube-apiserver:v1.37.2" {
				t.Errorf("image %s", pod.Spec.Containers[0].Image)
			}
		case "etcd":
			for _, want := range []string{"--initial-cluster=n0=https://172.18.0.2:2380", "--snapshot-count=5000", "--data-dir=/var/lib/etcd"} {
				if !strings.Contains(joined, want) {
					t.Errorf("etcd command lacks %s: %s", want, joined)
				}
			}
		case "kube-controller-manager":
			want := "kube-controller-manager --allocate-node-cidrs=true --authentication-kubeconfig=/etc/kubernetes/controller-manager.conf" +
				" --authorization-kubeconfig=/etc/kubernetes/controller-manager.conf --bind-address=127.0.0.1" +
				" --client-ca-file=/etc/kubernetes/pki/ca.crt --cluster-cidr=10.244.0.0/16 --cluster-name=kinc" +
				" --cluster-signing-cert-file=/etc/kubernetes/pki/ca.crt --cluster-signing-key-file=/etc/kubernetes/pki/ca.key" +
				" --controllers=*,-podgc --kubeconfig=/etc/kubernetes/controller-manager.conf --leader-elect=true" +
				" --requestheader-client-ca-file=/etc/kubernetes/pki/front-proxy-ca.crt --root-ca-file=/etc/kubernetes/pki/ca.crt" +
				" --service-account-private-key-file=/etc/kubernetes/pki/sa.key --service-cluster-ip-range=10.100.0.0/16" +
				" --use-service-account-credentials=true"
			if joined != want {
				t.Errorf("controller-manager command\n got %s\nwant %s", joined, want)
			}
			if img := pod.Spec.Containers[0].Image; img != "registry.k8s.io/kube-controller-manager:v1.37.2" {
				t.Errorf("image %s", img)
			}
		case "kube-scheduler":
			if joined != "kube-scheduler --authentication-kubeconfig=/etc/kubernetes/scheduler.conf --authorization-kubeconfig=/etc/kubernetes/scheduler.conf --bind-address=127.0.0.1 --kubeconfig=/etc/kubernetes/scheduler.conf --leader-elect=true" {
				t.Errorf("scheduler command %s", joined)
			}
		}
	}
}

func TestUnknownControllerManagerFlag(t *testing.T) {
	t.Parallel()
	c, nodes := cluster(t, "kind: Cluster\napiVersion: kinc.dev/v1alpha4\nkubeadmConfigPatches:\n- |\n  kind: ClusterConfiguration\n  controllerManager:\n    extraArgs: {enable-hostpath-provisioner: \"true\"}\n")
	_, err := StaticPods(c, nodes[0])
	if err == nil || !strings.Contains(err.Error(), "controllerManager.extraArgs: --enable-hostpath-provisioner not implemented by kinc's kube-controller-manager") {
		t.Fatalf("error %v", err)
	}
}

func TestUnknownSchedulerFlag(t *testing.T) {
	t.Parallel()
	c, nodes := cluster(t, "kind: Cluster\napiVersion: kinc.dev/v1alpha4\nkubeadmConfigPatches:\n- |\n  kind: ClusterConfiguration\n  scheduler:\n    extraArgs: {profiling: \"false\"}\n")
	_, err := StaticPods(c, nodes[0])
	if err == nil || !strings.Contains(err.Error(), "scheduler.extraArgs: --profiling not implemented by kinc's kube-scheduler") {
		t.Fatalf("error %v", err)
	}
}

func TestKubeletConfigPatches(t *testing.T) {
	t.Parallel()
	c, nodes := cluster(t, `kind: Cluster
apiVersion: kinc.dev/v1alpha4
nodes:
- role: control-plane
- role: worker
  kubeadmConfigPatches:
  - |
    kind: KubeletConfiguration
    maxPods: 20
    evictionHard:
      nodefs.available: "5%"
      memory.available: 200Mi
kubeadmConfigPatches:
- |
  kind: KubeletConfiguration
  maxPods: 50
- |
  kind: JoinConfiguration
  nodeRegistration:
    kubeletExtraArgs:
      node-labels: "pool=workers"
`)
	cp, err := KubeletConfig(c, nodes[0])
	if err != nil {
		t.Fatal(err)
	}
	w, err := KubeletConfig(c, nodes[1])
	if err != nil {
		t.Fatal(err)
	}
	// kind's "0%" thresholds by default; a patch merges into them.
	if !strings.Contains(string(cp), "maxPods: 50") || !strings.Contains(string(cp), "nodefs.available: 0%") ||
		!strings.Contains(string(w), "maxPods: 20") || !strings.Contains(string(w), "nodefs.available: 5%") ||
		!strings.Contains(string(w), "memory.available: 200Mi") || !strings.Contains(string(w), "imagefs.available: 0%") {
		t.Errorf("control plane:\n%s\nworker:\n%s", cp, w)
	}
	// the control plane's role label comes from the API (ControlPlaneLabels),
	// since NodeRestriction refuses it from the kubelet
	if NodeLabels(nodes[0]) != "" || NodeLabels(nodes[1]) != "pool=workers" {
		t.Errorf("labels %q %q", NodeLabels(nodes[0]), NodeLabels(nodes[1]))
	}
	if got := string(KubeletFlags(nodes[1])); got != `KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///run/containerd/containerd.sock --node-ip=172.18.0.3 --node-labels=pool=workers"`+"\n" {
		t.Errorf("flags %s", got)
	}
	if got := string(KubeletFlags(nodes[0])); !strings.Contains(got, " --register-with-taints=node-role.kubernetes.io/control-plane:NoSchedule") {
		t.Errorf("a control plane with workers is not tainted: %s", got)
	}
}

// TestSingleNodeControlPlaneTakesPods: like kind, a cluster of one node
// leaves its control plane untainted.
func TestSingleNodeControlPlaneTakesPods(t *testing.T) {
	t.Parallel()
	c := &config.Cluster{Nodes: []config.Node{{Role: config.ControlPlaneRole}}}
	config.SetDefaults(c, "kinc/node:test")
	nodes, err := Nodes(c, []string{"kinc-control-plane"})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(KubeletFlags(nodes[0])); strings.Contains(got, "taints") {
		t.Errorf("single node tainted: %s", got)
	}
}

// TestPodSubnetAndDNS: the pod subnet must hold a /24 per node (the
// node-ipam-controller gives each Node one); the cluster DNS is the service
// subnet's tenth address.
func TestPodSubnetAndDNS(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		subnet string
		nodes  int
		ok     bool
	}{{"10.244.0.0/16", 3, true}, {"10.244.0.0/23", 2, true}, {"10.244.0.0/23", 3, false}, {"10.244.0.0/24", 2, false}, {"10.244.0.0/25", 1, false}} {
		c := &config.Cluster{Networking: config.Networking{PodSubnet: tt.subnet}}
		names := make([]string, tt.nodes)
		for i := range tt.nodes {
			c.Nodes = append(c.Nodes, config.Node{Role: config.WorkerRole})
			names[i] = "n" + string(rune('0'+i))
		}
		config.SetDefaults(c, "img")
		if _, err := Nodes(c, names); (err == nil) != tt.ok {
			t.Errorf("%d nodes in %s: %v", tt.nodes, tt.subnet, err)
		}
	}
	if dns, _ := ClusterDNS("10.96.0.0/16"); dns != "10.96.0.10" {
		t.Errorf("dns %s", dns)
	}
}
