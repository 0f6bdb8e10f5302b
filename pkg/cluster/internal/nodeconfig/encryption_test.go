package nodeconfig

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// apiServerCommand returns the kube-apiserver static pod's command.
func apiServerCommand(t *testing.T, doc string) []string {
	t.Helper()
	c, nodes := cluster(t, doc)
	files, err := StaticPods(c, nodes[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f.Path, "/kube-apiserver.yaml") {
			var pod corev1.Pod
			if err := yaml.UnmarshalStrict(f.Data, &pod); err != nil {
				t.Fatal(err)
			}
			// The pki directory the configuration lives in is mounted.
			if !slices.ContainsFunc(pod.Spec.Containers[0].VolumeMounts, func(m corev1.VolumeMount) bool {
				return strings.HasPrefix(EncryptionConfigPath, m.MountPath+"/")
			}) {
				t.Fatalf("no mount holds %s", EncryptionConfigPath)
			}
			return pod.Spec.Containers[0].Command
		}
	}
	t.Fatal("no kube-apiserver.yaml")
	return nil
}

func TestEncryptionAtRestFlag(t *testing.T) {
	t.Parallel()
	flag := "--encryption-provider-config=" + EncryptionConfigPath
	if cmd := apiServerCommand(t, "kind: Cluster\napiVersion: kinc.dev/v1alpha4\nencryptionAtRest: {provider: aesgcm}\n"); !slices.Contains(cmd, flag) {
		t.Fatalf("command %v lacks %s", cmd, flag)
	}
	if cmd := apiServerCommand(t, "kind: Cluster\napiVersion: kinc.dev/v1alpha4\n"); slices.ContainsFunc(cmd, func(a string) bool {
		return strings.HasPrefix(a, "--encryption-provider-config")
	}) {
		t.Fatalf("command %v encrypts without encryptionAtRest", cmd)
	}
	// kubeadm's way still works: the user's own file, mounted under the
	// pki directory with extraMounts.
	own := "/etc/kubernetes/pki/my-encryption.yaml"
	cmd := apiServerCommand(t, `kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
- role: control-plane
  extraMounts:
  - {hostPath: /tmp/enc.yaml, containerPath: `+own+`, readOnly: true}
kubeadmConfigPatches:
- |
  kind: ClusterConfiguration
  apiServer:
    extraArgs:
      encryption-provider-config: `+own+`
`)
	if !slices.Contains(cmd, "--encryption-provider-config="+own) {
		t.Fatalf("command %v lacks the user's configuration", cmd)
	}
}
