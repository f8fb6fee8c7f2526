package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/ionroller/terraform-provider-ionroller/shifter/api"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store/bolt"
	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

// The fuzz targets send arbitrary bodies through the real handlers: whatever
// arrives, the API answers 2xx, 400 with code invalid naming a field, 404 or
// 409; never a panic, never a 5xx. `make fuzz` runs each for a bounded time.

func fuzzServer(f *testing.F) http.Handler {
	st, err := bolt.Open(filepath.Join(f.TempDir(), "shifter.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	ep := testEndpoint("web")
	ep.Traffic.PreviewHost, ep.Traffic.PreviewPriority = "preview.web.example.com", 11
	if _, err := st.PutEndpoint(f.Context(), ep, rollout.RevisionNew); err != nil {
		f.Fatal(err)
	}
	auth, err := api.NewAuth(nil, &api.Principal{Name: "fuzz", Role: wire.RoleAdmin})
	if err != nil {
		f.Fatal(err)
	}
	return (&api.Server{Store: st, Auth: auth}).Handler()
}

func fuzzRequest(t *testing.T, h http.Handler, method, path string, body []byte) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, bytes.NewReader(body)))
	switch code := rec.Code; {
	case code < 300, code == http.StatusNotFound, code == http.StatusConflict:
	case code == http.StatusBadRequest:
		var e wire.ErrorResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == nil || e.Error.Code != rollout.EINVALID || e.Error.Field == "" {
			t.Fatalf("%s %s %q: 400 %s does not name a field", method, path, body, rec.Body)
		}
	default:
		t.Fatalf("%s %s %q: %d %s", method, path, body, code, rec.Body)
	}
}

func FuzzPutEndpoint(f *testing.F) {
	h := fuzzServer(f)
	seed, _ := json.Marshal(testEndpoint("web"))
	f.Add(seed)
	f.Add([]byte(`{"policy":{"steps":[{"weight":10},{"weight":100}]},"template":{"env":{"A":"1"}}}`))
	f.Add([]byte(`{"name":"web","traffic":{"priority":"10"}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) { fuzzRequest(t, h, "PUT", "/v1/endpoints/web", body) })
}

func FuzzPutRelease(f *testing.F) {
	h := fuzzServer(f)
	f.Add("production", []byte(`{"version":"v1","env":{"A":"1"}}`))
	f.Add("preview", []byte(`{"version":"v2","image":"registry.example.com/web:v2","retry":1}`))
	f.Add("staging", []byte(`{"version":"v1"}`))
	f.Fuzz(func(t *testing.T, track string, body []byte) {
		fuzzRequest(t, h, "PUT", "/v1/endpoints/web/releases/"+urlSafe(track), body)
	})
}

func FuzzAction(f *testing.F) {
	h := fuzzServer(f)
	f.Add("pause", []byte(`{"for":"10m","reason":"lunch"}`))
	f.Add("rollback", []byte(`{"to":"v1"}`))
	f.Add("explode", []byte(``))
	f.Fuzz(func(t *testing.T, kind string, body []byte) {
		fuzzRequest(t, h, "POST", "/v1/endpoints/web/actions/"+urlSafe(kind), body)
	})
}

// urlSafe keeps a fuzzed path segment a valid one.
func urlSafe(s string) string {
	var b []byte
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b = append(b, c)
		}
	}
	if len(b) == 0 {
		return "x"
	}
	return string(b)
}
