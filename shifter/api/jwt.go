package api

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

// The JWTs the shifter accepts are signed with one of these algorithms, and
// only these: naming them is what refuses "none" and an HS256 token signed
// with an issuer's public key as its secret (go-jose refuses a token whose
// alg is not in the list before it looks at a key).
var signatureAlgorithms = []jose.SignatureAlgorithm{jose.RS256, jose.ES256}

const (
	// clockSkew is how far the issuer's clock and the shifter's may
	// disagree on exp, nbf and iat.
	clockSkew = 30 * time.Second
	// keysMaxAge bounds how long an issuer's keys are used before they
	// are read again, so a key the issuer withdrew stops working.
	keysMaxAge = time.Hour
	// keysMinInterval bounds how often the keys are read when a token
	// names a key the shifter does not know: tokens with made-up key IDs
	// must not turn the shifter into a client hammering the issuer.
	keysMinInterval = time.Minute
	// fetchTimeout bounds one read of the discovery document or the keys.
	fetchTimeout = 10 * time.Second
	// maxDocument bounds the size of a discovery document or key set.
	maxDocument = 1 << 20
)

// Issuer trusts the JWTs of an OpenID Connect issuer, such as the workload
// identity tokens HCP Terraform gives each run, and maps their claims to
// principals.
type Issuer struct {
	// Name prefixes the actor of its callers: "NAME:ORG/WORKSPACE RUN".
	Name string
	// URL is the issuer, exactly as tokens name it in iss.
	URL string
	// Audience is what a token's aud must include.
	Audience string
	// JWKSFile, when set, is a JSON Web Key Set file read instead of the
	// issuer's keys (where the shifter cannot reach the issuer).
	JWKSFile string
	// Rules map a token's claims to a principal; the first that matches
	// applies, and a token none matches is refused.
	Rules []IssuerRule
	// Client reads the issuer's discovery document and keys (default:
	// http.DefaultClient, each read bounded by fetchTimeout).
	Client *http.Client
}

// IssuerRule gives the runs of matching workspaces a team, and a role by
// the run's phase: a plan reads, an apply gets ApplyRole.
type IssuerRule struct {
	// Organization is the terraform_organization_name, exactly.
	Organization string
	// Project and Workspace are path.Match patterns of
	// terraform_project_name and terraform_workspace_name; empty matches
	// any.
	Project, Workspace string
	// Team and Endpoints limit the principal as a token's would.
	Team      string
	Endpoints []string
	// ApplyRole is the role of an apply (default deploy). A plan is
	// always read: it must change nothing.
	ApplyRole wire.Role
}

// Run phases, as terraform_run_phase names them.
const (
	phasePlan  = "plan"
	phaseApply = "apply"
)

// tfcClaims are the claims of an HCP Terraform workload identity token the
// rules and the event trail use.
type tfcClaims struct {
	Organization string `json:"terraform_organization_name"`
	Project      string `json:"terraform_project_name"`
	Workspace    string `json:"terraform_workspace_name"`
	WorkspaceID  string `json:"terraform_workspace_id"`
	RunID        string `json:"terraform_run_id"`
	RunPhase     string `json:"terraform_run_phase"`
}

// issuer is a checked Issuer with its keys.
type issuer struct {
	Issuer
	keys *keySet
}

// Validate returns why the issuer would trust what it must not, or cannot
// be used; nil when it is good.
func (is Issuer) Validate() error {
	if !rollout.TeamPattern.MatchString(is.Name) {
		return fmt.Errorf("name %q must be lowercase letters, digits and hyphens", is.Name)
	}
	u, err := url.Parse(is.URL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("url %q is not an https URL", is.URL)
	}
	if is.Audience == "" {
		return fmt.Errorf("an audience is required: without one, a token meant for another service would do")
	}
	if len(is.Rules) == 0 {
		return fmt.Errorf("at least one rule is required")
	}
	for i, rule := range is.Rules {
		if rule.Organization == "" {
			return fmt.Errorf("rule %d: an organization is required", i)
		}
		for _, pattern := range []string{rule.Project, rule.Workspace} {
			if _, err := path.Match(pattern, ""); err != nil {
				return fmt.Errorf("rule %d: pattern %q: %w", i, pattern, err)
			}
		}
		// The principal's own checks (role, team, endpoint patterns).
		p := Principal{Name: is.Name, Team: rule.Team, Role: cmp.Or(rule.ApplyRole, wire.RoleDeploy), Endpoints: rule.Endpoints}
		if err := p.validate(); err != nil {
			return fmt.Errorf("rule %d: %w", i, err)
		}
	}
	return nil
}

func newIssuer(is Issuer, now func() time.Time) (*issuer, error) {
	if err := is.Validate(); err != nil {
		return nil, err
	}
	is.Rules = slices.Clone(is.Rules)
	for i := range is.Rules {
		is.Rules[i].ApplyRole = cmp.Or(is.Rules[i].ApplyRole, wire.RoleDeploy)
	}
	if is.Client == nil {
		is.Client = http.DefaultClient
	}
	ks := &keySet{now: now}
	if is.JWKSFile != "" {
		file := is.JWKSFile
		ks.fetch = func(context.Context) ([]byte, error) { return os.ReadFile(file) }
	} else {
		ks.fetch = func(ctx context.Context) ([]byte, error) { return discoverKeys(ctx, is.Client, is.URL) }
	}
	return &issuer{Issuer: is, keys: ks}, nil
}

// verify returns the principal of a token the issuer signed, or why it is
// refused, for the log.
func (is *issuer) verify(ctx context.Context, tok *jwt.JSONWebToken, now time.Time) (*Principal, error) {
	if len(tok.Headers) != 1 {
		return nil, fmt.Errorf("%d signatures; one is expected", len(tok.Headers))
	}
	header := tok.Headers[0]
	key, err := is.keys.key(ctx, header.KeyID, header.Algorithm)
	if err != nil {
		return nil, err
	}
	var std jwt.Claims
	var tfc tfcClaims
	if err := tok.Claims(key.Key, &std, &tfc); err != nil {
		return nil, fmt.Errorf("signature of key %q: %w", header.KeyID, err)
	}
	// go-jose checks exp and nbf only when they are there; a token
	// without an expiry would be good for ever.
	if std.Expiry == nil {
		return nil, errors.New("the token has no exp claim")
	}
	expected := jwt.Expected{Issuer: is.URL, AnyAudience: jwt.Audience{is.Audience}, Time: now}
	if err := std.ValidateWithLeeway(expected, clockSkew); err != nil {
		return nil, fmt.Errorf("claims (iss %q, aud %q, exp %s): %w", std.Issuer, []string(std.Audience), std.Expiry.Time().UTC().Format(time.RFC3339), err)
	}
	return is.principal(tfc)
}

// principal maps the claims by the first rule that matches them.
func (is *issuer) principal(c tfcClaims) (*Principal, error) {
	if c.Organization == "" || c.Workspace == "" || c.RunID == "" {
		return nil, errors.New("the token lacks terraform_organization_name, terraform_workspace_name or terraform_run_id")
	}
	for _, rule := range is.Rules {
		if rule.Organization != c.Organization || !matches(rule.Project, c.Project) || !matches(rule.Workspace, c.Workspace) {
			continue
		}
		var role wire.Role
		switch c.RunPhase {
		case phasePlan:
			role = wire.RoleRead
		case phaseApply:
			role = rule.ApplyRole
		default:
			return nil, fmt.Errorf("terraform_run_phase %q is neither plan nor apply", c.RunPhase)
		}
		return &Principal{
			Name:      fmt.Sprintf("%s:%s/%s %s", is.Name, c.Organization, c.Workspace, c.RunID),
			Team:      rule.Team,
			Role:      role,
			Endpoints: rule.Endpoints,
			claims: map[string]string{
				"run_id": c.RunID, "run_phase": c.RunPhase, "workspace": c.Organization + "/" + c.Workspace,
				"workspace_id": c.WorkspaceID, "project": c.Project,
			},
		}, nil
	}
	return nil, fmt.Errorf("no rule of issuer %q matches organization %q project %q workspace %q", is.Name, c.Organization, c.Project, c.Workspace)
}

// matches reports whether value matches pattern; an empty pattern matches
// anything.
func matches(pattern, value string) bool {
	if pattern == "" {
		return true
	}
	ok, _ := path.Match(pattern, value) // patterns were checked by newIssuer
	return ok
}

// keySet is an issuer's keys, read when first needed, again once they are
// keysMaxAge old, and again (at most every keysMinInterval) when a token
// names a key they do not have: that is how a rotated key is learnt.
type keySet struct {
	fetch func(context.Context) ([]byte, error)
	now   func() time.Time

	mu sync.Mutex
	// keys were read at read; tried is the last attempt, successful or not.
	keys        jose.JSONWebKeySet
	read, tried time.Time
}

// key returns the key called kid for alg.
func (ks *keySet) key(ctx context.Context, kid string, alg string) (jose.JSONWebKey, error) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	now := ks.now()
	if now.Sub(ks.read) >= keysMaxAge {
		// Stale keys are not used: if they cannot be read again, tokens
		// are refused until they can.
		ks.keys = jose.JSONWebKeySet{}
	}
	k, ok := ks.find(kid, alg)
	if ok {
		return k, nil
	}
	if !ks.tried.IsZero() && now.Sub(ks.tried) < keysMinInterval {
		return jose.JSONWebKey{}, fmt.Errorf("unknown key %q (keys read %s ago; read again at most every %s)", kid, now.Sub(ks.tried).Round(time.Second), keysMinInterval)
	}
	ks.tried = now
	// The keys serve every request; one that gave up must not fail the read.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
	defer cancel()
	data, err := ks.fetch(ctx)
	if err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("reading the issuer's keys: %w", err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(data, &set); err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("the issuer's keys are not a JSON Web Key Set: %w", err)
	}
	ks.keys, ks.read = set, now
	if k, ok := ks.find(kid, alg); ok {
		return k, nil
	}
	return jose.JSONWebKey{}, fmt.Errorf("unknown key %q", kid)
}

// find returns the public signing key called kid that may verify alg.
func (ks *keySet) find(kid, alg string) (jose.JSONWebKey, bool) {
	for _, k := range ks.keys.Key(kid) {
		if !k.IsPublic() || (k.Use != "" && k.Use != "sig") || (k.Algorithm != "" && k.Algorithm != alg) {
			continue
		}
		return k, true
	}
	return jose.JSONWebKey{}, false
}

// discoverKeys reads the key set the issuer's OpenID Connect discovery
// document names.
func discoverKeys(ctx context.Context, c *http.Client, issuerURL string) ([]byte, error) {
	data, err := get(ctx, c, strings.TrimSuffix(issuerURL, "/")+"/.well-known/openid-configuration")
	if err != nil {
		return nil, err
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("discovery document: %w", err)
	}
	// OpenID Connect Discovery 1.0 §4.3: the document must name the issuer
	// it was asked for, or its keys are someone else's.
	if doc.Issuer != issuerURL {
		return nil, fmt.Errorf("discovery document names issuer %q, not %q", doc.Issuer, issuerURL)
	}
	if doc.JWKSURI == "" {
		return nil, errors.New("discovery document has no jwks_uri")
	}
	return get(ctx, c, doc.JWKSURI)
}

func get(ctx context.Context, c *http.Client, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }() // a read-only GET: nothing to lose on close
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, maxDocument))
}
