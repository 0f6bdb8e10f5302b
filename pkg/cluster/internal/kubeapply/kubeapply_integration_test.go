package kubeapply_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kinc-dev/kinc/manifests"
	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
	"github.com/kinc-dev/kinc/pkg/cluster/internal/kubeapply"
)

// TestIntegrationKubeadmRBAC creates kubeadm's RBAC objects in a real
// kube-apiserver twice: the apiserver accepts them all, and the second
// run, finding them, succeeds too.
func TestIntegrationKubeadmRBAC(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd and kube-apiserver")
	}
	inst := apiservertest.Start(t, apiservertest.Options{})
	cert, err := tls.X509KeyPair(inst.Config.CertData, inst.Config.KeyData)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: inst.CA.Pool(), Certificates: []tls.Certificate{cert}}}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for range 2 {
		if err := kubeapply.Create(ctx, client, inst.URL, manifests.KubeadmRBAC); err != nil {
			t.Fatal(err)
		}
	}
	crb, err := inst.Client(t).RbacV1().ClusterRoleBindings().Get(ctx, "kubeadm:cluster-admins", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if crb.RoleRef.Name != "cluster-admin" || len(crb.Subjects) != 1 || crb.Subjects[0].Name != "kubeadm:cluster-admins" {
		t.Errorf("kubeadm:cluster-admins = %+v", crb)
	}
}
