package agenttest

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// SendSecrets sends the service at baseURL two requests that carry a secret of every kind a request can,
// for tests that check none of them reaches the APM server or anything written from what it received:
// GET /account with secrets in its query string (password, token, session_id; page=2 is not one), and
// POST /login with a form body (password, api_key; user=bob is not one), each with Authorization,
// Proxy-Authorization, X-Api-Key and a session cookie (sid; theme=dark is not one). It reads each answer
// to its end, whatever its status (a request or answer cut short fails the test), and returns the secrets.
func SendSecrets(t testing.TB, c *http.Client, baseURL string) (secrets []string) {
	t.Helper()
	get, err := http.NewRequest("GET", baseURL+"/account?password=q-HHHH&token=q-IIII&session_id=q-MMMM&page=2", nil)
	if err != nil {
		t.Fatal(err)
	}
	post, err := http.NewRequest("POST", baseURL+"/login", strings.NewReader("user=bob&password=form-JJJJ&api_key=form-KKKK"))
	if err != nil {
		t.Fatal(err)
	}
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, req := range []*http.Request{get, post} {
		req.Header.Set("Authorization", "Bearer tok-AAAA")
		req.Header.Set("Proxy-Authorization", "Basic cHJveHktRERERA==")
		req.Header.Set("X-Api-Key", "apikey-LLLL")
		req.Header.Set("Cookie", "sid=sid-BBBB; theme=dark")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("%s %s: reading the answer: %v", req.Method, req.URL.Path, err)
		}
	}
	return []string{"tok-AAAA", "cHJveHktRERERA", "apikey-LLLL", "sid-BBBB", "q-HHHH", "q-IIII", "q-MMMM",
		"form-JJJJ", "form-KKKK"}
}
