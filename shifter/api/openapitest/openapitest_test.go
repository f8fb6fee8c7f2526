package openapitest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ionroller/terraform-provider-ionroller/shifter/api/openapitest"
)

// failures is a testing.TB that keeps the errors reported to it.
type failures struct {
	testing.TB
	errors []string
}

func (f *failures) Error(args ...any) { f.errors = append(f.errors, fmt.Sprint(args...)) }

func (f *failures) Errorf(format string, args ...any) {
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}

// answering is a server that answers every request with status and body.
func answering(status int, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("ETag", `"1"`)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	})
}

// TestMismatchesFailTheTestNamingRouteAndField: an answer the description
// does not allow, or a request it refuses that the server took, fails the
// test that made it; a bad request both refuse does not.
func TestMismatchesFailTheTestNamingRouteAndField(t *testing.T) {
	const invalid = `{"error":{"code":"invalid","message":"is not one","field":"kind"}}`
	for _, tc := range []struct {
		name, method, path, body string
		server                   http.Handler
		want                     []string // in the one error reported; none for no error
	}{
		{"answer without a required field", "GET", "/v1/whoami", "", answering(200, `{"name":"ci"}`),
			[]string{"GET /v1/whoami", "role"}},
		{"answer with a field not described", "GET", "/v1/whoami", "", answering(200, `{"name":"ci","role":"read","admin":true}`),
			[]string{"GET /v1/whoami", "admin"}},
		{"status not described", "GET", "/v1/whoami", "", answering(http.StatusConflict, invalid),
			[]string{"GET /v1/whoami", "409"}},
		{"request body refused but taken", "PUT", "/v1/endpoints/web/releases/production", `{"version":"v1","retry":"1"}`,
			answering(200, `{}`), []string{"PUT /v1/endpoints/{name}/releases/{track}", "$.retry"}},
		{"path parameter refused but taken", "POST", "/v1/endpoints/web/actions/explode", "",
			answering(202, `{}`), []string{"/v1/endpoints/{name}/actions/{kind}", "kind"}},
		{"path parameter refused by both", "POST", "/v1/endpoints/web/actions/explode", "",
			answering(400, invalid), nil},
		{"route described by neither", "GET", "/v1/releases", "", answering(404, `404 page not found`), nil},
		{"described answer", "GET", "/v1/whoami", "", answering(200, `{"name":"ci","role":"read"}`), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb := &failures{TB: t}
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			openapitest.Handler(tb, tc.server).ServeHTTP(httptest.NewRecorder(), req)
			if len(tc.want) == 0 {
				if len(tb.errors) > 0 {
					t.Errorf("reported %q, want nothing", tb.errors)
				}
				return
			}
			if len(tb.errors) != 1 {
				t.Fatalf("reported %q, want one error", tb.errors)
			}
			t.Log(tb.errors[0])
			for _, w := range tc.want {
				if !strings.Contains(tb.errors[0], w) {
					t.Errorf("reported %q, want it to name %q", tb.errors[0], w)
				}
			}
		})
	}
}
