package intake

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// APIKey is one of hotpath's own API keys. Agents send it as APM Server expects an Elasticsearch API
// key, `Authorization: ApiKey base64(ID:Key)` (ELASTIC_APM_API_KEY=base64(ID:Key)); hotpath checks it
// against this list itself, without Elasticsearch. Any listed key may do everything a secret token may.
type APIKey struct {
	// ID names the key; it is not secret (it may appear in logs).
	ID string
	// Key is the secret part.
	Key string
}

// ParseAPIKey parses an API key given as "id:key", the form of the --api-key flag. Neither part may be
// empty, and the id may not contain a colon.
func ParseAPIKey(s string) (APIKey, error) {
	id, key, ok := strings.Cut(s, ":")
	if !ok || id == "" || key == "" {
		return APIKey{}, errors.New(`intake: API key must be "id:key" with both parts non-empty`)
	}
	return APIKey{ID: id, Key: key}, nil
}

// String returns the ID only, so that printing a key never shows its secret.
func (k APIKey) String() string { return "ApiKey(" + k.ID + ")" }

// authMethod says how a request authenticated, as APM Server's auth.Method.
type authMethod uint8

const (
	// authNone: the server requires no auth; everyone is trusted.
	authNone authMethod = iota
	// authAnonymous: auth is configured and the request did not pass it (only for endpoints where
	// authentication is optional, such as GET /).
	authAnonymous
	authSecretToken
	authAPIKey
)

// APM Server's authentication messages (internal/beater/auth), which agents surface to users.
const (
	msgAuthFailed            = "authentication failed"
	expectedAuthHeaderFormat = "expected 'Authorization: Bearer secret_token' or 'Authorization: ApiKey base64(API key ID:API key)'"
	msgAuthMissing           = msgAuthFailed + ": missing or improperly formatted Authorization header: " + expectedAuthHeaderFormat
)

// authenticator checks Authorization headers against the secret token and the API keys. Secrets are
// kept only as SHA-256 digests and compared in constant time, so neither their content nor their length
// shows in response times.
type authenticator struct {
	secretToken    [sha256.Size]byte
	hasSecretToken bool
	apiKeys        map[string][sha256.Size]byte // ID -> digest of Key
}

func newAuthenticator(secretToken string, keys []APIKey) (*authenticator, error) {
	a := &authenticator{}
	if secretToken != "" {
		a.secretToken, a.hasSecretToken = sha256.Sum256([]byte(secretToken)), true
	}
	for _, k := range keys {
		if k.ID == "" || k.Key == "" || strings.Contains(k.ID, ":") {
			return nil, fmt.Errorf("intake: API key %q: ID and Key must be non-empty and the ID may not contain ':'", k.ID)
		}
		if a.apiKeys == nil {
			a.apiKeys = make(map[string][sha256.Size]byte, len(keys))
		}
		if _, dup := a.apiKeys[k.ID]; dup {
			return nil, fmt.Errorf("intake: API key ID %q given twice", k.ID)
		}
		a.apiKeys[k.ID] = sha256.Sum256([]byte(k.Key))
	}
	return a, nil
}

// enabled reports whether any auth method is configured.
func (a *authenticator) enabled() bool { return a.hasSecretToken || len(a.apiKeys) > 0 }

// authenticate checks the Authorization header value. On failure the error's text is the one APM
// Server answers with in its 401 body, except that an unknown scheme is not echoed. The scheme is
// matched without regard to case (RFC 9110 §11.1), as the profiler's endpoint matches it, where APM
// Server takes only "Bearer" and "ApiKey" exactly: agents send those, and "bearer <token>" from curl
// works on both of hotpath's endpoints alike.
func (a *authenticator) authenticate(header string) (authMethod, error) {
	if !a.enabled() {
		return authNone, nil
	}
	kind, token := parseAuthorizationHeader(header)
	switch {
	case kind == "":
		return authAnonymous, errors.New(msgAuthMissing)
	case strings.EqualFold(kind, "ApiKey"):
		if len(a.apiKeys) == 0 {
			break
		}
		decoded, err := base64.StdEncoding.DecodeString(token)
		if err != nil {
			return authAnonymous, fmt.Errorf("%s: improperly encoded ApiKey credentials: expected base64(ID:APIKey): %w", msgAuthFailed, err)
		}
		id, key, ok := bytes.Cut(decoded, []byte{':'})
		if !ok {
			return authAnonymous, errors.New(msgAuthFailed + ": improperly formatted ApiKey credentials: expected base64(ID:APIKey)")
		}
		want, known := a.apiKeys[string(id)]
		got := sha256.Sum256(key)
		if subtle.ConstantTimeCompare(got[:], want[:]) == 1 && known {
			return authAPIKey, nil
		}
	case strings.EqualFold(kind, "Bearer"):
		if !a.hasSecretToken {
			break
		}
		got := sha256.Sum256([]byte(token))
		if subtle.ConstantTimeCompare(got[:], a.secretToken[:]) == 1 {
			return authSecretToken, nil
		}
	default:
		// APM Server names the scheme it did not know; hotpath does not echo what a client sent in its
		// Authorization header (it may be a credential in a scheme sent by mistake).
		return authAnonymous, errors.New(msgAuthFailed + ": unknown Authentication header: " + expectedAuthHeaderFormat)
	}
	return authAnonymous, errors.New(msgAuthFailed)
}

// parseAuthorizationHeader splits "<kind> <token>"; a value without a space (or starting with one) has
// no kind, as in APM Server.
func parseAuthorizationHeader(v string) (kind, token string) {
	space := strings.IndexByte(v, ' ')
	if space <= 0 {
		return "", ""
	}
	return v[:space], v[space+1:]
}

// RequireAuth wraps h so that it runs only for requests that pass the collector's authentication (the
// secret token or one of the API keys); others get APM Server's 401 answer. With no auth configured it
// returns h unchanged. Use it for every handler mounted beside intake that is not public, such as
// /metrics or the query API.
func (a *API) RequireAuth(h http.Handler) http.Handler {
	if !a.auth.enabled() {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := a.auth.authenticate(r.Header.Get("Authorization")); err != nil {
			a.metrics.reject(reasonUnauthorized)
			writeError(w, r, http.StatusUnauthorized, err.Error())
			return
		}
		h.ServeHTTP(w, r)
	})
}
