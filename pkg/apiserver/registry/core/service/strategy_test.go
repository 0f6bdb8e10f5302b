package service

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	. "github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regtest"
)

func newService() *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "web"},
			Ports:    []corev1.ServicePort{{Port: 80}},
		},
	}
}

func TestDefaults(t *testing.T) {
	svc := newService()
	svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "1.2.3.4"}}
	NewStrategy().PrepareForCreate(context.Background(), svc)
	want := corev1.ServiceSpec{
		Selector:              map[string]string{"app": "web"},
		Ports:                 []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(80)}},
		Type:                  corev1.ServiceTypeClusterIP,
		SessionAffinity:       corev1.ServiceAffinityNone,
		IPFamilies:            []corev1.IPFamily{corev1.IPv4Protocol},
		IPFamilyPolicy:        ptr.To(corev1.IPFamilyPolicySingleStack),
		InternalTrafficPolicy: ptr.To(corev1.ServiceInternalTrafficPolicyCluster),
	}
	if d := cmp.Diff(want, svc.Spec); d != "" {
		t.Errorf("spec (-want +got):\n%s", d)
	}
	if len(svc.Status.LoadBalancer.Ingress) != 0 {
		t.Error("status not cleared")
	}

	np := newService()
	np.Spec.Type = corev1.ServiceTypeLoadBalancer
	np.Spec.Ports[0].TargetPort = intstr.FromString("http")
	np.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
	NewStrategy().PrepareForCreate(context.Background(), np)
	if np.Spec.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyCluster || !*np.Spec.AllocateLoadBalancerNodePorts ||
		np.Spec.Ports[0].TargetPort.StrVal != "http" || *np.Spec.SessionAffinityConfig.ClientIP.TimeoutSeconds != 10800 {
		t.Errorf("LoadBalancer defaults: %+v", np.Spec)
	}

	headless := newService()
	headless.Spec.ClusterIP = "None"
	headless.Spec.Selector = nil
	NewStrategy().PrepareForCreate(context.Background(), headless)
	if *headless.Spec.IPFamilyPolicy != corev1.IPFamilyPolicyRequireDualStack || headless.Spec.ClusterIPs[0] != "None" {
		t.Errorf("selectorless headless: %v %v", *headless.Spec.IPFamilyPolicy, headless.Spec.ClusterIPs)
	}

	ext := &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "example.com"}}
	NewStrategy().PrepareForCreate(context.Background(), ext)
	if ext.Spec.IPFamilies != nil || ext.Spec.IPFamilyPolicy != nil || ext.Spec.InternalTrafficPolicy != nil {
		t.Errorf("ExternalName got IP fields: %+v", ext.Spec)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*corev1.Service)
		want   []Err
	}{
		{"valid", func(*corev1.Service) {}, nil},
		{"no ports", func(s *corev1.Service) { s.Spec.Ports = nil }, []Err{E(field.ErrorTypeRequired, "spec.ports")}},
		{"headless without ports", func(s *corev1.Service) { s.Spec.Ports = nil; s.Spec.ClusterIP = "None" }, nil},
		{"port names required when several", func(s *corev1.Service) {
			s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Port: 443})
		}, []Err{E(field.ErrorTypeRequired, "spec.ports[0].name"), E(field.ErrorTypeRequired, "spec.ports[1].name")}},
		{"duplicate port names", func(s *corev1.Service) {
			s.Spec.Ports = []corev1.ServicePort{{Name: "a", Port: 80}, {Name: "a", Port: 81}}
		}, []Err{E(field.ErrorTypeDuplicate, "spec.ports[1].name")}},
		{"duplicate ports", func(s *corev1.Service) {
			s.Spec.Ports = []corev1.ServicePort{{Name: "a", Port: 80}, {Name: "b", Port: 80}}
		}, []Err{E(field.ErrorTypeDuplicate, "spec.ports[1]")}},
		{"port range", func(s *corev1.Service) { s.Spec.Ports[0].Port = 0 }, []Err{
			E(field.ErrorTypeInvalid, "spec.ports[0].port"), E(field.ErrorTypeInvalid, "spec.ports[0].targetPort")}},
		{"type", func(s *corev1.Service) { s.Spec.Type = "Magic" }, []Err{E(field.ErrorTypeNotSupported, "spec.type")}},
		{"selector", func(s *corev1.Service) { s.Spec.Selector = map[string]string{"a": "b c"} }, []Err{E(field.ErrorTypeInvalid, "spec.selector")}},
		{"nodePort on ClusterIP", func(s *corev1.Service) { s.Spec.Ports[0].NodePort = 30001 },
			[]Err{E(field.ErrorTypeForbidden, "spec.ports[0].nodePort")}},
		{"bad clusterIP", func(s *corev1.Service) { s.Spec.ClusterIP = "10.0.0.300" }, []Err{E(field.ErrorTypeInvalid, "spec.clusterIPs[0]")}},
		{"externalName required", func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeExternalName
			s.Spec.IPFamilies, s.Spec.IPFamilyPolicy = nil, nil
		}, []Err{E(field.ErrorTypeRequired, "spec.externalName")}},
		{"headless NodePort", func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeNodePort; s.Spec.ClusterIP = "None" },
			[]Err{E(field.ErrorTypeInvalid, "spec.clusterIPs[0]")}},
		{"externalIPs", func(s *corev1.Service) { s.Spec.ExternalIPs = []string{"127.0.0.1"} },
			[]Err{E(field.ErrorTypeInvalid, "spec.externalIPs[0]")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			svc := newService()
			s := NewStrategy()
			tc.mutate(svc)
			s.PrepareForCreate(context.Background(), svc)
			Expect(t, s.Validate(context.Background(), svc), tc.want...)
		})
	}
}

func TestNameFunc(t *testing.T) {
	if len(NameFunc("web", false)) != 0 || len(NameFunc("1web", false)) == 0 || len(NameFunc("web.x", false)) == 0 {
		t.Error("service names are DNS-1035 labels")
	}
}

func storedService(clusterIP string) *corev1.Service {
	svc := newService()
	NewStrategy().PrepareForCreate(context.Background(), svc)
	svc.Spec.ClusterIP, svc.Spec.ClusterIPs = clusterIP, []string{clusterIP}
	return svc
}

func TestValidateUpdate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*corev1.Service)
		want   []Err
	}{
		{"ports change", func(s *corev1.Service) { s.Spec.Ports[0].Port = 8080 }, nil},
		{"clusterIP omitted is kept", func(s *corev1.Service) { s.Spec.ClusterIP, s.Spec.ClusterIPs = "", nil }, nil},
		{"clusterIP changed", func(s *corev1.Service) { s.Spec.ClusterIP = "10.96.0.99" },
			[]Err{E(field.ErrorTypeInvalid, "spec.clusterIPs[0]")}},
		{"to ExternalName", func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeExternalName
			s.Spec.ExternalName = "example.com"
		}, nil},
		{"to NodePort", func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeNodePort }, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old := storedService("10.96.0.10")
			svc := old.DeepCopy()
			tc.mutate(svc)
			s := NewStrategy()
			s.PrepareForUpdate(context.Background(), svc, old)
			Expect(t, s.ValidateUpdate(context.Background(), svc, old), tc.want...)
		})
	}

	old := storedService("10.96.0.10")
	svc := old.DeepCopy()
	svc.Spec.Type = corev1.ServiceTypeExternalName
	svc.Spec.ExternalName = "example.com"
	NewStrategy().PrepareForUpdate(context.Background(), svc, old)
	if svc.Spec.ClusterIP != "" || svc.Spec.ClusterIPs != nil || svc.Spec.IPFamilies != nil || svc.Spec.IPFamilyPolicy != nil {
		t.Errorf("switch to ExternalName kept %+v", svc.Spec)
	}
}

func TestStatusStrategy(t *testing.T) {
	old := storedService("10.96.0.10")
	old.Spec.Type = corev1.ServiceTypeLoadBalancer
	svc := old.DeepCopy()
	svc.Spec.Ports[0].Port = 1
	svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.1", IPMode: ptr.To(corev1.LoadBalancerIPModeVIP)}}
	s := NewStatusStrategy()
	s.PrepareForUpdate(context.Background(), svc, old)
	if svc.Spec.Ports[0].Port != 80 {
		t.Error("status update changed spec")
	}
	Expect(t, s.ValidateUpdate(context.Background(), svc, old))
	svc.Status.LoadBalancer.Ingress[0].IPMode = nil
	Expect(t, s.ValidateUpdate(context.Background(), svc, old), E(field.ErrorTypeRequired, "status.loadBalancer.ingress[0].ipMode"))
}

func TestGetAttrs(t *testing.T) {
	_, f, err := GetAttrs(storedService("10.96.0.10"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"metadata.name": "web", "metadata.namespace": "default", "spec.clusterIP": "10.96.0.10", "spec.type": "ClusterIP"}
	if d := cmp.Diff(want, map[string]string(f)); d != "" {
		t.Error(d)
	}
}
