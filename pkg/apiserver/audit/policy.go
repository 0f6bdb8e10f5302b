package audit

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"github.com/kinc-dev/kinc/pkg/apiserver/authz"
)

// RequestConfig is what a policy decides for one request.
type RequestConfig struct {
	Level             Level
	OmitStages        []Stage
	OmitManagedFields bool
}

// Omits reports whether events of stage s are left out.
func (c RequestConfig) Omits(s Stage) bool { return slices.Contains(c.OmitStages, s) }

// LoadPolicy reads and checks an audit.k8s.io/v1 Policy file (YAML or
// JSON). Unknown fields are tolerated, as upstream's lenient decoding, and
// returned as a warning; a missing or other apiVersion, an invalid rule or
// a policy without rules is an error naming the file.
func LoadPolicy(path string) (p *Policy, warning string, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("failed to read audit policy file: %w", err)
	}
	p, warning, err = ParsePolicy(data)
	if err != nil {
		return nil, "", fmt.Errorf("%w: from file %s", err, path)
	}
	return p, warning, nil
}

// ParsePolicy decodes and validates a policy, as LoadPolicy.
func ParsePolicy(data []byte) (*Policy, string, error) {
	p := &Policy{}
	var warning string
	if err := yaml.UnmarshalStrict(data, p); err != nil {
		p = &Policy{}
		if lerr := yaml.Unmarshal(data, p); lerr != nil {
			return nil, "", fmt.Errorf("failed decoding: %w", lerr)
		}
		warning = fmt.Sprintf("audit policy contains errors, falling back to lenient decoding: %v", err)
	}
	if p.APIVersion != GroupVersion || p.Kind != "Policy" {
		return nil, "", fmt.Errorf("unknown group version field %q, kind %q in policy: want apiVersion %s, kind Policy", p.APIVersion, p.Kind, GroupVersion)
	}
	if err := p.validate(); err != nil {
		return nil, "", err
	}
	if len(p.Rules) == 0 {
		return nil, "", errors.New("loaded illegal policy with 0 rules")
	}
	return p, warning, nil
}

func (p *Policy) validate() error {
	var errs []error
	errs = append(errs, validateStages(p.OmitStages, "omitStages")...)
	for i, r := range p.Rules {
		at := fmt.Sprintf("rules[%d]", i)
		switch r.Level {
		case LevelNone, LevelMetadata, LevelRequest, LevelRequestResponse:
		case "":
			errs = append(errs, fmt.Errorf("%s.level: Required value", at))
		default:
			errs = append(errs, fmt.Errorf("%s.level: Unsupported value: %q: supported values: \"None\", \"Metadata\", \"Request\", \"RequestResponse\"", at, r.Level))
		}
		for j, u := range r.NonResourceURLs {
			if u == "*" {
				continue
			}
			if !strings.HasPrefix(u, "/") {
				errs = append(errs, fmt.Errorf("%s.nonResourceURLs[%d]: Invalid value: %q: non-resource URL rules must begin with a '/' character", at, j, u))
			}
			if u != "" && strings.Contains(u[:len(u)-1], "*") {
				errs = append(errs, fmt.Errorf("%s.nonResourceURLs[%d]: Invalid value: %q: non-resource URL wildcards '*' must be the final character of the rule", at, j, u))
			}
		}
		for _, gr := range r.Resources {
			if gr.Group != "" && gr.Group != "*" {
				if msgs := validation.IsDNS1123Subdomain(gr.Group); len(msgs) > 0 {
					errs = append(errs, fmt.Errorf("%s.resources.group: Invalid value: %q: %s", at, gr.Group, strings.Join(msgs, ",")))
				}
			}
			if len(gr.ResourceNames) > 0 && len(gr.Resources) == 0 {
				errs = append(errs, fmt.Errorf("%s.resources.resourceNames: Invalid value: %q: using resourceNames requires at least one resource", at, gr.ResourceNames))
			}
		}
		errs = append(errs, validateStages(r.OmitStages, at+".omitStages")...)
		if len(r.NonResourceURLs) > 0 && (len(r.Resources) > 0 || len(r.Namespaces) > 0) {
			errs = append(errs, fmt.Errorf("%s.nonResourceURLs: Invalid value: %q: rules cannot apply to both regular resources and non-resource URLs", at, r.NonResourceURLs))
		}
	}
	return errors.Join(errs...)
}

func validateStages(stages []Stage, at string) []error {
	var errs []error
	for i, s := range stages {
		switch s {
		case StageRequestReceived, StageResponseStarted, StageResponseComplete, StagePanic:
		default:
			errs = append(errs, fmt.Errorf("%s[%d]: Invalid value: %q: allowed stages are RequestReceived,ResponseStarted,ResponseComplete,Panic", at, i, s))
		}
	}
	return errs
}

// Evaluate returns the level of the request a describes (a.User is the
// authenticated user, before impersonation) and the stages to leave out:
// the first matching rule's, the policy's own omitStages added; LevelNone
// when no rule matches. p must not be changed afterwards; Evaluate is safe
// for concurrent use.
func (p *Policy) Evaluate(a authz.Attributes) RequestConfig {
	for i := range p.Rules {
		r := &p.Rules[i]
		if !r.matches(a) {
			continue
		}
		c := RequestConfig{Level: r.Level, OmitManagedFields: p.OmitManagedFields,
			OmitStages: append(slices.Clip(p.OmitStages), r.OmitStages...)}
		if r.OmitManagedFields != nil {
			c.OmitManagedFields = *r.OmitManagedFields
		}
		return c
	}
	return RequestConfig{Level: LevelNone, OmitStages: p.OmitStages, OmitManagedFields: p.OmitManagedFields}
}

func (r *PolicyRule) matches(a authz.Attributes) bool {
	if len(r.Users) > 0 && (a.User == nil || !slices.Contains(r.Users, a.User.Name)) {
		return false
	}
	if len(r.UserGroups) > 0 {
		if a.User == nil || !slices.ContainsFunc(a.User.Groups, func(g string) bool { return slices.Contains(r.UserGroups, g) }) {
			return false
		}
	}
	if len(r.Verbs) > 0 && !slices.Contains(r.Verbs, a.Verb) {
		return false
	}
	if len(r.Namespaces) > 0 || len(r.Resources) > 0 {
		return r.matchesResource(a)
	}
	if len(r.NonResourceURLs) > 0 {
		return !a.IsResourceRequest && slices.ContainsFunc(r.NonResourceURLs, func(spec string) bool { return pathMatches(a.Path, spec) })
	}
	return true
}

func pathMatches(path, spec string) bool {
	if spec == "*" || spec == path {
		return true
	}
	return strings.HasSuffix(spec, "*") && strings.HasPrefix(path, strings.TrimRight(spec, "*"))
}

func (r *PolicyRule) matchesResource(a authz.Attributes) bool {
	if !a.IsResourceRequest {
		return false
	}
	// Cluster-scoped resources have the namespace "".
	if len(r.Namespaces) > 0 && !slices.Contains(r.Namespaces, a.Namespace) {
		return false
	}
	if len(r.Resources) == 0 {
		return true
	}
	combined := a.Resource
	if a.Subresource != "" {
		combined += "/" + a.Subresource
	}
	for _, gr := range r.Resources {
		if gr.Group != a.APIGroup && gr.Group != "*" {
			continue
		}
		if len(gr.Resources) == 0 {
			return true
		}
		if len(gr.ResourceNames) > 0 && !slices.Contains(gr.ResourceNames, a.Name) {
			continue
		}
		for _, res := range gr.Resources {
			switch {
			case res == combined || res == "*":
				return true
			case a.Subresource != "" && strings.HasPrefix(res, "*/") && a.Subresource == strings.TrimPrefix(res, "*/"):
				return true
			case strings.HasSuffix(res, "/*") && a.Resource == strings.TrimSuffix(res, "/*"):
				return true
			}
		}
	}
	return false
}
