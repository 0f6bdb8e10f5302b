// Package strictyaml decodes kinc's configuration files the way its
// components read them: exactly one YAML (or JSON) document, no key given
// twice, and (with Unmarshal) no field the target type does not have. A
// configuration file that silently loses a second document or the first of
// two equal keys runs with settings its author did not write.
package strictyaml

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"

	"sigs.k8s.io/yaml"
)

// Document returns the only non-empty YAML document of data, without its
// separators. Documents holding nothing but comments or whitespace do not
// count, so leading and trailing "---" lines are accepted. No document at
// all returns nil, nil. A second non-empty document is an error naming the
// line of the separator that starts it.
func Document(data []byte) ([]byte, error) {
	var (
		doc   []byte
		cur   bytes.Buffer
		found bool
		start int // line of the separator before the current document (0: none)
	)
	flush := func() error {
		defer cur.Reset()
		if blank(cur.Bytes()) {
			return nil
		}
		if found {
			return fmt.Errorf("a second YAML document starts at line %d: exactly one is read", start)
		}
		found, doc = true, append([]byte(nil), cur.Bytes()...)
		return nil
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), len(data)+1)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if isSeparator(text) {
			if err := flush(); err != nil {
				return nil, err
			}
			start = line
			if rest := strings.TrimSpace(strings.TrimPrefix(text, "---")); rest != "" && rest != "..." && !strings.HasPrefix(rest, "#") {
				cur.WriteString(rest) // "--- {a: 1}": the document starts on the marker's line
				cur.WriteByte('\n')
			}
			continue
		}
		cur.WriteString(text)
		cur.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return doc, nil
}

// Unmarshal decodes the only document of data into out strictly: a
// duplicated key, or a field out does not have, is an error naming it
// (sigs.k8s.io/yaml's UnmarshalStrict); a second document is an error (see
// Document). Empty input leaves out untouched.
func Unmarshal(data []byte, out any) error {
	doc, err := Document(data)
	if err != nil || doc == nil {
		return err
	}
	return yaml.UnmarshalStrict(doc, out)
}

// ToJSON converts the only document of data to JSON, rejecting duplicated
// keys and a second document; unknown fields are left for the caller's
// decoder. Empty input converts to "null".
func ToJSON(data []byte) ([]byte, error) {
	doc, err := Document(data)
	if err != nil {
		return nil, err
	}
	return yaml.YAMLToJSONStrict(doc)
}

// isSeparator reports a YAML document marker line: "---" alone or followed
// by a space (inline content or a comment), or the end marker "...".
func isSeparator(line string) bool {
	line = strings.TrimRight(line, " \t\r")
	return line == "---" || strings.HasPrefix(line, "--- ") || strings.HasPrefix(line, "---\t") || line == "..."
}

// blank reports whether a document holds only whitespace, comments and
// directives ("%YAML 1.2").
func blank(doc []byte) bool {
	for _, line := range strings.Split(string(doc), "\n") {
		t := strings.TrimSpace(line)
		if t != "" && !strings.HasPrefix(t, "#") && !strings.HasPrefix(line, "%") {
			return false
		}
	}
	return true
}
