package strictyaml

import (
	"strings"
	"testing"
)

func TestDocument(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, want, err string }{
		{name: "empty", in: "", want: ""},
		{name: "only comments", in: "# nothing\n---\n", want: ""},
		{name: "one", in: "a: 1\n", want: "a: 1\n"},
		{name: "leading and trailing separators", in: "---\na: 1\n---\n# end\n", want: "a: 1\n"},
		{name: "end marker", in: "a: 1\n...\n", want: "a: 1\n"},
		{name: "directive", in: "%YAML 1.2\n---\na: 1\n", want: "a: 1\n"},
		{name: "inline after marker", in: "--- {a: 1}\n", want: "{a: 1}\n"},
		{name: "json", in: `{"a": 1}`, want: "{\"a\": 1}\n"},
		{name: "separator in block scalar", in: "a: |\n  ---\n  b\n", want: "a: |\n  ---\n  b\n"},
		{name: "two", in: "a: 1\n---\nb: 2\n", err: "a second YAML document starts at line 2"},
		{name: "two after leading separator", in: "---\na: 1\n--- # next\nb: 2\n", err: "line 3"},
		{name: "inline second", in: "a: 1\n--- {b: 2}\n", err: "line 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Document([]byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Document error = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Fatalf("Document = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestUnmarshal(t *testing.T) {
	t.Parallel()
	type T struct {
		A int `json:"a"`
		B struct {
			C string `json:"c"`
		} `json:"b"`
	}
	var v T
	if err := Unmarshal([]byte("---\na: 1\nb:\n  c: x\n"), &v); err != nil || v.A != 1 || v.B.C != "x" {
		t.Fatalf("Unmarshal = %+v, %v", v, err)
	}
	for _, tc := range []struct{ name, in, want string }{
		{"duplicate key", "a: 1\na: 2\n", `key "a" already set`},
		{"nested duplicate", "b:\n  c: x\n  c: y\n", `key "c" already set`},
		{"unknown field", "z: 1\n", `unknown field "z"`},
		{"second document", "a: 1\n---\na: 2\n", "second YAML document"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var v T
			if err := Unmarshal([]byte(tc.in), &v); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Unmarshal error = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestToJSON(t *testing.T) {
	t.Parallel()
	js, err := ToJSON([]byte("a: 1\nz: 2\n"))
	if err != nil || string(js) != `{"a":1,"z":2}` {
		t.Fatalf("ToJSON = %s, %v", js, err)
	}
	if _, err := ToJSON([]byte("a: 1\na: 2\n")); err == nil {
		t.Error("duplicate key accepted")
	}
	if _, err := ToJSON([]byte("a: 1\n---\nb: 1\n")); err == nil {
		t.Error("second document accepted")
	}
	if js, err := ToJSON(nil); err != nil || string(js) != "null" {
		t.Errorf("ToJSON(nil) = %s, %v", js, err)
	}
}
