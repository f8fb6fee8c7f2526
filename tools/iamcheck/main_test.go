package main

import (
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/callrecord"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/iampolicy"
)

// suite is what a run of the whole suite records, as of this writing.
func suite() []callrecord.Call {
	var calls []callrecord.Call
	for service, ops := range map[string][]string{
		"Auto Scaling": {"CreateAutoScalingGroup", "DeleteAutoScalingGroup", "DescribeAutoScalingGroups", "UpdateAutoScalingGroup"},
		"CloudWatch":   {"DescribeAlarms", "GetMetricData"},
		"EC2":          {"CreateLaunchTemplate", "DeleteLaunchTemplate", "DescribeImages", "DescribeLaunchTemplates", "DescribeSecurityGroups", "DescribeSubnets"},
		"Elastic Load Balancing v2": {"CreateListener", "CreateRule", "CreateTargetGroup", "DeleteListener", "DeleteRule", "DeleteTargetGroup", "DescribeListeners", "DescribeLoadBalancers",
			"DescribeRules", "DescribeSSLPolicies", "DescribeTags", "DescribeTargetGroups", "DescribeTargetHealth", "ModifyListener", "ModifyRule", "ModifyTargetGroupAttributes"},
		"Route 53": {"ChangeResourceRecordSets", "ChangeTagsForResource", "CreateHealthCheck", "DeleteHealthCheck", "GetHostedZone",
			"ListHealthChecks", "ListResourceRecordSets"},
		"ECR": {"BatchGetImage"},
		"ECS": {"CreateService", "DeleteService", "DescribeClusters", "DeregisterTaskDefinition", "DescribeServices", "DescribeTaskDefinition",
			"ListServices", "ListTaskDefinitions", "RegisterTaskDefinition", "UpdateService"},
		"SNS": {"Publish"},
		"ACM": {"DescribeCertificate"},
		"IAM": {"GetServerCertificate"},
		"STS": {"AssumeRole"},
		"DynamoDB": {"CreateTable", "DescribeTable", "UpdateTimeToLive", "GetItem", "PutItem", "Query",
			"TransactWriteItems.Put", "TransactWriteItems.Delete", "TransactWriteItems.ConditionCheck"},
	} {
		for _, op := range ops {
			calls = append(calls, callrecord.Call{Service: service, Operation: op})
		}
	}
	return calls
}

// TestCheck passes exactly when the calls need what the policy allows, and
// names every difference otherwise.
func TestCheck(t *testing.T) {
	without := func(operation string) []callrecord.Call {
		return slices.DeleteFunc(suite(), func(c callrecord.Call) bool { return c.Operation == operation })
	}
	for _, tc := range []struct {
		name  string
		calls []callrecord.Call
		want  []string // in the error; none: passes
	}{
		{"what the suite calls", suite(), nil},
		{"an operation the policy does not allow",
			append(suite(), callrecord.Call{Service: "EC2", Operation: "DescribeInstances"}),
			[]string{"the shifter called EC2 DescribeInstances, but the policy does not allow ec2:DescribeInstances"}},
		{"an action nothing calls", without("ModifyRule"),
			[]string{"the policy allows elasticloadbalancing:ModifyRule, which no recorded call"}},
		{"dependent actions go with their call", without("CreateAutoScalingGroup"),
			[]string{"autoscaling:CreateAutoScalingGroup", "ec2:RunInstances"}},
		{"a transaction item nothing performs", without("TransactWriteItems.Delete"),
			[]string{"the policy allows dynamodb:DeleteItem"}},
		{"a service the policy does not know", append(suite(), callrecord.Call{Service: "S3", Operation: "GetObject"}),
			[]string{`no IAM prefix for the AWS service "S3"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			err := check(&out, tc.calls, iampolicy.Policy(everything))
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(out.String(), "and nothing more") {
					t.Errorf("report = %q", out.String())
				}
				return
			}
			if err == nil {
				t.Fatalf("passed, want an error naming %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not name %q:\n%v", w, err)
				}
			}
		})
	}
}

// TestEveryStatementIsChecked: the policy checked has every optional
// statement, so none of them goes unproven.
func TestEveryStatementIsChecked(t *testing.T) {
	if err := check(io.Discard, suite(), iampolicy.Policy(iampolicy.Options{})); err == nil {
		t.Error("the suite's calls fit the policy without its optional statements: everything must name them all")
	}
}
