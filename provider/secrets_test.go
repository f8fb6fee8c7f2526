package provider

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// TestAccEndpointSecretsStaySensitive: the webhook URL and the external ID
// are sensitive in every plan (terraform prints "(sensitive value)"), kept
// in state although the shifter answers only that they are set, with no
// drift on the next plan; an import cannot know them.
func TestAccEndpointSecretsStaySensitive(t *testing.T) {
	s := newTestShifter(t)
	name := randomName()
	const (
		webhook    = "https://hooks.example.com/services/hook-secret-7c2e9a41"
		externalID = "external-id-secret-5d3b8f20"
	)
	endpoint := "ionroller_endpoint.test"
	config := providerConfig(s.url) + strings.Replace(endpointConfig(name, s.net, oneStep, noRollbackWindow),
		"  deletion_protection = false\n", fmt.Sprintf(`  deletion_protection = false
  placement = {
    role_arn    = "arn:aws:iam::123456789012:role/ionroller"
    external_id = %q
  }
  notifications = { webhook_url = %q, webhook_format = "teams" }
`, externalID, webhook), 1)
	webhookPath := tfjsonpath.New("notifications").AtMapKey("webhook_url")
	externalIDPath := tfjsonpath.New("placement").AtMapKey("external_id")

	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: s.factories(),
		CheckDestroy:             s.checkDestroyed(name),
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectSensitiveValue(endpoint, webhookPath),
						plancheck.ExpectSensitiveValue(endpoint, externalIDPath),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(endpoint, webhookPath, knownvalue.StringExact(webhook)),
					statecheck.ExpectKnownValue(endpoint, externalIDPath, knownvalue.StringExact(externalID)),
				},
				Check: func(*terraform.State) error {
					v, err := s.client.GetEndpoint(t.Context(), name)
					switch {
					case err != nil:
						return err
					case v.Endpoint.Notifications.WebhookURL != "" || v.Endpoint.Placement.ExternalID != "":
						return fmt.Errorf("the shifter answered a secret: %+v %+v", v.Endpoint.Notifications, v.Endpoint.Placement)
					case !v.Endpoint.Notifications.WebhookURLSet || !v.Endpoint.Placement.ExternalIDSet:
						return fmt.Errorf("the shifter does not say the secrets are set: %+v %+v", v.Endpoint.Notifications, v.Endpoint.Placement)
					case v.Endpoint.Notifications.WebhookFormat != rollout.WebhookTeams:
						return fmt.Errorf("the shifter has webhook format %q, want teams", v.Endpoint.Notifications.WebhookFormat)
					}
					return nil
				},
			},
			{
				ResourceName:      endpoint,
				ImportState:       true,
				ImportStateVerify: true,
				// Write-only in the shifter: an import cannot read them.
				ImportStateVerifyIgnore: []string{"timeouts", "notifications.webhook_url", "placement.external_id", "status.observed_at"},
			},
		},
	})
}
