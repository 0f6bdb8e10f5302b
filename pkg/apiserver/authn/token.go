package authn

import (
	"context"
	"crypto/subtle"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
)

// TokenFile authenticates bearer tokens listed in a file in upstream's
// --token-auth-file format: CSV lines token,user,uid[,"group1,group2"].
type TokenFile struct {
	tokens map[string]*User
}

// LoadTokenFile reads path. Lines starting with '#' and blank lines are
// skipped; a line with fewer than three columns or an empty token or user
// is an error naming the line.
func LoadTokenFile(path string) (*TokenFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading token file: %w", err)
	}
	defer f.Close()
	return ParseTokens(f, path)
}

// ParseTokens parses token-file content; name is used in errors.
func ParseTokens(r io.Reader, name string) (*TokenFile, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.Comment = '#'
	cr.TrimLeadingSpace = true
	t := &TokenFile{tokens: map[string]*User{}}
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return t, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if len(rec) < 3 || rec[0] == "" || rec[1] == "" {
			row, _ := cr.FieldPos(0)
			return nil, fmt.Errorf("%s:%d: want token,user,uid[,\"groups\"]", name, row)
		}
		u := &User{Name: rec[1], UID: rec[2]}
		if len(rec) > 3 && rec[3] != "" {
			for _, g := range strings.Split(rec[3], ",") {
				if g = strings.TrimSpace(g); g != "" {
					u.Groups = append(u.Groups, g)
				}
			}
		}
		u.Groups = append(u.Groups, GroupAuthenticated)
		t.tokens[rec[0]] = u
	}
}

func (t *TokenFile) AuthenticateRequest(r *http.Request) (*User, bool, error) {
	return BearerToken{Tokens: t}.AuthenticateRequest(r)
}

// AuthenticateToken recognizes only the file's tokens: a token not in the
// file is not its kind (ok=false, no error), so that other token
// authenticators after it may still recognize it.
func (t *TokenFile) AuthenticateToken(_ context.Context, token string) (*User, bool, error) {
	for known, u := range t.tokens {
		if subtle.ConstantTimeCompare([]byte(known), []byte(token)) == 1 {
			return u, true, nil
		}
	}
	return nil, false, nil
}
