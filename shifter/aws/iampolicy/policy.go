// Package iampolicy is the IAM policy the shifter needs: what its AWS calls
// require and nothing more. The provider's ionroller_shifter_iam_policy data
// source renders it, and tools/iamcheck proves it in `make test` against
// every AWS operation the suite saw the shifter call.
//
// To give the shifter a new AWS call, add its action to the statement of its
// purpose in Policy (for a new service, its SDK service ID to prefixOf too);
// until then iamcheck fails, naming the action.
//
// The package imports nothing of the AWS SDK, so that the provider builds the
// policy without linking it. Which condition keys each action supports is the
// Service Authorization Reference's ("Actions, resources, and condition keys
// for …"); policy_test.go holds the part of it this policy relies on.
package iampolicy

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/tags"
)

// Options are what the policy is scoped to.
type Options struct {
	// Partition, Region and Account scope the ARNs of what the shifter
	// creates and changes; empty means "aws", any region and any account.
	Partition, Region, Account string
	// ShifterID confines creating and changing to resources whose
	// ionroller:shifter tag is this ID; empty allows any value, but the tag
	// must be there.
	ShifterID string
	// TableARN is the DynamoDB store's table; empty grants no DynamoDB
	// access (the bbolt store needs none).
	TableARN string
	// CreateTable grants creating that table (the store's create = true).
	CreateTable bool
	// InstanceRoleARNs are the roles of the instance profiles the
	// endpoints' templates name, which the shifter passes to EC2.
	InstanceRoleARNs []string
	// TaskRoleARNs are the task and task execution roles the endpoints'
	// ecs templates name, which the shifter passes to ECS.
	TaskRoleARNs []string
	// EndpointRoleARNs are the roles endpoints in other accounts name
	// (placement role_arn), which the shifter assumes.
	EndpointRoleARNs []string
	// TopicARNs are the SNS topics the shifter notifies.
	TopicARNs []string
	// HostedZoneIDs are the Route 53 hosted zones of the endpoints routed
	// by weighted records (traffic.route53).
	HostedZoneIDs []string
}

// Document is an IAM policy document.
type Document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a Document; the shifter's only allow.
type Statement struct {
	Sid         string     `json:"Sid"`
	Effect      string     `json:"Effect"`
	Action      []string   `json:"Action"`
	Resource    []string   `json:"Resource,omitempty"`
	NotResource []string   `json:"NotResource,omitempty"`
	Condition   Conditions `json:"Condition,omitempty"`
}

// Conditions maps a condition operator to the keys it tests and the values
// each may have.
type Conditions map[string]map[string][]string

// with returns c and the test op(key, values...).
func (c Conditions) with(op, key string, values ...string) Conditions {
	out := Conditions{}
	for o, keys := range c {
		out[o] = map[string][]string{}
		for k, v := range keys {
			out[o][k] = v
		}
	}
	if out[op] == nil {
		out[op] = map[string][]string{}
	}
	out[op][key] = values
	return out
}

// The condition keys on the shifter's tag: in a request that creates (and
// tags) a resource, and on a resource that exists.
const (
	requestTag  = "aws:RequestTag/" + tags.Shifter
	resourceTag = "aws:ResourceTag/" + tags.Shifter
)

// Policy returns the policy the shifter needs with o. Statements are grouped
// by purpose; those on what the user names (roles, topics, the table) are
// left out when o names none.
func Policy(o Options) Document {
	launchTemplates := o.arn("ec2", "launch-template/*")
	groups := o.arn("autoscaling", "autoScalingGroup:*:autoScalingGroupName/*")
	targetGroups := o.arn("elasticloadbalancing", "targetgroup/*")
	rules := o.arn("elasticloadbalancing", "listener-rule/app/*")
	listeners := o.arn("elasticloadbalancing", "listener/app/*")
	networkListeners := o.arn("elasticloadbalancing", "listener/net/*")
	networkBalancers := o.arn("elasticloadbalancing", "loadbalancer/net/*")
	services := o.arn("ecs", "service/*/*")
	taskDefinitions := o.arn("ecs", "task-definition/*:*")

	statements := []Statement{
		{
			// Observation and the checks before an endpoint is stored.
			// EC2, Auto Scaling and ELB allow no resource-level
			// permissions (hence no tag conditions) on Describe*, nor
			// CloudWatch on GetMetricData; the alarms DescribeAlarms
			// reads are the user's, not tagged by the shifter, and so
			// are the ECR repositories whose manifests BatchGetImage
			// reads to pin an image to its digest (a repository in
			// another account must also allow it in its own policy).
			Sid: "Observe",
			Action: []string{
				"autoscaling:DescribeAutoScalingGroups",
				"cloudwatch:DescribeAlarms",
				"cloudwatch:GetMetricData",
				"ec2:DescribeImages",
				"ec2:DescribeLaunchTemplates",
				"ec2:DescribeSecurityGroups",
				"ec2:DescribeSubnets",
				"ecr:BatchGetImage",
				"ecs:DescribeClusters",
				"ecs:DescribeServices",
				"ecs:DescribeTaskDefinition",
				"ecs:ListServices",
				"ecs:ListTaskDefinitions",
				"elasticloadbalancing:DescribeListeners",
				"elasticloadbalancing:DescribeLoadBalancers",
				"elasticloadbalancing:DescribeRules",
				"elasticloadbalancing:DescribeSSLPolicies",
				"elasticloadbalancing:DescribeTags",
				"elasticloadbalancing:DescribeTargetGroups",
				"elasticloadbalancing:DescribeTargetHealth",
			},
			Resource: []string{"*"},
		},
		{
			// An environment's launch template and target group, and a
			// route's listener rules: only with the shifter's tag in
			// the request. CreateRule is also authorized on the
			// user's listener, which carries no such tag; the request
			// tag is what confines it.
			Sid: "CreateTagged",
			Action: []string{
				"ec2:CreateLaunchTemplate",
				"ecs:CreateService",
				"ecs:RegisterTaskDefinition",
				"elasticloadbalancing:CreateRule",
				"elasticloadbalancing:CreateTargetGroup",
			},
			Resource:  []string{launchTemplates, listeners, rules, services, targetGroups, taskDefinitions},
			Condition: o.tagged(requestTag),
		},
		{
			// An environment's Auto Scaling group, from a launch
			// template of a given version: only then does AWS check
			// that the caller may launch what the template says
			// (ec2:RunInstances and iam:PassRole below).
			Sid:       "CreateTaggedAutoScalingGroups",
			Action:    []string{"autoscaling:CreateAutoScalingGroup"},
			Resource:  []string{groups},
			Condition: o.tagged(requestTag).with("Bool", "autoscaling:LaunchTemplateVersionSpecified", "true"),
		},
		{
			// Tags given to CreateLaunchTemplate are authorized as
			// ec2:CreateTags; this allows no tagging of anything else.
			Sid:       "TagLaunchTemplatesOnCreate",
			Action:    []string{"ec2:CreateTags"},
			Resource:  []string{launchTemplates},
			Condition: o.tagged(requestTag).with("StringEquals", "ec2:CreateAction", "CreateLaunchTemplate"),
		},
		{
			// Likewise for ELB: tags on create are authorized as
			// elasticloadbalancing:AddTags.
			Sid:       "TagLoadBalancingOnCreate",
			Action:    []string{"elasticloadbalancing:AddTags"},
			Resource:  []string{rules, targetGroups},
			Condition: o.tagged(requestTag).with("StringEquals", "elasticloadbalancing:CreateAction", "CreateRule", "CreateTargetGroup"),
		},
		{
			// Likewise for ECS: tags on create are authorized as
			// ecs:TagResource.
			Sid:       "TagECSOnCreate",
			Action:    []string{"ecs:TagResource"},
			Resource:  []string{services, taskDefinitions},
			Condition: o.tagged(requestTag).with("StringEquals", "ecs:CreateAction", "CreateService", "RegisterTaskDefinition"),
		},
		{
			// ECS allows no resource-level permission on deregistering
			// a task definition revision: the shifter deregisters only
			// the revisions tagged as its environments'.
			Sid:      "DeregisterTaskDefinitions",
			Action:   []string{"ecs:DeregisterTaskDefinition"},
			Resource: []string{"*"},
		},
		{
			// Scaling, weights and teardown: only of what carries the
			// shifter's tag, as the shifter itself refuses a rule
			// another owner's tags are on.
			Sid: "ChangeTagged",
			Action: []string{
				"autoscaling:DeleteAutoScalingGroup",
				"autoscaling:UpdateAutoScalingGroup",
				"ec2:DeleteLaunchTemplate",
				"ecs:DeleteService",
				"ecs:UpdateService",
				"elasticloadbalancing:DeleteRule",
				"elasticloadbalancing:DeleteTargetGroup",
				"elasticloadbalancing:ModifyRule",
				"elasticloadbalancing:ModifyTargetGroupAttributes",
			},
			Resource:  []string{groups, launchTemplates, rules, services, targetGroups},
			Condition: o.tagged(resourceTag),
		},
		{
			// An NLB route is a listener the shifter creates on the
			// user's Network Load Balancer: only with the shifter's tag
			// in the request. CreateListener is authorized on the load
			// balancer, which carries no such tag; the request tag is
			// what confines it, and only network load balancers'.
			Sid:       "CreateTaggedNetworkListeners",
			Action:    []string{"elasticloadbalancing:CreateListener"},
			Resource:  []string{networkBalancers, networkListeners},
			Condition: o.tagged(requestTag),
		},
		{
			// Tags given to CreateListener are authorized as
			// elasticloadbalancing:AddTags, on the new listener.
			Sid:       "TagNetworkListenersOnCreate",
			Action:    []string{"elasticloadbalancing:AddTags"},
			Resource:  []string{networkListeners},
			Condition: o.tagged(requestTag).with("StringEquals", "elasticloadbalancing:CreateAction", "CreateListener"),
		},
		{
			// Its weights (and a TLS listener's certificate and
			// security policy, written with them) and its deletion:
			// only of a listener that carries the shifter's tag, which
			// only the shifter's own listeners do; never a listener of
			// the user's.
			Sid:       "RouteNetworkListeners",
			Action:    []string{"elasticloadbalancing:DeleteListener", "elasticloadbalancing:ModifyListener"},
			Resource:  []string{networkListeners},
			Condition: o.tagged(resourceTag),
		},
		{
			// The certificate a TLS listener of traffic.nlb names,
			// checked before the endpoint is stored. Certificates are
			// the user's, carrying no tag of the shifter's.
			Sid:      "ReadCertificates",
			Action:   []string{"acm:DescribeCertificate", "iam:GetServerCertificate"},
			Resource: []string{o.arn("acm", "certificate/*"), o.globalARN("iam", "server-certificate/*")},
		},
		{
			// AWS checks ec2:RunInstances of whoever creates an Auto
			// Scaling group from a launch template. The template must
			// be the shifter's...
			Sid:       "LaunchFromTaggedTemplates",
			Action:    []string{"ec2:RunInstances"},
			Resource:  []string{launchTemplates},
			Condition: o.tagged(resourceTag),
		},
		{
			// ...and everything else the launch touches (instances,
			// volumes and network interfaces that do not exist yet,
			// the user's subnets, security groups and image) is
			// allowed only for a launch from a launch template.
			Sid:         "LaunchFromTemplatesOnly",
			Action:      []string{"ec2:RunInstances"},
			NotResource: []string{o.partition() + ":ec2:*:*:launch-template/*"},
			Condition:   Conditions{}.with("ArnLike", "ec2:LaunchTemplate", launchTemplates),
		},
	}
	if len(o.InstanceRoleARNs) > 0 {
		statements = append(statements, Statement{
			// The instance profiles of the templates, passed to EC2
			// when the group launches.
			Sid:       "PassInstanceRoles",
			Action:    []string{"iam:PassRole"},
			Resource:  sorted(o.InstanceRoleARNs),
			Condition: Conditions{}.with("StringEquals", "iam:PassedToService", "ec2.amazonaws.com"),
		})
	}
	if len(o.TaskRoleARNs) > 0 {
		statements = append(statements, Statement{
			// The task and execution roles of the ecs templates, passed
			// to ECS when a task definition is registered.
			Sid:       "PassTaskRoles",
			Action:    []string{"iam:PassRole"},
			Resource:  sorted(o.TaskRoleARNs),
			Condition: Conditions{}.with("StringEquals", "iam:PassedToService", "ecs-tasks.amazonaws.com"),
		})
	}
	if len(o.EndpointRoleARNs) > 0 {
		statements = append(statements, Statement{
			Sid:      "AssumeEndpointRoles",
			Action:   []string{"sts:AssumeRole"},
			Resource: sorted(o.EndpointRoleARNs),
		})
	}
	if len(o.HostedZoneIDs) > 0 {
		zones := make([]string, len(o.HostedZoneIDs))
		for i, id := range o.HostedZoneIDs {
			zones[i] = o.partition() + ":route53:::hostedzone/" + id
		}
		statements = append(statements, Statement{
			// The weighted records of traffic.route53, in the zones
			// named: A records only, upserted or deleted. Records carry
			// no tags; their set identifiers say whose they are, and the
			// API keeps each team to its own record names.
			Sid:       "RouteRecords",
			Action:    []string{"route53:ChangeResourceRecordSets"},
			Resource:  sorted(zones),
			Condition: Conditions{}.with("ForAllValues:StringEquals", "route53:ChangeResourceRecordSetsRecordTypes", "A").with("ForAllValues:StringEquals", "route53:ChangeResourceRecordSetsActions", "DELETE", "UPSERT"),
		}, Statement{
			// The versions' Route 53 health checks
			// (traffic.route53.health_check). Route 53 allows no
			// condition on them, and creating or listing them no
			// resource either: the shifter deletes and tags only the
			// checks whose caller reference is its own.
			Sid:      "RouteHealthChecks",
			Action:   []string{"route53:ChangeTagsForResource", "route53:CreateHealthCheck", "route53:DeleteHealthCheck", "route53:ListHealthChecks"},
			Resource: []string{"*"},
		}, Statement{
			// The zone itself, checked before an endpoint is stored.
			Sid:      "ReadRecords",
			Action:   []string{"route53:GetHostedZone", "route53:ListResourceRecordSets"},
			Resource: sorted(zones),
		})
	}
	if len(o.TopicARNs) > 0 {
		statements = append(statements, Statement{
			Sid:      "Notify",
			Action:   []string{"sns:Publish"},
			Resource: sorted(o.TopicARNs),
		})
	}
	if o.TableARN != "" {
		// The table is named by its ARN, which confines the store
		// better than a tag would. TransactWriteItems has no action
		// of its own: each item needs the action it performs.
		statements = append(statements, Statement{
			Sid: "Store",
			Action: []string{
				"dynamodb:ConditionCheckItem",
				"dynamodb:DeleteItem",
				"dynamodb:GetItem",
				"dynamodb:PutItem",
				"dynamodb:Query",
			},
			Resource: []string{o.TableARN},
		})
		if o.CreateTable {
			statements = append(statements, Statement{
				Sid:      "CreateStore",
				Action:   []string{"dynamodb:CreateTable", "dynamodb:DescribeTable", "dynamodb:UpdateTimeToLive"},
				Resource: []string{o.TableARN},
			})
		}
	}
	for i := range statements {
		statements[i].Effect = "Allow"
	}
	return Document{Version: "2012-10-17", Statement: statements}
}

// JSON is the document as aws_iam_policy takes it, indented.
func (d Document) JSON() string {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		panic(err) // strings, slices and maps of them always encode
	}
	return string(b)
}

// Actions returns every action d allows, sorted, each once.
func (d Document) Actions() []string {
	var out []string
	for _, s := range d.Statement {
		out = append(out, s.Action...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// tagged is the test that the shifter's tag is on key (requestTag or
// resourceTag): with the shifter's ID when o names one.
func (o Options) tagged(key string) Conditions {
	if o.ShifterID == "" {
		return Conditions{}.with("Null", key, "false")
	}
	return Conditions{}.with("StringEquals", key, o.ShifterID)
}

func (o Options) partition() string {
	return "arn:" + or(o.Partition, "aws")
}

// arn is an ARN of service in o's partition, region and account.
// globalARN is the ARN of a resource of a global service (IAM), which has
// no region.
func (o Options) globalARN(service, resource string) string {
	return strings.Join([]string{o.partition(), service, "", or(o.Account, "*"), resource}, ":")
}

func (o Options) arn(service, resource string) string {
	return strings.Join([]string{o.partition(), service, or(o.Region, "*"), or(o.Account, "*"), resource}, ":")
}

func or(s, otherwise string) string {
	if s == "" {
		return otherwise
	}
	return s
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}
