package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"sigs.k8s.io/yaml"

	"github.com/kinc-dev/kinc/pkg/kubelet/kubeletconfig"
)

// Patches is what kinc takes from kubeadmConfigPatches.
type Patches struct {
	// Kubelet are JSON merge patches (RFC 7386) of the kubelet's
	// KubeletConfiguration, in order, without apiVersion and kind.
	Kubelet [][]byte
	// CertSANs are extra apiserver certificate SANs.
	CertSANs []string
	// APIServerArgs, ControllerManagerArgs, SchedulerArgs and EtcdArgs are
	// extra flags of the static pods, by flag name without dashes; later
	// patches win.
	APIServerArgs         map[string]string
	ControllerManagerArgs map[string]string
	SchedulerArgs         map[string]string
	EtcdArgs              map[string]string
	// InitNodeLabels and JoinNodeLabels come from InitConfiguration's and
	// JoinConfiguration's nodeRegistration.kubeletExtraArgs node-labels: as
	// with kubeadm, the first apply to the control-plane node, the second
	// to the other nodes.
	InitNodeLabels map[string]string
	JoinNodeLabels map[string]string
}

const kubeadmGroup = "kubeadm.k8s.io/"

// ParsePatches maps kubeadmConfigPatches onto Patches. A document kinc
// cannot honour (another kind, a field it does not map) is an error naming
// it; all errors are reported together.
func ParsePatches(docs []string) (*Patches, error) {
	p := &Patches{}
	var errs []error
	for i, doc := range docs {
		if err := p.add(doc); err != nil {
			errs = append(errs, fmt.Errorf("kubeadmConfigPatches[%d]: %w", i, err))
		}
	}
	return p, errors.Join(errs...)
}

func (p *Patches) add(doc string) error {
	var tm struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
		return fmt.Errorf("not a YAML document: %w", err)
	}
	kubeadmVersion := tm.APIVersion == "" || strings.HasPrefix(tm.APIVersion, kubeadmGroup)
	switch {
	case tm.Kind == "KubeletConfiguration" && (tm.APIVersion == "" || tm.APIVersion == kubeletconfig.APIVersion):
		return p.addKubelet(doc)
	case tm.Kind == "ClusterConfiguration" && kubeadmVersion:
		return p.addClusterConfiguration(doc)
	case (tm.Kind == "InitConfiguration" || tm.Kind == "JoinConfiguration") && kubeadmVersion:
		return p.addNodeRegistration(doc, tm.Kind)
	case tm.Kind == "":
		return errors.New("the patch has no kind")
	default:
		return fmt.Errorf("kind %q (apiVersion %q) is not supported by kinc: it patches KubeletConfiguration, ClusterConfiguration (apiServer.certSANs, apiServer/controllerManager/scheduler/etcd.local extraArgs) and Init/JoinConfiguration (nodeRegistration.kubeletExtraArgs node-labels)", tm.Kind, tm.APIVersion)
	}
}

func (p *Patches) addKubelet(doc string) error {
	var m map[string]any
	if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
		return fmt.Errorf("KubeletConfiguration: %w", err)
	}
	delete(m, "apiVersion")
	delete(m, "kind")
	data, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("KubeletConfiguration: %w", err)
	}
	if err := checkKubeletPatch(data); err != nil {
		return fmt.Errorf("KubeletConfiguration: %w", err)
	}
	p.Kubelet = append(p.Kubelet, data)
	return nil
}

// checkKubeletPatch runs the kubelet's own strict parser and validation on
// the patch applied to the kubelet's defaults, so that a field kinc's
// kubelet does not know or a value it would refuse (a negative period, an
// address that is not an IP, …) is reported by Validate, with its field
// path. The node's whole rendered configuration is checked again before a
// cluster is created (nodeconfig.Check).
func checkKubeletPatch(patch []byte) error {
	head, err := json.Marshal(map[string]string{"apiVersion": kubeletconfig.APIVersion, "kind": kubeletconfig.Kind})
	if err != nil {
		return err
	}
	doc, err := jsonpatch.MergePatch(head, patch)
	if err != nil {
		return err
	}
	_, err = kubeletconfig.Parse(doc)
	return err
}

// extraArgs accepts kubeadm v1beta3's map and v1beta4's list of name/value.
type extraArgs map[string]string

func (e *extraArgs) UnmarshalJSON(data []byte) error {
	m := map[string]string{}
	if err := json.Unmarshal(data, &m); err == nil {
		*e = m
		return nil
	}
	var list []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	if err := json.Unmarshal(data, &list); err != nil {
		return errors.New("extraArgs must be a map of flag to value or a list of {name, value}")
	}
	for _, a := range list {
		m[a.Name] = a.Value
	}
	*e = m
	return nil
}

type meta struct {
	Name string `json:"name,omitempty"`
}

type clusterConfiguration struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   meta   `json:"metadata"`
	APIServer  struct {
		CertSANs  []string  `json:"certSANs"`
		ExtraArgs extraArgs `json:"extraArgs"`
	} `json:"apiServer"`
	ControllerManager struct {
		ExtraArgs extraArgs `json:"extraArgs"`
	} `json:"controllerManager"`
	Scheduler struct {
		ExtraArgs extraArgs `json:"extraArgs"`
	} `json:"scheduler"`
	Etcd struct {
		Local struct {
			ExtraArgs extraArgs `json:"extraArgs"`
		} `json:"local"`
	} `json:"etcd"`
}

func (p *Patches) addClusterConfiguration(doc string) error {
	var c clusterConfiguration
	if err := yaml.UnmarshalStrict([]byte(doc), &c); err != nil {
		return fmt.Errorf("ClusterConfiguration: kinc maps only apiServer.certSANs and apiServer/controllerManager/scheduler/etcd.local extraArgs: %w", err)
	}
	p.CertSANs = append(p.CertSANs, c.APIServer.CertSANs...)
	p.APIServerArgs = mergeArgs(p.APIServerArgs, c.APIServer.ExtraArgs)
	p.ControllerManagerArgs = mergeArgs(p.ControllerManagerArgs, c.ControllerManager.ExtraArgs)
	p.SchedulerArgs = mergeArgs(p.SchedulerArgs, c.Scheduler.ExtraArgs)
	p.EtcdArgs = mergeArgs(p.EtcdArgs, c.Etcd.Local.ExtraArgs)
	return nil
}

func mergeArgs(dst, src map[string]string) map[string]string {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = map[string]string{}
	}
	for k, v := range src {
		dst[strings.TrimLeft(k, "-")] = v
	}
	return dst
}

type nodeRegistrationConfiguration struct {
	APIVersion       string `json:"apiVersion"`
	Kind             string `json:"kind"`
	Metadata         meta   `json:"metadata"`
	NodeRegistration struct {
		KubeletExtraArgs extraArgs `json:"kubeletExtraArgs"`
	} `json:"nodeRegistration"`
}

func (p *Patches) addNodeRegistration(doc, kind string) error {
	var c nodeRegistrationConfiguration
	if err := yaml.UnmarshalStrict([]byte(doc), &c); err != nil {
		return fmt.Errorf("%s: kinc maps only nodeRegistration.kubeletExtraArgs node-labels: %w", kind, err)
	}
	var unsupported []string
	for name, value := range c.NodeRegistration.KubeletExtraArgs {
		if name != "node-labels" {
			unsupported = append(unsupported, name)
			continue
		}
		labels, err := parseNodeLabels(value)
		if err != nil {
			return fmt.Errorf("%s: nodeRegistration.kubeletExtraArgs node-labels: %w", kind, err)
		}
		dst := &p.JoinNodeLabels
		if kind == "InitConfiguration" {
			dst = &p.InitNodeLabels
		}
		if *dst == nil {
			*dst = map[string]string{}
		}
		for k, v := range labels {
			(*dst)[k] = v
		}
	}
	if len(unsupported) > 0 {
		sort.Strings(unsupported)
		return fmt.Errorf("%s: nodeRegistration.kubeletExtraArgs %s not supported by kinc (only node-labels; use KubeletConfiguration patches)", kind, strings.Join(unsupported, ", "))
	}
	return nil
}

// parseNodeLabels parses the kubelet's --node-labels value "k=v,k2=v2".
func parseNodeLabels(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		if strings.TrimSpace(kv) == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("%q is not key=value", kv)
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, nil
}
