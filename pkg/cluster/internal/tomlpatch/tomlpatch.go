// Package tomlpatch merges TOML patches into a TOML document, the way kind
// applies containerdConfigPatches to containerd's config.toml: every key a
// patch sets replaces the base's value at the same path (a table replaces
// what was below it), every other key of the base is kept.
//
// It understands the TOML containerd configs use: tables with quoted or
// dotted names, dotted keys, and values of any kind, which it keeps as
// written (multi-line arrays and strings included). Arrays of tables are
// rejected. Comments are dropped from the output.
package tomlpatch

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Doc is a parsed TOML document: its leaf keys in order.
type Doc struct {
	entries []entry
}

type entry struct {
	path []string // table path + key
	raw  string   // the value as written
}

// Parse parses a TOML document.
func Parse(doc string) (*Doc, error) {
	d := &Doc{}
	var table []string
	lines := strings.Split(doc, "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(stripComment(lines[i]))
		if line == "" {
			continue
		}
		lineNo := i + 1
		if strings.HasPrefix(line, "[[") {
			return nil, fmt.Errorf("line %d: arrays of tables ([[...]]) are not supported", lineNo)
		}
		if strings.HasPrefix(line, "[") {
			if !strings.HasSuffix(line, "]") {
				return nil, fmt.Errorf("line %d: unterminated table header %q", lineNo, line)
			}
			p, err := splitKey(line[1 : len(line)-1])
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", lineNo, err)
			}
			table = p
			continue
		}
		k, v, ok := cutOutsideQuotes(line, '=')
		if !ok {
			return nil, fmt.Errorf("line %d: expected key = value, got %q", lineNo, line)
		}
		key, err := splitKey(k)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", lineNo, err)
		}
		v = strings.TrimSpace(v)
		for !complete(v) {
			i++
			if i >= len(lines) {
				return nil, fmt.Errorf("line %d: unterminated value of %s", lineNo, strings.Join(key, "."))
			}
			next := lines[i]
			if !strings.HasPrefix(v, `"""`) && !strings.HasPrefix(v, `'''`) {
				next = stripComment(next)
			}
			v += "\n" + next
		}
		if v == "" {
			return nil, fmt.Errorf("line %d: %s has no value", lineNo, strings.Join(key, "."))
		}
		d.set(append(append([]string{}, table...), key...), strings.TrimSpace(v))
	}
	return d, nil
}

// Merge applies patches to base in order and returns the merged document.
func Merge(base string, patches ...string) (string, error) {
	d, err := Parse(base)
	if err != nil {
		return "", fmt.Errorf("parse base config: %w", err)
	}
	for i, p := range patches {
		pd, err := Parse(p)
		if err != nil {
			return "", fmt.Errorf("parse patch %d: %w", i, err)
		}
		for _, e := range pd.entries {
			d.set(e.path, e.raw)
		}
	}
	return d.String(), nil
}

// set puts raw at path: it replaces an equal path in place, and removes
// entries below path or above it (a value becoming a table or back).
func (d *Doc) set(path []string, raw string) {
	out := d.entries[:0]
	replaced := false
	for _, e := range d.entries {
		switch {
		case equal(e.path, path):
			if !replaced {
				out = append(out, entry{path: path, raw: raw})
				replaced = true
			}
		case hasPrefix(e.path, path) || hasPrefix(path, e.path):
			// dropped: superseded by the new value
		default:
			out = append(out, e)
		}
	}
	if !replaced {
		out = append(out, entry{path: path, raw: raw})
	}
	d.entries = out
}

// String renders the document: root keys first, then one table per group of
// keys, in first-appearance order.
func (d *Doc) String() string {
	var order []string
	groups := map[string][]entry{}
	for _, e := range d.entries {
		t := joinKey(e.path[:len(e.path)-1])
		if _, ok := groups[t]; !ok {
			order = append(order, t)
		}
		groups[t] = append(groups[t], e)
	}
	var b strings.Builder
	write := func(t string) {
		for _, e := range groups[t] {
			fmt.Fprintf(&b, "%s = %s\n", quoteKey(e.path[len(e.path)-1]), e.raw)
		}
	}
	if _, ok := groups[""]; ok {
		write("")
	}
	for _, t := range order {
		if t == "" {
			continue
		}
		fmt.Fprintf(&b, "\n[%s]\n", t)
		write(t)
	}
	return b.String()
}

func equal(a, b []string) bool { return len(a) == len(b) && hasPrefix(a, b) }

func hasPrefix(s, prefix []string) bool {
	if len(prefix) > len(s) {
		return false
	}
	for i := range prefix {
		if s[i] != prefix[i] {
			return false
		}
	}
	return true
}

var bareKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func quoteKey(k string) string {
	if bareKey.MatchString(k) {
		return k
	}
	return strconv.Quote(k)
}

func joinKey(path []string) string {
	q := make([]string, len(path))
	for i, p := range path {
		q[i] = quoteKey(p)
	}
	return strings.Join(q, ".")
}

// splitKey splits a dotted key, unquoting quoted parts.
func splitKey(s string) ([]string, error) {
	var parts []string
	rest := strings.TrimSpace(s)
	for {
		var part string
		switch {
		case strings.HasPrefix(rest, `"`):
			end := closingQuote(rest, '"')
			if end < 0 {
				return nil, fmt.Errorf("unterminated quoted key in %q", s)
			}
			u, err := strconv.Unquote(rest[:end+1])
			if err != nil {
				return nil, fmt.Errorf("bad quoted key in %q: %w", s, err)
			}
			part, rest = u, rest[end+1:]
		case strings.HasPrefix(rest, "'"):
			end := strings.IndexByte(rest[1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unterminated quoted key in %q", s)
			}
			part, rest = rest[1:end+1], rest[end+2:]
		default:
			end := strings.IndexByte(rest, '.')
			if end < 0 {
				end = len(rest)
			}
			part, rest = strings.TrimSpace(rest[:end]), rest[end:]
			if !bareKey.MatchString(part) {
				return nil, fmt.Errorf("invalid key %q in %q", part, s)
			}
		}
		parts = append(parts, part)
		rest = strings.TrimSpace(rest)
		if rest == "" {
			return parts, nil
		}
		if rest[0] != '.' {
			return nil, fmt.Errorf("invalid key %q", s)
		}
		rest = strings.TrimSpace(rest[1:])
		if rest == "" {
			return nil, errors.New("key ends with a dot: " + s)
		}
	}
}

// closingQuote returns the index of the quote closing the basic string
// that starts at s[0], honouring backslash escapes, or -1.
func closingQuote(s string, q byte) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case q:
			return i
		}
	}
	return -1
}

// stripComment removes a # comment that is not inside a string.
func stripComment(line string) string {
	var quote byte
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0:
			if c == '\\' && quote == '"' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '#':
			return line[:i]
		}
	}
	return line
}

// cutOutsideQuotes cuts s around the first sep outside quotes.
func cutOutsideQuotes(s string, sep byte) (string, string, bool) {
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' && quote == '"' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == sep:
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// complete reports whether a raw value is finished: multi-line strings
// closed and brackets and braces balanced outside strings.
func complete(v string) bool {
	for _, q := range []string{`"""`, `'''`} {
		if strings.HasPrefix(v, q) {
			return strings.Count(v, q) >= 2
		}
	}
	depth := 0
	var quote byte
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case quote != 0:
			if c == '\\' && quote == '"' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '[' || c == '{':
			depth++
		case c == ']' || c == '}':
			depth--
		}
	}
	return depth <= 0
}
