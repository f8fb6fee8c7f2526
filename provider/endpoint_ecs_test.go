package provider

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// TestAccEndpointOnECS walks an endpoint on the ecs backend through create,
// import and an update that places its tasks with capacity providers: the
// plan knows the ecs defaults and that the attributes of backend ec2 are
// not set, state holds template.ecs as the shifter does, and the data
// source shows the same template.
func TestAccEndpointOnECS(t *testing.T) {
	s := newTestShifter(t)
	name := randomName()
	endpoint := "ionroller_endpoint.test"
	template := tfjsonpath.New("template")
	ecs := template.AtMapKey("ecs")
	config := func(ecs string) string {
		return providerConfig(s.url) + ecsEndpointConfig(name, s.net, ecs) + `
data "ionroller_endpoint" "test" {
  name = ionroller_endpoint.test.name
}
`
	}

	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: s.factories(),
		CheckDestroy:             s.checkDestroyed(name),
		Steps: []resource.TestStep{
			{
				Config: config(`{ cluster = "` + awstest.Cluster + `" }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(endpoint, ecs.AtMapKey("launch_type"), knownvalue.StringExact(rollout.LaunchTypeFargate)),
					plancheck.ExpectKnownValue(endpoint, template.AtMapKey("instance_type"), knownvalue.Null()),
					plancheck.ExpectKnownValue(endpoint, template.AtMapKey("min_size"), knownvalue.Null()),
					plancheck.ExpectKnownValue(endpoint, template.AtMapKey("max_size"), knownvalue.Null()),
				}},
				ConfigStateChecks: append(ec2AttributesNull(endpoint),
					statecheck.ExpectKnownValue(endpoint, template.AtMapKey("backend"), knownvalue.StringExact(rollout.BackendECS)),
					// Three tasks: no group sizes of ec2's bound them.
					statecheck.ExpectKnownValue(endpoint, template.AtMapKey("desired_capacity"), knownvalue.Int64Exact(3)),
					statecheck.ExpectKnownValue(endpoint, ecs, knownvalue.ObjectPartial(map[string]knownvalue.Check{
						"cluster":            knownvalue.StringExact(awstest.Cluster),
						"launch_type":        knownvalue.StringExact(rollout.LaunchTypeFargate),
						"capacity_providers": knownvalue.ListSizeExact(0),
						"cpu":                knownvalue.Int64Exact(int64(rollout.DefaultECS().CPU)),
						"memory":             knownvalue.Int64Exact(int64(rollout.DefaultECS().Memory)),
						"assign_public_ip":   knownvalue.Bool(false),
						"logs":               knownvalue.Null(),
						"health_check":       knownvalue.Null(),
					})),
					statecheck.CompareValuePairs("data.ionroller_endpoint.test", template, endpoint, template, compare.ValuesSame()),
				),
			},
			{
				ResourceName:            endpoint,
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"timeouts", "status.observed_at"},
			},
			{
				Config: config(fmt.Sprintf(`{
      cluster            = %[3]q
      capacity_providers = [{ name = "FARGATE_SPOT", weight = 3 }, { name = "FARGATE", weight = 1, base = 1 }]
      cpu                = 512
      memory             = 2048
      execution_role_arn = %[1]q
      logs               = { group = "/ecs/%[2]s", stream_prefix = "web" }
      health_check = {
        command  = ["CMD-SHELL", "curl -f http://localhost:8080/ || exit 1"]
        interval = "30s"
        timeout  = "5s"
        retries  = 3
      }
    }`, ruleExecutionRole, name, awstest.Cluster)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(endpoint, plancheck.ResourceActionUpdate),
					// Capacity providers place the tasks: no launch type.
					plancheck.ExpectKnownValue(endpoint, ecs.AtMapKey("launch_type"), knownvalue.Null()),
				}},
				ConfigStateChecks: append(ec2AttributesNull(endpoint),
					statecheck.ExpectKnownValue(endpoint, ecs.AtMapKey("capacity_providers"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.ObjectExact(map[string]knownvalue.Check{"name": knownvalue.StringExact("FARGATE_SPOT"), "weight": knownvalue.Int64Exact(3), "base": knownvalue.Int64Exact(0)}),
						knownvalue.ObjectExact(map[string]knownvalue.Check{"name": knownvalue.StringExact("FARGATE"), "weight": knownvalue.Int64Exact(1), "base": knownvalue.Int64Exact(1)}),
					})),
					statecheck.ExpectKnownValue(endpoint, ecs.AtMapKey("memory"), knownvalue.Int64Exact(2048)),
					statecheck.ExpectKnownValue(endpoint, ecs.AtMapKey("logs").AtMapKey("group"), knownvalue.StringExact("/ecs/"+name)),
					statecheck.ExpectKnownValue(endpoint, ecs.AtMapKey("health_check").AtMapKey("start_period"), knownvalue.StringExact("0s")),
					statecheck.CompareValuePairs("data.ionroller_endpoint.test", template, endpoint, template, compare.ValuesSame()),
				),
				Check: s.checkECS(name, func(e rollout.ECS) error {
					if e.LaunchType != "" || len(e.CapacityProviders) != 2 || e.CPU != 512 || e.HealthCheck == nil || e.HealthCheck.Retries != 3 {
						return fmt.Errorf("the shifter holds template.ecs %+v, not what was applied", e)
					}
					return nil
				}),
			},
		},
	})
}

// TestAccBackendKnownOnlyAtApply: while the backend is unknown, so are the
// attributes only backend ec2 uses; once it is, they are what it says.
func TestAccBackendKnownOnlyAtApply(t *testing.T) {
	s := newTestShifter(t)
	name := randomName()
	endpoint := "ionroller_endpoint.test"
	config := providerConfig(s.url) + `
resource "terraform_data" "backend" {
  input = "ecs"
}
` + strings.Replace(ecsEndpointConfig(name, s.net, `{ cluster = "`+awstest.Cluster+`" }`), `"ecs"`, "terraform_data.backend.output", 1)
	if !strings.Contains(config, "backend              = terraform_data.backend.output") {
		t.Fatalf("the backend is not terraform_data's:\n%s", config)
	}

	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: s.factories(),
		CheckDestroy:             s.checkDestroyed(name),
		Steps: []resource.TestStep{{
			Config: config,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectUnknownValue(endpoint, tfjsonpath.New("template").AtMapKey("instance_type")),
				plancheck.ExpectUnknownValue(endpoint, tfjsonpath.New("template").AtMapKey("max_size")),
			}},
			ConfigStateChecks: ec2AttributesNull(endpoint),
		}},
	})
}

// ecsEndpointConfig is an endpoint on the test network running on ECS with
// ecs (HCL) as its template.ecs.
func ecsEndpointConfig(name string, net awstest.Net, ecs string) string {
	return fmt.Sprintf(`
resource "ionroller_endpoint" "test" {
  name                = %[1]q
  team                = "web"
  deletion_protection = false
  traffic = {
    listener_arn = %[2]q
    priority     = 10
    hosts        = ["%[1]s.example.com"]
  }
  template = {
    backend              = "ecs"
    repository           = "registry.example.com/%[1]s"
    container_port       = 8080
    desired_capacity     = 3
    subnets              = [%[3]s]
    security_groups      = [%[4]q]
    deregistration_delay = "0s"
    ecs                  = %[5]s
  }
  policy = {
    steps     = [{ weight = 100 }]
    bake_time = "0s"
  }
}
`, name, net.ListenerARN, quoted(net.Subnets), net.SecurityGroup, ecs)
}

// ec2AttributesNull checks that the attributes only backend ec2 uses are
// null in the state of the endpoint at address.
func ec2AttributesNull(address string) []statecheck.StateCheck {
	var checks []statecheck.StateCheck
	for _, attr := range []string{"ami", "instance_type", "instance_profile", "min_size", "max_size"} {
		checks = append(checks, statecheck.ExpectKnownValue(address, tfjsonpath.New("template").AtMapKey(attr), knownvalue.Null()))
	}
	return checks
}

// checkECS checks the template.ecs the shifter holds for endpoint.
func (s *testShifter) checkECS(endpoint string, check func(rollout.ECS) error) func(*terraform.State) error {
	return func(*terraform.State) error {
		v, err := s.client.GetEndpoint(context.Background(), endpoint)
		if err != nil {
			return err
		}
		if v.Endpoint.Template.ECS == nil {
			return fmt.Errorf("the shifter holds no template.ecs for endpoint %s", endpoint)
		}
		return check(*v.Endpoint.Template.ECS)
	}
}

// TestAccReleaseOnECS releases v1 then v2 of an endpoint on ecs, each to
// 100%, and destroys it: nothing of it stays in ECS or ELB.
func TestAccReleaseOnECS(t *testing.T) {
	s := newTestShifter(t)
	name := randomName()
	release := "ionroller_release.test"
	config := func(version string) string {
		return providerConfig(s.url) + ecsEndpointConfig(name, s.net, `{ cluster = "`+awstest.Cluster+`" }`) + releaseConfig(version, waitComplete, 0)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: s.factories(),
		CheckDestroy:             s.checkDestroyed(name),
		Steps: []resource.TestStep{
			{Config: config("v1"), Check: s.checkWeights(map[string]int{"v1": 100})},
			{
				Config: config("v2"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(release, tfjsonpath.New("live_version"), knownvalue.StringExact("v2")),
				},
				Check: s.checkWeights(map[string]int{"v2": 100}),
			},
		},
	})
}
