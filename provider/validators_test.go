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

// TestAccValidators: every class of bad value fails `terraform plan`, at
// validation, with an error that names the attribute the way the shifter's
// API names its field. No shifter runs: validation comes before any call.
func TestAccValidators(t *testing.T) {
	factories := map[string]func() (tfprotov6.ProviderServer, error){
		"ionroller": providerserver.NewProtocol6WithError(New("test")()),
	}
	for _, tc := range []struct {
		name     string
		old, new string
		want     string
	}{
		// Names and versions, by the shifter's patterns.
		{"name", `name = "web"`, `name = "Web_1"`,
			"Attribute name must be 2 to 40 lowercase letters"},
		{"team", `name = "web"`, `name = "web"
  team = "Web Team"`, "Attribute team must be lowercase letters"},
		{"version", `version  = "v1"`, `version  = "-v1"`,
			"Attribute version must be 1 to 64 letters"},
		{"track", `version  = "v1"`, `version  = "v1"
  track    = "staging"`, `Attribute track value must be one of: ["production" "preview"], got: "staging"`},
		{"wait_for", `version  = "v1"`, `version  = "v1"
  wait_for = "forever"`, `Attribute wait_for value must be one of`},
		{"image", `version  = "v1"`, `version  = "v1"
  image    = "Registry/App:1"`, "Attribute image must be a Docker image reference"},
		{"retry", `version  = "v1"`, `version  = "v1"
  retry    = -1`, "Attribute retry value must be at least 0, got: -1"},
		{"release env", `version  = "v1"`, `version  = "v1"
  env      = { "1ST" = "x" }`, `Attribute env["1ST"] must be an environment variable name`},

		// Steps: rollout.ValidateSteps, reported at the step it names.
		{"weight below 1", `{ weight = 10, pause = "5m" }`, `{ weight = 0, pause = "5m" }`,
			"Attribute policy.steps[0].weight value must be between 1 and 100, got: 0"},
		{"weight above 100", `{ weight = 100 }]`, `{ weight = 150 }]`,
			"Attribute policy.steps[1].weight value must be between 1 and 100, got: 150"},
		{"weights not increasing", `steps = [{ weight = 10, pause = "5m" }, { weight = 100 }]`,
			`steps = [{ weight = 50 }, { weight = 10 }, { weight = 100 }]`,
			"Attribute policy.steps[1].weight must be greater than the previous step's weight (50); got 10"},
		{"last step not 100", `{ weight = 100 }]`, `{ weight = 50 }]`,
			"Attribute policy.steps[1].weight the last step must send 100% of traffic; got 50"},
		{"no steps", `steps = [{ weight = 10, pause = "5m" }, { weight = 100 }]`, `steps = []`,
			"Attribute policy.steps must have between 1 and 20 steps; got 0"},

		// Durations: parsed, and within the shifter's bounds.
		{"pause not a duration", `pause = "5m"`, `pause = "5 minutes"`,
			`Attribute policy.steps[0].pause value "5 minutes" is not a duration`},
		{"negative pause", `pause = "5m"`, `pause = "-5m"`, `Attribute policy.steps[0].pause value "-5m" is negative`},
		{"bake time too long", `{ weight = 100 }]`, `{ weight = 100 }]
    bake_time = "200h"`, "Attribute policy.bake_time must be between 0s and 168h0m0s; got 200h"},
		{"healthy timeout zero", `{ weight = 100 }]`, `{ weight = 100 }]
    healthy_timeout = "0s"`, "Attribute policy.healthy_timeout must be between 1s and 24h0m0s; got 0s"},
		{"health check interval", `env            = { PORT = "8080" }`, `health_check   = { interval = "1s" }`,
			"Attribute template.health_check.interval must be between 5s and 5m0s; got 1s"},
		{"health check timeout not below interval", `env            = { PORT = "8080" }`, `health_check   = { timeout = "20s" }`,
			"Attribute template.health_check.timeout must be shorter than the interval (15s); got 20s"},

		// ARNs.
		{"listener ARN", `listener_arn = "arn:aws:elasticloadbalancing`, `listener_arn = "arn:aws:elb:listener" # `,
			"Attribute traffic.listener_arn must be an Application Load Balancer listener ARN"},
		{"role ARN", `role_arn    = "arn:aws:iam::123456789012:role/ionroller"`, `role_arn    = "arn:aws:iam::123:user/me"`,
			"Attribute placement.role_arn must be an IAM role ARN"},
		{"external ID without role", `role_arn    = "arn:aws:iam::123456789012:role/ionroller"`, ``,
			`Attribute "placement.role_arn" must be specified when "placement.external_id" is specified`},
		{"secret ARN", `env            = { PORT = "8080" }`, `secrets        = { DB_PASSWORD = "arn:aws:s3:::bucket/key" }`,
			`Attribute template.secrets["DB_PASSWORD"] must be the ARN of an SSM parameter or a Secrets Manager secret`},
		{"secret also in env", `env            = { PORT = "8080" }`, `env            = { PORT = "8080" }
    secrets        = { PORT = "arn:aws:ssm:us-east-1:123456789012:parameter/port" }`,
			`Attribute template.secrets["PORT"] "PORT" is also set in template.env`},

		// IDs.
		{"AMI", `ami            = "ami-0123456789abcdef0"`, `ami            = "ami-xyz"`,
			"Attribute template.ami must be an AMI ID"},
		{"subnet", `subnets        = ["subnet-0123456789abcdef0"]`, `subnets        = ["subnet-1"]`,
			"Attribute template.subnets[0] must be a subnet ID"},
		{"security group", `env            = { PORT = "8080" }`, `security_groups = ["sg-0123456789abcdef0", "sg-zz"]`,
			"Attribute template.security_groups[1] must be a security group ID"},
		{"duplicate subnet", `subnets        = ["subnet-0123456789abcdef0"]`, `subnets        = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef0"]`,
			`Attribute template.subnets[1] "subnet-0123456789abcdef0" is listed twice`},

		// Bounds of the spec.
		{"priority", `priority     = 10`, `priority     = 50001`,
			"Attribute traffic.priority value must be between 1 and 50000, got: 50001"},
		{"container port", `container_port = 8080`, `container_port = 0`,
			"Attribute template.container_port value must be between 1 and 65535, got: 0"},
		{"desired above max", `env            = { PORT = "8080" }`, `desired_capacity = 3`,
			"Attribute template.desired_capacity must be at least 1 and between min_size (1) and max_size (2); got 3"},
		{"min above max", `env            = { PORT = "8080" }`, `min_size = 4
    max_size = 3`, "Attribute template.min_size must not exceed template.max_size (3); got 4"},
		{"min healthy percent", `{ weight = 100 }]`, `{ weight = 100 }]
    min_healthy_percent = 0`, "Attribute policy.min_healthy_percent value must be between 1 and 100, got: 0"},
		{"too many conditions", `hosts        = ["web.example.com"]`, `hosts        = ["a.example.com", "b.example.com", "c.example.com"]
    paths        = ["/a", "/b", "/c"]`, "Attribute traffic.hosts and traffic.paths together may have at most 5 values"},
		{"preview priority without route", `priority     = 10`, `priority     = 10
    preview_priority = 11`, "Attribute traffic.preview_priority is set but neither preview_host nor preview_listener_arn is"},
		{"preview priority clashes", `priority     = 10`, `priority     = 10
    preview_host     = "preview.example.com"
    preview_priority = 10`, "Attribute traffic.preview_priority must differ from traffic.priority on the same listener"},
		{"preview host without priority", `priority     = 10`, `priority     = 10
    preview_host = "preview.example.com"`, `Attribute "traffic.preview_priority" must be specified when "traffic.preview_host" is specified`},
		{"env name", `env            = { PORT = "8080" }`, `env            = { "MY-VAR" = "x" }`,
			`Attribute template.env["MY-VAR"] must be an environment variable name`},
		{"metric ratio", `{ weight = 100 }]`, `{ weight = 100 }]
    metric_checks = { max_ratio_to_stable = 0.5 }`, "Attribute policy.metric_checks.max_ratio_to_stable must be at least 1 (or 0 to disable); got 0.5"},
		{"duplicate alarm", `{ weight = 100 }]`, `{ weight = 100 }]
    alarms = ["web-5xx", "web-5xx"]`, `Attribute policy.alarms[1] "web-5xx" is listed twice`},

		// Notifications.
		{"webhook URL", `name = "web"`, `name = "web"
  notifications = { webhook_url = "ftp://hooks.example.com/x" }`, "Attribute notifications.webhook_url must be an http or https URL"},
		{"SNS topic ARN", `name = "web"`, `name = "web"
  notifications = { sns_topic_arn = "arn:aws:sqs:us-east-1:123456789012:q" }`, "Attribute notifications.sns_topic_arn must be an SNS topic ARN"},
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
