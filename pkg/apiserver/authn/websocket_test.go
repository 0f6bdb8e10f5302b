package authn

import (
	"context"
	"encoding/base64"
	"net/http/httptest"
	"testing"
)

type oneToken string

func (o oneToken) AuthenticateToken(_ context.Context, token string) (*User, bool, error) {
	if token != string(o) {
		return nil, false, nil
	}
	return &User{Name: "ws-user"}, true, nil
}

func TestWebSocketProtocol(t *testing.T) {
	a := WebSocketProtocol{Tokens: oneToken("secret-token")}
	proto := func(tok string) string {
		return webSocketBearerPrefix + base64.RawURLEncoding.EncodeToString([]byte(tok))
	}
	for _, tc := range []struct {
		name      string
		ws        bool
		protocols []string
		ok, err   bool
		left      string
	}{
		{"token", true, []string{"v5.channel.k8s.io, " + proto("secret-token")}, true, false, "v5.channel.k8s.io"},
		{"token in its own header", true, []string{proto("secret-token"), "v4.channel.k8s.io"}, true, false, "v4.channel.k8s.io"},
		{"unknown token", true, []string{"v5.channel.k8s.io," + proto("other")}, false, true, ""},
		{"no other subprotocol", true, []string{proto("secret-token")}, false, true, ""},
		{"two tokens", true, []string{"x," + proto("secret-token") + "," + proto("secret-token")}, false, true, ""},
		{"bad encoding", true, []string{"x," + webSocketBearerPrefix + "!!"}, false, true, ""},
		{"no token", true, []string{"v5.channel.k8s.io"}, false, false, ""},
		{"not a WebSocket", false, []string{"x," + proto("secret-token")}, false, false, ""},
	} {
		r := httptest.NewRequest("GET", "/api/v1/namespaces/ns/pods/p/exec", nil)
		if tc.ws {
			r.Header.Set("Connection", "keep-alive, Upgrade")
			r.Header.Set("Upgrade", "websocket")
		}
		for _, p := range tc.protocols {
			r.Header.Add("Sec-WebSocket-Protocol", p)
		}
		u, ok, err := a.AuthenticateRequest(r)
		if ok != tc.ok || (err != nil) != tc.err || ok && u.Name != "ws-user" {
			t.Errorf("%s: %v %v %v", tc.name, u, ok, err)
		}
		if ok && r.Header.Get("Sec-WebSocket-Protocol") != tc.left {
			t.Errorf("%s: protocols left %q", tc.name, r.Header.Values("Sec-WebSocket-Protocol"))
		}
	}
}
