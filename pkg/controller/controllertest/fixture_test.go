package controllertest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"

	"github.com/kinc-dev/kinc/pkg/controller/controllertest"
)

// copier is a toy controller: for every ConfigMap marked copy=yes it
// creates a copy (generateName), marks the original done, and deletes the
// Secret of the same name.
type copier struct {
	client kubernetes.Interface
	cms    corelisters.ConfigMapLister
}

func (c *copier) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return err
	}
	cm, err := c.cms.ConfigMaps(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil || cm.Labels["copy"] != "yes" {
		return err
	}
	cp := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: name + "-"}, Data: cm.Data}
	if _, err := c.client.CoreV1().ConfigMaps(ns).Create(ctx, cp, metav1.CreateOptions{}); err != nil {
		return err
	}
	done := cm.DeepCopy()
	done.Labels["copy"] = "done"
	if _, err := c.client.CoreV1().ConfigMaps(ns).Update(ctx, done, metav1.UpdateOptions{}); err != nil {
		return err
	}
	err = c.client.CoreV1().Secrets(ns).Delete(ctx, name, metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

func marked(ns, name string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"copy": "yes"}},
		Data: map[string]string{"k": "v"}}
}

func TestSyncThroughTheFixture(t *testing.T) {
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "a"}}
	f := controllertest.New(t, marked("default", "a"), secret)
	c := &copier{client: f.Client, cms: f.Informers.Core().V1().ConfigMaps().Lister()}

	f.MustSync(c.sync, "default/a")
	f.ExpectActions(
		controllertest.Action{Verb: "create", Resource: "configmaps", Namespace: "default", Name: "a-"},
		controllertest.Action{Verb: "update", Resource: "configmaps", Namespace: "default", Name: "a"},
		controllertest.Action{Verb: "delete", Resource: "secrets", Namespace: "default", Name: "a"},
	)
	updated := controllertest.Find[*corev1.ConfigMap](f, controllertest.Action{Verb: "update", Resource: "configmaps", Namespace: "default", Name: "a"})
	if updated.Labels["copy"] != "done" {
		t.Errorf("updated labels %v", updated.Labels)
	}
	// The cache was not mutated by the controller.
	if cached, _ := c.cms.ConfigMaps("default").Get("a"); cached.Labels["copy"] != "yes" {
		t.Error("the controller mutated the informer's cache")
	}
	// The fake API did what the apiserver does on create.
	list, err := f.Client.CoreV1().ConfigMaps("default").List(f.Ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var copied *corev1.ConfigMap
	for i := range list.Items {
		if strings.HasPrefix(list.Items[i].Name, "a-") {
			copied = &list.Items[i]
		}
	}
	if copied == nil || copied.UID != types.UID("uid-default-"+copied.Name) || !copied.CreationTimestamp.Time.Equal(controllertest.Epoch()) {
		t.Errorf("created copy %+v: want a name from generateName, a uid and the fake clock's creation time", copied)
	}

	// Lists from a client (here the test's own) are not in Actions.
	f.ClearActions()
	f.MustSync(c.sync, "default/missing")
	f.ExpectActions()
}

func TestSeedCacheOnlyAndErrors(t *testing.T) {
	f := controllertest.New(t)
	f.SeedCache(marked("default", "stale")) // the API no longer has it
	c := &copier{client: f.Client, cms: f.Informers.Core().V1().ConfigMaps().Lister()}
	f.Client.PrependReactor("create", "configmaps", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(corev1.Resource("configmaps"), "", fmt.Errorf("quota"))
	})
	if err := f.Sync(c.sync, "default/stale"); !apierrors.IsForbidden(err) {
		t.Errorf("sync = %v, want the create's error", err)
	}
	f.ExpectActions(controllertest.Action{Verb: "create", Resource: "configmaps", Namespace: "default", Name: "stale-"})
}

func TestStartRunsTheInformers(t *testing.T) {
	f := controllertest.New(t, marked("default", "a"))
	inf := f.Informers.Core().V1().ConfigMaps()
	f.Start()
	if !inf.Informer().HasSynced() {
		t.Fatal("not synced after Start")
	}
	if _, err := f.Client.CoreV1().ConfigMaps("default").Create(f.Ctx, marked("default", "b"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := inf.Lister().ConfigMaps("default").Get("b"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the informer did not see a created object")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The informers' list and watch are not actions.
	f.ExpectActions(controllertest.Action{Verb: "create", Resource: "configmaps", Namespace: "default", Name: "b"})
}

// recordingTB catches what ExpectActions reports.
type recordingTB struct {
	testing.TB
	errors []string
}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func TestExpectActionsReportsDifferences(t *testing.T) {
	got := []k8stesting.Action{
		k8stesting.NewCreateSubresourceAction(corev1.SchemeGroupVersion.WithResource("pods"), "web-1", "binding", "default", &corev1.Binding{}),
		k8stesting.NewPatchSubresourceAction(corev1.SchemeGroupVersion.WithResource("pods"), "default", "web-1", types.MergePatchType, []byte("{}"), "status"),
		k8stesting.NewRootDeleteAction(corev1.SchemeGroupVersion.WithResource("nodes"), "node-1"),
		k8stesting.NewGetAction(corev1.SchemeGroupVersion.WithResource("secrets"), "ns", "s"),
	}
	want := []controllertest.Action{
		{Verb: "create", Resource: "pods", Subresource: "binding", Namespace: "default", Name: "web-1"},
		{Verb: "patch", Resource: "pods", Subresource: "status", Namespace: "default", Name: "web-1"},
		{Verb: "delete", Resource: "nodes", Name: "node-1"},
		{Verb: "get", Resource: "secrets", Namespace: "ns", Name: "s"},
	}
	rec := &recordingTB{TB: t}
	controllertest.ExpectActions(rec, got, want...)
	if len(rec.errors) != 0 {
		t.Errorf("equal actions reported: %v", rec.errors)
	}
	controllertest.ExpectActions(rec, got, want[:3]...)
	controllertest.ExpectActions(rec, got, append(want[:3:3], controllertest.Action{Verb: "get", Resource: "secrets", Namespace: "ns", Name: "t"})...)
	if len(rec.errors) != 2 {
		t.Fatalf("want 2 reports, got %v", rec.errors)
	}
	if !strings.Contains(rec.errors[1], "3. get secrets ns/t") || !strings.Contains(rec.errors[0], "create pods/binding default/web-1") {
		t.Errorf("reports do not list the actions:\n%s", strings.Join(rec.errors, "\n"))
	}
}
