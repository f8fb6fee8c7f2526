package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

// rank orders the roles: each includes the ones of lower rank. An unknown
// role has rank 0 and may do nothing.
func rank(r wire.Role) int {
	switch r {
	case wire.RoleRead:
		return 1
	case wire.RoleDeploy:
		return 2
	case wire.RoleAdmin:
		return 3
	}
	return 0
}

// Token is a bearer token as configured. Only its SHA-256 is kept, so the
// daemon's configuration never holds a usable secret.
type Token struct {
	Name string
	// Team restricts the token to endpoints of that team; empty is global.
	Team string
	Role wire.Role
	// Endpoints restricts the token to endpoint names matching one of
	// these path.Match patterns; empty allows every name.
	Endpoints []string
	// SHA256 is the hex SHA-256 of the token.
	SHA256 string
}

// Principal is who a request acts as: its name is the actor of every event
// and command the request causes.
type Principal struct {
	Name      string
	Team      string
	Role      wire.Role
	Endpoints []string
	// claims are what a JWT said of its caller (a run's ID, phase and
	// workspace), recorded in the details of the events it causes.
	claims map[string]string
}

// Auth authenticates requests by bearer token: a configured token, or a JWT
// of a trusted issuer.
type Auth struct {
	tokens    []token
	anonymous *Principal
	// issuers by URL, the iss claim of their tokens.
	issuers map[string]*issuer
	now     func() time.Time
}

type token struct {
	sum       [sha256.Size]byte
	principal Principal
}

// NewAuth returns an Auth that accepts tokens, the JWTs of issuers and, for
// requests without an Authorization header, anonymous (nil: such requests
// are refused). Only a local demo should set anonymous.
func NewAuth(tokens []Token, anonymous *Principal, issuers ...Issuer) (*Auth, error) {
	a := &Auth{issuers: map[string]*issuer{}, now: time.Now}
	names := make(map[string]bool, len(tokens))
	for i, t := range tokens {
		p := Principal{Name: t.Name, Team: t.Team, Role: t.Role, Endpoints: t.Endpoints}
		if err := p.validate(); err != nil {
			return nil, fmt.Errorf("token %d (%q): %w", i, t.Name, err)
		}
		if names[t.Name] {
			return nil, fmt.Errorf("token %d: name %q is used twice; names are the actors of the event trail", i, t.Name)
		}
		names[t.Name] = true
		sum, err := hex.DecodeString(t.SHA256)
		if err != nil || len(sum) != sha256.Size {
			return nil, fmt.Errorf("token %d (%q): sha256 must be 64 hex digits", i, t.Name)
		}
		a.tokens = append(a.tokens, token{sum: [sha256.Size]byte(sum), principal: p})
	}
	if anonymous != nil {
		p := *anonymous
		if err := p.validate(); err != nil {
			return nil, fmt.Errorf("anonymous principal: %w", err)
		}
		a.anonymous = &p
	}
	for i, is := range issuers {
		checked, err := newIssuer(is, func() time.Time { return a.now() })
		if err != nil {
			return nil, fmt.Errorf("issuer %d (%q): %w", i, is.Name, err)
		}
		if a.issuers[is.URL] != nil {
			return nil, fmt.Errorf("issuer %d (%q): url %q is trusted twice", i, is.Name, is.URL)
		}
		a.issuers[is.URL] = checked
	}
	return a, nil
}

// HashToken returns the hex SHA-256 of a token, the form Token.SHA256 takes.
func HashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func (p Principal) validate() error {
	if p.Name == "" {
		return fmt.Errorf("a name is required")
	}
	if rank(p.Role) == 0 {
		return fmt.Errorf("role %q is not one of read, deploy, admin", p.Role)
	}
	if p.Team != "" && !rollout.TeamPattern.MatchString(p.Team) {
		return fmt.Errorf("team %q is not a team name", p.Team)
	}
	for _, pattern := range p.Endpoints {
		if _, err := path.Match(pattern, ""); err != nil {
			return fmt.Errorf("endpoint pattern %q: %w", pattern, err)
		}
	}
	return nil
}

// authenticate returns the principal of r, or the error to answer with and
// the reason to log: the caller learns only that its token is not valid,
// the log why (never the token). Every configured token is compared, in
// constant time, so the answer's timing says nothing about which token came
// close. A nil Auth refuses everyone.
func (a *Auth) authenticate(r *http.Request) (*Principal, string, error) {
	header := r.Header.Get("Authorization")
	if header == "" {
		if a != nil && a.anonymous != nil {
			return a.anonymous, "", nil
		}
		return nil, "", rollout.Errorf(rollout.EUNAUTHORIZED, "a bearer token is required")
	}
	scheme, secret, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || secret == "" {
		return nil, "", rollout.Errorf(rollout.EUNAUTHORIZED, "the Authorization header must be \"Bearer <token>\"")
	}
	invalid := rollout.Errorf(rollout.EUNAUTHORIZED, "the bearer token is not valid")
	if a == nil {
		return nil, "no token is accepted", invalid
	}
	sum := sha256.Sum256([]byte(secret))
	var found *Principal
	for i := range a.tokens {
		if subtle.ConstantTimeCompare(sum[:], a.tokens[i].sum[:]) == 1 {
			found = &a.tokens[i].principal
		}
	}
	if found != nil {
		return found, "", nil
	}
	if len(a.issuers) == 0 || strings.Count(secret, ".") != 2 {
		return nil, "unknown token", invalid
	}
	p, err := a.verifyJWT(r.Context(), secret)
	if err != nil {
		return nil, "jwt refused: " + err.Error(), invalid
	}
	return p, "", nil
}

// verifyJWT returns the principal of a JWT signed by a trusted issuer, or
// why it is refused.
func (a *Auth) verifyJWT(ctx context.Context, raw string) (*Principal, error) {
	tok, err := jwt.ParseSigned(raw, signatureAlgorithms)
	if err != nil {
		return nil, err
	}
	// The issuer is read before the signature is checked only to pick the
	// keys that check it; verify then requires the same iss.
	var unverified jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
		return nil, err
	}
	is := a.issuers[unverified.Issuer]
	if is == nil {
		return nil, fmt.Errorf("issuer %q is not trusted", unverified.Issuer)
	}
	p, err := is.verify(ctx, tok, a.now())
	if err != nil {
		return nil, fmt.Errorf("issuer %q: %w", is.Name, err)
	}
	return p, nil
}

// require refuses a principal whose role is below need.
func (p *Principal) require(need wire.Role) error {
	if rank(p.Role) < rank(need) {
		return rollout.Errorf(rollout.EFORBIDDEN, "%s has role %s; this needs %s", p.Name, p.Role, need)
	}
	return nil
}

// sees reports whether the principal may see the endpoint called name of
// team: a team principal sees its team's endpoints, and endpoint patterns
// narrow that further.
func (p *Principal) sees(name, team string) bool {
	if p.Team != "" && p.Team != team {
		return false
	}
	if len(p.Endpoints) == 0 {
		return true
	}
	for _, pattern := range p.Endpoints {
		if ok, _ := path.Match(pattern, name); ok { // patterns were checked by NewAuth
			return true
		}
	}
	return false
}

// mayChange returns nil if the principal may write to the endpoint called
// name of team, and otherwise the EFORBIDDEN error saying why.
func (p *Principal) mayChange(name, team string) error {
	if p.sees(name, team) {
		return nil
	}
	if p.Team != "" && p.Team != team {
		// The message does not repeat the endpoint's team: that is not the
		// caller's to learn.
		return rollout.Errorf(rollout.EFORBIDDEN, "%s may only act on endpoints of team %q", p.Name, p.Team)
	}
	return rollout.Errorf(rollout.EFORBIDDEN, "%s may not act on endpoint %q", p.Name, name)
}

// whoami answers who the request acts as, so that the web UI offers only
// the actions the caller may take. The role is all it needs: a principal may
// act on every endpoint it can see (mayChange), and the UI shows no other.
func (s *Server) whoami(w http.ResponseWriter, _ *http.Request, p *Principal) error {
	s.writeJSON(w, http.StatusOK, wire.WhoAmI{Name: p.Name, Team: p.Team, Role: p.Role})
	return nil
}

// details returns the event details that say who acted from where.
func (p *Principal) details(r *http.Request) map[string]string {
	d := map[string]string{"source": r.RemoteAddr}
	for k, v := range p.claims {
		if v != "" {
			d[k] = v
		}
	}
	if p.Team != "" {
		d["team"] = p.Team
	}
	return d
}
