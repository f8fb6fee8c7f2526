package api_test

import (
	"bytes"
	"encoding/json"
	"hash/fnv"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/ionroller/terraform-provider-ionroller/shifter/api"
	"github.com/ionroller/terraform-provider-ionroller/shifter/api/openapitest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/internal/syncbuf"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store/bolt"
	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

// Principals of the tests. The token of each is its name prefixed with
// "token-"; teams are payments (which owns the endpoint "web") and search.
const (
	root = "root" // global admin
)

var testTeams = []string{"payments", "search"}

var testRoles = []wire.Role{wire.RoleRead, wire.RoleDeploy, wire.RoleAdmin}

func tokenOf(principal string) string { return "token-" + principal }

// principalName is the name of the test principal of team with role.
func principalName(team string, role wire.Role) string { return team + "-" + string(role) }

func testAuth(t *testing.T) *api.Auth {
	t.Helper()
	auth, err := api.NewAuth(testTokens(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return auth
}

// testTokens are the tokens of the test principals.
func testTokens() []api.Token {
	tokens := []api.Token{
		{Name: root, Role: wire.RoleAdmin, SHA256: api.HashToken(tokenOf(root))},
		{Name: "web-only", Role: wire.RoleRead, Endpoints: []string{"web*"}, SHA256: api.HashToken(tokenOf("web-only"))},
	}
	for _, team := range testTeams {
		for _, role := range testRoles {
			name := principalName(team, role)
			tokens = append(tokens, api.Token{Name: name, Team: team, Role: role, SHA256: api.HashToken(tokenOf(name))})
		}
	}
	return tokens
}

// recorder records the endpoints the server notified.
type recorder struct {
	mu    sync.Mutex
	names []string
}

func (r *recorder) notify(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.names = append(r.names, name)
}

func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.names)
}

// fixture is an API server on a fresh bolt store.
type fixture struct {
	t        *testing.T
	store    store.Store
	server   *api.Server
	http     *httptest.Server
	notified *recorder
	logs     *syncbuf.Buffer
}

type fixtureOption func(*api.Server)

func newFixture(t *testing.T, opts ...fixtureOption) *fixture {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "shifter.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	f := &fixture{t: t, store: st, notified: &recorder{}, logs: &syncbuf.Buffer{}}
	f.server = &api.Server{
		Store:  st,
		Logger: hclog.New(&hclog.LoggerOptions{Output: f.logs, Level: hclog.Trace}),
		Notify: f.notified.notify,
		Auth:   testAuth(t),
	}
	for _, opt := range opts {
		opt(f.server)
	}
	// Every exchange of every test is checked against the OpenAPI
	// description.
	f.http = httptest.NewServer(openapitest.Handler(t, f.server.Handler()))
	t.Cleanup(f.http.Close)
	return f
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request as principal ("" for none). body is sent as is when it
// is a string or []byte, and as JSON otherwise. headers are name, value
// pairs.
func (f *fixture) do(method, path, principal string, body any, headers ...string) response {
	f.t.Helper()
	bearer := ""
	if principal != "" {
		bearer = tokenOf(principal)
	}
	return f.doBearer(method, path, bearer, body, headers...)
}

// doBearer is do with the bearer token itself ("" for none).
func (f *fixture) doBearer(method, path, bearer string, body any, headers ...string) response {
	f.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			f.t.Fatal(err)
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(f.t.Context(), method, f.http.URL+path, r)
	if err != nil {
		f.t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := f.http.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

// must fails the test unless the answer has status, and decodes it into v.
func (r response) must(t *testing.T, status int, v any) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if v != nil {
		if err := json.Unmarshal(r.body, v); err != nil {
			t.Fatalf("decode %s: %v", r.body, err)
		}
	}
}

// apiError fails the test unless the answer is an error with status and
// code, and returns it (as a value: most callers only assert).
func (r response) apiError(t *testing.T, status int, code string) rollout.Error {
	t.Helper()
	var body wire.ErrorResponse
	r.must(t, status, &body)
	if body.Error == nil || body.Error.Code != code {
		t.Fatalf("error %s, want code %s", r.body, code)
	}
	if body.Error.Message == "" {
		t.Fatalf("error %s has no message", r.body)
	}
	return *body.Error
}

// testEndpoint returns a valid endpoint of team payments with a preview
// host and no deletion protection.
func testEndpoint(name string) rollout.Endpoint {
	ep := rollout.NewEndpoint()
	ep.Name = name
	ep.Team = "payments"
	ep.Placement.Region = "us-east-1"
	ep.Traffic = rollout.Traffic{
		ListenerARN:     "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/demo/0123456789abcdef/0123456789abcdef",
		Priority:        testPriority(name),
		Hosts:           []string{name + ".example.com"},
		PreviewHost:     "preview." + name + ".example.com",
		PreviewPriority: testPriority(name) + 1,
	}
	ep.Template.Repository = "registry.example.com/" + name
	ep.Template.ContainerPort = 8080
	ep.Template.AMI = "ami-03cf127a"
	ep.Template.Subnets = []string{"subnet-0123456789abcdef0"}
	ep.DeletionProtection = false
	return ep
}

// testPriority is the rule priority of the test endpoint called name: even,
// and one of its own, as the shifter refuses two endpoints at one priority.
func testPriority(name string) int {
	h := fnv.New32a()
	h.Write([]byte(name))
	return 10 + 2*int(h.Sum32()%20000)
}

// specJSON returns the JSON object of ep as a map, for tests that break it.
func specJSON(t *testing.T, ep rollout.Endpoint) map[string]any {
	t.Helper()
	data, err := json.Marshal(ep)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// seed stores ep and a production release of version directly.
func (f *fixture) seed(ep rollout.Endpoint, version string) {
	f.t.Helper()
	ctx := f.t.Context()
	if _, err := f.store.PutEndpoint(ctx, ep, rollout.RevisionNew); err != nil {
		f.t.Fatal(err)
	}
	if version == "" {
		return
	}
	r := rollout.Release{Endpoint: ep.Name, Track: rollout.Production, Version: version}
	if _, err := f.store.PutRelease(ctx, r, rollout.RevisionNew); err != nil {
		f.t.Fatal(err)
	}
}

// setRollout stores a production rollout of endpoint in phase, paused when
// paused is set.
func (f *fixture) setRollout(endpoint string, phase rollout.Phase, paused bool) {
	f.t.Helper()
	st, err := f.store.GetState(f.t.Context(), endpoint)
	if err != nil {
		f.t.Fatal(err)
	}
	st.Production.Rollout = &rollout.Rollout{
		ID: 1, Kind: rollout.KindDeploy, Key: rollout.Key{Version: "v2"}, Target: "web-2",
		Steps: []rollout.Step{{Weight: 10}, {Weight: 100}}, Phase: phase, Step: 0,
		StartedAt: time.Now(),
	}
	if paused {
		st.Production.Rollout.PausedAt = time.Now()
	}
	if _, err := f.store.PutState(f.t.Context(), st, st.Revision); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) events(endpoint string) []rollout.Event {
	f.t.Helper()
	es, err := f.store.ListEvents(f.t.Context(), endpoint, 0, 0)
	if err != nil {
		f.t.Fatal(err)
	}
	return es
}

func eventTypes(es []rollout.Event) []string {
	types := make([]string, len(es))
	for i, e := range es {
		types[i] = e.Type
	}
	return types
}
