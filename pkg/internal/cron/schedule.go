package cron

import "time"

// starBit marks a field written as "*" or "?" (without a step above 1).
// It matters for the day fields only: when either day of month or day of
// week is such a field, a day must match both; otherwise either suffices,
// as in Vixie cron ("0 0 1,15 * mon" fires on the 1st, the 15th and every
// Monday).
const starBit = 1 << 63

// SpecSchedule is a parsed five-field schedule: bit v of a field is set
// when the field allows value v (months 1-12, weekdays 0-6 from Sunday).
type SpecSchedule struct {
	Minute, Hour, Dom, Month, Dow uint64
	// Location is the zone the fields are read in; nil means the location
	// of the time given to Next.
	Location *time.Location
}

// Next implements Schedule. Times are read on the wall clock of the
// schedule's location: a time a daylight-saving jump skips never fires,
// one that occurs twice fires twice.
func (s *SpecSchedule) Next(t time.Time) time.Time {
	orig := t.Location()
	loc := s.Location
	if loc == nil {
		loc = orig
	}
	t = t.In(loc)
	// The first candidate is the next whole minute strictly after t.
	t = t.Add(time.Minute - time.Duration(t.Second())*time.Second - time.Duration(t.Nanosecond()))
	limit := t.Year() + 5
	for t.Year() <= limit {
		var next time.Time
		switch {
		case !has(s.Month, uint(t.Month())):
			next = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, loc)
		case !s.dayMatches(t):
			next = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, loc)
		case !has(s.Hour, uint(t.Hour())):
			next = t.Add(time.Duration(60-t.Minute()) * time.Minute)
		case !has(s.Minute, uint(t.Minute())):
			next = t.Add(time.Minute)
		default:
			return t.In(orig)
		}
		// Around a daylight-saving jump a wall-clock midnight may not
		// exist and resolve to an earlier instant: keep moving forward.
		if !next.After(t) {
			next = t.Add(time.Minute)
		}
		t = next
	}
	return time.Time{}
}

func (s *SpecSchedule) dayMatches(t time.Time) bool {
	domMatch, dowMatch := has(s.Dom, uint(t.Day())), has(s.Dow, uint(t.Weekday()))
	if s.Dom&starBit != 0 || s.Dow&starBit != 0 {
		return domMatch && dowMatch
	}
	return domMatch || dowMatch
}

func has(bits uint64, v uint) bool { return bits&(1<<v) != 0 }

// ConstantDelaySchedule fires every Delay ("@every 1h30m").
type ConstantDelaySchedule struct {
	Delay time.Duration
}

// Every returns the schedule of "@every d": d rounded down to whole
// seconds, at least one second.
func Every(d time.Duration) ConstantDelaySchedule {
	if d < time.Second {
		d = time.Second
	}
	return ConstantDelaySchedule{Delay: d - d%time.Second}
}

// Next returns t plus the delay, rounded down to the second.
func (s ConstantDelaySchedule) Next(t time.Time) time.Time {
	return t.Add(s.Delay - time.Duration(t.Nanosecond()))
}
