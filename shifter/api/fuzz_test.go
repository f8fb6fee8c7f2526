package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ionroller/terraform-provider-ionroller/shifter/api"
	"github.com/ionroller/terraform-provider-ionroller/shifter/api/openapitest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store/bolt"
	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

// The fuzz targets send arbitrary bodies through the real handlers, as an
// admin of every team to a shifter that bounds team payments: whatever
// arrives, the API answers 2xx, 400 with code invalid naming a field, 403
// with code forbidden naming a field (the team's bounds), 404 or 409; never
// a panic, never a 5xx. `make fuzz` runs each for a bounded time.

func fuzzServer(f *testing.F) http.Handler {
	st, err := bolt.Open(filepath.Join(f.TempDir(), "shifter.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	ep := testEndpoint("web")
	ep.Traffic.PreviewHost, ep.Traffic.PreviewPriority = "preview.web.example.com", 11
	// Another endpoint on the listener, for rules to clash with.
	if _, err := st.PutEndpoint(f.Context(), ep, rollout.RevisionNew); err != nil {
		f.Fatal(err)
	}
	if _, err := st.PutEndpoint(f.Context(), testEndpoint("api"), rollout.RevisionNew); err != nil {
		f.Fatal(err)
	}
	auth, err := api.NewAuth(nil, &api.Principal{Name: "fuzz", Role: wire.RoleAdmin})
	if err != nil {
		f.Fatal(err)
	}
	teams := map[string]api.Bounds{"payments": {
		Listeners: []string{ep.Traffic.ListenerARN}, Hosts: []string{"*.example.com"}, MinPriority: 10, MaxPriority: 50000,
		Repositories: []string{"registry.example.com/*"}, WebhookHosts: []string{"hooks.example.com"},
	}}
	return (&api.Server{Store: st, Auth: auth, Teams: teams}).Handler()
}

func fuzzRequest(t *testing.T, h http.Handler, method, path string, body []byte) {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	openapitest.Handler(t, h).ServeHTTP(rec, req)
	switch code := rec.Code; {
	case code < 300, code == http.StatusNotFound, code == http.StatusConflict:
	case code == http.StatusBadRequest, code == http.StatusForbidden:
		var e wire.ErrorResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == nil || e.Error.Code != wire.StatusErrorCode(code) || e.Error.Field == "" {
			t.Fatalf("%s %s %q: %d %s does not name a field", method, path, body, code, rec.Body)
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
	// The team's bounds and the other endpoint's rule.
	for _, change := range []func(ep *rollout.Endpoint){
		func(ep *rollout.Endpoint) { ep.Traffic.Hosts = []string{"api.example.com"} },
		func(ep *rollout.Endpoint) { ep.Traffic.Hosts = []string{"web.example.org"} },
		func(ep *rollout.Endpoint) { ep.Traffic.Hosts, ep.Traffic.Paths = nil, []string{"/web/*"} },
		func(ep *rollout.Endpoint) { ep.Notifications.WebhookURL = "http://169.254.169.254/latest/meta-data/" },
		func(ep *rollout.Endpoint) { ep.Template.Repository = "evil.example.net/miner" },
		func(ep *rollout.Endpoint) { ep.Placement.RoleARN = "arn:aws:iam::333333333333:role/x" },
		func(ep *rollout.Endpoint) { ep.Team = "labs" },
	} {
		ep := testEndpoint("web")
		change(&ep)
		seed, _ := json.Marshal(ep)
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body []byte) { fuzzRequest(t, h, "PUT", "/v1/endpoints/web", body) })
}

func FuzzPutRelease(f *testing.F) {
	h := fuzzServer(f)
	f.Add("production", []byte(`{"version":"v1","env":{"A":"1"}}`))
	f.Add("preview", []byte(`{"version":"v2","image":"registry.example.com/web:v2","retry":1}`))
	f.Add("production", []byte(`{"version":"v2","image":"evil.example.net/miner:v2"}`))
	f.Add("production", []byte(`{"version":"v2","image":"registry.example.com:5000/web@sha256:`+strings.Repeat("a", 64)+`"}`))
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
