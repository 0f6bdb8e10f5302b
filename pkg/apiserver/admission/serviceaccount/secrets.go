package serviceaccount

import (
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
)

// referencesSecrets tells whether pod names a Secret anywhere upstream's
// VisitPodSecretNames looks: image pull secrets, volumes (secret,
// projected secrets, and the volume plugins' secret references) and the
// environment of every container.
func referencesSecrets(pod *corev1.Pod) bool {
	if len(pod.Spec.ImagePullSecrets) > 0 {
		return true
	}
	for _, v := range pod.Spec.Volumes {
		if volumeSecret(v.VolumeSource) {
			return true
		}
	}
	var envs [][]corev1.EnvVar
	var froms [][]corev1.EnvFromSource
	for _, c := range pod.Spec.InitContainers {
		envs, froms = append(envs, c.Env), append(froms, c.EnvFrom)
	}
	for _, c := range pod.Spec.Containers {
		envs, froms = append(envs, c.Env), append(froms, c.EnvFrom)
	}
	for _, c := range pod.Spec.EphemeralContainers {
		envs, froms = append(envs, c.Env), append(froms, c.EnvFrom)
	}
	for _, env := range envs {
		for _, e := range env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				return true
			}
		}
	}
	for _, from := range froms {
		for _, f := range from {
			if f.SecretRef != nil {
				return true
			}
		}
	}
	return false
}

func volumeSecret(v corev1.VolumeSource) bool {
	switch {
	case v.Secret != nil,
		v.AzureFile != nil,
		v.CephFS != nil && v.CephFS.SecretRef != nil,
		v.Cinder != nil && v.Cinder.SecretRef != nil,
		v.FlexVolume != nil && v.FlexVolume.SecretRef != nil,
		v.ISCSI != nil && v.ISCSI.SecretRef != nil,
		v.RBD != nil && v.RBD.SecretRef != nil,
		v.ScaleIO != nil && v.ScaleIO.SecretRef != nil,
		v.StorageOS != nil && v.StorageOS.SecretRef != nil,
		v.CSI != nil && v.CSI.NodePublishSecretRef != nil:
		return true
	}
	if v.Projected != nil {
		for _, s := range v.Projected.Sources {
			if s.Secret != nil {
				return true
			}
		}
	}
	return false
}

// EnforceMountableSecretsAnnotation on a ServiceAccount ("true") limits its
// pods to the Secrets it lists (secrets, imagePullSecrets), as upstream.
const EnforceMountableSecretsAnnotation = "kubernetes.io/enforce-mountable-secrets"

func enforceMountableSecrets(sa *corev1.ServiceAccount) bool {
	v, err := strconv.ParseBool(sa.Annotations[EnforceMountableSecretsAnnotation])
	return err == nil && v
}

// limitSecretReferences refuses a pod of sa that references a Secret sa
// does not list: secret volumes and the environment of its init containers
// and containers against sa.secrets, its image pull secrets against
// sa.imagePullSecrets (ephemeral containers: see limitEphemeralSecrets).
// The messages are upstream's.
func limitSecretReferences(sa *corev1.ServiceAccount, pod *corev1.Pod) error {
	mountable := mountableSecrets(sa)
	for _, v := range pod.Spec.Volumes {
		if v.Secret != nil && !mountable[v.Secret.SecretName] {
			return fmt.Errorf("volume with secret.secretName=\"%s\" is not allowed because service account %s does not reference that secret", v.Secret.SecretName, sa.Name)
		}
	}
	for _, group := range []struct {
		what       string
		containers []corev1.Container
	}{{"init container", pod.Spec.InitContainers}, {"container", pod.Spec.Containers}} {
		for _, c := range group.containers {
			if err := envSecrets(group.what, c.Name, c.Env, c.EnvFrom, mountable, sa.Name); err != nil {
				return err
			}
		}
	}
	pull := map[string]bool{}
	for _, s := range sa.ImagePullSecrets {
		pull[s.Name] = true
	}
	for i, ref := range pod.Spec.ImagePullSecrets {
		if !pull[ref.Name] {
			return fmt.Errorf(`imagePullSecrets[%d].name="%s" is not allowed because service account %s does not reference that imagePullSecret`, i, ref.Name, sa.Name)
		}
	}
	return nil
}

// limitEphemeralSecrets is limitSecretReferences for the ephemeral
// containers of a pods/ephemeralcontainers update.
func limitEphemeralSecrets(sa *corev1.ServiceAccount, pod *corev1.Pod) error {
	mountable := mountableSecrets(sa)
	for _, c := range pod.Spec.EphemeralContainers {
		if err := envSecrets("ephemeral container", c.Name, c.Env, c.EnvFrom, mountable, sa.Name); err != nil {
			return err
		}
	}
	return nil
}

func mountableSecrets(sa *corev1.ServiceAccount) map[string]bool {
	out := map[string]bool{}
	for _, s := range sa.Secrets {
		out[s.Name] = true
	}
	return out
}

func envSecrets(what, container string, env []corev1.EnvVar, from []corev1.EnvFromSource, mountable map[string]bool, sa string) error {
	for _, e := range env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && !mountable[e.ValueFrom.SecretKeyRef.Name] {
			return fmt.Errorf("%s %s with envVar %s referencing secret.secretName=\"%s\" is not allowed because service account %s does not reference that secret", what, container, e.Name, e.ValueFrom.SecretKeyRef.Name, sa)
		}
	}
	for _, f := range from {
		if f.SecretRef != nil && !mountable[f.SecretRef.Name] {
			return fmt.Errorf("%s %s with envFrom referencing secret.secretName=\"%s\" is not allowed because service account %s does not reference that secret", what, container, f.SecretRef.Name, sa)
		}
	}
	return nil
}
