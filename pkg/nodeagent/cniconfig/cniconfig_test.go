package cniconfig

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kinc-dev/kinc/pkg/controller/controllertest"
)

// golden is the file kinc create cluster wrote before the pod ranges came
// from the node-ipam-controller: the format must not change.
const golden = `{
  "cniVersion": "1.0.0",
  "name": "kinc",
  "plugins": [
    {
      "bridge": "kinc0",
      "hairpinMode": true,
      "ipMasq": false,
      "ipam": {
        "ranges": [
          [
            {
              "subnet": "10.244.1.0/24"
            }
          ]
        ],
        "routes": [
          {
            "dst": "0.0.0.0/0"
          }
        ],
        "type": "host-local"
      },
      "isGateway": true,
      "type": "bridge"
    },
    {
      "capabilities": {
        "portMappings": true
      },
      "type": "portmap"
    }
  ]
}`

func TestRenderIsTheFormerFile(t *testing.T) {
	got, err := Render([]string{"10.244.1.0/24"})
	if err != nil || string(got) != golden {
		t.Errorf("Render = %s, %v; want\n%s", got, err, golden)
	}
}

// TestRenderDualStack: one range and one default route per family.
func TestRenderDualStack(t *testing.T) {
	got, err := Render([]string{"10.244.1.0/24", "fd00:10:244:1::/64"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"subnet": "fd00:10:244:1::/64"`, `"dst": "::/0"`, `"dst": "0.0.0.0/0"`} {
		if !strings.Contains(string(got), want) {
			t.Errorf("no %s in\n%s", want, got)
		}
	}
	for _, bad := range [][]string{nil, {"10.244.1.0"}} {
		if _, err := Render(bad); err == nil {
			t.Errorf("Render(%q): no error", bad)
		}
	}
}

// TestWriteFile: the directory is created, the mode set, no temporary
// file left behind, and unchanged content not written again.
func TestWriteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "net.d", "10-kinc.conflist")
	for i, want := range []bool{true, false} {
		changed, err := WriteFile(path, []byte("one"), 0o644)
		if err != nil || changed != want {
			t.Fatalf("write %d: changed %v, %v; want %v", i, changed, err, want)
		}
	}
	if changed, err := WriteFile(path, []byte("two"), 0o644); err != nil || !changed {
		t.Fatalf("new content: changed %v, %v", changed, err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("stat: %v, %v", st, err)
	}
	if data, _ := os.ReadFile(path); string(data) != "two" {
		t.Errorf("content %q", data)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %v", entries)
	}
}

func newNode(name string, cidrs ...string) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if len(cidrs) > 0 {
		n.Spec.PodCIDR, n.Spec.PodCIDRs = cidrs[0], cidrs
	}
	return n
}

// TestSyncWaitsForPodRange: nothing is written until the Node has a
// range; then the file is; the Node gone leaves it.
func TestSyncWaitsForPodRange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "10-kinc.conflist")
	f := controllertest.New(t, newNode("kinc-worker"))
	c := New(Options{NodeName: "kinc-worker", Client: f.Client, Path: path, Logger: f.Logger})
	if _, err := c.newLoop(f.Informers); err != nil {
		t.Fatal(err)
	}
	f.MustSync(c.sync, "kinc-worker")
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("written before the node had a range: %v", err)
	}
	f.SeedCache(newNode("kinc-worker", "10.244.1.0/24"))
	f.MustSync(c.sync, "kinc-worker")
	if data, err := os.ReadFile(path); err != nil || string(data) != golden {
		t.Errorf("file %s, %v", data, err)
	}
	if err := f.Informers.Core().V1().Nodes().Informer().GetIndexer().Delete(newNode("kinc-worker")); err != nil {
		t.Fatal(err)
	}
	f.MustSync(c.sync, "kinc-worker")
	if _, err := os.Stat(path); err != nil {
		t.Errorf("file removed with the node: %v", err)
	}
	f.ExpectActions()
}

// TestSyncUnusableRange: a range that is not a CIDR is logged, not retried,
// and writes nothing.
func TestSyncUnusableRange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "10-kinc.conflist")
	f := controllertest.New(t, newNode("n", "garbage"))
	c := New(Options{NodeName: "n", Client: f.Client, Path: path, Logger: f.Logger})
	if _, err := c.newLoop(f.Informers); err != nil {
		t.Fatal(err)
	}
	f.MustSync(c.sync, "n")
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("written: %v", err)
	}
}

// TestRun: through the informer, the range given after the start is
// written; other Nodes' ranges are not.
func TestRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "10-kinc.conflist")
	f := controllertest.New(t)
	nodes := f.Client.CoreV1().Nodes()
	for _, n := range []*corev1.Node{newNode("self"), newNode("other", "10.244.0.0/24")} {
		if _, err := nodes.Create(f.Ctx, n, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(f.Ctx)
	done := make(chan error, 1)
	go func() {
		done <- New(Options{NodeName: "self", Client: f.Client, Path: path, Logger: f.Logger}).Run(ctx)
	}()
	time.Sleep(100 * time.Millisecond)
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("written from another node's range: %v", err)
	}
	if _, err := nodes.Update(f.Ctx, newNode("self", "10.244.1.0/24"), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if data, err := os.ReadFile(path); err == nil {
			if string(data) != golden {
				t.Errorf("file %s", data)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no file written")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}
