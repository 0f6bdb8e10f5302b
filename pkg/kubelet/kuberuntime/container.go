package kuberuntime

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"

	v1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// containerConfig builds the CRI config of one attempt of container c.
func (m *Manager) containerConfig(ctx context.Context, pod *v1.Pod, c *v1.Container, restartCount int, podIPs []string, init bool) (*runtimeapi.ContainerConfig, error) {
	envs, err := m.containerEnv(ctx, pod, c, podIPs)
	if err != nil {
		return nil, err
	}
	mounts, err := m.containerMounts(pod, c)
	if err != nil {
		return nil, err
	}
	msgMount, err := m.terminationMessageMount(pod, c, restartCount)
	if err != nil {
		return nil, err
	}
	if msgMount != nil {
		mounts = append(mounts, msgMount)
	}
	vars := map[string]string{}
	for _, e := range envs {
		vars[e.Key] = string(e.Value)
	}
	annotations := map[string]string{
		annotationContainerHash:     containerHash(c),
		annotationRestartCount:      strconv.Itoa(restartCount),
		annotationTerminationMsgPth: c.TerminationMessagePath,
	}
	if g := pod.Spec.TerminationGracePeriodSeconds; g != nil {
		annotations[annotationTerminationGrace] = strconv.FormatInt(*g, 10)
	}
	if init {
		annotations[annotationInitContainer] = "true"
	}
	if msgMount != nil {
		annotations[annotationTerminationMsgHost] = msgMount.HostPath
	}
	cfg := &runtimeapi.ContainerConfig{
		Metadata:    &runtimeapi.ContainerMetadata{Name: c.Name, Attempt: uint32(restartCount)},
		Image:       &runtimeapi.ImageSpec{Image: c.Image},
		Command:     expandAll(c.Command, vars),
		Args:        expandAll(c.Args, vars),
		WorkingDir:  c.WorkingDir,
		Envs:        envs,
		Mounts:      mounts,
		Labels:      containerLabels(pod, c),
		Annotations: annotations,
		LogPath:     filepath.Join(c.Name, fmt.Sprintf("%d.log", restartCount)),
		Stdin:       c.Stdin,
		StdinOnce:   c.StdinOnce,
		Tty:         c.TTY,
		Linux: &runtimeapi.LinuxContainerConfig{
			Resources:       m.linuxResources(pod, c),
			SecurityContext: containerSecurityContext(pod, c),
		},
	}
	return cfg, nil
}

func containerSecurityContext(pod *v1.Pod, c *v1.Container) *runtimeapi.LinuxContainerSecurityContext {
	sc := &runtimeapi.LinuxContainerSecurityContext{NamespaceOptions: namespaceOptions(pod), Seccomp: seccompProfile(pod, c)}
	if psc := pod.Spec.SecurityContext; psc != nil {
		if psc.RunAsUser != nil {
			sc.RunAsUser = &runtimeapi.Int64Value{Value: *psc.RunAsUser}
		}
		if psc.RunAsGroup != nil {
			sc.RunAsGroup = &runtimeapi.Int64Value{Value: *psc.RunAsGroup}
		}
		sc.SupplementalGroups = append(sc.SupplementalGroups, psc.SupplementalGroups...)
		if psc.FSGroup != nil {
			sc.SupplementalGroups = append(sc.SupplementalGroups, *psc.FSGroup)
		}
	}
	if csc := c.SecurityContext; csc != nil {
		if csc.Privileged != nil {
			sc.Privileged = *csc.Privileged
		}
		if csc.RunAsUser != nil {
			sc.RunAsUser = &runtimeapi.Int64Value{Value: *csc.RunAsUser}
		}
		if csc.RunAsGroup != nil {
			sc.RunAsGroup = &runtimeapi.Int64Value{Value: *csc.RunAsGroup}
		}
		if csc.ReadOnlyRootFilesystem != nil {
			sc.ReadonlyRootfs = *csc.ReadOnlyRootFilesystem
		}
		if caps := csc.Capabilities; caps != nil {
			sc.Capabilities = &runtimeapi.Capability{}
			for _, c := range caps.Add {
				sc.Capabilities.AddCapabilities = append(sc.Capabilities.AddCapabilities, string(c))
			}
			for _, c := range caps.Drop {
				sc.Capabilities.DropCapabilities = append(sc.Capabilities.DropCapabilities, string(c))
			}
		}
		if csc.AllowPrivilegeEscalation != nil {
			sc.NoNewPrivs = !*csc.AllowPrivilegeEscalation
		}
	}
	return sc
}

// seccompProfile maps the container's (else the pod's) seccompProfile to
// CRI; nil (the runtime's default: unconfined) when neither sets one.
// Privileged containers run unconfined, as upstream.
func seccompProfile(pod *v1.Pod, c *v1.Container) *runtimeapi.SecurityProfile {
	var p *v1.SeccompProfile
	if pod.Spec.SecurityContext != nil {
		p = pod.Spec.SecurityContext.SeccompProfile
	}
	if c != nil && c.SecurityContext != nil {
		if c.SecurityContext.SeccompProfile != nil {
			p = c.SecurityContext.SeccompProfile
		}
		if c.SecurityContext.Privileged != nil && *c.SecurityContext.Privileged {
			return &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Unconfined}
		}
	}
	if p == nil {
		return nil
	}
	switch p.Type {
	case v1.SeccompProfileTypeRuntimeDefault:
		return &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_RuntimeDefault}
	case v1.SeccompProfileTypeLocalhost:
		ref := ""
		if p.LocalhostProfile != nil {
			ref = *p.LocalhostProfile
		}
		return &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Localhost, LocalhostRef: ref}
	}
	return &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Unconfined}
}
