package printers

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func TestPrintCoreResources(t *testing.T) {
	tests := []struct {
		name string
		obj  runtime.Object
		want []interface{}
	}{
		{"namespace", &corev1.Namespace{ObjectMeta: objMeta("kube-system", 400*24*time.Hour), Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}},
			[]interface{}{"kube-system", "Active", "400d"}},
		{"terminating namespace", &corev1.Namespace{ObjectMeta: objMeta("old", 3*time.Hour), Status: corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating}},
			[]interface{}{"old", "Terminating", "3h"}},
		{"configmap counts data and binaryData", &corev1.ConfigMap{ObjectMeta: objMeta("cfg", 10*time.Second),
			Data: map[string]string{"a": "1", "b": "2"}, BinaryData: map[string][]byte{"c": {1}}},
			[]interface{}{"cfg", int64(3), "10s"}},
		{"secret", &corev1.Secret{ObjectMeta: objMeta("tls", 5*time.Minute+30*time.Second), Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{"tls.crt": nil, "tls.key": nil}},
			[]interface{}{"tls", "kubernetes.io/tls", int64(2), "5m30s"}},
		{"serviceaccount", &corev1.ServiceAccount{ObjectMeta: objMeta("default", 2*time.Hour), Secrets: []corev1.ObjectReference{{Name: "t"}}},
			[]interface{}{"default", int64(1), "120m"}},
		{"endpoints without subsets", &corev1.Endpoints{ObjectMeta: objMeta("empty", time.Minute)},
			[]interface{}{"empty", "<none>", "60s"}},
		{"endpoints", &corev1.Endpoints{ObjectMeta: objMeta("kubernetes", 9*time.Hour), Subsets: []corev1.EndpointSubset{{
			Addresses: []corev1.EndpointAddress{{IP: "172.18.0.2"}},
			Ports:     []corev1.EndpointPort{{Name: "https", Port: 6443, Protocol: corev1.ProtocolTCP}},
		}}}, []interface{}{"kubernetes", "172.18.0.2:6443", "9h"}},
		{"endpoints over three, ipv6, headless", &corev1.Endpoints{ObjectMeta: objMeta("many", time.Hour), Subsets: []corev1.EndpointSubset{
			{Addresses: []corev1.EndpointAddress{{IP: "10.0.0.1"}, {IP: "fd00::2"}},
				Ports: []corev1.EndpointPort{{Port: 80}, {Port: 443}}},
			{Addresses: []corev1.EndpointAddress{{IP: "10.0.0.3"}}},
		}}, []interface{}{"many", "10.0.0.1:80,[fd00::2]:80,10.0.0.1:443 + 2 more...", "60m"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkCells(t, tc.obj, tc.want) })
	}
}

func TestPrintService(t *testing.T) {
	ports := []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP}, {Port: 53, NodePort: 30053, Protocol: corev1.ProtocolUDP}}
	svc := func(typ corev1.ServiceType, mutate func(*corev1.Service)) *corev1.Service {
		s := &corev1.Service{
			ObjectMeta: objMeta("web", 3*24*time.Hour+5*time.Hour),
			Spec: corev1.ServiceSpec{Type: typ, ClusterIP: "10.96.0.10", ClusterIPs: []string{"10.96.0.10", "fd00::a"},
				Ports: ports, Selector: map[string]string{"app": "web"}},
		}
		if mutate != nil {
			mutate(s)
		}
		return s
	}
	tests := []struct {
		name string
		svc  *corev1.Service
		want []interface{}
	}{
		{"clusterip", svc(corev1.ServiceTypeClusterIP, nil),
			[]interface{}{"web", "ClusterIP", "10.96.0.10", "<none>", "80/TCP,53:30053/UDP", "3d5h", "app=web"}},
		{"clusterip with external ips", svc(corev1.ServiceTypeClusterIP, func(s *corev1.Service) { s.Spec.ExternalIPs = []string{"1.2.3.4", "5.6.7.8"} }),
			[]interface{}{"web", "ClusterIP", "10.96.0.10", "1.2.3.4,5.6.7.8", "80/TCP,53:30053/UDP", "3d5h", "app=web"}},
		{"headless without ports or selector", svc(corev1.ServiceTypeClusterIP, func(s *corev1.Service) {
			s.Spec.ClusterIP, s.Spec.ClusterIPs, s.Spec.Ports, s.Spec.Selector = "None", []string{"None"}, nil, nil
		}), []interface{}{"web", "ClusterIP", "None", "<none>", "<none>", "3d5h", "<none>"}},
		{"only clusterIP set", svc(corev1.ServiceTypeNodePort, func(s *corev1.Service) { s.Spec.ClusterIPs = nil }),
			[]interface{}{"web", "NodePort", "10.96.0.10", "<none>", "80/TCP,53:30053/UDP", "3d5h", "app=web"}},
		{"no cluster ip", svc(corev1.ServiceTypeExternalName, func(s *corev1.Service) {
			s.Spec.ClusterIP, s.Spec.ClusterIPs, s.Spec.ExternalName = "", nil, "db.example.com"
		}), []interface{}{"web", "ExternalName", "<none>", "db.example.com", "80/TCP,53:30053/UDP", "3d5h", "app=web"}},
		{"pending load balancer", svc(corev1.ServiceTypeLoadBalancer, nil),
			[]interface{}{"web", "LoadBalancer", "10.96.0.10", "<pending>", "80/TCP,53:30053/UDP", "3d5h", "app=web"}},
		{"load balancer ingress, sorted and unclipped", svc(corev1.ServiceTypeLoadBalancer, func(s *corev1.Service) {
			s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "198.51.100.20"}, {Hostname: "lb.example.com"}, {IP: "198.51.100.20"}}
		}), []interface{}{"web", "LoadBalancer", "10.96.0.10", "198.51.100.20,lb.example.com", "80/TCP,53:30053/UDP", "3d5h", "app=web"}},
		{"load balancer ingress plus external ips", svc(corev1.ServiceTypeLoadBalancer, func(s *corev1.Service) {
			s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "198.51.100.20"}}
			s.Spec.ExternalIPs = []string{"1.2.3.4"}
		}), []interface{}{"web", "LoadBalancer", "10.96.0.10", "198.51.100.20,1.2.3.4", "80/TCP,53:30053/UDP", "3d5h", "app=web"}},
		{"no type", svc("", nil),
			[]interface{}{"web", "", "10.96.0.10", "<unknown>", "80/TCP,53:30053/UDP", "3d5h", "app=web"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkCells(t, tc.svc, tc.want) })
	}
}

func TestPrintNode(t *testing.T) {
	ready := func(s corev1.ConditionStatus) []corev1.NodeCondition {
		return []corev1.NodeCondition{{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse}, {Type: corev1.NodeReady, Status: s}}
	}
	info := corev1.NodeSystemInfo{KubeletVersion: "v1.37.2", OSImage: "Debian GNU/Linux 12 (bookworm)",
		KernelVersion: "6.1.0-40-amd64", ContainerRuntimeVersion: "containerd://1.6.20"}
	addrs := []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: "kinc-control-plane"},
		{Type: corev1.NodeInternalIP, Address: "172.18.0.2"}, {Type: corev1.NodeInternalIP, Address: "fc00::2"}}
	tests := []struct {
		name string
		node corev1.Node
		want []interface{}
	}{
		{"ready control plane", corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: "kinc-control-plane", CreationTimestamp: ago(25 * time.Minute),
				Labels: map[string]string{"node-role.kubernetes.io/control-plane": "", "kubernetes.io/hostname": "kinc-control-plane"}},
			Status: corev1.NodeStatus{Conditions: ready(corev1.ConditionTrue), NodeInfo: info, Addresses: addrs},
		}, []interface{}{"kinc-control-plane", "Ready", "control-plane", "25m", "v1.37.2", "172.18.0.2", "<none>",
			"Debian GNU/Linux 12 (bookworm)", "6.1.0-40-amd64", "containerd://1.6.20"}},
		{"cordoned, not ready, several roles", corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: "w", CreationTimestamp: ago(time.Hour), Labels: map[string]string{
				"node-role.kubernetes.io/worker": "", "node-role.kubernetes.io/": "", "kubernetes.io/role": "infra", "node-role.kubernetes.io/infra": ""}},
			Spec:   corev1.NodeSpec{Unschedulable: true},
			Status: corev1.NodeStatus{Conditions: ready(corev1.ConditionFalse), Addresses: []corev1.NodeAddress{{Type: corev1.NodeExternalIP, Address: "203.0.113.9"}}},
		}, []interface{}{"w", "NotReady,SchedulingDisabled", "infra,worker", "60m", "", "<none>", "203.0.113.9", "<unknown>", "<unknown>", "<unknown>"}},
		{"no ready condition", corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "new"}},
			[]interface{}{"new", "Unknown", "<none>", "<unknown>", "", "<none>", "<none>", "<unknown>", "<unknown>", "<unknown>"}},
		{"ready unknown", corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "lost", CreationTimestamp: ago(8 * 24 * time.Hour)},
			Status: corev1.NodeStatus{Conditions: ready(corev1.ConditionUnknown)}},
			[]interface{}{"lost", "NotReady", "<none>", "8d", "", "<none>", "<none>", "<unknown>", "<unknown>", "<unknown>"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkCells(t, &tc.node, tc.want) })
	}
}
