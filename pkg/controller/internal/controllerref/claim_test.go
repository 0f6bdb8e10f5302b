package controllerref

import (
	"context"
	"errors"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
)

func TestClaim(t *testing.T) {
	ctx := context.Background()
	owner := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "default", UID: "ds"}}
	kind := appsv1.SchemeGroupVersion.WithKind("DaemonSet")
	pod := func(name string, lbl string, controller types.UID) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID(name), Labels: map[string]string{"app": lbl}}}
		if controller != "" {
			p.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(&appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "x", UID: controller}}, kind)}
		}
		return p
	}
	pods := []*corev1.Pod{
		pod("mine", "agent", "ds"),      // kept
		pod("orphan", "agent", ""),      // adopted
		pod("stray", "other", "ds"),     // released
		pod("theirs", "agent", "other"), // left alone
		pod("unrelated", "other", ""),   // left alone
	}
	client := fake.NewClientset()
	for _, p := range pods {
		if _, err := client.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var patched []string
	rechecks := 0
	c := Claimer{Owner: owner, Kind: kind, Selector: labels.SelectorFromSet(labels.Set{"app": "agent"}),
		Recheck: func(context.Context) error { rechecks++; return nil },
		Patch: func(ctx context.Context, name string, patch []byte) error {
			patched = append(patched, name)
			_, err := client.CoreV1().Pods("default").Patch(ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
			return err
		}}
	got, err := Claim(ctx, c, pods)
	if err != nil || len(got) != 2 || got[0].Name != "mine" || got[1].Name != "orphan" {
		t.Fatalf("Claim = %v, %v", got, err)
	}
	if len(patched) != 2 || patched[0] != "orphan" || patched[1] != "stray" || rechecks != 1 {
		t.Errorf("patched %v after %d rechecks", patched, rechecks)
	}
	adopted, _ := client.CoreV1().Pods("default").Get(ctx, "orphan", metav1.GetOptions{})
	if ref := metav1.GetControllerOf(adopted); ref == nil || ref.UID != "ds" || ref.Kind != "DaemonSet" {
		t.Errorf("orphan's controller %v", ref)
	}
	released, _ := client.CoreV1().Pods("default").Get(ctx, "stray", metav1.GetOptions{})
	if len(released.OwnerReferences) != 0 {
		t.Errorf("stray keeps %v", released.OwnerReferences)
	}

	// An owner being deleted (the recheck says so) adopts nothing.
	c.Recheck = func(context.Context) error { return errors.New("being deleted") }
	got, err = Claim(ctx, c, []*corev1.Pod{pod("orphan2", "agent", "")})
	if err == nil || len(got) != 0 {
		t.Errorf("Claim with a failing recheck = %v, %v", got, err)
	}
}
