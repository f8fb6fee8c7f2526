package provider

import (
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// validEndpoint is an endpoint configuration every check accepts. The
// cases below break one line of it at a time.
const validEndpoint = `
provider "ionroller" {
  address = "http://127.0.0.1:1"
}

resource "ionroller_endpoint" "test" {
  name = "web"
  placement = {
    role_arn    = "arn:aws:iam::123456789012:role/ionroller"
    external_id = "ionroller"
  }
  traffic = {
    listener_arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/0123456789abcdef/0123456789abcdef"
    priority     = 10
    hosts        = ["web.example.com"]
  }
  template = {
    repository     = "registry.example.com/web"
    container_port = 8080
    ami            = "ami-0123456789abcdef0"
    subnets        = ["subnet-0123456789abcdef0"]
    env            = { PORT = "8080" }
  }
  policy = {
    steps = [{ weight = 10, pause = "5m" }, { weight = 100 }]
  }
}

resource "ionroller_release" "test" {
  endpoint = ionroller_endpoint.test.name
  version  = "v1"
}
`

// TestAccValidators: what only the provider checks fails `terraform plan`
// naming the attribute: its own settings, and a duration HCL spells wrong.
// No shifter runs: validation comes before any call. The rules a spec
// shares with the shifter are in TestAccSharedRules, sent to both.
func TestAccValidators(t *testing.T) {
	factories := map[string]func() (tfprotov6.ProviderServer, error){
		"ionroller": providerserver.NewProtocol6WithError(New("test")()),
	}
	for _, tc := range []struct {
		name     string
		old, new string
		want     string
	}{
		{"wait_for", `version  = "v1"`, `version  = "v1"
  wait_for = "forever"`, `Attribute wait_for value must be one of`},
		{"pause not a duration", `pause = "5m"`, `pause = "5 minutes"`,
			`Attribute policy.steps[0].pause value "5 minutes" is not a duration`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(validEndpoint, tc.old) {
				t.Fatalf("the valid configuration has no %q to replace", tc.old)
			}
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: factories,
				Steps: []resource.TestStep{{
					Config:      strings.Replace(validEndpoint, tc.old, tc.new, 1),
					PlanOnly:    true,
					ExpectError: looseRegexp(tc.want),
				}},
			})
		})
	}
}

// TestAccValidConfigurationPlans: the configuration the cases above break
// passes validation and plans (creating everything: it reads nothing).
func TestAccValidConfigurationPlans(t *testing.T) {
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: map[string]func() (tfprotov6.ProviderServer, error){
			"ionroller": providerserver.NewProtocol6WithError(New("test")()),
		},
		Steps: []resource.TestStep{{
			Config:             validEndpoint,
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
		}},
	})
}
