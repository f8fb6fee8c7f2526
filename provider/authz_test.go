package provider

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/ionroller/terraform-provider-ionroller/shifter/api"
)

// TestAccAuthorizationErrors: the provider passes the shifter's refusals on
// as errors that say why, for every kind of caller, and what a token may do
// it does.
func TestAccAuthorizationErrors(t *testing.T) {
	var tokens []string
	for _, name := range []string{"web-read", "web-deploy", "web-admin", "search-admin"} {
		team, role, _ := strings.Cut(name, "-")
		tokens = append(tokens, fmt.Sprintf("token %q {\n    team   = %q\n    role   = %q\n    sha256 = %q\n  }", name, team, role, api.HashToken(name)))
	}
	s := newTestShifter(t, tokens...)
	withToken := func(token string) string {
		return fmt.Sprintf("provider \"ionroller\" {\n  address = %q\n  token   = %q\n}\n", s.url, token)
	}
	// A release on an endpoint of team web that the tests' client made.
	existing := s.seedEndpoint(t, "web", 20)
	release := releaseOf(existing)

	for _, tc := range []struct {
		name, token, config, err string
	}{
		{"endpoint as deploy", "web-deploy", endpointConfig(randomName(), s.net, oneStep, noRollbackWindow), "web-deploy has role deploy; this needs admin"},
		{"endpoint of another team", "web-admin", strings.Replace(endpointConfig(randomName(), s.net, oneStep, noRollbackWindow), `team                = "web"`, `team                = "search"`, 1), `web-admin may only act on endpoints of team "web"`},
		{"release as read", "web-read", release, "web-read has role read; this needs deploy"},
		{"release on another team's endpoint", "search-admin", release, fmt.Sprintf("endpoint %q not found", existing)},
		{"wrong token", "nobody", release, "the bearer token is not valid"},
		{"release as deploy", "web-deploy", release, ""},
		{"endpoint as admin", "web-admin", endpointConfig(randomName(), s.net, oneStep, noRollbackWindow), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			step := resource.TestStep{Config: withToken(tc.token) + tc.config}
			if tc.err != "" {
				step.ExpectError = looseRegexp(tc.err)
			}
			resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: s.factories(), Steps: []resource.TestStep{step}})
		})
	}
}
