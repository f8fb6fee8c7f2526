package provider

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/iampolicy"
)

// TestAccShifterIAMPolicy: the data source renders the shifter's policy for
// its inputs with no shifter to ask (the provider has no address), refuses
// inputs that are not what they say, and whatever needs the shifter fails
// for the missing address.
func TestAccShifterIAMPolicy(t *testing.T) {
	t.Setenv(addressEnv, "")
	full := iampolicy.Options{
		ShifterID: "prod", Partition: "aws", Region: "eu-west-1", Account: "123456789012",
		TableARN:         "arn:aws:dynamodb:eu-west-1:123456789012:table/ionroller",
		CreateTable:      true,
		InstanceRoleARNs: []string{"arn:aws:iam::123456789012:role/web", "arn:aws:iam::123456789012:role/api"},
		TaskRoleARNs:     []string{"arn:aws:iam::123456789012:role/task"},
		EndpointRoleARNs: []string{"arn:aws:iam::222222222222:role/ionroller"},
		TopicARNs:        []string{"arn:aws:sns:eu-west-1:123456789012:rollouts"},
	}
	policy := "data.ionroller_shifter_iam_policy.test"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: map[string]func() (tfprotov6.ProviderServer, error){
			"ionroller": providerserver.NewProtocol6WithError(New("test")()),
		},
		Steps: []resource.TestStep{
			{
				Config: iamPolicyConfig(fmt.Sprintf(`
  shifter_id            = %[1]q
  partition             = %[2]q
  region                = %[3]q
  account_id            = %[4]q
  dynamodb_table_arn    = %[5]q
  dynamodb_create_table = true
  instance_role_arns    = [%[6]q, %[7]q]
  endpoint_role_arns    = [%[8]q]
  sns_topic_arns        = [%[9]q]
  task_role_arns        = [%[10]q]
`, full.ShifterID, full.Partition, full.Region, full.Account, full.TableARN, full.InstanceRoleARNs[0], full.InstanceRoleARNs[1],
					full.EndpointRoleARNs[0], full.TopicARNs[0], full.TaskRoleARNs[0])),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(policy, tfjsonpath.New("json"), knownvalue.StringExact(iampolicy.Policy(full).JSON())),
					statecheck.ExpectKnownValue(policy, tfjsonpath.New("json"), knownvalue.StringFunc(func(s string) error {
						return statementOn(s, "Store", full.TableARN)
					})),
				},
			},
			{
				Config: iamPolicyConfig(""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(policy, tfjsonpath.New("json"), knownvalue.StringExact(iampolicy.Policy(iampolicy.Options{}).JSON())),
					statecheck.ExpectKnownValue(policy, tfjsonpath.New("json"), knownvalue.StringFunc(func(s string) error {
						if statementOn(s, "Store", "") == nil {
							return fmt.Errorf("a policy without a table has a Store statement: %s", s)
						}
						return nil
					})),
				},
			},
			{
				Config:      iamPolicyConfig("  dynamodb_create_table = true\n"),
				ExpectError: regexp.MustCompile(`dynamodb_table_arn`),
			},
			{
				Config:      iamPolicyConfig("  instance_role_arns = [\"arn:aws:iam::123456789012:user/someone\"]\n"),
				ExpectError: looseRegexp("must be an IAM role ARN"),
			},
			{
				Config:      iamPolicyConfig("") + "\ndata \"ionroller_endpoints\" \"all\" {}\n",
				ExpectError: regexp.MustCompile(`Missing Shifter Address`),
			},
		},
	})
}

// iamPolicyConfig is the data source with the given attributes (HCL), under
// a provider block without an address.
func iamPolicyConfig(attributes string) string {
	return fmt.Sprintf(`
provider "ionroller" {}

data "ionroller_shifter_iam_policy" "test" {
%s}
`, attributes)
}

// statementOn fails unless the policy document doc has a statement sid on
// resource (any resource when "").
func statementOn(doc, sid, resource string) error {
	var d iampolicy.Document
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return err
	}
	for _, s := range d.Statement {
		if s.Sid == sid && (resource == "" || slices.Contains(s.Resource, resource)) {
			return nil
		}
	}
	return fmt.Errorf("no statement %s on %q in %s", sid, resource, doc)
}
