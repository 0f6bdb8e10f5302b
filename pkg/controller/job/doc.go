// Package job is kinc's "job" controller (upstream's job-controller): it
// runs each batch/v1 Job's pods to completion as upstream's does.
//
// For every Job it owns (spec.managedBy unset or "kubernetes.io/job-controller")
// the controller creates pods from spec.template with the Job as their
// controller ownerReference and the batch.kubernetes.io/job-tracking
// finalizer (the template's labels, including the controller-uid and
// job-name ones the apiserver generated, are copied), up to
// spec.parallelism and the completions left; Indexed Jobs get one pod per
// pending index with the batch.kubernetes.io/job-completion-index
// annotation and label, hostname <job>-<index> and the
// JOB_COMPLETION_INDEX environment variable (a fieldRef on that label).
//
// Terminated pods are counted with finalizer-based tracking: a pod's UID is
// first written into status.uncountedTerminatedPods, then its finalizer is
// removed, then it is moved into status.succeeded/failed (Indexed Jobs
// count status.completedIndexes instead). Failed pods are recreated after
// an exponential backoff (10 s doubling, capped at 10 min, as upstream
// 1.37); past spec.backoffLimit, or spec.activeDeadlineSeconds after
// status.startTime, the Job gets FailureTarget, its active pods are
// deleted, then Failed (BackoffLimitExceeded or DeadlineExceeded). Enough
// successes give SuccessCriteriaMet, then Complete with
// status.completionTime once no pod is left to count. spec.podFailurePolicy
// (FailJob, Ignore, Count) and spec.successPolicy are honoured;
// backoffLimitPerIndex, maxFailedIndexes and the FailIndex action are not
// implemented: such a Job is handled as if it had none (its failed
// indexes are retried within the global backoffLimit). A suspended Job has
// its active pods deleted, the Suspended condition and no startTime
// (upstream's MutableSchedulingDirectivesForSuspendedJobs); resuming sets
// startTime again. Events and their messages are upstream's (SuccessfulCreate,
// SuccessfulDelete, FailedCreate, Completed, BackoffLimitExceeded,
// DeadlineExceeded, Suspended, Resumed…).
package job
