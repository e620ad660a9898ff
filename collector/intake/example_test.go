package intake_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/intake"
)

// An API in front of a Processor (here one that counts; the collector uses its store), mounted on a mux
// beside another handler that needs the same authentication.
func Example() {
	var stored int
	api, err := intake.New(intake.Config{
		Processor: collector.ProcessBatchFunc(func(_ context.Context, b *collector.Batch) error {
			stored += len(*b)
			return nil
		}),
		SecretToken: "s3cret",
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	api.Register(mux)
	mux.Handle("GET /status", api.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%d events stored\n", stored)
	})))

	body := `{"metadata":{"service":{"name":"search","agent":{"name":"go","version":"2.7.12"}}}}
{"transaction":{"id":"945254c567a5417e","trace_id":"0123456789abcdef0123456789abcdef","type":"request","duration":32.5,"span_count":{"started":0}}}
`
	req := httptest.NewRequest(http.MethodPost, "/intake/v2/events?verbose", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer s3cret")
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, req)
	fmt.Print(w.Code, " ", w.Body.String())

	req = httptest.NewRequest(http.MethodGet, "/status", nil)
	w = httptest.NewRecorder()
	mux.ServeHTTP(w, req)
	fmt.Print(w.Code, " ", w.Body.String())

	req.Header.Set("Authorization", "Bearer s3cret")
	w = httptest.NewRecorder()
	mux.ServeHTTP(w, req)
	fmt.Print(w.Code, " ", w.Body.String())
	// Output:
	// 202 {"accepted":1}
	// 401 {"error":"authentication failed: missing or improperly formatted Authorization header: expected 'Authorization: Bearer secret_token' or 'Authorization: ApiKey base64(API key ID:API key)'"}
	// 200 1 events stored
}
