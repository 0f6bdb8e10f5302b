// Package cron parses the schedules of CronJobs and computes when they next
// fire, as upstream Kubernetes does with github.com/robfig/cron/v3's
// ParseStandard (which kinc does not depend on): five fields (minute, hour,
// day of month, month, day of week) with lists, ranges, steps, "*" and "?",
// month and weekday names, the descriptors @yearly, @annually, @monthly,
// @weekly, @daily, @midnight, @hourly and "@every <duration>", and an
// optional leading TZ=<zone> or CRON_TZ=<zone>. Error messages are
// robfig's, since the apiserver returns them to clients as upstream does.
//
// The package embeds the time zone database (time/tzdata), as upstream's
// kube-apiserver and kube-controller-manager do: the containers kinc runs
// them in need not have /usr/share/zoneinfo for TZ=, CRON_TZ= or a
// CronJob's spec.timeZone to work.
package cron

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // zones without the host's zoneinfo
)

// Schedule tells when a parsed schedule fires.
type Schedule interface {
	// Next returns the first time strictly after t at which the schedule
	// fires, in t's location, or the zero time when there is none within
	// five years (for example "0 0 30 2 *").
	Next(t time.Time) time.Time
}

// bounds are the values one field can take, and the names it accepts.
type bounds struct {
	min, max uint
	names    map[string]uint
}

var (
	minutes = bounds{0, 59, nil}
	hours   = bounds{0, 23, nil}
	dom     = bounds{1, 31, nil}
	months  = bounds{1, 12, map[string]uint{
		"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
		"jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
	}}
	dow = bounds{0, 6, map[string]uint{"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}}
)

// ParseStandard parses a standard five-field schedule or a descriptor,
// optionally preceded by "TZ=<zone> " or "CRON_TZ=<zone> ". Without a zone
// the schedule is read in the location of the times given to Next.
func ParseStandard(spec string) (Schedule, error) {
	if spec == "" {
		return nil, fmt.Errorf("empty spec string")
	}
	var loc *time.Location
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		i, eq := strings.Index(spec, " "), strings.Index(spec, "=")
		if i < 0 {
			// robfig slices past the end here and panics; upstream's
			// validation recovers and reports the panic.
			return nil, fmt.Errorf("invalid schedule format: runtime error: slice bounds out of range [:-1]")
		}
		zone := spec[eq+1 : i]
		var err error
		if loc, err = time.LoadLocation(zone); err != nil {
			return nil, fmt.Errorf("provided bad location %s: %v", zone, err)
		}
		spec = strings.TrimSpace(spec[i:])
	}
	if strings.HasPrefix(spec, "@") {
		return parseDescriptor(spec, loc)
	}
	fields := strings.Fields(spec)
	if len(fields) != 5 {
		return nil, fmt.Errorf("expected exactly 5 fields, found %d: %s", len(fields), fields)
	}
	s := &SpecSchedule{Location: loc}
	for i, f := range []struct {
		dst *uint64
		b   bounds
	}{{&s.Minute, minutes}, {&s.Hour, hours}, {&s.Dom, dom}, {&s.Month, months}, {&s.Dow, dow}} {
		bits, err := parseField(fields[i], f.b)
		if err != nil {
			return nil, err
		}
		*f.dst = bits
	}
	return s, nil
}

// parseField parses a comma-separated list of ranges.
func parseField(field string, b bounds) (uint64, error) {
	var bits uint64
	for _, expr := range strings.FieldsFunc(field, func(r rune) bool { return r == ',' }) {
		r, err := parseRange(expr, b)
		if err != nil {
			return 0, err
		}
		bits |= r
	}
	return bits, nil
}

// parseRange parses "*", "?", a number or name, or a range "a-b", each
// optionally followed by "/step"; "a/step" means a to the maximum. A range
// over every value ("*" or "?" without a step above 1) also sets starBit.
func parseRange(expr string, b bounds) (uint64, error) {
	rangeAndStep := strings.Split(expr, "/")
	lowAndHigh := strings.Split(rangeAndStep[0], "-")
	var start, end uint
	var extra uint64
	if lowAndHigh[0] == "*" || lowAndHigh[0] == "?" {
		start, end, extra = b.min, b.max, starBit
	} else {
		var err error
		if start, err = parseIntOrName(lowAndHigh[0], b.names); err != nil {
			return 0, err
		}
		switch len(lowAndHigh) {
		case 1:
			end = start
		case 2:
			if end, err = parseIntOrName(lowAndHigh[1], b.names); err != nil {
				return 0, err
			}
		default:
			return 0, fmt.Errorf("too many hyphens: %s", expr)
		}
	}
	step := uint(1)
	switch len(rangeAndStep) {
	case 1:
	case 2:
		var err error
		if step, err = parseInt(rangeAndStep[1]); err != nil {
			return 0, err
		}
		if len(lowAndHigh) == 1 {
			end = b.max
		}
		if step > 1 {
			extra = 0
		}
	default:
		return 0, fmt.Errorf("too many slashes: %s", expr)
	}
	switch {
	case start < b.min:
		return 0, fmt.Errorf("beginning of range (%d) below minimum (%d): %s", start, b.min, expr)
	case end > b.max:
		return 0, fmt.Errorf("end of range (%d) above maximum (%d): %s", end, b.max, expr)
	case start > end:
		return 0, fmt.Errorf("beginning of range (%d) beyond end of range (%d): %s", start, end, expr)
	case step == 0:
		return 0, fmt.Errorf("step of range should be a positive number: %s", expr)
	}
	var bits uint64
	for v := start; v <= end; v += step {
		bits |= 1 << v
	}
	return bits | extra, nil
}

func parseIntOrName(expr string, names map[string]uint) (uint, error) {
	if v, ok := names[strings.ToLower(expr)]; ok {
		return v, nil
	}
	return parseInt(expr)
}

func parseInt(expr string) (uint, error) {
	n, err := strconv.Atoi(expr)
	if err != nil {
		return 0, fmt.Errorf("failed to parse int from %s: %s", expr, err)
	}
	if n < 0 {
		return 0, fmt.Errorf("negative number (%d) not allowed: %s", n, expr)
	}
	return uint(n), nil
}

// parseDescriptor parses "@yearly" … "@hourly" and "@every <duration>".
func parseDescriptor(spec string, loc *time.Location) (Schedule, error) {
	every := func(b bounds) uint64 { return bitsOf(b) | starBit }
	s := &SpecSchedule{Minute: 1 << minutes.min, Hour: 1 << hours.min, Dom: every(dom), Month: every(months), Dow: every(dow), Location: loc}
	switch spec {
	case "@yearly", "@annually":
		s.Dom, s.Month = 1<<dom.min, 1<<months.min
	case "@monthly":
		s.Dom = 1 << dom.min
	case "@weekly":
		s.Dow = 1 << dow.min
	case "@daily", "@midnight":
	case "@hourly":
		s.Hour = every(hours)
	default:
		const prefix = "@every "
		if !strings.HasPrefix(spec, prefix) {
			return nil, fmt.Errorf("unrecognized descriptor: %s", spec)
		}
		d, err := time.ParseDuration(spec[len(prefix):])
		if err != nil {
			return nil, fmt.Errorf("failed to parse duration %s: %s", spec, err)
		}
		return Every(d), nil
	}
	return s, nil
}

func bitsOf(b bounds) uint64 {
	var bits uint64
	for v := b.min; v <= b.max; v++ {
		bits |= 1 << v
	}
	return bits
}
