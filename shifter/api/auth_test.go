package api_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/ionroller/terraform-provider-ionroller/shifter/api"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

// TestAuthorizationMatrix runs every operation as every kind of caller on
// the endpoint "web" of team payments. The expected status follows from one
// rule and the table of operations below.
func TestAuthorizationMatrix(t *testing.T) {
	updated := testEndpoint("web")
	updated.Template.InstanceType = "t3.small"
	// The team of the token, as a client that names none sends.
	ownTeam := updated
	ownTeam.Team = ""
	missing := ownTeam
	missing.Name = "gone"
	operations := []struct {
		name         string
		method, path string
		body         any
		need         wire.Role
		ok           int
		// hidden answers a caller of another team: 404, so that neither a
		// read nor a write reveals the endpoint. A body naming another
		// team is 403 whether the endpoint exists or not.
		hidden  int
		headers []string
	}{
		{"list endpoints", "GET", "/v1/endpoints", nil, wire.RoleRead, 200, 200, nil},
		{"list replicas", "GET", "/v1/replicas", nil, wire.RoleRead, 200, 200, nil},
		{"get endpoint", "GET", "/v1/endpoints/web", nil, wire.RoleRead, 200, 404, nil},
		{"create endpoint", "PUT", "/v1/endpoints/web-two", testEndpoint("web-two"), wire.RoleAdmin, 201, 403, nil},
		{"update endpoint", "PUT", "/v1/endpoints/web", updated, wire.RoleAdmin, 200, 403, nil},
		{"update endpoint as the token's team", "PUT", "/v1/endpoints/web", ownTeam, wire.RoleAdmin, 200, 404, []string{"If-Match", `"1"`}},
		{"update a missing endpoint", "PUT", "/v1/endpoints/gone", missing, wire.RoleAdmin, 404, 404, []string{"If-Match", `"1"`}},
		{"create over a name taken", "PUT", "/v1/endpoints/web", ownTeam, wire.RoleAdmin, 200, 404, nil},
		{"delete endpoint", "DELETE", "/v1/endpoints/web", nil, wire.RoleAdmin, 202, 404, nil},
		{"get release", "GET", "/v1/endpoints/web/releases/production", nil, wire.RoleRead, 200, 404, nil},
		{"put release", "PUT", "/v1/endpoints/web/releases/production", map[string]any{"version": "v2"}, wire.RoleDeploy, 200, 404, nil},
		{"delete release", "DELETE", "/v1/endpoints/web/releases/production", nil, wire.RoleDeploy, 204, 404, nil},
		{"act", "POST", "/v1/endpoints/web/actions/pause", nil, wire.RoleDeploy, 202, 404, nil},
		{"read events", "GET", "/v1/endpoints/web/events", nil, wire.RoleRead, 200, 404, nil},
		{"list spec revisions", "GET", "/v1/endpoints/web/revisions", nil, wire.RoleRead, 200, 404, nil},
		{"get spec revision", "GET", "/v1/endpoints/web/revisions/1", nil, wire.RoleRead, 200, 404, nil},
	}
	type caller struct {
		principal string
		role      wire.Role
		own       bool
	}
	callers := []caller{{principal: ""}, {principal: "unknown"}}
	for _, team := range testTeams {
		for _, role := range testRoles {
			callers = append(callers, caller{principalName(team, role), role, team == "payments"})
		}
	}
	rank := map[wire.Role]int{wire.RoleRead: 1, wire.RoleDeploy: 2, wire.RoleAdmin: 3}

	for _, op := range operations {
		for _, c := range callers {
			want := op.ok
			switch {
			case c.role == "":
				want = http.StatusUnauthorized
			case rank[c.role] < rank[op.need]:
				want = http.StatusForbidden
			case !c.own:
				want = op.hidden
			}
			name := c.principal
			if name == "" {
				name = "no token"
			}
			t.Run(op.name+"/"+name, func(t *testing.T) {
				f := newFixture(t)
				f.seed(testEndpoint("web"), "v1")
				f.setRollout("web", rollout.PhaseShifting, false)
				before := f.snapshot()
				resp := f.do(op.method, op.path, c.principal, op.body, op.headers...)
				if resp.status != want {
					t.Fatalf("%s %s as %s: %d, want %d; body %s", op.method, op.path, name, resp.status, want, resp.body)
				}
				switch want {
				case http.StatusUnauthorized:
					if !strings.HasPrefix(resp.header.Get("WWW-Authenticate"), "Bearer") {
						t.Errorf("401 without WWW-Authenticate: Bearer")
					}
					resp.apiError(t, want, rollout.EUNAUTHORIZED)
				case http.StatusForbidden:
					resp.apiError(t, want, rollout.EFORBIDDEN)
				case http.StatusNotFound:
					resp.apiError(t, want, rollout.ENOTFOUND)
				}
				if want >= 400 {
					f.assertUnchanged(before)
				}
				if op.name == "list endpoints" && want == http.StatusOK {
					var list wire.EndpointList
					resp.must(t, want, &list)
					if len(list.Endpoints) != map[bool]int{true: 1, false: 0}[c.own] {
						t.Errorf("list %+v", list.Endpoints)
					}
				}
			})
		}
	}
}

func TestTeamTokenCreatesForItsTeamOnly(t *testing.T) {
	f := newFixture(t)
	admin := principalName("payments", wire.RoleAdmin)
	ep := testEndpoint("web")
	ep.Team = ""
	var v rollout.EndpointView
	f.do("PUT", "/v1/endpoints/web", admin, ep).must(t, http.StatusCreated, &v)
	if v.Endpoint.Team != "payments" {
		t.Errorf("team %q, want the token's", v.Endpoint.Team)
	}
	// Nor may it move its endpoint to another team.
	ep.Team = "search"
	f.do("PUT", "/v1/endpoints/web", admin, ep).apiError(t, http.StatusForbidden, rollout.EFORBIDDEN)
}

func TestEndpointPatternsNarrowAToken(t *testing.T) {
	f := newFixture(t)
	f.seed(testEndpoint("web"), "")
	f.seed(testEndpoint("api"), "")
	f.do("GET", "/v1/endpoints/web", "web-only", nil).must(t, http.StatusOK, nil)
	f.do("GET", "/v1/endpoints/api", "web-only", nil).apiError(t, http.StatusNotFound, rollout.ENOTFOUND)
}

func TestAnonymousOnlyWhenConfigured(t *testing.T) {
	f := newFixture(t)
	f.seed(testEndpoint("web"), "")
	f.do("GET", "/v1/endpoints/web", "", nil).apiError(t, http.StatusUnauthorized, rollout.EUNAUTHORIZED)

	auth, err := api.NewAuth(nil, &api.Principal{Name: "demo", Role: wire.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	f = newFixture(t, func(s *api.Server) { s.Auth = auth })
	f.seed(testEndpoint("web"), "")
	f.do("POST", "/v1/endpoints/web/actions/rollback", "", nil).must(t, http.StatusAccepted, nil)
	if events := f.events("web"); len(events) != 1 || events[0].Actor != "demo" {
		t.Errorf("events %+v, want one by demo", events)
	}
	// A token that is not valid is refused even so.
	f.do("GET", "/v1/endpoints/web", "forged", nil).apiError(t, http.StatusUnauthorized, rollout.EUNAUTHORIZED)
}

func TestNoAuthRefusesEverything(t *testing.T) {
	f := newFixture(t, func(s *api.Server) { s.Auth = nil })
	f.do("GET", "/v1/endpoints", root, nil).apiError(t, http.StatusUnauthorized, rollout.EUNAUTHORIZED)
}

func TestNewAuthRefusesBadConfiguration(t *testing.T) {
	sum := api.HashToken("secret")
	for name, tc := range map[string]struct {
		tokens    []api.Token
		anonymous *api.Principal
		want      string
	}{
		"unknown role":      {tokens: []api.Token{{Name: "ci", Role: "owner", SHA256: sum}}, want: "role"},
		"no name":           {tokens: []api.Token{{Role: wire.RoleRead, SHA256: sum}}, want: "name"},
		"short hash":        {tokens: []api.Token{{Name: "ci", Role: wire.RoleRead, SHA256: "abcd"}}, want: "sha256"},
		"plain token":       {tokens: []api.Token{{Name: "ci", Role: wire.RoleRead, SHA256: "secret"}}, want: "sha256"},
		"bad team":          {tokens: []api.Token{{Name: "ci", Team: "Team A", Role: wire.RoleRead, SHA256: sum}}, want: "team"},
		"bad pattern":       {tokens: []api.Token{{Name: "ci", Role: wire.RoleRead, Endpoints: []string{"[web"}, SHA256: sum}}, want: "pattern"},
		"name used twice":   {tokens: []api.Token{{Name: "ci", Role: wire.RoleRead, SHA256: sum}, {Name: "ci", Role: wire.RoleAdmin, SHA256: sum}}, want: "twice"},
		"anonymous no role": {anonymous: &api.Principal{Name: "demo"}, want: "anonymous"},
	} {
		_, err := api.NewAuth(tc.tokens, tc.anonymous)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %q", name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: error %v repeats the token", name, err)
		}
	}
}

func TestServerNeverLogsTokens(t *testing.T) {
	f := newFixture(t)
	f.seed(testEndpoint("web"), "v1")
	f.do("GET", "/v1/endpoints/web", root, nil).must(t, http.StatusOK, nil)
	f.do("PUT", "/v1/endpoints/web/releases/production", root, map[string]any{"version": "v2"}).must(t, http.StatusOK, nil)
	f.do("GET", "/v1/endpoints/web", "intruder", nil).apiError(t, http.StatusUnauthorized, rollout.EUNAUTHORIZED)

	logs := f.logs.String()
	if !strings.Contains(logs, "/v1/endpoints/web") {
		t.Fatalf("requests were not logged: %s", logs)
	}
	// The access log says who made each request, and no one for a refused token.
	if !strings.Contains(logs, "method=PUT path=/v1/endpoints/web/releases/production status=200") ||
		!regexp.MustCompile(`method=PUT path=/v1/endpoints/web/releases/production status=200 .* caller=root`).MatchString(logs) ||
		!regexp.MustCompile(`status=401 .* caller=""?\s`).MatchString(logs) {
		t.Errorf("the access log does not name the callers:\n%s", logs)
	}
	for _, secret := range []string{tokenOf(root), tokenOf("intruder")} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log contains the token %q:\n%s", secret, logs)
		}
	}
}

// TestWhoAmIAnswersThePrincipal: the web UI shows actions by the role it
// reads here, for a token and for the anonymous principal alike.
func TestWhoAmIAnswersThePrincipal(t *testing.T) {
	f := newFixture(t)
	for _, want := range []wire.WhoAmI{
		{Name: root, Role: wire.RoleAdmin},
		{Name: "payments-deploy", Team: "payments", Role: wire.RoleDeploy},
		{Name: "web-only", Role: wire.RoleRead},
	} {
		var got wire.WhoAmI
		f.do("GET", "/v1/whoami", want.Name, nil).must(t, http.StatusOK, &got)
		if got != want {
			t.Errorf("whoami as %s = %+v, want %+v", want.Name, got, want)
		}
	}
	f.do("GET", "/v1/whoami", "", nil).apiError(t, http.StatusUnauthorized, rollout.EUNAUTHORIZED)
	f.do("GET", "/v1/whoami", "forged", nil).apiError(t, http.StatusUnauthorized, rollout.EUNAUTHORIZED)

	auth, err := api.NewAuth(nil, &api.Principal{Name: "anonymous", Role: wire.RoleRead})
	if err != nil {
		t.Fatal(err)
	}
	f = newFixture(t, func(s *api.Server) { s.Auth = auth })
	var got wire.WhoAmI
	f.do("GET", "/v1/whoami", "", nil).must(t, http.StatusOK, &got)
	if want := (wire.WhoAmI{Name: "anonymous", Role: wire.RoleRead}); got != want {
		t.Errorf("whoami without a token = %+v, want %+v", got, want)
	}
}
