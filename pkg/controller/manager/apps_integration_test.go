package manager_test

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// TestIntegrationDeploymentThroughManager: with the manager's default
// controllers, a Deployment gets its ReplicaSet and pods, and the events
// upstream's controllers record, from their components: ScalingReplicaSet
// from deployment-controller on the Deployment, SuccessfulCreate from
// replicaset-controller on the ReplicaSet.
func TestIntegrationDeploymentThroughManager(t *testing.T) {
	inst, client := setup(t)
	m := start(t, inst, "solo", freePort(t), "--concurrent-deployment-syncs=2", "--concurrent-replicaset-syncs=3")
	createNamespace(t, client, "apps")
	l := map[string]string{"app": "web"}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "web"},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2), Selector: &metav1.LabelSelector{MatchLabels: l},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: l},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "web:1"}}}}},
	}
	if _, err := client.AppsV1().Deployments("apps").Create(context.Background(), d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	poll(t, 30*time.Second, "2 pods of web", func(ctx context.Context) bool {
		pods, err := client.CoreV1().Pods("apps").List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
		return err == nil && len(pods.Items) == 2
	})
	poll(t, 30*time.Second, "ScalingReplicaSet and SuccessfulCreate events", func(ctx context.Context) bool {
		evs, err := client.CoreV1().Events("apps").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false
		}
		var scaled, created bool
		for _, e := range evs.Items {
			switch {
			case e.Reason == "ScalingReplicaSet" && e.Source.Component == "deployment-controller" && e.InvolvedObject.Kind == "Deployment" &&
				strings.HasPrefix(e.Message, "Scaled up replica set web-") && strings.HasSuffix(e.Message, " from 0 to 2"):
				scaled = true
			case e.Reason == "SuccessfulCreate" && e.Source.Component == "replicaset-controller" && e.InvolvedObject.Kind == "ReplicaSet" &&
				strings.HasPrefix(e.Message, "Created pod: web-"):
				created = true
			}
		}
		return scaled && created
	})
	log := m.log.String()
	for _, want := range []string{"deployment-controller", "replicaset-controller"} {
		if !strings.Contains(log, want) {
			t.Errorf("the manager's log does not mention %s", want)
		}
	}
	if !strings.Contains(log, `controller=deployment workers=2`) || !strings.Contains(log, `controller=replicaset workers=3`) {
		t.Errorf("worker counts not from the flags:\n%s", log)
	}
	if err := m.stop(t); err != nil {
		t.Errorf("Run after cancel: %v", err)
	}
}
