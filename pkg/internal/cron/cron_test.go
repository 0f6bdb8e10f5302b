package cron

import (
	"testing"
	"time"
)

func TestParseErrors(t *testing.T) {
	tests := []struct{ spec, want string }{
		{"", "empty spec string"},
		{"* * * *", "expected exactly 5 fields, found 4: [* * * *]"},
		{"0 0 2 * * *", "expected exactly 5 fields, found 6: [0 0 2 * * *]"},
		{"off", "expected exactly 5 fields, found 1: [off]"},
		{"60 * * * *", "end of range (60) above maximum (59): 60"},
		{"* 24 * * *", "end of range (24) above maximum (23): 24"},
		{"* * 0 * *", "beginning of range (0) below minimum (1): 0"},
		{"* * * 13 *", "end of range (13) above maximum (12): 13"},
		{"* * * * 7", "end of range (7) above maximum (6): 7"},
		{"5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"},
		{"1-2-3 * * * *", "too many hyphens: 1-2-3"},
		{"*/2/3 * * * *", "too many slashes: */2/3"},
		{"*/0 * * * *", "step of range should be a positive number: */0"},
		{"x * * * *", `failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax`},
		{"* * * foo *", `failed to parse int from foo: strconv.Atoi: parsing "foo": invalid syntax`},
		{"@fortnightly", "unrecognized descriptor: @fortnightly"},
		{"@every 1x", `failed to parse duration @every 1x: time: unknown unit "x" in duration "1x"`},
		{"TZ=Mars/Olympus 0 * * * *", "provided bad location Mars/Olympus: unknown time zone Mars/Olympus"},
		{"TZ=UTC", "invalid schedule format: runtime error: slice bounds out of range [:-1]"},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			_, err := ParseStandard(tc.spec)
			if err == nil || err.Error() != tc.want {
				t.Errorf("ParseStandard(%q) = %v, want %q", tc.spec, err, tc.want)
			}
		})
	}
}

func TestNext(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	utc := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		spec     string
		from     time.Time
		want     time.Time
		wantZero bool
	}{
		{spec: "* * * * *", from: utc("2026-12-06T10:00:00Z"), want: utc("2026-12-06T10:01:00Z")},
		{spec: "* * * * *", from: utc("2026-12-06T10:00:59.9Z"), want: utc("2026-12-06T10:01:00Z")},
		{spec: "*/15 * * * *", from: utc("2026-12-06T10:14:00Z"), want: utc("2026-12-06T10:15:00Z")},
		{spec: "5/20 * * * *", from: utc("2026-12-06T10:26:00Z"), want: utc("2026-12-06T10:45:00Z")},
		{spec: "0 0 * * *", from: utc("2026-12-31T23:59:00Z"), want: utc("2027-01-01T00:00:00Z")},
		{spec: "30 2 * * mon-fri", from: utc("2026-12-05T03:00:00Z"), want: utc("2026-12-07T02:30:00Z")}, // Saturday → Monday
		{spec: "0 0 1,15 * MON", from: utc("2026-12-01T00:00:00Z"), want: utc("2026-12-07T00:00:00Z")},   // either day field
		{spec: "0 0 1 * ?", from: utc("2026-12-01T00:00:00Z"), want: utc("2027-01-01T00:00:00Z")},        // ? is *
		{spec: "0 0 */2 * 1", from: utc("2026-12-01T00:00:00Z"), want: utc("2026-12-03T00:00:00Z")},      // a stepped * is no star
		{spec: "0 12 29 feb *", from: utc("2027-01-01T00:00:00Z"), want: utc("2028-02-29T12:00:00Z")},
		{spec: "0 0 30 2 *", from: utc("2026-01-01T00:00:00Z"), wantZero: true},
		{spec: "@hourly", from: utc("2026-12-06T10:00:00Z"), want: utc("2026-12-06T11:00:00Z")},
		{spec: "@daily", from: utc("2026-12-06T10:00:00Z"), want: utc("2026-12-07T00:00:00Z")},
		{spec: "@weekly", from: utc("2026-12-06T10:00:00Z"), want: utc("2026-12-13T00:00:00Z")}, // Sundays
		{spec: "@monthly", from: utc("2026-12-06T10:00:00Z"), want: utc("2027-01-01T00:00:00Z")},
		{spec: "@yearly", from: utc("2026-12-06T10:00:00Z"), want: utc("2027-01-01T00:00:00Z")},
		{spec: "@every 90m", from: utc("2026-12-06T10:00:00.5Z"), want: utc("2026-12-06T11:30:00Z")},
		{spec: "@every 10ms", from: utc("2026-12-06T10:00:00Z"), want: utc("2026-12-06T10:00:01Z")},
		// A zone in the schedule: 09:00 in New York is 14:00 UTC in winter.
		{spec: "TZ=America/New_York 0 9 * * *", from: utc("2026-12-06T10:00:00Z"), want: utc("2026-12-06T14:00:00Z")},
		{spec: "CRON_TZ=America/New_York @daily", from: utc("2026-12-06T10:00:00Z"), want: utc("2026-12-07T05:00:00Z")},
		// Spring forward (2027-03-14 02:00 → 03:00 in New York): 02:30 does not exist that day.
		{spec: "TZ=America/New_York 30 2 * * *", from: utc("2027-03-13T08:00:00Z"), want: utc("2027-03-15T06:30:00Z")},
		// Fall back (2026-11-01 02:00 → 01:00): 01:30 happens twice.
		{spec: "30 1 * * *", from: time.Date(2026, 11, 1, 0, 0, 0, 0, ny), want: utc("2026-11-01T05:30:00Z")},
		{spec: "30 1 * * *", from: utc("2026-11-01T05:30:00Z").In(ny), want: utc("2026-11-01T06:30:00Z")},
	}
	for _, tc := range tests {
		t.Run(tc.spec+" from "+tc.from.String(), func(t *testing.T) {
			s, err := ParseStandard(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			got := s.Next(tc.from)
			if tc.wantZero {
				if !got.IsZero() {
					t.Errorf("Next = %v, want the zero time", got)
				}
				return
			}
			if !got.Equal(tc.want) {
				t.Errorf("Next = %v, want %v", got.UTC(), tc.want)
			}
			if got.Location() != tc.from.Location() {
				t.Errorf("Next is in %v, not in the location of its argument %v", got.Location(), tc.from.Location())
			}
		})
	}
}

// TestNextLocal checks that a schedule without a zone is read in the
// location of the time it is given.
func TestNextLocal(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseStandard("0 9 * * *")
	if err != nil {
		t.Fatal(err)
	}
	got := s.Next(time.Date(2026, 12, 6, 10, 0, 0, 0, tokyo))
	if want := time.Date(2026, 12, 7, 9, 0, 0, 0, tokyo); !got.Equal(want) {
		t.Errorf("Next = %v, want %v", got, want)
	}
}
