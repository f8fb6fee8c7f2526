package client_test

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/api"
	"github.com/ionroller/terraform-provider-ionroller/shifter/client"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store/bolt"
	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

// Tokens of the test shifter.
const (
	adminToken  = "admin-token-0f9a3c"
	deployToken = "payments-deploy-token-77b1"
)

// shifter is a real API server on a fresh bolt store.
type shifter struct {
	store  store.Store
	server *api.Server
}

// startShifter serves a shifter through wrap (nil: as it is) and returns it
// with the server's URL.
func startShifter(t *testing.T, wrap func(http.Handler) http.Handler) (*shifter, *httptest.Server) {
	t.Helper()
	sh := newShifter(t)
	h := sh.server.Handler()
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return sh, srv
}

func newShifter(t *testing.T) *shifter {
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
	auth, err := api.NewAuth([]api.Token{
		{Name: "admin", Role: wire.RoleAdmin, SHA256: api.HashToken(adminToken)},
		{Name: "payments-ci", Team: "payments", Role: wire.RoleDeploy, SHA256: api.HashToken(deployToken)},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &shifter{store: st, server: &api.Server{Store: st, Auth: auth}}
}

func newClient(t *testing.T, addr string, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.New(addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testEndpoint() rollout.Endpoint {
	ep := rollout.NewEndpoint()
	ep.Name = "web"
	ep.Team = "payments"
	ep.Traffic = rollout.Traffic{
		ListenerARN: "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/demo/0123456789abcdef/0123456789abcdef",
		Priority:    10,
		Hosts:       []string{"web.example.com"},
	}
	ep.Template.Repository = "registry.example.com/web"
	ep.Template.ContainerPort = 8080
	ep.Template.AMI = "ami-03cf127a"
	ep.Template.Subnets = []string{"subnet-0123456789abcdef0"}
	return ep
}

// wantError fails the test unless err has code (and field, when given).
func wantError(t *testing.T, err error, code, field string) {
	t.Helper()
	if got := rollout.ErrorCode(err); got != code {
		t.Fatalf("error %v has code %q, want %q", err, got, code)
	}
	if got := rollout.ErrorField(err); got != field {
		t.Fatalf("error %v names field %q, want %q", err, got, field)
	}
}

func TestEndpointsEndToEnd(t *testing.T) {
	_, srv := startShifter(t, nil)
	c := newClient(t, srv.URL, client.WithToken(adminToken))
	ctx := t.Context()
	ep := testEndpoint()

	v, err := c.PutEndpoint(ctx, ep, rollout.RevisionNew)
	if err != nil {
		t.Fatal(err)
	}
	if v.Endpoint.Revision != 1 || v.Status.State != rollout.StateEmpty {
		t.Fatalf("created %+v", v)
	}
	_, err = c.PutEndpoint(ctx, ep, rollout.RevisionNew)
	wantError(t, err, rollout.ECONFLICT, "")

	// What was read may be sent back with its revision.
	v.Endpoint.Template.InstanceType = "t3.small"
	if v, err = c.PutEndpoint(ctx, v.Endpoint, v.Endpoint.Revision); err != nil {
		t.Fatal(err)
	}
	if v.Endpoint.Revision != 2 || v.Endpoint.Template.InstanceType != "t3.small" {
		t.Fatalf("updated %+v", v.Endpoint)
	}
	_, err = c.PutEndpoint(ctx, ep, 1)
	wantError(t, err, rollout.ECONFLICT, "")
	if v, err = c.PutEndpoint(ctx, v.Endpoint, rollout.RevisionAny); err != nil || v.Endpoint.Revision != 3 {
		t.Fatalf("put without a revision check: %+v, %v", v.Endpoint, err)
	}

	bad := ep
	bad.Policy.Steps = []rollout.Step{{Weight: 50}}
	_, err = c.PutEndpoint(ctx, bad, rollout.RevisionAny)
	wantError(t, err, rollout.EINVALID, "policy.steps[0].weight")

	got, err := c.GetEndpoint(ctx, "web")
	if err != nil || got.Endpoint.Revision != 3 {
		t.Fatalf("get: %+v, %v", got.Endpoint, err)
	}
	_, err = c.GetEndpoint(ctx, "nope")
	wantError(t, err, rollout.ENOTFOUND, "")

	for team, want := range map[string]int{"": 1, "payments": 1, "search": 0} {
		list, err := c.ListEndpoints(ctx, team)
		if err != nil || len(list) != want {
			t.Errorf("list of team %q: %d endpoints (%v), want %d", team, len(list), err, want)
		}
	}

	_, err = c.DeleteEndpoint(ctx, "web", rollout.RevisionAny)
	wantError(t, err, rollout.ECONFLICT, "deletion_protection")
	ep.DeletionProtection = false
	if _, err := c.PutEndpoint(ctx, ep, 3); err != nil {
		t.Fatal(err)
	}
	deleting, err := c.DeleteEndpoint(ctx, "web", 4)
	if err != nil || deleting.Status.State != rollout.StateDeleting {
		t.Fatalf("delete: %+v, %v", deleting.Status, err)
	}
}

func TestReleasesAndActionsEndToEnd(t *testing.T) {
	sh, srv := startShifter(t, nil)
	ctx := t.Context()
	admin := newClient(t, srv.URL, client.WithToken(adminToken))
	if _, err := admin.PutEndpoint(ctx, testEndpoint(), rollout.RevisionNew); err != nil {
		t.Fatal(err)
	}
	ci := newClient(t, srv.URL, client.WithToken(deployToken))

	r := rollout.Release{Endpoint: "web", Track: rollout.Production, Version: "v1"}
	v, err := ci.PutRelease(ctx, r, rollout.RevisionNew)
	if err != nil {
		t.Fatal(err)
	}
	if v.Release.Revision != 1 || v.Status.State != rollout.StatePending {
		t.Fatalf("declared %+v", v)
	}
	r.Version = "v2"
	if v, err = ci.PutRelease(ctx, r, v.Release.Revision); err != nil || v.Release.Version != "v2" {
		t.Fatalf("redeclared %+v, %v", v.Release, err)
	}
	if got, err := ci.GetRelease(ctx, "web", rollout.Production); err != nil || got.Release.Revision != 2 {
		t.Fatalf("get release: %+v, %v", got.Release, err)
	}
	_, err = ci.PutRelease(ctx, rollout.Release{Endpoint: "web", Track: rollout.Preview, Version: "v2"}, rollout.RevisionAny)
	wantError(t, err, rollout.EINVALID, "track")
	_, err = ci.PutEndpoint(ctx, testEndpoint(), rollout.RevisionAny)
	wantError(t, err, rollout.EFORBIDDEN, "")

	_, err = ci.Act(ctx, "web", rollout.Command{Kind: rollout.CommandPromote})
	wantError(t, err, rollout.ECONFLICT, "")
	cmd, err := ci.Act(ctx, "web", rollout.Command{Kind: rollout.CommandRollback, To: "v1", Reason: "errors"})
	if err != nil {
		t.Fatal(err)
	}
	if cmd.Seq != 1 || cmd.Actor != "payments-ci" || cmd.To != "v1" || cmd.Endpoint != "web" {
		t.Fatalf("command %+v", cmd)
	}

	if err := ci.DeleteRelease(ctx, "web", rollout.Production, 2); err != nil {
		t.Fatal(err)
	}
	_, err = ci.GetRelease(ctx, "web", rollout.Production)
	wantError(t, err, rollout.ENOTFOUND, "")

	events, next, err := ci.Events(ctx, "web", 0, 2)
	if err != nil || len(events) != 2 || next != 2 {
		t.Fatalf("first page: %d events, next %d, %v", len(events), next, err)
	}
	rest, next, err := ci.Events(ctx, "web", next, 0)
	if err != nil {
		t.Fatal(err)
	}
	types := []string{}
	for _, e := range append(events, rest...) {
		types = append(types, e.Type)
	}
	want := []string{rollout.EventEndpointCreated, rollout.EventReleaseDeclared, rollout.EventReleaseDeclared, rollout.EventCommand, rollout.EventReleaseRemoved}
	if !slices.Equal(types, want) || next != 5 {
		t.Fatalf("trail %v next %d, want %v next 5", types, next, want)
	}
	if cmds, err := sh.store.ListCommands(ctx, "web", 0); err != nil || len(cmds) != 1 {
		t.Fatalf("queued commands %+v, %v", cmds, err)
	}
}

func TestAuthErrorsDecode(t *testing.T) {
	_, srv := startShifter(t, nil)
	_, err := newClient(t, srv.URL).ListEndpoints(t.Context(), "")
	wantError(t, err, rollout.EUNAUTHORIZED, "")
	_, err = newClient(t, srv.URL, client.WithToken("forged")).ListEndpoints(t.Context(), "")
	wantError(t, err, rollout.EUNAUTHORIZED, "")
}

func TestAnswerNotFromTheShifter(t *testing.T) {
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html><body>502 Bad Gateway</body></html>"))
	}))
	t.Cleanup(proxy.Close)
	_, err := newClient(t, proxy.URL, client.WithRetryFor(0)).GetEndpoint(t.Context(), "web")
	wantError(t, err, rollout.EINTERNAL, "")
	if !strings.Contains(err.Error(), "502 Bad Gateway") {
		t.Errorf("error %q does not quote the status", err)
	}
}

func TestErrorWithoutCodeTakesTheStatus(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"error":{"message":"no"}}`))
	}))
	t.Cleanup(srv.Close)
	_, err := newClient(t, srv.URL).GetEndpoint(t.Context(), "web")
	wantError(t, err, rollout.EFORBIDDEN, "")
}

func TestTimeout(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	t.Cleanup(slow.Close)
	start := time.Now()
	c := newClient(t, slow.URL, client.WithTimeout(50*time.Millisecond), client.WithRetryFor(0))
	_, err := c.GetEndpoint(t.Context(), "web")
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("error %v after %s, want a timeout", err, time.Since(start))
	}
}

func TestNewRefusesBadAddresses(t *testing.T) {
	for _, addr := range []string{"", "localhost:8080", "ftp://shifter", "http://"} {
		if _, err := client.New(addr); err == nil {
			t.Errorf("New(%q) accepted", addr)
		}
	}
	if _, err := client.New("https://shifter.example.com/prefix"); err != nil {
		t.Errorf("a path prefix: %v", err)
	}
}

func TestPathPrefix(t *testing.T) {
	sh := newShifter(t)
	mux := http.NewServeMux()
	mux.Handle("/shifter/", http.StripPrefix("/shifter", sh.server.Handler()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	if _, err := newClient(t, srv.URL+"/shifter", client.WithToken(adminToken)).ListEndpoints(t.Context(), ""); err != nil {
		t.Fatal(err)
	}
}
