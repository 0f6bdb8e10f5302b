package authn

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"
)

// webSocketBearerPrefix prefixes a bearer token carried as a WebSocket
// subprotocol (browsers cannot set Authorization on a WebSocket).
const webSocketBearerPrefix = "base64url.bearer.authorization.k8s.io."

var (
	errWSMultipleTokens = errors.New("multiple base64.bearer.authorization tokens specified")
	errWSTokenEncoding  = errors.New("invalid base64.bearer.authorization token encoding")
	errWSToken          = errors.New("invalid base64.bearer.authorization token")
	errWSNoSubprotocol  = errors.New("missing additional subprotocol")
)

// WebSocketProtocol authenticates the bearer token of a WebSocket request
// carried in Sec-WebSocket-Protocol as base64url.bearer.authorization.k8s.io.
// <unpadded base64url token>, as upstream's protocol authenticator: the
// request must offer another subprotocol too, and on success the token's
// subprotocol is removed from the header so that it is never echoed. As
// BearerToken, a token Tokens does not recognize is an error.
type WebSocketProtocol struct {
	Tokens TokenAuthenticator
}

var _ Authenticator = WebSocketProtocol{}

// AuthenticateRequest authenticates a WebSocket request's subprotocol
// token (see WebSocketProtocol).
func (w WebSocketProtocol) AuthenticateRequest(r *http.Request) (*User, bool, error) {
	if !isWebSocket(r) {
		return nil, false, nil
	}
	var token string
	var others []string
	for _, h := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(h, ",") {
			p = strings.TrimSpace(p)
			enc, ok := strings.CutPrefix(p, webSocketBearerPrefix)
			if !ok {
				others = append(others, p)
				continue
			}
			if token != "" {
				return nil, false, errWSMultipleTokens
			}
			dec, err := base64.RawURLEncoding.DecodeString(enc)
			if err != nil {
				return nil, false, errWSTokenEncoding
			}
			if !utf8.Valid(dec) {
				return nil, false, errWSToken
			}
			token = string(dec)
		}
	}
	if token == "" {
		return nil, false, nil
	}
	if len(others) == 0 {
		return nil, false, errWSNoSubprotocol
	}
	u, ok, err := w.Tokens.AuthenticateToken(r.Context(), token)
	if ok {
		r.Header.Set("Sec-WebSocket-Protocol", strings.Join(others, ","))
		return u, true, nil
	}
	if err == nil {
		err = errInvalidToken
	}
	return nil, false, err
}

// isWebSocket tells whether r asks for a WebSocket upgrade.
func isWebSocket(r *http.Request) bool {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return false
	}
	for _, v := range r.Header.Values("Connection") {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), "upgrade") {
				return true
			}
		}
	}
	return false
}
