package cli_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ionroller/terraform-provider-ionroller/shifter/api"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// matrixAuth has the harness's global admin and, for teams "web" and
// "search", a token of each role, named <team>-<role> with that secret.
var matrixAuth = func() string {
	b := fmt.Sprintf("token \"admin\" {\n    role   = \"admin\"\n    sha256 = %q\n  }\n", api.HashToken(adminSecret))
	for _, team := range []string{"web", "search"} {
		for _, role := range []string{"read", "deploy", "admin"} {
			name := team + "-" + role
			b += fmt.Sprintf("  token %q {\n    team   = %q\n    role   = %q\n    sha256 = %q\n  }\n", name, team, role, api.HashToken(name))
		}
	}
	return b
}()

// outcome is what a run of the CLI came to, as far as authorization goes.
type outcome string

const (
	allowed    outcome = "allowed"     // exit 0, or refused by the rollout's state (authorized)
	noToken    outcome = "no token"    // 401
	wrongRole  outcome = "wrong role"  // 403
	notVisible outcome = "not visible" // 404: another team's endpoint does not exist for the caller
)

func classify(r result) outcome {
	switch {
	case r.code == 0:
		return allowed
	case strings.Contains(r.stderr, "a bearer token is required"):
		return noToken
	case strings.Contains(r.stderr, "this needs deploy"):
		return wrongRole
	case strings.Contains(r.stderr, "not found"):
		return notVisible
	case strings.Contains(r.stderr, "no production rollout is in flight"), strings.Contains(r.stderr, "rollout is not paused"):
		return allowed // authorized; the rollout's state said no
	}
	return outcome("unexpected: " + r.String())
}

// testAuthorizationMatrix runs every operation of the CLI as every kind of
// caller on endpoint "web" of team "web", and checks each outcome against
// the rules: acting needs the deploy role (checked first, it reveals
// nothing), and another team's endpoint does not exist for the caller.
func testAuthorizationMatrix(t *testing.T, h *harness) {
	h.endpoint("web", rollout.Step{Weight: 100})
	h.live("web", "v1")
	operations := []struct {
		args []string
		acts bool
		// global reads nothing of one endpoint: every team may run it.
		global bool
	}{
		{[]string{"status", "web"}, false, false},
		{[]string{"events", "web"}, false, false},
		{[]string{"history", "web"}, false, false},
		{[]string{"diff", "web", "1", "1"}, false, false},
		{[]string{"promote", "web"}, true, false},
		{[]string{"pause", "web"}, true, false},
		{[]string{"resume", "web"}, true, false},
		{[]string{"abort", "web"}, true, false},
		{[]string{"rollback", "web", "-to", "v0"}, true, false},
		{[]string{"replicas"}, false, true},
	}
	callers := []string{""}
	for _, team := range []string{"web", "search"} {
		for _, role := range []string{"read", "deploy", "admin"} {
			callers = append(callers, team+"-"+role)
		}
	}
	for _, caller := range callers {
		for _, op := range operations {
			want := allowed
			switch {
			case caller == "":
				want = noToken
			case op.acts && strings.HasSuffix(caller, "-read"):
				want = wrongRole
			case strings.HasPrefix(caller, "search-") && !op.global:
				want = notVisible
			}
			h.token = caller
			if got := classify(h.run(op.args...)); got != want {
				t.Errorf("%q as %q: %s, want %s", strings.Join(op.args, " "), caller, got, want)
			}
		}
	}
	// The list shows a team only its own endpoints.
	for caller, want := range map[string]bool{"web-read": true, "search-read": false} {
		h.token = caller
		if out := h.ok("status"); strings.Contains(out, "web ") != want {
			t.Errorf("status as %s lists web: %v, want %v:\n%s", caller, !want, want, out)
		}
	}
}
