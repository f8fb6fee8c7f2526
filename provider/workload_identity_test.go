package provider

import (
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/ionroller/terraform-provider-ionroller/shifter/api/jwttest"
)

// TestAccWorkloadIdentityToken: with no token set, the provider sends the HCP
// Terraform run's workload identity token (the tagged one when
// workload_identity_tag says so), and the shifter maps the run's phase to
// its role. The tests' shifter lets anonymous callers in as admin, so a
// provider that sent no token would pass where these expect a refusal or a
// run as the actor.
func TestAccWorkloadIdentityToken(t *testing.T) {
	issuer := jwttest.New(t)
	jwksFile := issuer.WriteKeys(t)
	s := newTestShifter(t, fmt.Sprintf(`jwt_issuer "tfc" {
    issuer    = %q
    audience  = "ionroller"
    jwks_file = %q
    rule {
      organization = "acme"
      workspace    = "web-*"
      team         = "web"
    }
  }`, issuer.URL, jwksFile))
	runToken := func(phase string) string {
		return issuer.Sign(t, issuer.RunClaims("ionroller", "acme", "default", "web-prod", phase, time.Now()))
	}
	apply, plan := runToken("apply"), runToken("plan")

	for i, tc := range []struct {
		name string
		tag  string
		env  map[string]string
		err  string // "" when the apply deploys
	}{
		{"apply", "", map[string]string{workloadIdentityEnv: apply}, ""},
		{"plan", "", map[string]string{workloadIdentityEnv: plan}, "has role read; this needs deploy"},
		{"tagged", "IONROLLER", map[string]string{workloadIdentityEnv + "_IONROLLER": apply, workloadIdentityEnv: plan}, ""},
		{"tag without its token", "IONROLLER", map[string]string{workloadIdentityEnv: apply}, "TFC_WORKLOAD_IDENTITY_TOKEN_IONROLLER is not set"},
	} {
		priority := 30 + 2*i
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(tokenEnv, "")
			t.Setenv(workloadIdentityEnv, "")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			endpoint := s.seedEndpoint(t, "web", priority)
			config := fmt.Sprintf("provider \"ionroller\" {\n  address = %q\n", s.url)
			if tc.tag != "" {
				config += fmt.Sprintf("  workload_identity_tag = %q\n", tc.tag)
			}
			config += "}\n" + releaseOf(endpoint)
			step := resource.TestStep{Config: config}
			if tc.err != "" {
				step.ExpectError = looseRegexp(tc.err)
			} else {
				step.Check = func(*terraform.State) error { return deployedByRun(t, s, endpoint) }
			}
			resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: s.factories(), Steps: []resource.TestStep{step}})
		})
	}
}

// deployedByRun returns an error unless the apply run of web-prod declared
// the release of endpoint, as its event says.
func deployedByRun(t *testing.T, s *testShifter, endpoint string) error {
	events, _, err := s.client.Events(t.Context(), endpoint, 0, 0)
	if err != nil {
		return err
	}
	for _, e := range events {
		if e.Actor == "tfc:acme/web-prod run-web-prod-apply" && e.Details["run_id"] == "run-web-prod-apply" {
			return nil
		}
	}
	return fmt.Errorf("no event of %s was caused by the run: %+v", endpoint, events)
}
