// Package job holds the registry rules of batch/v1 Jobs: upstream's
// defaults (completions/parallelism 1, backoffLimit 6, completionMode
// NonIndexed, suspend false, podReplacementPolicy, manualSelector false),
// the generated selector and controller-uid/job-name template labels, the
// restart policy and immutability rules, metadata.generation, the status
// subresource and the status.successful selectable field.
package job
