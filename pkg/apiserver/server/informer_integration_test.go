package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
)

// eventLog records what an informer's event handler saw, per object name.
type eventLog struct {
	mu     sync.Mutex
	state  map[string]string   // name -> data["v"] as last seen (deleted: absent)
	values map[string][]string // name -> every data["v"] seen, in order
	events int
}

func newEventLog() *eventLog {
	return &eventLog{state: map[string]string{}, values: map[string][]string{}}
}

func (l *eventLog) set(obj any) {
	cm, ok := obj.(*corev1.ConfigMap)
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events++
	l.state[cm.Name] = cm.Data["v"]
	if vs := l.values[cm.Name]; len(vs) == 0 || vs[len(vs)-1] != cm.Data["v"] {
		l.values[cm.Name] = append(vs, cm.Data["v"])
	}
}

func (l *eventLog) del(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	cm, ok := obj.(*corev1.ConfigMap)
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events++
	delete(l.state, cm.Name)
}

func (l *eventLog) snapshot() map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]string, len(l.state))
	for k, v := range l.state {
		out[k] = v
	}
	return out
}

func (l *eventLog) seen(name string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.values[name]...)
}

// truth lists the configmaps of ns through the API: name -> data["v"].
func truth(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns string) map[string]string {
	t.Helper()
	list, err := cs.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list configmaps: %v", err)
	}
	out := map[string]string{}
	for _, cm := range list.Items {
		out[cm.Name] = cm.Data["v"]
	}
	return out
}

func storeState(s cache.Store) map[string]string {
	out := map[string]string{}
	for _, o := range s.List() {
		cm := o.(*corev1.ConfigMap)
		out[cm.Name] = cm.Data["v"]
	}
	return out
}

func describe(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s ", k, m[k])
	}
	return b.String()
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// converged waits until the informer's store and what its handler saw both
// equal the truth read from the API.
func converged(t *testing.T, cs kubernetes.Interface, ns string, store cache.Store, log *eventLog, d time.Duration) {
	t.Helper()
	ctx := testCtx(t, d+10*time.Second)
	eventually(t, d, "informer converges to the API's state", func() (bool, string) {
		want := truth(ctx, t, cs, ns)
		gotStore, gotEvents := storeState(store), log.snapshot()
		return equalMaps(want, gotStore) && equalMaps(want, gotEvents),
			fmt.Sprintf("\n api:    %s\n store:  %s\n events: %s", describe(want), describe(gotStore), describe(gotEvents))
	})
}

func setValue(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns, name, v string) {
	t.Helper()
	cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get %s: %v", name, err)
	}
	cm.Data = map[string]string{"v": v}
	if _, err := cs.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("update %s: %v", name, err)
	}
}

// TestIntegrationInformer runs a client-go SharedInformerFactory on
// configmaps against the apiserver: it must see every add, update and
// delete; resume without losing events when the server ends its watches
// (timeoutSeconds); and, after the apiserver restarts on an etcd compacted
// past the informer's resourceVersion, get 410 Gone, relist and converge.
func TestIntegrationInformer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd and kube-apiserver")
	}
	inst := apiservertest.Start(t, apiservertest.Options{})
	ctx := testCtx(t, 3*time.Minute)
	cs := clientset(t, inst.Config)
	const ns = "informer"
	createNamespace(t, cs, ns)

	// The informer's own client counts its list and watch requests.
	counter := &countingTransport{}
	icfg := rest.CopyConfig(inst.Config)
	icfg.QPS, icfg.Burst = -1, 0
	icfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { counter.next = rt; return counter }
	ics := kubernetes.NewForConfigOrDie(icfg)
	const watchTimeout = 2 // seconds: the server ends every watch after this
	factory := informers.NewSharedInformerFactoryWithOptions(ics, 0, informers.WithNamespace(ns),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			if o.TimeoutSeconds != nil { // the reflector's watches, not its lists
				o.TimeoutSeconds = ptrTo(int64(watchTimeout))
			}
		}))
	inf := factory.Core().V1().ConfigMaps().Informer()
	log := newEventLog()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    log.set,
		UpdateFunc: func(_, obj any) { log.set(obj) },
		DeleteFunc: log.del,
	}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer func() { close(stop); factory.Shutdown() }()

	// One object exists before the informer starts.
	cms := cs.CoreV1().ConfigMaps(ns)
	mk := func(name, v string) {
		t.Helper()
		_, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: map[string]string{"v": v}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
	}
	mk("pre", "0")
	factory.Start(stop)
	for typ, ok := range factory.WaitForCacheSync(stop) {
		if !ok {
			t.Fatalf("informer for %v never synced", typ)
		}
	}

	t.Run("adds, updates and deletes", func(t *testing.T) {
		for i := range 5 {
			mk(fmt.Sprintf("cm-%d", i), "1")
		}
		for v := 2; v <= 4; v++ {
			for i := range 5 {
				setValue(ctx, t, cs, ns, fmt.Sprintf("cm-%d", i), strconv.Itoa(v))
			}
		}
		for _, name := range []string{"cm-3", "cm-4", "pre"} {
			if err := cms.Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
				t.Fatalf("delete %s: %v", name, err)
			}
		}
		converged(t, cs, ns, inf.GetStore(), log, 10*time.Second)
		for i := range 5 {
			name := fmt.Sprintf("cm-%d", i)
			if got := strings.Join(log.seen(name), ","); got != "1,2,3,4" {
				t.Errorf("%s: handler saw values %s, want 1,2,3,4 (every update, in order)", name, got)
			}
		}
	})

	t.Run("server-side watch timeouts", func(t *testing.T) {
		// Update one object every 100ms for 3 watch timeouts: the informer
		// rewatches from its last resourceVersion each time and must see
		// every value, in order.
		before := counter.watches.Load()
		n := 0
		for end := time.Now().Add(3*watchTimeout*time.Second + 500*time.Millisecond); time.Now().Before(end); {
			n++
			setValue(ctx, t, cs, ns, "cm-0", fmt.Sprintf("t%d", n))
			time.Sleep(100 * time.Millisecond)
		}
		converged(t, cs, ns, inf.GetStore(), log, 10*time.Second)
		if w := counter.watches.Load() - before; w < 3 {
			t.Errorf("informer opened %d watches during %ds of %ds watch timeouts, want at least 3", w, 3*watchTimeout, watchTimeout)
		}
		want := []string{"1", "2", "3", "4"}
		for i := 1; i <= n; i++ {
			want = append(want, fmt.Sprintf("t%d", i))
		}
		if got := log.seen("cm-0"); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("cm-0: handler saw %v\nwant %v (an update was lost or reordered across watch timeouts)", got, want)
		}
	})

	t.Run("compaction and restart", func(t *testing.T) {
		listsBefore, goneBefore := counter.lists.Load(), counter.gone.Load()
		// With the apiserver down, change etcd behind the informer's back,
		// then compact past every revision the informer knows.
		inst.Stop()
		key := func(name string) string { return "/registry/configmaps/" + ns + "/" + name }
		resp, err := inst.Etcd.Get(ctx, key("cm-1"))
		if err != nil || len(resp.Kvs) != 1 {
			t.Fatalf("etcd get cm-1: %v (%d kvs)", err, len(resp.Kvs))
		}
		codec := storageCodecOf(resp.Kvs[0].Value)
		put := func(cm *corev1.ConfigMap) {
			t.Helper()
			cm.ResourceVersion = ""
			data, err := runtime.Encode(codec, cm)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := inst.Etcd.Put(ctx, key(cm.Name), string(data)); err != nil {
				t.Fatalf("etcd put %s: %v", cm.Name, err)
			}
		}
		obj, err := runtime.Decode(scheme.Codecs.UniversalDeserializer(), resp.Kvs[0].Value)
		if err != nil {
			t.Fatal(err)
		}
		cm1 := obj.(*corev1.ConfigMap)
		cm1.Data = map[string]string{"v": "offline"}
		put(cm1)
		added := cm1.DeepCopy()
		added.Name, added.UID = "offline-added", "offline-added-uid"
		put(added)
		if _, err := inst.Etcd.Delete(ctx, key("cm-2")); err != nil {
			t.Fatalf("etcd delete cm-2: %v", err)
		}
		// Several more writes so that the compacted revision is well past
		// the informer's.
		for i := range 5 {
			if _, err := inst.Etcd.Put(ctx, "/unrelated/"+strconv.Itoa(i), "x"); err != nil {
				t.Fatal(err)
			}
		}
		cur, err := inst.Etcd.Get(ctx, "/unrelated/0")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := inst.Etcd.Compact(ctx, cur.Header.Revision, clientv3.WithCompactPhysical()); err != nil {
			t.Fatalf("compact: %v", err)
		}
		inst.Restart(t)

		converged(t, cs, ns, inf.GetStore(), log, 45*time.Second)
		if got := log.snapshot()["cm-1"]; got != "offline" {
			t.Errorf("cm-1 = %q after relist, want the value written while the apiserver was down", got)
		}
		t.Logf("after the restart: %d watches ended with 410 Gone, %d LISTs", counter.gone.Load()-goneBefore, counter.lists.Load()-listsBefore)
		if g := counter.gone.Load() - goneBefore; g < 1 {
			t.Errorf("no watch of the informer ended with a 410 Gone ERROR event after the restart")
		}
		if l := counter.lists.Load() - listsBefore; l < 1 {
			t.Errorf("informer made no LIST after the restart: it did not relist on 410 Gone")
		}
		// The informer keeps working after the relist.
		mk("after-restart", "1")
		setValue(ctx, t, cs, ns, "cm-0", "final")
		if err := cms.Delete(ctx, "cm-1", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		converged(t, cs, ns, inf.GetStore(), log, 15*time.Second)
	})
}

// storageCodecOf returns a codec writing what the apiserver stores in etcd,
// judged from a stored value: Kubernetes protobuf or JSON.
func storageCodecOf(stored []byte) runtime.Codec {
	if bytes.HasPrefix(stored, []byte("k8s\x00")) {
		pb := protobuf.NewSerializer(scheme.Scheme, scheme.Scheme)
		return scheme.Codecs.CodecForVersions(pb, pb, corev1.SchemeGroupVersion, corev1.SchemeGroupVersion)
	}
	return scheme.Codecs.LegacyCodec(corev1.SchemeGroupVersion)
}

func ptrTo[T any](v T) *T { return &v }
