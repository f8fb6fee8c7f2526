package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// TestAccDataSources: the data sources read what the resources made, live
// status included.
func TestAccDataSources(t *testing.T) {
	s := newTestShifter(t)
	name := randomName()
	config := providerConfig(s.url) + endpointConfig(name, s.net, oneStep, noRollbackWindow) + releaseConfig("v1", waitComplete, 0) + `
data "ionroller_endpoint" "test" {
  name = ionroller_release.test.endpoint
}

data "ionroller_endpoints" "web" {
  team       = "web"
  depends_on = [ionroller_release.test]
}

data "ionroller_endpoints" "other" {
  team       = "other"
  depends_on = [ionroller_release.test]
}
`
	endpoint, endpoints := "data.ionroller_endpoint.test", "data.ionroller_endpoints.web"

	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: s.factories(),
		CheckDestroy:             s.checkDestroyed(name),
		Steps: []resource.TestStep{{
			Config: config,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.CompareValuePairs(endpoint, tfjsonpath.New("template"),
					"ionroller_endpoint.test", tfjsonpath.New("template"), compare.ValuesSame()),
				statecheck.ExpectKnownValue(endpoint, tfjsonpath.New("team"), knownvalue.StringExact("web")),
				statecheck.ExpectKnownValue(endpoint, tfjsonpath.New("status").AtMapKey("state"), knownvalue.StringExact("steady")),
				statecheck.ExpectKnownValue(endpoint, tfjsonpath.New("status").AtMapKey("stable_version"), knownvalue.StringExact("v1")),
				statecheck.ExpectKnownValue(endpoint, tfjsonpath.New("status").AtMapKey("weights"),
					knownvalue.MapExact(map[string]knownvalue.Check{"v1": knownvalue.Int64Exact(100)})),
				statecheck.ExpectKnownValue(endpoints, tfjsonpath.New("endpoints"), knownvalue.ListExact([]knownvalue.Check{
					knownvalue.ObjectExact(map[string]knownvalue.Check{
						"name":           knownvalue.StringExact(name),
						"team":           knownvalue.StringExact("web"),
						"state":          knownvalue.StringExact("steady"),
						"stable_version": knownvalue.StringExact("v1"),
						"weights":        knownvalue.MapExact(map[string]knownvalue.Check{"v1": knownvalue.Int64Exact(100)}),
					}),
				})),
				statecheck.ExpectKnownValue("data.ionroller_endpoints.other", tfjsonpath.New("endpoints"), knownvalue.ListSizeExact(0)),
			},
		}},
	})
}
