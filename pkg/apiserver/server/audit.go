package server

import (
	"log/slog"

	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/apiserver/audit"
	"github.com/kinc-dev/kinc/pkg/apiserver/filters"
)

// auditing is the server's audit policy and log; both nil when auditing is
// off (no --audit-policy-file or no --audit-log-path), as upstream.
type auditing struct {
	policy *audit.Policy
	log    *audit.Log
}

// newAuditing loads --audit-policy-file (an error even if no log is
// configured, as upstream) and opens --audit-log-path.
func newAuditing(opts *Options, c clock.PassiveClock, log *slog.Logger) (*auditing, error) {
	a := &auditing{}
	if opts.AuditPolicyFile != "" {
		p, warning, err := audit.LoadPolicy(opts.AuditPolicyFile)
		if err != nil {
			return nil, err
		}
		if warning != "" {
			log.Warn(warning, "file", opts.AuditPolicyFile)
		}
		a.policy = p
	}
	if opts.AuditLogPath == "" {
		return a, nil
	}
	if a.policy == nil {
		log.Info("No audit policy file provided, no events will be recorded for log backend")
		return a, nil
	}
	l, err := audit.OpenLog(opts.auditLogOptions(), c)
	if err != nil {
		return nil, err
	}
	a.log = l
	return a, nil
}

// sink is the filter's sink: nil (auditing off) unless a log is open.
func (a *auditing) sink() filters.AuditSink {
	if a.log == nil {
		return nil
	}
	return a.log
}

func (a *auditing) close() {
	if a.log != nil {
		a.log.Close()
	}
}
