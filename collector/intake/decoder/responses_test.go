package decoder

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAPMServerResponses replays the invalid-input cases of APM Server's handler tests
// (responses/index.json of collector/testdata/apm-server, from its approved files): same accepted count, same errors, same documents.
// Messages are compared exactly where APM Server's wording is known, by prefix otherwise.
func TestAPMServerResponses(t *testing.T) {
	var index struct {
		Cases []struct {
			Case    string  `json:"case"`
			Request string  `json:"request"`
			Fixture *string `json:"fixture"`
			Status  int     `json:"status"`
			Body    struct {
				Accepted int `json:"accepted"`
				Errors   []struct {
					Message  string  `json:"message"`
					Document *string `json:"document"`
				} `json:"errors"`
			} `json:"body"`
		} `json:"cases"`
	}
	readJSON(t, responsesIndex, &index)
	ran := 0
	for _, c := range index.Cases {
		opts := Options{}
		switch {
		case c.Fixture == nil:
			continue
		case strings.HasPrefix(*c.Fixture, "invalid-"), c.Case == "Success":
		case c.Case == "TooLarge":
			opts.MaxEventSize = 10 // "with apm-server.max_event_size: 10"
		default:
			continue // a handler case (method, content type, compression, queue...), not the decoder's
		}
		ran++
		t.Run(c.Case, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join(fixtures, *c.Fixture))
			if err != nil {
				t.Fatal(err)
			}
			_, res, err := decodeAll(t, opts, body, backendBase())
			if err != nil {
				t.Fatalf("Decode error: %v", err)
			}
			if res.Accepted != c.Body.Accepted {
				t.Errorf("accepted %d, want %d", res.Accepted, c.Body.Accepted)
			}
			if len(res.Errors) != len(c.Body.Errors) {
				t.Fatalf("errors %v, want %v", res.Errors, c.Body.Errors)
			}
			status := 202
			for i, want := range c.Body.Errors {
				got := res.Errors[i]
				if got.Message != want.Message {
					t.Errorf("message %q, want %q", got.Message, want.Message)
				}
				if want.Document != nil && got.Document != *want.Document {
					t.Errorf("document %q, want %q", got.Document, *want.Document)
				}
				status = max(status, got.Kind.HTTPStatus())
			}
			if status != c.Status {
				t.Errorf("status %d, want %d", status, c.Status)
			}
		})
	}
	if ran < 8 {
		t.Fatalf("only %d cases ran", ran)
	}
}
