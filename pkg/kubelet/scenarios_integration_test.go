package kubelet_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/kinc-dev/kinc/internal/testenv"
	"github.com/kinc-dev/kinc/pkg/kubelet/containerdtest"
)

// TestIntegrationKubelet runs the kubelet against a private containerd
// (pod network through bridge/host-local CNI) and a real kube-apiserver:
// static and mirror pods, API pods with ConfigMap env and volumes, logs
// through the apiserver's pods/log proxy, crash loops, deletion, a kubelet
// restart that keeps containers, and manifest edits and removal.
func TestIntegrationKubelet(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.writeManifest("static-web.yaml", staticManifest("static-v1"))
	e.startKubelet()
	mirrorName := "static-web-" + nodeName

	// The static pod runs and its mirror pod shows it.
	var mirror *v1.Pod
	eventually(t, "mirror pod running", 60*time.Second, func() (err error) {
		if mirror, err = e.pod("kube-system", mirrorName); err != nil {
			return err
		}
		return running(mirror)
	})
	a := mirror.Annotations
	if a["kubernetes.io/config.source"] != "file" || a["kubernetes.io/config.mirror"] == "" || a["kubernetes.io/config.hash"] != a["kubernetes.io/config.mirror"] ||
		a["kubernetes.io/config.seen"] == "" || len(mirror.OwnerReferences) != 1 || mirror.OwnerReferences[0].Kind != "Node" {
		t.Errorf("mirror pod metadata = %+v", mirror.ObjectMeta)
	}
	if mirror.Status.PodIP != "127.0.0.1" || mirror.Status.HostIP != "127.0.0.1" || mirror.Status.StartTime == nil {
		t.Errorf("mirror pod status = %+v", mirror.Status)
	}

	t.Run("node and lease", func(t *testing.T) {
		node, err := e.client.CoreV1().Nodes().Get(ctx, nodeName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if node.Labels["kubernetes.io/hostname"] != nodeName || node.Labels["kubernetes.io/os"] != "linux" ||
			node.Labels["node-role.kubernetes.io/control-plane"] != "" || len(node.Spec.Taints) != 1 {
			t.Errorf("node metadata %v taints %v", node.Labels, node.Spec.Taints)
		}
		var ready *v1.NodeCondition
		for i := range node.Status.Conditions {
			if node.Status.Conditions[i].Type == v1.NodeReady {
				ready = &node.Status.Conditions[i]
			}
		}
		if ready == nil || ready.Status != v1.ConditionTrue || ready.Reason != "KubeletReady" {
			t.Errorf("Ready condition = %+v", ready)
		}
		if node.Status.DaemonEndpoints.KubeletEndpoint.Port == 0 || !strings.HasPrefix(node.Status.NodeInfo.ContainerRuntimeVersion, "containerd://") ||
			node.Status.Capacity.Cpu().IsZero() || node.Status.Capacity.Memory().IsZero() || node.Status.NodeInfo.OSImage == "" {
			t.Errorf("node status = %+v", node.Status)
		}
		var lease *coordinationv1.Lease
		eventually(t, "node lease", 20*time.Second, func() (err error) {
			lease, err = e.client.CoordinationV1().Leases("kube-node-lease").Get(ctx, nodeName, metav1.GetOptions{})
			return err
		})
		if *lease.Spec.HolderIdentity != nodeName || *lease.Spec.LeaseDurationSeconds != 40 {
			t.Errorf("lease = %+v", lease.Spec)
		}
	})

	t.Run("static pod logs through the apiserver", func(t *testing.T) {
		eventually(t, "logs", 20*time.Second, func() error {
			out, err := podLogs(e.client, "kube-system", mirrorName, &v1.PodLogOptions{})
			if err != nil {
				return err
			}
			if out != "static-v1\n" {
				return fmt.Errorf("logs = %q", out)
			}
			return nil
		})
	})

	t.Run("API pod with pod network, configmap env and volumes", func(t *testing.T) {
		_, err := e.client.CoreV1().ConfigMaps("default").Create(ctx, &v1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg"},
			Data: map[string]string{"greeting": "hello-from-configmap", "file.txt": "file-content\n"}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "app"}, Spec: v1.PodSpec{NodeName: nodeName,
			Tolerations: []v1.Toleration{{Operator: v1.TolerationOpExists}},
			Containers: []v1.Container{{Name: "app", Image: containerdtest.TestImage, ImagePullPolicy: v1.PullNever,
				Command: []string{"/testbin"}, Args: []string{"echo", "$(GREETING)", "$(KUBERNETES_SERVICE_HOST):$(KUBERNETES_SERVICE_PORT)", "--", "cat", "/etc/cfg/file.txt", "/etc/sec/password", "/etc/info/labels", "--", "echo", "--", "sleep", "inf"},
				Env: []v1.EnvVar{{Name: "GREETING", ValueFrom: &v1.EnvVarSource{ConfigMapKeyRef: &v1.ConfigMapKeySelector{
					LocalObjectReference: v1.LocalObjectReference{Name: "cfg"}, Key: "greeting"}}}},
				VolumeMounts: []v1.VolumeMount{{Name: "cfg", MountPath: "/etc/cfg"}, {Name: "scratch", MountPath: "/scratch"},
					{Name: "sec", MountPath: "/etc/sec"}, {Name: "info", MountPath: "/etc/info"}}}},
			Volumes: []v1.Volume{
				{Name: "cfg", VolumeSource: v1.VolumeSource{ConfigMap: &v1.ConfigMapVolumeSource{LocalObjectReference: v1.LocalObjectReference{Name: "cfg"}}}},
				{Name: "scratch", VolumeSource: v1.VolumeSource{EmptyDir: &v1.EmptyDirVolumeSource{}}},
				{Name: "sec", VolumeSource: v1.VolumeSource{Secret: &v1.SecretVolumeSource{SecretName: "sec"}}},
				{Name: "info", VolumeSource: v1.VolumeSource{Projected: &v1.ProjectedVolumeSource{Sources: []v1.VolumeProjection{
					{DownwardAPI: &v1.DownwardAPIProjection{Items: []v1.DownwardAPIVolumeFile{{Path: "labels", FieldRef: &v1.ObjectFieldSelector{FieldPath: "metadata.labels"}}}}}}}}},
			}}}
		pod.Labels = map[string]string{"app": "demo"}
		if _, err := e.client.CoreV1().Secrets("default").Create(ctx, &v1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "sec"},
			Data: map[string][]byte{"password": []byte("s3cret\n")}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		svc, err := e.client.CoreV1().Services("default").Get(ctx, "kubernetes", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		master := fmt.Sprintf("%s:%d", svc.Spec.ClusterIP, svc.Spec.Ports[0].Port)
		created, err := e.client.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var got *v1.Pod
		eventually(t, "app running", 60*time.Second, func() (err error) {
			if got, err = e.pod("default", "app"); err != nil {
				return err
			}
			return running(got)
		})
		if !strings.HasPrefix(got.Status.PodIP, "10.251.0.") || len(got.Status.Conditions) < 5 || got.Status.QOSClass != v1.PodQOSBestEffort {
			t.Errorf("status = %+v", got.Status)
		}
		eventually(t, "app logs", 20*time.Second, func() error {
			out, err := podLogs(e.client, "default", "app", &v1.PodLogOptions{})
			if err != nil {
				return err
			}
			if out != "hello-from-configmap "+master+"\nfile-content\ns3cret\napp=\"demo\"\n" {
				return fmt.Errorf("logs = %q", out)
			}
			return nil
		})
		tailOne := int64(1)
		if out, err := podLogs(e.client, "default", "app", &v1.PodLogOptions{TailLines: &tailOne, Timestamps: true}); err != nil ||
			!strings.HasSuffix(out, " app=\"demo\"\n") {
			t.Errorf("tail with timestamps = %q, %v", out, err)
		}

		// Deleting it stops its containers within the grace period; the
		// kubelet then deletes the object for good.
		grace := int64(5)
		if err := e.client.CoreV1().Pods("default").Delete(ctx, "app", metav1.DeleteOptions{GracePeriodSeconds: &grace}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "app deleted", 30*time.Second, func() error {
			p, err := e.pod("default", "app")
			if apierrors.IsNotFound(err) {
				return nil
			}
			if err == nil && p.UID != created.UID {
				return nil
			}
			return fmt.Errorf("pod still there: %v", err)
		})
		for _, sb := range e.sandboxes() {
			if sb.Metadata.Name == "app" {
				t.Errorf("sandbox of the deleted pod still ready: %s", sb.Id)
			}
		}
	})

	t.Run("crash loop", func(t *testing.T) {
		pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "crash"}, Spec: v1.PodSpec{NodeName: nodeName, HostNetwork: true,
			Containers: []v1.Container{{Name: "c", Image: containerdtest.TestImage, ImagePullPolicy: v1.PullNever,
				Command: []string{"/testbin"}, Args: []string{"echo", "dying", "--", "write", "/dev/termination-log", "goodbye", "--", "exit", "3"},
				TerminationMessagePath: "/dev/termination-log"}}}}
		if _, err := e.client.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "CrashLoopBackOff", 60*time.Second, func() error {
			p, err := e.pod("default", "crash")
			if err != nil {
				return err
			}
			if len(p.Status.ContainerStatuses) == 0 {
				return fmt.Errorf("no container status")
			}
			cs := p.Status.ContainerStatuses[0]
			if cs.State.Waiting == nil || cs.State.Waiting.Reason != "CrashLoopBackOff" || cs.RestartCount < 1 ||
				cs.LastTerminationState.Terminated == nil || cs.LastTerminationState.Terminated.ExitCode != 3 ||
				cs.LastTerminationState.Terminated.Message != "goodbye" {
				return fmt.Errorf("container status = %+v", cs)
			}
			return nil
		})
		if out, err := podLogs(e.client, "default", "crash", &v1.PodLogOptions{Previous: true}); err != nil || out != "dying\n" {
			t.Errorf("previous logs = %q, %v", out, err)
		}
		eventually(t, "kubelet events", 20*time.Second, func() error {
			evs, err := e.client.CoreV1().Events("default").List(ctx, metav1.ListOptions{})
			if err != nil {
				return err
			}
			reasons := map[string]bool{}
			for _, ev := range evs.Items {
				if ev.InvolvedObject.Name == "crash" && ev.Source.Component == "kubelet" && ev.Source.Host == nodeName {
					reasons[ev.Reason] = true
				}
			}
			for _, r := range []string{"Pulled", "Created", "Started", "BackOff"} {
				if !reasons[r] {
					return fmt.Errorf("no %s event (have %v)", r, reasons)
				}
			}
			return nil
		})
		zero := int64(0)
		_ = e.client.CoreV1().Pods("default").Delete(ctx, "crash", metav1.DeleteOptions{GracePeriodSeconds: &zero})
	})

	t.Run("probes", func(t *testing.T) {
		pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "probed"}, Spec: v1.PodSpec{NodeName: nodeName,
			Containers: []v1.Container{
				{Name: "ready", Image: containerdtest.TestImage, ImagePullPolicy: v1.PullNever, Command: []string{"/testbin"}, Args: []string{"sleep", "inf"},
					ReadinessProbe: &v1.Probe{ProbeHandler: v1.ProbeHandler{Exec: &v1.ExecAction{Command: []string{"/testbin", "cat", "/etc/hostname"}}},
						PeriodSeconds: 1}},
				{Name: "hooked", Image: containerdtest.TestImage, ImagePullPolicy: v1.PullNever, Command: []string{"/testbin"}, Args: []string{"sleep", "inf"},
					Lifecycle: &v1.Lifecycle{PostStart: &v1.LifecycleHandler{Exec: &v1.ExecAction{Command: []string{"/testbin", "write", "/tmp/started", "yes"}}}},
					ReadinessProbe: &v1.Probe{ProbeHandler: v1.ProbeHandler{Exec: &v1.ExecAction{Command: []string{"/testbin", "cat", "/tmp/started"}}},
						PeriodSeconds: 1}},
				{Name: "dead", Image: containerdtest.TestImage, ImagePullPolicy: v1.PullNever, Command: []string{"/testbin"}, Args: []string{"sleep", "inf"},
					LivenessProbe: &v1.Probe{ProbeHandler: v1.ProbeHandler{TCPSocket: &v1.TCPSocketAction{Port: intstr.FromInt32(1)}},
						PeriodSeconds: 1, FailureThreshold: 1}},
			}}}
		if _, err := e.client.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "readiness by exec, restarts by liveness", 60*time.Second, func() error {
			p, err := e.pod("default", "probed")
			if err != nil {
				return err
			}
			if len(p.Status.ContainerStatuses) != 3 {
				return fmt.Errorf("statuses %+v", p.Status.ContainerStatuses)
			}
			if !p.Status.ContainerStatuses[0].Ready {
				return fmt.Errorf("exec readiness not passing: %+v", p.Status.ContainerStatuses[0])
			}
			if !p.Status.ContainerStatuses[1].Ready {
				return fmt.Errorf("postStart hook did not run: %+v", p.Status.ContainerStatuses[1])
			}
			if p.Status.ContainerStatuses[2].RestartCount < 1 || p.Status.ContainerStatuses[2].Ready {
				return fmt.Errorf("liveness did not restart: %+v", p.Status.ContainerStatuses[2])
			}
			return nil
		})
		zero := int64(0)
		_ = e.client.CoreV1().Pods("default").Delete(ctx, "probed", metav1.DeleteOptions{GracePeriodSeconds: &zero})
	})

	t.Run("kubelet restart keeps containers", func(t *testing.T) {
		before, err := e.pod("kube-system", mirrorName)
		if err != nil {
			t.Fatal(err)
		}
		id := before.Status.ContainerStatuses[0].ContainerID
		e.stop()
		e.startKubelet()
		time.Sleep(3 * time.Second) // a few relists
		after, err := e.pod("kube-system", mirrorName)
		if err != nil {
			t.Fatal(err)
		}
		if after.UID != before.UID || after.Status.ContainerStatuses[0].ContainerID != id || after.Status.ContainerStatuses[0].RestartCount != 0 {
			t.Errorf("static pod restarted: before %s %s, after %s %+v", before.UID, id, after.UID, after.Status.ContainerStatuses[0])
		}
	})

	t.Run("edited manifest restarts the static pod", func(t *testing.T) {
		old, _ := e.pod("kube-system", mirrorName)
		e.writeManifest("static-web.yaml", staticManifest("static-v2"))
		eventually(t, "new mirror pod", 60*time.Second, func() error {
			p, err := e.pod("kube-system", mirrorName)
			if err != nil {
				return err
			}
			if p.Annotations["kubernetes.io/config.hash"] == old.Annotations["kubernetes.io/config.hash"] {
				return fmt.Errorf("mirror still has the old hash")
			}
			if err := running(p); err != nil {
				return err
			}
			out, err := podLogs(e.client, "kube-system", mirrorName, &v1.PodLogOptions{})
			if err != nil || out != "static-v2\n" {
				return fmt.Errorf("logs = %q, %v", out, err)
			}
			return nil
		})
		n := 0
		for _, sb := range e.sandboxes() {
			if sb.Metadata.Name == mirrorName {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d ready sandboxes for the static pod, want 1", n)
		}
	})

	t.Run("removed manifest stops the static pod", func(t *testing.T) {
		if err := os.Remove(filepath.Join(e.manifests, "static-web.yaml")); err != nil {
			t.Fatal(err)
		}
		eventually(t, "mirror pod gone", 30*time.Second, func() error {
			if _, err := e.pod("kube-system", mirrorName); !apierrors.IsNotFound(err) {
				return fmt.Errorf("mirror pod still there (%v)", err)
			}
			for _, sb := range e.sandboxes() {
				if sb.Metadata.Name == mirrorName {
					return fmt.Errorf("sandbox still ready")
				}
			}
			return nil
		})
	})
}

// TestIntegrationStandalone runs a static pod without any apiserver.
func TestIntegrationStandalone(t *testing.T) {
	e := newEnvWith(t, nil, standaloneAuth)
	e.opts.Kubeconfig = ""
	e.writeManifest("solo.yaml", strings.Replace(staticManifest("solo"), "static-web", "solo", -1))
	e.startKubelet()
	eventually(t, "solo sandbox", 60*time.Second, func() error {
		for _, sb := range e.sandboxes() {
			if sb.Metadata.Name == "solo-"+nodeName {
				return nil
			}
		}
		return fmt.Errorf("no sandbox yet")
	})
}

// TestIntegrationAPIServerLater starts the kubelet while its apiserver is
// down, as on a control-plane node whose apiserver is itself a static pod:
// static pods run at once; the Node and mirror pods appear once the
// apiserver answers.
func TestIntegrationAPIServerLater(t *testing.T) {
	e := newEnv(t)
	e.api.Stop()
	e.writeManifest("early.yaml", strings.Replace(staticManifest("early"), "static-web", "early", -1))
	e.startKubelet()
	eventually(t, "static pod without apiserver", 60*time.Second, func() error {
		if e.readySandboxes()["early-"+nodeName] != 1 {
			return fmt.Errorf("no sandbox yet")
		}
		return nil
	})
	e.api.Restart(t)
	eventually(t, "mirror pod once the apiserver is up", 60*time.Second, func() error {
		p, err := e.pod("kube-system", "early-"+nodeName)
		if err != nil {
			return err
		}
		return running(p)
	})
	if _, err := e.client.CoreV1().Nodes().Get(context.Background(), nodeName, metav1.GetOptions{}); err != nil {
		t.Errorf("node not registered: %v", err)
	}
}

// TestIntegrationKubectl checks the kubelet's work through the real kubectl.
func TestIntegrationKubectl(t *testing.T) {
	containerdtest.MaybeSkip(t) // -short and the machine first: kubectl is not the first thing missing
	kubectl := testenv.RequireKubectl(t)
	e := newEnv(t)
	e.writeManifest("static-web.yaml", staticManifest("via-kubectl"))
	e.writeManifest("kubeadm-like.yaml", fmt.Sprintf(kubeadmLike, containerdtest.TestImage, filepath.Join(e.dir, "data")))
	e.startKubelet()
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(kubectl, append([]string{"--kubeconfig", e.api.Kubeconfig}, args...)...)
		cmd.Env = append(os.Environ(), "HOME="+e.dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	mirror := "static-web-" + nodeName
	eventually(t, "mirror pod running", 60*time.Second, func() error {
		p, err := e.pod("kube-system", mirror)
		if err != nil {
			return err
		}
		return running(p)
	})
	eventually(t, "kubeadm-like static pod running", 60*time.Second, func() error {
		p, err := e.pod("kube-system", "kubeadm-like-"+nodeName)
		if err != nil {
			return err
		}
		return running(p)
	})
	if _, err := os.Stat(filepath.Join(e.dir, "data")); err != nil {
		t.Errorf("hostPath DirectoryOrCreate: %v", err)
	}
	if out := run("get", "nodes"); !strings.Contains(out, nodeName) || !strings.Contains(out, " Ready ") || !strings.Contains(out, "control-plane") {
		t.Errorf("kubectl get nodes:\n%s", out)
	}
	if out := run("-n", "kube-system", "get", "pods", "-o", "wide"); !strings.Contains(out, mirror) || !strings.Contains(out, "Running") ||
		!strings.Contains(out, "1/1") {
		t.Errorf("kubectl get pods:\n%s", out)
	}
	if out := run("-n", "kube-system", "logs", mirror); out != "via-kubectl\n" {
		t.Errorf("kubectl logs = %q", out)
	}
	// -f follows until the container exits or kubectl is stopped.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, kubectl, "--kubeconfig", e.api.Kubeconfig, "-n", "kube-system", "logs", "-f", "--timestamps", mirror)
	cmd.Env = append(os.Environ(), "HOME="+e.dir)
	out, _ := cmd.Output()
	if !strings.HasSuffix(string(out), " via-kubectl\n") || ctx.Err() == nil {
		t.Errorf("kubectl logs -f = %q (ctx %v): want the line and a stream that stays open", out, ctx.Err())
	}
}

// kubeadmLike has the features of kubeadm's control-plane manifests:
// priority, seccomp RuntimeDefault, probes, requests, hostPath volumes.
const kubeadmLike = `apiVersion: v1
kind: Pod
metadata:
  creationTimestamp: null
  labels:
    component: kubeadm-like
    tier: control-plane
  name: kubeadm-like
  namespace: kube-system
spec:
  containers:
  - command:
    - /testbin
    - sleep
    - inf
    image: %s
    imagePullPolicy: IfNotPresent
    livenessProbe:
      failureThreshold: 8
      httpGet:
        host: 127.0.0.1
        path: /livez
        port: 2381
        scheme: HTTP
      initialDelaySeconds: 10
      periodSeconds: 10
      timeoutSeconds: 15
    name: kubeadm-like
    resources:
      requests:
        cpu: 100m
        memory: 100Mi
    volumeMounts:
    - mountPath: /var/lib/data
      name: data
  hostNetwork: true
  priority: 2000001000
  priorityClassName: system-node-critical
  securityContext:
    seccompProfile:
      type: RuntimeDefault
  volumes:
  - hostPath:
      path: %s
      type: DirectoryOrCreate
    name: data
status: {}
`
