package serviceaccount

import corev1 "k8s.io/api/core/v1"

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
