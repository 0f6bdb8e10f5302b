package authn

import (
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const tokenFile = `# token,user,uid,"groups"
abc123,admin,uid-1,"system:masters, devs"
def456,kubelet,uid-2
  ghi789,reader,uid-3,""
`

func bearer(value string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/api", nil)
	if value != "" {
		r.Header.Set("Authorization", value)
	}
	return r
}

func TestParseTokens(t *testing.T) {
	tf, err := ParseTokens(strings.NewReader(tokenFile), "tokens.csv")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, header string
		wantUser     string
		wantUID      string
		wantGroups   []string
		wantErr      bool
	}{
		{name: "groups split and trimmed", header: "Bearer abc123", wantUser: "admin", wantUID: "uid-1",
			wantGroups: []string{"system:masters", "devs", GroupAuthenticated}},
		{name: "no groups column", header: "Bearer def456", wantUser: "kubelet", wantUID: "uid-2",
			wantGroups: []string{GroupAuthenticated}},
		{name: "leading space and empty groups", header: "Bearer ghi789", wantUser: "reader", wantUID: "uid-3",
			wantGroups: []string{GroupAuthenticated}},
		{name: "scheme is case-insensitive", header: "bearer   abc123 ", wantUser: "admin", wantUID: "uid-1",
			wantGroups: []string{"system:masters", "devs", GroupAuthenticated}},
		{name: "unknown token is an error", header: "Bearer nope", wantErr: true},
		{name: "prefix of a token is an error", header: "Bearer abc", wantErr: true},
		{name: "no header"},
		{name: "basic auth is not ours", header: "Basic YWRtaW46cGFzcw=="},
		{name: "empty bearer", header: "Bearer "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user, ok, err := tf.AuthenticateRequest(bearer(tt.header))
			if (err != nil) != tt.wantErr || ok != (tt.wantUser != "") {
				t.Fatalf("ok %v err %v", ok, err)
			}
			if !ok {
				return
			}
			if user.Name != tt.wantUser || user.UID != tt.wantUID || !slices.Equal(user.Groups, tt.wantGroups) {
				t.Errorf("user %+v, want %s %s %v", user, tt.wantUser, tt.wantUID, tt.wantGroups)
			}
		})
	}
}

func TestParseTokensErrors(t *testing.T) {
	for _, tt := range []struct{ name, content, want string }{
		{"too few columns", "abc,admin,uid\nonly,two\n", "tokens.csv:2:"},
		{"empty token", "# comment\n,admin,uid\n", "tokens.csv:2:"},
		{"empty user", "abc,,uid\n", "tokens.csv:1:"},
		{"bad quoting", "abc,admin,uid,\"unterminated\n", "tokens.csv"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTokens(strings.NewReader(tt.content), "tokens.csv")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one naming %q", err, tt.want)
			}
		})
	}
}

func TestLoadTokenFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.csv")
	if err := os.WriteFile(path, []byte(tokenFile), 0o600); err != nil {
		t.Fatal(err)
	}
	tf, err := LoadTokenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if user, ok, err := tf.AuthenticateRequest(bearer("Bearer def456")); !ok || err != nil || user.Name != "kubelet" {
		t.Errorf("got %+v %v %v", user, ok, err)
	}
	if _, err := LoadTokenFile(filepath.Join(t.TempDir(), "missing.csv")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want a not-exist error", err)
	}
}
