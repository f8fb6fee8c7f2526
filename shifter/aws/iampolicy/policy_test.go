package iampolicy_test

import (
	"encoding/json"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/iampolicy"
)

// everything names every optional part, so that every statement is there.
var everything = iampolicy.Options{
	Partition: "aws", Region: "eu-west-1", Account: "123456789012", ShifterID: "prod",
	TableARN:         "arn:aws:dynamodb:eu-west-1:123456789012:table/ionroller",
	CreateTable:      true,
	InstanceRoleARNs: []string{"arn:aws:iam::123456789012:role/app"},
	TaskRoleARNs:     []string{"arn:aws:iam::123456789012:role/task"},
	EndpointRoleARNs: []string{"arn:aws:iam::222222222222:role/ionroller"},
	TopicARNs:        []string{"arn:aws:sns:eu-west-1:123456789012:rollouts"},
	HostedZoneIDs:    []string{"Z0123456789ABCDEFGHIJ"},
}

// conditionKeys are the condition keys the Service Authorization Reference
// gives each action the policy allows ("Actions, resources, and condition
// keys for Amazon EC2 / Amazon EC2 Auto Scaling / Amazon ECR / Elastic Load Balancing V2
// / Amazon CloudWatch / Amazon DynamoDB / Amazon SNS / AWS STS / IAM"), as
// far as the policy could use them: tag keys and the keys it tests. A
// statement with a key its action does not support never matches that
// action, which would deny it in AWS while every test here passes.
var conditionKeys = map[string][]string{
	"acm:DescribeCertificate":                          {"aws:ResourceTag/*"},
	"iam:GetServerCertificate":                         nil,
	"autoscaling:CreateAutoScalingGroup":               {"aws:RequestTag/*", "aws:ResourceTag/*", "aws:TagKeys", "autoscaling:LaunchTemplateVersionSpecified"},
	"autoscaling:DeleteAutoScalingGroup":               {"aws:ResourceTag/*"},
	"autoscaling:DescribeAutoScalingGroups":            nil,
	"ecr:BatchGetImage":                                {"aws:ResourceTag/*"},
	"ecs:CreateService":                                {"aws:RequestTag/*", "aws:ResourceTag/*", "aws:TagKeys", "ecs:cluster", "ecs:capacity-provider", "ecs:task-definition"},
	"ecs:DescribeClusters":                             {"aws:ResourceTag/*"},
	"ecs:DeleteService":                                {"aws:ResourceTag/*", "ecs:cluster"},
	"ecs:DeregisterTaskDefinition":                     nil,
	"ecs:DescribeServices":                             {"aws:ResourceTag/*", "ecs:cluster"},
	"ecs:DescribeTaskDefinition":                       nil,
	"ecs:ListServices":                                 {"ecs:cluster"},
	"ecs:ListTaskDefinitions":                          nil,
	"ecs:RegisterTaskDefinition":                       {"aws:RequestTag/*", "aws:TagKeys"},
	"ecs:TagResource":                                  {"aws:RequestTag/*", "aws:ResourceTag/*", "aws:TagKeys", "ecs:CreateAction"},
	"ecs:UpdateService":                                {"aws:ResourceTag/*", "ecs:cluster", "ecs:capacity-provider", "ecs:task-definition"},
	"autoscaling:UpdateAutoScalingGroup":               {"aws:ResourceTag/*", "autoscaling:LaunchTemplateVersionSpecified"},
	"cloudwatch:DescribeAlarms":                        {"aws:ResourceTag/*"},
	"cloudwatch:GetMetricData":                         {"aws:ResourceTag/*"},
	"dynamodb:ConditionCheckItem":                      {"aws:ResourceTag/*"},
	"dynamodb:CreateTable":                             {"aws:RequestTag/*", "aws:ResourceTag/*", "aws:TagKeys"},
	"dynamodb:DeleteItem":                              {"aws:ResourceTag/*"},
	"dynamodb:DescribeTable":                           {"aws:ResourceTag/*"},
	"dynamodb:GetItem":                                 {"aws:ResourceTag/*"},
	"dynamodb:PutItem":                                 {"aws:ResourceTag/*"},
	"dynamodb:Query":                                   {"aws:ResourceTag/*"},
	"dynamodb:UpdateTimeToLive":                        {"aws:ResourceTag/*"},
	"ec2:CreateLaunchTemplate":                         {"aws:RequestTag/*", "aws:TagKeys"},
	"ec2:CreateTags":                                   {"aws:RequestTag/*", "aws:ResourceTag/*", "aws:TagKeys", "ec2:CreateAction"},
	"ec2:DeleteLaunchTemplate":                         {"aws:ResourceTag/*"},
	"ec2:DescribeImages":                               nil,
	"ec2:DescribeLaunchTemplates":                      nil,
	"ec2:DescribeSecurityGroups":                       nil,
	"ec2:DescribeSubnets":                              nil,
	"ec2:RunInstances":                                 {"aws:RequestTag/*", "aws:ResourceTag/*", "aws:TagKeys", "ec2:LaunchTemplate"},
	"elasticloadbalancing:AddTags":                     {"aws:RequestTag/*", "aws:ResourceTag/*", "aws:TagKeys", "elasticloadbalancing:CreateAction"},
	"elasticloadbalancing:CreateListener":              {"aws:RequestTag/*", "aws:ResourceTag/*", "aws:TagKeys"},
	"elasticloadbalancing:CreateRule":                  {"aws:RequestTag/*", "aws:ResourceTag/*", "aws:TagKeys"},
	"elasticloadbalancing:CreateTargetGroup":           {"aws:RequestTag/*", "aws:ResourceTag/*", "aws:TagKeys"},
	"elasticloadbalancing:DeleteListener":              {"aws:ResourceTag/*"},
	"elasticloadbalancing:DeleteRule":                  {"aws:ResourceTag/*"},
	"elasticloadbalancing:DeleteTargetGroup":           {"aws:ResourceTag/*"},
	"elasticloadbalancing:DescribeListeners":           nil,
	"elasticloadbalancing:DescribeLoadBalancers":       nil,
	"elasticloadbalancing:DescribeRules":               nil,
	"elasticloadbalancing:DescribeSSLPolicies":         nil,
	"elasticloadbalancing:DescribeTags":                nil,
	"elasticloadbalancing:DescribeTargetGroups":        nil,
	"elasticloadbalancing:DescribeTargetHealth":        nil,
	"elasticloadbalancing:ModifyListener":              {"aws:ResourceTag/*"},
	"elasticloadbalancing:ModifyRule":                  {"aws:ResourceTag/*"},
	"elasticloadbalancing:ModifyTargetGroupAttributes": {"aws:ResourceTag/*"},
	"route53:ChangeResourceRecordSets":                 {"route53:ChangeResourceRecordSetsActions", "route53:ChangeResourceRecordSetsNormalizedRecordNames", "route53:ChangeResourceRecordSetsRecordTypes"},
	"route53:GetHostedZone":                            nil,
	"route53:ChangeTagsForResource":                    nil,
	"route53:CreateHealthCheck":                        nil,
	"route53:DeleteHealthCheck":                        nil,
	"route53:ListHealthChecks":                         nil,
	"route53:ListResourceRecordSets":                   nil,
	"iam:PassRole":                                     {"aws:ResourceTag/*", "iam:AssociatedResourceArn", "iam:PassedToService"},
	"sns:Publish":                                      {"aws:ResourceTag/*"},
	"sts:AssumeRole":                                   {"aws:RequestTag/*", "aws:ResourceTag/*", "aws:TagKeys", "sts:ExternalId", "sts:RoleSessionName"},
}

// TestPolicyShape: the document is what IAM takes: a version, statements
// with unique alphanumeric Sids, each allowing actions on resources.
func TestPolicyShape(t *testing.T) {
	doc := iampolicy.Policy(everything)
	var back iampolicy.Document
	if err := json.Unmarshal([]byte(doc.JSON()), &back); err != nil {
		t.Fatalf("the policy is not JSON: %v", err)
	}
	if !reflect.DeepEqual(back, doc) {
		t.Errorf("the JSON does not read back as the policy:\n%s", doc.JSON())
	}
	if doc.Version != "2012-10-17" {
		t.Errorf("Version = %q, want 2012-10-17", doc.Version)
	}
	sid := regexp.MustCompile(`^[A-Za-z0-9]+$`)
	seen := map[string]bool{}
	for _, s := range doc.Statement {
		if !sid.MatchString(s.Sid) || seen[s.Sid] {
			t.Errorf("Sid %q: not alphanumeric, or not unique", s.Sid)
		}
		seen[s.Sid] = true
		if s.Effect != "Allow" || len(s.Action) == 0 {
			t.Errorf("%s: effect %q, actions %v: want Allow of at least one", s.Sid, s.Effect, s.Action)
		}
		if (len(s.Resource) == 0) == (len(s.NotResource) == 0) {
			t.Errorf("%s: want either Resource or NotResource", s.Sid)
		}
		if !slices.IsSorted(s.Action) {
			t.Errorf("%s: actions not sorted: %v", s.Sid, s.Action)
		}
	}
}

// TestEveryActionIsKnown: every action names an operation of its service's
// SDK client, or one IAM authorizes that is no operation.
func TestEveryActionIsKnown(t *testing.T) {
	clients := map[string]reflect.Type{
		"acm":                  reflect.TypeFor[*acm.Client](),
		"iam":                  reflect.TypeFor[*iam.Client](),
		"autoscaling":          reflect.TypeFor[*autoscaling.Client](),
		"cloudwatch":           reflect.TypeFor[*cloudwatch.Client](),
		"dynamodb":             reflect.TypeFor[*dynamodb.Client](),
		"ec2":                  reflect.TypeFor[*ec2.Client](),
		"ecr":                  reflect.TypeFor[*ecr.Client](),
		"ecs":                  reflect.TypeFor[*ecs.Client](),
		"elasticloadbalancing": reflect.TypeFor[*elb.Client](),
		"sns":                  reflect.TypeFor[*sns.Client](),
		"sts":                  reflect.TypeFor[*sts.Client](),
		"route53":              reflect.TypeFor[*route53.Client](),
	}
	authorizationOnly := []string{
		"dynamodb:ConditionCheckItem", // an item of TransactWriteItems
		"iam:PassRole",                // giving a role to a service
	}
	for _, action := range iampolicy.Policy(everything).Actions() {
		if slices.Contains(authorizationOnly, action) {
			continue
		}
		prefix, operation, _ := strings.Cut(action, ":")
		client, ok := clients[prefix]
		if !ok {
			t.Errorf("%s: no SDK client of %q to check it against", action, prefix)
			continue
		}
		if _, ok := client.MethodByName(operation); !ok {
			t.Errorf("%s: %s has no operation %s", action, client, operation)
		}
	}
}

// TestConditionKeysAreSupported: every condition of a statement applies to
// every action in it, by the Service Authorization Reference.
func TestConditionKeysAreSupported(t *testing.T) {
	for _, s := range iampolicy.Policy(everything).Statement {
		for _, action := range s.Action {
			supported, ok := conditionKeys[action]
			if !ok {
				t.Errorf("%s: %s has no entry in conditionKeys: add what the Service Authorization Reference gives it", s.Sid, action)
				continue
			}
			for _, keys := range s.Condition {
				for key := range keys {
					generic := key
					if k, _, ok := strings.Cut(key, "/"); ok {
						generic = k + "/*"
					}
					if !slices.Contains(supported, generic) {
						t.Errorf("%s: %s does not support the condition key %s", s.Sid, action, key)
					}
				}
			}
		}
	}
}

// TestChangesAreConfinedToTheShiftersResources: whatever creates or changes
// resources the policy does not name one by one carries a condition on the
// shifter's tag where its actions support one, and the tag is the
// shifter's ID when the options give one.
func TestChangesAreConfinedToTheShiftersResources(t *testing.T) {
	// DeregisterTaskDefinitions: ECS allows no condition on it.
	// RouteHealthChecks: Route 53 allows no condition on health checks.
	// ReadCertificates: reads the user's certificates, untagged.
	named := []string{"PassInstanceRoles", "PassTaskRoles", "DeregisterTaskDefinitions", "RouteHealthChecks", "AssumeEndpointRoles", "Notify", "RouteRecords", "ReadRecords", "ReadCertificates", "Store", "CreateStore"}
	for _, id := range []string{"prod", ""} {
		o := everything
		o.ShifterID = id
		for _, s := range iampolicy.Policy(o).Statement {
			if s.Sid == "Observe" || slices.Contains(named, s.Sid) {
				continue
			}
			var tagged bool
			for op, keys := range s.Condition {
				for key, values := range keys {
					if strings.HasSuffix(key, "Tag/ionroller:shifter") {
						tagged = true
						want := iampolicy.Conditions{"StringEquals": {key: {"prod"}}}
						if id == "" {
							want = iampolicy.Conditions{"Null": {key: {"false"}}}
						}
						if got := (iampolicy.Conditions{op: {key: values}}); !reflect.DeepEqual(got, want) {
							t.Errorf("shifter ID %q: %s tests %v, want %v", id, s.Sid, got, want)
						}
					}
				}
			}
			if !tagged && s.Sid != "LaunchFromTemplatesOnly" {
				t.Errorf("shifter ID %q: %s is not conditioned on the shifter's tag", id, s.Sid)
			}
		}
	}
	for _, s := range iampolicy.Policy(everything).Statement {
		if s.Sid != "Observe" {
			continue
		}
		for _, action := range s.Action {
			_, operation, _ := strings.Cut(action, ":")
			if !slices.ContainsFunc([]string{"Describe", "Get", "BatchGet", "List"}, func(read string) bool { return strings.HasPrefix(operation, read) }) {
				t.Errorf("Observe allows %s on every resource: only reads belong there", action)
			}
		}
	}
}

// TestOptionalStatements: what the user names one by one is granted only
// when named, on exactly what was named.
func TestOptionalStatements(t *testing.T) {
	base := iampolicy.Options{TableARN: "arn:aws:dynamodb:us-east-1:123456789012:table/t", CreateTable: true}
	for _, tc := range []struct {
		name    string
		options iampolicy.Options
		absent  []string
	}{
		{"bbolt store, nothing named", iampolicy.Options{CreateTable: true},
			[]string{"dynamodb:", "iam:PassRole", "sts:AssumeRole", "sns:Publish"}},
		{"table, not created", iampolicy.Options{TableARN: base.TableARN}, []string{"dynamodb:CreateTable", "dynamodb:DescribeTable"}},
		{"table created", base, []string{"iam:PassRole", "sts:", "sns:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, action := range iampolicy.Policy(tc.options).Actions() {
				for _, prefix := range tc.absent {
					if strings.HasPrefix(action, prefix) {
						t.Errorf("%s is granted", action)
					}
				}
			}
		})
	}
	for _, s := range iampolicy.Policy(everything).Statement {
		var want []string
		switch s.Sid {
		case "PassInstanceRoles":
			want = everything.InstanceRoleARNs
		case "AssumeEndpointRoles":
			want = everything.EndpointRoleARNs
		case "Notify":
			want = everything.TopicARNs
		case "Store", "CreateStore":
			want = []string{everything.TableARN}
		default:
			continue
		}
		if !slices.Equal(s.Resource, want) {
			t.Errorf("%s: resources %v, want %v", s.Sid, s.Resource, want)
		}
	}
}

// TestScopedARNs: partition, region and account scope every ARN the policy
// writes, and default to aws, any region and any account.
func TestScopedARNs(t *testing.T) {
	for _, tc := range []struct {
		options                    iampolicy.Options
		partition, region, account string
	}{
		{iampolicy.Options{}, "aws", "*", "*"},
		{iampolicy.Options{Partition: "aws-cn", Region: "cn-north-1", Account: "123456789012"}, "aws-cn", "cn-north-1", "123456789012"},
	} {
		for _, s := range iampolicy.Policy(tc.options).Statement {
			for _, r := range append(s.Resource, s.NotResource...) {
				parts := strings.SplitN(r, ":", 6)
				if r == "*" {
					continue
				}
				if len(parts) < 6 || parts[0] != "arn" || parts[1] != tc.partition {
					t.Errorf("%s: %s is not in partition %s", s.Sid, r, tc.partition)
					continue
				}
				region := tc.region
				if parts[2] == "iam" {
					region = "" // a global service's ARNs have none
				}
				if s.NotResource == nil && (parts[3] != region || parts[4] != tc.account) {
					t.Errorf("%s: %s is not in region %q and account %s", s.Sid, r, region, tc.account)
				}
			}
		}
	}
}

// TestActionsOf maps the SDK's service IDs and operations to IAM actions.
func TestActionsOf(t *testing.T) {
	for _, tc := range []struct {
		service, operation string
		want               string
	}{
		{ec2.ServiceID, "CreateLaunchTemplate", "ec2:CreateLaunchTemplate"},
		{autoscaling.ServiceID, "UpdateAutoScalingGroup", "autoscaling:UpdateAutoScalingGroup"},
		{elb.ServiceID, "ModifyRule", "elasticloadbalancing:ModifyRule"},
		{cloudwatch.ServiceID, "GetMetricData", "cloudwatch:GetMetricData"},
		{sns.ServiceID, "Publish", "sns:Publish"},
		{sts.ServiceID, "AssumeRole", "sts:AssumeRole"},
		{dynamodb.ServiceID, "Query", "dynamodb:Query"},
		{dynamodb.ServiceID, iampolicy.TransactItem("TransactWriteItems", "Put"), "dynamodb:PutItem"},
		{dynamodb.ServiceID, iampolicy.TransactItem("TransactWriteItems", "ConditionCheck"), "dynamodb:ConditionCheckItem"},
	} {
		got, err := iampolicy.ActionsOf(tc.service, tc.operation)
		if err != nil || !slices.Equal(got, []string{tc.want}) {
			t.Errorf("ActionsOf(%q, %q) = %v, %v; want %s", tc.service, tc.operation, got, err, tc.want)
		}
	}
	if _, err := iampolicy.ActionsOf("S3", "GetObject"); err == nil {
		t.Error("ActionsOf of a service the policy does not know succeeded")
	}
	if _, err := iampolicy.ActionsOf(dynamodb.ServiceID, iampolicy.TransactItem("TransactWriteItems", "Scan")); err == nil {
		t.Error("ActionsOf of an unknown transaction item succeeded")
	}
}
