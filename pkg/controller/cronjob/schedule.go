package cronjob

import (
	"errors"
	"fmt"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/record"

	"github.com/kinc-dev/kinc/pkg/internal/cron"
)

// nextScheduleDelta pads requeues past the scheduled time, against clock
// skew (upstream's 100 ms).
const nextScheduleDelta = 100 * time.Millisecond

// tooManyMissed is the number of missed start times past which upstream
// warns with TooManyMissedTimes.
const tooManyMissed = 100

// formatSchedule is the schedule to parse: spec.schedule, prefixed with
// "TZ=<spec.timeZone> " when the zone is known. A schedule with its own
// TZ= or CRON_TZ= is used as is, with upstream's UnsupportedSchedule
// warning when recorder is not nil.
func formatSchedule(cj *batchv1.CronJob, recorder record.EventRecorder) string {
	if strings.Contains(cj.Spec.Schedule, "TZ") {
		if recorder != nil {
			recorder.Eventf(cj, corev1.EventTypeWarning, "UnsupportedSchedule", "CRON_TZ or TZ used in schedule %q is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details", cj.Spec.Schedule)
		}
		return cj.Spec.Schedule
	}
	if cj.Spec.TimeZone != nil {
		if _, err := time.LoadLocation(*cj.Spec.TimeZone); err != nil {
			return cj.Spec.Schedule
		}
		return fmt.Sprintf("TZ=%s %s", *cj.Spec.TimeZone, cj.Spec.Schedule)
	}
	return cj.Spec.Schedule
}

// parseSchedule parses with the parser the apiserver validates with,
// turning a panic into an error as upstream does.
func parseSchedule(spec string) (s cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("invalid schedule format: %v", r)
		}
	}()
	return cron.ParseStandard(spec)
}

// errScheduleTooDense: two start times less than a second apart, from a
// schedule that parses but makes no sense (upstream's message).
var errScheduleTooDense = errors.New("time difference between two schedules is less than 1 second")

// mostRecentScheduleTime is upstream's: it returns the time scheduling
// counts from (the last schedule time, else the creation time, moved up to
// now-startingDeadlineSeconds when withDeadline), the latest start time
// not after now that has not been scheduled (nil when none), and how many
// start times were missed (roughly, as upstream: from the interval between
// the first two).
func mostRecentScheduleTime(cj *batchv1.CronJob, now time.Time, sched cron.Schedule, withDeadline bool) (time.Time, *time.Time, int64, error) {
	earliest := cj.CreationTimestamp.Time
	if cj.Status.LastScheduleTime != nil {
		earliest = cj.Status.LastScheduleTime.Time
	}
	if withDeadline && cj.Spec.StartingDeadlineSeconds != nil {
		if deadline := now.Add(-time.Duration(*cj.Spec.StartingDeadlineSeconds) * time.Second); deadline.After(earliest) {
			earliest = deadline
		}
	}
	t1 := sched.Next(earliest)
	t2 := sched.Next(t1)
	if now.Before(t1) {
		return earliest, nil, 0, nil
	}
	if now.Before(t2) {
		return earliest, &t1, 0, nil
	}
	between := int64(t2.Sub(t1).Round(time.Second).Seconds())
	if between < 1 {
		return earliest, nil, 0, errScheduleTooDense
	}
	missed := int64(now.Sub(t1).Seconds())/between + 1
	var latest time.Time
	for t := sched.Next(t1.Add(time.Duration((missed-2)*between) * time.Second)); !t.After(now) && !t.IsZero(); t = sched.Next(t) {
		latest = t
	}
	if latest.IsZero() {
		return earliest, nil, missed, nil
	}
	return earliest, &latest, missed, nil
}

// nextScheduleTimeDuration is how long until the next start time (plus
// nextScheduleDelta), counted from now; false when the schedule never
// fires again (within the parser's five years).
func nextScheduleTimeDuration(cj *batchv1.CronJob, now time.Time, sched cron.Schedule) (time.Duration, bool) {
	earliest, latest, missed, err := mostRecentScheduleTime(cj, now, sched, false)
	switch {
	case err != nil:
		latest = &now
	case latest == nil && missed == 0:
		latest = &earliest
	case latest == nil:
		latest = &now
	}
	next := sched.Next(*latest)
	if next.IsZero() {
		return 0, false
	}
	return next.Add(nextScheduleDelta).Sub(now), true
}

// nextScheduleTime returns the start time to act on now (nil when none),
// recording TooManyMissedTimes when more than 100 were missed.
func nextScheduleTime(cj *batchv1.CronJob, now time.Time, sched cron.Schedule, recorder record.EventRecorder) (*time.Time, error) {
	_, latest, missed, err := mostRecentScheduleTime(cj, now, sched, true)
	if latest == nil || latest.After(now) {
		return nil, err
	}
	if missed > tooManyMissed {
		recorder.Eventf(cj, corev1.EventTypeWarning, "TooManyMissedTimes", "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew")
	}
	return latest, err
}
