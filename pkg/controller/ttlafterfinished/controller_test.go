package ttlafterfinished

import (
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kinc-dev/kinc/pkg/controller/controllertest"
)

func finishedJob(name string, ttl *int32, finished time.Time) *batchv1.Job {
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: types.UID("uid-" + name)},
		Spec:       batchv1.JobSpec{TTLSecondsAfterFinished: ttl},
		Status: batchv1.JobStatus{Conditions: []batchv1.JobCondition{
			{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(finished)},
			{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(finished)}}},
	}
}

func i32(v int32) *int32 { return &v }

func newController(f *controllertest.Fixture) *Controller {
	return New(f.Client, f.Informers.Batch().V1().Jobs(), Options{Logger: f.Logger, Clock: f.Clock})
}

var deleteJob = controllertest.Action{Verb: "delete", Resource: "jobs", Namespace: "default", Name: "pi"}
var getJob = controllertest.Action{Verb: "get", Resource: "jobs", Namespace: "default", Name: "pi"}

// TestExpiredJobIsDeleted: past its TTL the Job is re-read, then deleted
// with Foreground propagation and a UID precondition.
func TestExpiredJobIsDeleted(t *testing.T) {
	job := finishedJob("pi", i32(100), controllertest.Epoch().Add(-101*time.Second))
	f := controllertest.New(t, job)
	c := newController(f)
	f.MustSync(c.sync, "default/pi")
	f.ExpectActions(getJob, deleteJob)
	opts := f.Actions()[1].(k8stesting.DeleteAction).GetDeleteOptions()
	if *opts.PropagationPolicy != metav1.DeletePropagationForeground || *opts.Preconditions.UID != job.UID {
		t.Errorf("delete options %+v", opts)
	}
}

// TestNotYetExpired: the Job is requeued for when its TTL passes, then
// deleted on the fake clock.
func TestNotYetExpired(t *testing.T) {
	f := controllertest.New(t, finishedJob("pi", i32(100), controllertest.Epoch().Add(-40*time.Second)))
	c := newController(f)
	f.MustSync(c.sync, "default/pi")
	f.ExpectActions()
	if st := c.Stats(); st.Adds != 1 || st.Depth != 0 {
		t.Errorf("stats %+v: want one delayed key", st)
	}
	f.Clock.Step(59 * time.Second)
	if c.Stats().Depth != 0 {
		t.Error("requeued too early")
	}
	f.Clock.Step(time.Second)
	for range 100 {
		if c.Stats().Depth == 1 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if c.Stats().Depth != 1 {
		t.Fatal("not requeued when the TTL passed")
	}
	f.MustSync(c.sync, "default/pi")
	f.ExpectActions(getJob, deleteJob)
}

// TestFreshCopyDecides: the cache says expired, but the apiserver's Job
// had its TTL raised: nothing is deleted.
func TestFreshCopyDecides(t *testing.T) {
	f := controllertest.New(t)
	f.SeedCache(finishedJob("pi", i32(10), controllertest.Epoch().Add(-time.Minute)))
	f.SeedAPI(finishedJob("pi", i32(3600), controllertest.Epoch().Add(-time.Minute)))
	c := newController(f)
	f.MustSync(c.sync, "default/pi")
	f.ExpectActions(getJob)
}

// TestNothingToDo: no TTL, not finished, being deleted, gone.
func TestNothingToDo(t *testing.T) {
	noTTL := finishedJob("a", nil, controllertest.Epoch().Add(-time.Hour))
	running := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "b"}, Spec: batchv1.JobSpec{TTLSecondsAfterFinished: i32(0)}}
	deleting := finishedJob("c", i32(0), controllertest.Epoch().Add(-time.Hour))
	deleting.DeletionTimestamp = &metav1.Time{Time: controllertest.Epoch()}
	f := controllertest.New(t, noTTL, running, deleting)
	c := newController(f)
	for _, key := range []string{"default/a", "default/b", "default/c", "default/gone"} {
		f.MustSync(c.sync, key)
	}
	f.ExpectActions()
}

// TestDeleteErrorsRetry: a failed delete is returned; NotFound is done.
func TestDeleteErrorsRetry(t *testing.T) {
	f := controllertest.New(t, finishedJob("pi", i32(0), controllertest.Epoch()))
	c := newController(f)
	f.Client.PrependReactor("delete", "jobs", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewServiceUnavailable("etcd is down")
	})
	if err := f.Sync(c.sync, "default/pi"); !apierrors.IsServiceUnavailable(err) {
		t.Errorf("sync = %v", err)
	}
}
