// Package jwttest is an OpenID Connect issuer for tests, shaped like HCP
// Terraform's workload identity: its own RSA keys, a discovery document and
// a JSON Web Key Set served over TLS on loopback, and tokens with a run's
// claims. It signs through go-jose, as a real issuer's library would.
package jwttest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Issuer serves /.well-known/openid-configuration and /.well-known/jwks.
type Issuer struct {
	// URL is the issuer, as its tokens name it in iss.
	URL string
	// Client trusts the issuer's certificate.
	Client *http.Client

	fetches atomic.Int64

	mu   sync.Mutex
	keys []jose.JSONWebKey // private; the newest signs
}

// New starts an issuer with one key; it stops when the test ends.
func New(t testing.TB) *Issuer {
	t.Helper()
	is := &Issuer{}
	is.AddKey(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]any{
			"issuer": is.URL, "jwks_uri": is.URL + "/.well-known/jwks",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /.well-known/jwks", func(w http.ResponseWriter, _ *http.Request) {
		is.fetches.Add(1)
		writeJSON(w, is.PublicKeys())
	})
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	is.URL, is.Client = srv.URL, srv.Client()
	return is
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v) // the test's client left; it will say so
}

// AddKey publishes a new key, which signs from now on (a rotation), and
// returns its key ID.
func (is *Issuer) AddKey(t testing.TB) string {
	t.Helper()
	priv := NewKey(t)
	is.mu.Lock()
	defer is.mu.Unlock()
	kid := fmt.Sprintf("key-%d", len(is.keys)+1)
	is.keys = append(is.keys, jose.JSONWebKey{Key: priv, KeyID: kid, Algorithm: string(jose.RS256), Use: "sig"})
	return kid
}

// NewKey returns a fresh RSA key.
func NewKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

// KeyFetches counts the reads of the key set.
func (is *Issuer) KeyFetches() int64 { return is.fetches.Load() }

// PublicKeys is the key set the issuer publishes.
func (is *Issuer) PublicKeys() jose.JSONWebKeySet {
	is.mu.Lock()
	defer is.mu.Unlock()
	var set jose.JSONWebKeySet
	for _, k := range is.keys {
		set.Keys = append(set.Keys, k.Public())
	}
	return set
}

// WriteKeys writes the key set the issuer publishes to a file of the test,
// as an operator copies it for a shifter that cannot reach the issuer, and
// returns its path.
func (is *Issuer) WriteKeys(t testing.TB) string {
	t.Helper()
	data, err := json.Marshal(is.PublicKeys())
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// SigningKey is the issuer's newest private key and its ID.
func (is *Issuer) SigningKey() (*rsa.PrivateKey, string) {
	is.mu.Lock()
	defer is.mu.Unlock()
	k := is.keys[len(is.keys)-1]
	return k.Key.(*rsa.PrivateKey), k.KeyID //nolint:forcetypeassert // AddKey stores only RSA keys
}

// RunClaims are the claims of a workload identity token of a run of
// org/project/workspace in phase (plan or apply), valid from now for an
// hour.
func (is *Issuer) RunClaims(audience, org, project, workspace, phase string, now time.Time) map[string]any {
	return map[string]any{
		"iss": is.URL,
		"aud": audience,
		"sub": fmt.Sprintf("organization:%s:project:%s:workspace:%s:run_phase:%s", org, project, workspace, phase),
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"jti":                         "jti-" + workspace + "-" + phase,
		"terraform_organization_name": org,
		"terraform_project_name":      project,
		"terraform_workspace_name":    workspace,
		"terraform_workspace_id":      "ws-" + workspace,
		"terraform_full_workspace":    fmt.Sprintf("organization:%s:project:%s:workspace:%s", org, project, workspace),
		"terraform_run_id":            "run-" + workspace + "-" + phase,
		"terraform_run_phase":         phase,
	}
}

// Sign signs claims with the issuer's newest key.
func (is *Issuer) Sign(t testing.TB, claims map[string]any) string {
	t.Helper()
	priv, kid := is.SigningKey()
	return Sign(t, jose.RS256, priv, kid, claims)
}

// Sign signs claims with key under alg, naming kid in the header.
func Sign(t testing.TB, alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
