// Package cronjob holds the registry rules of batch/v1 CronJobs: upstream's
// defaults (concurrencyPolicy Allow, suspend false, history limits 3 and 1,
// the job template's pod defaults), the schedule parsed as the cronjob
// controller will parse it (TZ= and CRON_TZ= refused in favour of
// spec.timeZone, except in schedules that already had them), the time zone
// checked against the embedded zone database, the job template validated as
// a Job's, names of at most 52 characters, metadata.generation and the
// status subresource.
package cronjob
