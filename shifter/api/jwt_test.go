package api_test

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/ionroller/terraform-provider-ionroller/shifter/api"
	"github.com/ionroller/terraform-provider-ionroller/shifter/api/jwttest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

const testAudience = "ionroller.example.com"

// clock is the time an Auth checks tokens and the age of its keys by.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testIssuer trusts is with the rules of the tests: acme's payments-*
// workspaces act for team payments, search-* for team search, and the
// platform project's infra workspace is a global admin when it applies.
func testIssuer(is *jwttest.Issuer) api.Issuer {
	return api.Issuer{
		Name: "tfc", URL: is.URL, Audience: testAudience, Client: is.Client,
		Rules: []api.IssuerRule{
			{Organization: "acme", Workspace: "payments-*", Team: "payments"},
			{Organization: "acme", Workspace: "search-*", Team: "search"},
			{Organization: "acme", Project: "platform", Workspace: "infra", ApplyRole: wire.RoleAdmin},
		},
	}
}

// jwtFixture is an API server that trusts an issuer of the test, with the
// endpoints web (team payments) and find (team search).
func jwtFixture(t *testing.T, is *jwttest.Issuer, trust api.Issuer) (*fixture, *clock) {
	t.Helper()
	c := &clock{t: time.Now()}
	auth, err := api.NewAuth(testTokens(), nil, trust)
	if err != nil {
		t.Fatal(err)
	}
	api.SetAuthClock(auth, c.now)
	f := newFixture(t, func(s *api.Server) { s.Auth = auth })
	f.seed(testEndpoint("web"), "v1")
	f.seed(teamEndpoint("search", "find", 0), "v1")
	return f, c
}

// TestJWTRefusals: every token below is refused with 401 and the usual
// message; the log says why, and neither the log nor the answer holds the
// token.
func TestJWTRefusals(t *testing.T) {
	is := jwttest.New(t)
	valid := func(now time.Time) map[string]any {
		return is.RunClaims(testAudience, "acme", "default", "payments-prod", "apply", now)
	}
	with := func(now time.Time, change func(map[string]any)) map[string]any {
		c := valid(now)
		change(c)
		return c
	}
	_, kid := is.SigningKey()
	stranger := jwttest.NewKey(t)
	pub, err := x509.MarshalPKIXPublicKey(&stranger.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		token func(t *testing.T, now time.Time) string
		// reason is what the log says.
		reason string
	}{
		{"expired", func(t *testing.T, now time.Time) string {
			return is.Sign(t, with(now, func(c map[string]any) {
				c["iat"], c["nbf"], c["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
			}))
		}, "token is expired"},
		{"not yet valid", func(t *testing.T, now time.Time) string {
			return is.Sign(t, with(now, func(c map[string]any) { c["nbf"] = now.Add(10 * time.Minute).Unix() }))
		}, "token not valid yet"},
		{"without an expiry", func(t *testing.T, now time.Time) string {
			return is.Sign(t, with(now, func(c map[string]any) { delete(c, "exp") }))
		}, "no exp claim"},
		{"another audience", func(t *testing.T, now time.Time) string {
			return is.Sign(t, with(now, func(c map[string]any) { c["aud"] = "vault.example.com" }))
		}, "invalid audience"},
		{"another issuer", func(t *testing.T, now time.Time) string {
			return is.Sign(t, with(now, func(c map[string]any) { c["iss"] = "https://app.terraform.io" }))
		}, `issuer "https://app.terraform.io" is not trusted`},
		{"a key the issuer does not publish", func(t *testing.T, now time.Time) string {
			return jwttest.Sign(t, jose.RS256, stranger, "key-9", valid(now))
		}, `unknown key "key-9"`},
		{"another key under the issuer's key ID", func(t *testing.T, now time.Time) string {
			return jwttest.Sign(t, jose.RS256, stranger, kid, valid(now))
		}, "signature of key"},
		{"a claim changed after signing", func(t *testing.T, now time.Time) string {
			parts := strings.Split(is.Sign(t, valid(now)), ".")
			payload, err := json.Marshal(with(now, func(c map[string]any) { c["terraform_workspace_name"] = "payments-admin" }))
			if err != nil {
				t.Fatal(err)
			}
			return parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2]
		}, "signature of key"},
		{"alg none", func(t *testing.T, now time.Time) string {
			header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT","kid":"` + kid + `"}`))
			payload, err := json.Marshal(valid(now))
			if err != nil {
				t.Fatal(err)
			}
			return header + "." + base64.RawURLEncoding.EncodeToString(payload) + "."
		}, "unexpected signature algorithm"},
		{"HS256 keyed with a public key", func(t *testing.T, now time.Time) string {
			// The classic confusion: a verifier that takes alg from the
			// token would use the published key as an HMAC secret.
			secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})
			return jwttest.Sign(t, jose.HS256, secret, kid, valid(now))
		}, "unexpected signature algorithm"},
		{"a workspace no rule names", func(t *testing.T, now time.Time) string {
			return is.Sign(t, with(now, func(c map[string]any) { c["terraform_organization_name"] = "globex" }))
		}, `no rule of issuer "tfc" matches organization "globex"`},
		{"a run phase that is neither plan nor apply", func(t *testing.T, now time.Time) string {
			return is.Sign(t, with(now, func(c map[string]any) { c["terraform_run_phase"] = "destroy" }))
		}, `terraform_run_phase "destroy"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, c := jwtFixture(t, is, testIssuer(is))
			token := tc.token(t, c.now())
			resp := f.doBearer("GET", "/v1/endpoints/web", token, nil)
			e := resp.apiError(t, http.StatusUnauthorized, rollout.EUNAUTHORIZED)
			if e.Message != "the bearer token is not valid" {
				t.Errorf("message %q tells the caller more than that its token is not valid", e.Message)
			}
			// hclog quotes a value with quotes in it.
			logs := strings.ReplaceAll(f.logs.String(), `\"`, `"`)
			if !strings.Contains(logs, "authentication failed") || !strings.Contains(logs, tc.reason) {
				t.Errorf("the log does not say %q:\n%s", tc.reason, logs)
			}
			if strings.Contains(logs, token) || strings.Contains(string(resp.body), token) {
				t.Errorf("the token was written back or logged")
			}
		})
	}
}

// TestJWTRunPhases: a run's plan reads, its apply deploys as the team its
// workspace maps to, and the events name the run and its workspace.
func TestJWTRunPhases(t *testing.T) {
	is := jwttest.New(t)
	f, c := jwtFixture(t, is, testIssuer(is))
	plan := is.Sign(t, is.RunClaims(testAudience, "acme", "default", "payments-prod", "plan", c.now()))
	apply := is.Sign(t, is.RunClaims(testAudience, "acme", "default", "payments-prod", "apply", c.now()))
	release := map[string]any{"version": "v2"}

	var who wire.WhoAmI
	f.doBearer("GET", "/v1/whoami", plan, nil).must(t, http.StatusOK, &who)
	if want := (wire.WhoAmI{Name: "tfc:acme/payments-prod run-payments-prod-plan", Team: "payments", Role: wire.RoleRead}); who != want {
		t.Errorf("plan: whoami %+v, want %+v", who, want)
	}
	f.doBearer("GET", "/v1/endpoints/web", plan, nil).must(t, http.StatusOK, nil)
	f.doBearer("PUT", "/v1/endpoints/web/releases/production", plan, release).apiError(t, http.StatusForbidden, rollout.EFORBIDDEN)
	if logs := f.logs.String(); !strings.Contains(logs, "request forbidden") || !strings.Contains(logs, "run_phase=plan") {
		t.Errorf("the log does not say a plan was refused a write:\n%s", logs)
	}

	f.doBearer("PUT", "/v1/endpoints/web/releases/production", apply, release).must(t, http.StatusOK, nil)
	events := f.events("web")
	last := events[len(events)-1]
	if last.Actor != "tfc:acme/payments-prod run-payments-prod-apply" {
		t.Errorf("event %s: actor %q", last.Type, last.Actor)
	}
	for k, v := range map[string]string{"run_id": "run-payments-prod-apply", "run_phase": "apply", "workspace": "acme/payments-prod",
		"workspace_id": "ws-payments-prod", "team": "payments"} {
		if last.Details[k] != v {
			t.Errorf("event %s: details[%s] = %q, want %q (details %v)", last.Type, k, last.Details[k], v, last.Details)
		}
	}
	// deploy is not admin: the apply may not change the endpoint itself.
	f.doBearer("DELETE", "/v1/endpoints/web", apply, nil).apiError(t, http.StatusForbidden, rollout.EFORBIDDEN)

	// The rule that makes the platform workspace's apply an admin.
	admin := is.Sign(t, is.RunClaims(testAudience, "acme", "platform", "infra", "apply", c.now()))
	who = wire.WhoAmI{}
	f.doBearer("GET", "/v1/whoami", admin, nil).must(t, http.StatusOK, &who)
	if who.Role != wire.RoleAdmin || who.Team != "" {
		t.Errorf("platform apply: whoami %+v, want a global admin", who)
	}
}

// TestJWTTeamVisibility: a run sees its team's endpoints and no other's.
func TestJWTTeamVisibility(t *testing.T) {
	is := jwttest.New(t)
	f, c := jwtFixture(t, is, testIssuer(is))
	for _, tc := range []struct {
		workspace, sees, hidden string
	}{
		{"payments-prod", "web", "find"},
		{"search-prod", "find", "web"},
	} {
		token := is.Sign(t, is.RunClaims(testAudience, "acme", "default", tc.workspace, "apply", c.now()))
		var list wire.EndpointList
		f.doBearer("GET", "/v1/endpoints", token, nil).must(t, http.StatusOK, &list)
		if len(list.Endpoints) != 1 || list.Endpoints[0].Endpoint.Name != tc.sees {
			t.Errorf("%s lists %d endpoints, want only %s", tc.workspace, len(list.Endpoints), tc.sees)
		}
		f.doBearer("GET", "/v1/endpoints/"+tc.hidden, token, nil).apiError(t, http.StatusNotFound, rollout.ENOTFOUND)
		f.doBearer("PUT", "/v1/endpoints/"+tc.hidden+"/releases/production", token, map[string]any{"version": "v9"}).
			apiError(t, http.StatusNotFound, rollout.ENOTFOUND)
	}
}

// TestJWTKeyRotation: a token signed by a key the shifter has not read yet
// makes it read the keys again, at most once a minute; keys are read again
// once they are an hour old.
func TestJWTKeyRotation(t *testing.T) {
	is := jwttest.New(t)
	f, c := jwtFixture(t, is, testIssuer(is))
	sign := func() string {
		return is.Sign(t, is.RunClaims(testAudience, "acme", "default", "payments-prod", "plan", c.now()))
	}
	f.doBearer("GET", "/v1/whoami", sign(), nil).must(t, http.StatusOK, nil)
	if n := is.KeyFetches(); n != 1 {
		t.Fatalf("keys read %d times for the first token, want 1", n)
	}

	is.AddKey(t)
	c.advance(30 * time.Second)
	f.doBearer("GET", "/v1/whoami", sign(), nil).apiError(t, http.StatusUnauthorized, rollout.EUNAUTHORIZED)
	if n := is.KeyFetches(); n != 1 {
		t.Errorf("keys read %d times within a minute of the last read, want 1", n)
	}
	c.advance(31 * time.Second)
	f.doBearer("GET", "/v1/whoami", sign(), nil).must(t, http.StatusOK, nil)
	if n := is.KeyFetches(); n != 2 {
		t.Errorf("keys read %d times after the rotation, want 2", n)
	}

	c.advance(time.Hour)
	f.doBearer("GET", "/v1/whoami", sign(), nil).must(t, http.StatusOK, nil)
	if n := is.KeyFetches(); n != 3 {
		t.Errorf("keys read %d times after an hour, want 3", n)
	}
}

// TestJWTKeysFromFile: with a key set file the issuer is never asked.
func TestJWTKeysFromFile(t *testing.T) {
	is := jwttest.New(t)
	file := is.WriteKeys(t)
	trust := testIssuer(is)
	trust.JWKSFile, trust.Client = file, nil
	f, c := jwtFixture(t, is, trust)
	token := is.Sign(t, is.RunClaims(testAudience, "acme", "default", "payments-prod", "apply", c.now()))
	f.doBearer("GET", "/v1/endpoints/web", token, nil).must(t, http.StatusOK, nil)
	if n := is.KeyFetches(); n != 0 {
		t.Errorf("the issuer was asked for its keys %d times", n)
	}
}

// TestNewAuthRefusesIssuers: an issuer that would trust too much is refused
// when the shifter starts.
func TestNewAuthRefusesIssuers(t *testing.T) {
	good := api.Issuer{Name: "tfc", URL: "https://app.terraform.io", Audience: "ionroller",
		Rules: []api.IssuerRule{{Organization: "acme"}}}
	for _, tc := range []struct {
		name   string
		change func(*api.Issuer)
		want   string
	}{
		{"no audience", func(is *api.Issuer) { is.Audience = "" }, "an audience is required"},
		{"plain http", func(is *api.Issuer) { is.URL = "http://app.terraform.io" }, "not an https URL"},
		{"no rule", func(is *api.Issuer) { is.Rules = nil }, "at least one rule"},
		{"a rule without an organization", func(is *api.Issuer) { is.Rules = []api.IssuerRule{{Workspace: "*"}} }, "an organization is required"},
		{"a bad pattern", func(is *api.Issuer) { is.Rules = []api.IssuerRule{{Organization: "acme", Workspace: "["}} }, "pattern"},
		{"a bad role", func(is *api.Issuer) { is.Rules = []api.IssuerRule{{Organization: "acme", ApplyRole: "owner"}} }, "role"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			is := good
			is.Rules = append([]api.IssuerRule(nil), good.Rules...)
			tc.change(&is)
			_, err := api.NewAuth(nil, nil, is)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewAuth: %v, want an error saying %q", err, tc.want)
			}
		})
	}
	if _, err := api.NewAuth(nil, nil, good); err != nil {
		t.Errorf("NewAuth of a good issuer: %v", err)
	}
}
