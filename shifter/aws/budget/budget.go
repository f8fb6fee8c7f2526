// Package budget is the table of AWS's published API request budgets: the
// token buckets each service throttles an account's calls with, per region.
// The shifter's call scheduler paces itself by these figures, and the
// stand-ins for AWS in tests (the awslike layer in front of moto, the scale
// benchmark's fake) enforce them with Buckets, so all read this one table.
// It is a leaf: it imports nothing but the standard library.
//
// A bucket holds Capacity tokens (the burst) and gains Refill tokens a
// second up to Capacity; a call takes a token from every bucket it is
// charged to and is throttled when one of them has none. Figures that AWS
// does not publish are marked Assumed and chosen on the low side.
package budget

import (
	"cmp"
	"maps"
	"slices"
	"strings"
)

// Service is an AWS service as SigV4 names it in a request's credential
// scope (its signing name).
type Service string

// The services the shifter calls.
const (
	ELBv2       Service = "elasticloadbalancing"
	EC2         Service = "ec2"
	AutoScaling Service = "autoscaling"
	CloudWatch  Service = "monitoring"
	DynamoDB    Service = "dynamodb"
	STS         Service = "sts"
	SNS         Service = "sns"
	ECR         Service = "ecr"
	Route53     Service = "route53"
	ECS         Service = "ecs"
)

// ServiceOf returns the service an SDK service ID names ("Elastic Load
// Balancing v2", "Auto Scaling", "CloudWatch", ...), matched without case or
// spaces; "ELBv2" and signing names are accepted too. It returns the ID
// itself, lower-cased, when it knows no better.
func ServiceOf(id string) Service {
	key := strings.ToLower(strings.ReplaceAll(id, " ", ""))
	switch key {
	case "elbv2", "elasticloadbalancingv2", "elasticloadbalancing":
		return ELBv2
	case "cloudwatch", "monitoring":
		return CloudWatch
	}
	return Service(key)
}

// ThrottleCode is the error code the service answers a throttled call with:
// the Query protocol services say Throttling, EC2 RequestLimitExceeded, the
// JSON ones (DynamoDB) ThrottlingException. The ELB guide (below) writes
// "ThrottlingException" and the Auto Scaling API reference "RateExceeded",
// but their Query answers carry the code Throttling with the message "Rate
// exceeded", which is what the SDKs' retryers look for.
func (s Service) ThrottleCode() string {
	switch s {
	case ELBv2, AutoScaling, CloudWatch, SNS, STS, Route53:
		return "Throttling"
	case EC2:
		return "RequestLimitExceeded"
	default:
		return "ThrottlingException"
	}
}

// Limit is one token bucket as a service's documentation gives it.
type Limit struct {
	Service Service
	// Class is the guide's category ("non-mutating", "mutating", ...) or,
	// for a bucket of its own, the action's name.
	Class string
	// Capacity is the burst, in tokens; Refill the tokens added a second.
	Capacity, Refill float64
	// PerAction means every action of the class has a bucket of its own of
	// this size (EC2 and CloudWatch count each API separately); otherwise
	// the class's actions share one bucket.
	PerAction bool
	// Resources means tokens count the instances a call affects, not calls
	// (EC2's resource rate limits).
	Resources bool
	// Source is the document the figures come from.
	Source string
	// Assumed marks a rate AWS does not publish: ours, on the low side. (A
	// burst AWS does not give, CloudWatch's, is one second of refill and
	// not marked.)
	Assumed bool
}

// Scale returns l with its capacity and refill multiplied by f, the share of
// the account's budget one client may use. The capacity stays at least one
// token, or no call could ever pass.
func (l Limit) Scale(f float64) Limit {
	l.Capacity = max(l.Capacity*f, 1)
	l.Refill *= f
	return l
}

// Call is one API call, as much of it as decides its budget.
type Call struct {
	Service   Service
	Operation string
	// Unfiltered is an EC2 Describe with neither a filter nor pagination,
	// which some actions charge to a smaller bucket.
	Unfiltered bool
	// Resources is how many instances an EC2 RunInstances (its MaxCount),
	// StartInstances, StopInstances or TerminateInstances call affects.
	Resources int
}

// Charge is what a call takes from one bucket.
type Charge struct {
	Limit Limit
	// Bucket names the bucket within its service, account and region:
	// Limit.Class for a shared bucket, "Class/Operation" for a per-action one.
	Bucket string
	Tokens float64
}

// Charges returns the buckets a call takes tokens from, the bucket of its
// request class first. Services without a request budget (DynamoDB, STS,
// SNS, and any this table does not know) return none.
func Charges(c Call) []Charge {
	var out []Charge
	add := func(l Limit, tokens float64) {
		bucket := l.Class
		if l.PerAction {
			bucket += "/" + c.Operation
		}
		out = append(out, Charge{Limit: l, Bucket: bucket, Tokens: tokens})
	}
	switch c.Service {
	case ELBv2:
		add(elbClass(c.Operation), 1)
		add(elbAccount, 1)
	case EC2:
		add(ec2Class(c.Operation, c.Unfiltered), 1)
		if l, ok := ec2Resource[c.Operation]; ok {
			add(l, float64(max(c.Resources, 1)))
		}
	case AutoScaling:
		add(autoScalingShared, 1)
	case CloudWatch:
		if l, ok := cloudWatchAction[c.Operation]; ok {
			add(l, 1)
		} else {
			add(cloudWatchOther, 1)
		}
	case Route53:
		add(route53Account, 1)
	case ECS:
		add(ecsClass(c.Operation), 1)
	case ECR:
		if c.Operation == ecrBatchGetImage.Class {
			add(ecrBatchGetImage, 1)
		} else {
			add(ecrOther, 1)
		}
	}
	return out
}

// Limits returns the whole table, every bucket this package knows, sorted
// by service and class.
func Limits() []Limit {
	out := []Limit{elbAccount, autoScalingShared, cloudWatchOther, ecrBatchGetImage, ecrOther, route53Account}
	out = append(out, elbClasses...)
	out = append(out, ec2Classes...)
	out = append(out, ecsClasses...)
	for _, m := range []map[string]Limit{ec2Action, ec2Resource, cloudWatchAction} {
		out = slices.AppendSeq(out, maps.Values(m))
	}
	slices.SortFunc(out, func(a, b Limit) int {
		return cmp.Or(cmp.Compare(a.Service, b.Service), cmp.Compare(a.Class, b.Class))
	})
	return out
}

// Elastic Load Balancing, API version 2 (ALB, NLB, GWLB).
// "Request throttling for the Elastic Load Balancing API":
// https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-api-throttling.html
// Every call takes a token from its category's bucket and from an
// account-level bucket shared by all actions.
const elbSource = "https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-api-throttling.html"

var (
	elbAccount = Limit{Service: ELBv2, Class: "account", Capacity: 40, Refill: 10, Source: elbSource}

	elbResourceIntensive = Limit{Service: ELBv2, Class: "resource-intensive", Capacity: 10, Refill: 0.2, Source: elbSource}
	elbRegistration      = Limit{Service: ELBv2, Class: "registration", Capacity: 20, Refill: 4, Source: elbSource}
	elbNonMutating       = Limit{Service: ELBv2, Class: "non-mutating", Capacity: 40, Refill: 10, Source: elbSource}
	// "This category generally includes all API actions that are not
	// categorized as non-mutating actions."
	elbMutating = Limit{Service: ELBv2, Class: "mutating", Capacity: 20, Refill: 3, Source: elbSource}

	elbClasses = []Limit{elbResourceIntensive, elbRegistration, elbNonMutating, elbMutating}
)

func elbClass(op string) Limit {
	switch {
	case op == "CreateLoadBalancer" || op == "SetSubnets":
		return elbResourceIntensive
	case op == "RegisterTargets" || op == "DeregisterTargets":
		return elbRegistration
	case strings.HasPrefix(op, "Describe"):
		return elbNonMutating
	}
	return elbMutating
}

// Amazon EC2. "Request throttling for the Amazon EC2 API":
// https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html
// "each API is evaluated individually": every action has buckets of its own,
// sized by its category. The guide's figures, checked 2026-12-03, give
// mutating actions 50/5 (older versions of the page said 200/5).
const ec2Source = "https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html"

var (
	ec2NonMutating = Limit{Service: EC2, Class: "non-mutating", Capacity: 100, Refill: 20, PerAction: true, Source: ec2Source}
	ec2Unfiltered  = Limit{Service: EC2, Class: "unfiltered-unpaginated", Capacity: 50, Refill: 10, PerAction: true, Source: ec2Source}
	ec2Mutating    = Limit{Service: EC2, Class: "mutating", Capacity: 50, Refill: 5, PerAction: true, Source: ec2Source}
	ec2Intensive   = Limit{Service: EC2, Class: "resource-intensive", Capacity: 50, Refill: 5, PerAction: true, Source: ec2Source}

	ec2Classes = []Limit{ec2NonMutating, ec2Unfiltered, ec2Mutating, ec2Intensive}

	// The actions the guide charges to the smaller bucket when they carry
	// neither a filter nor pagination.
	ec2UnfilteredActions = []string{"DescribeInstances", "DescribeInstanceStatus", "DescribeNetworkInterfaces",
		"DescribeSecurityGroups", "DescribeSnapshots", "DescribeSpotInstanceRequests", "DescribeVolumes"}
	ec2IntensiveActions = []string{"AcceptVpcPeeringConnection", "AuthorizeSecurityGroupIngress", "CancelSpotInstanceRequests",
		"CreateKeyPair", "CreateVpcPeeringConnection", "DeleteVpcPeeringConnection", "RejectVpcPeeringConnection",
		"RevokeSecurityGroupIngress", "RequestSpotInstances"}

	// The guide's "uncategorized actions" that the shifter, its tests or
	// the demo call; the rest of that table is not copied, and an action
	// missing here falls back to its category.
	ec2Action = ec2Limits(false,
		ec2Figure{"CreateLaunchTemplateVersion", 100, 5},
		ec2Figure{"ModifyLaunchTemplate", 100, 5},
		ec2Figure{"CreateTags", 100, 10},
		ec2Figure{"DeleteTags", 100, 10},
		ec2Figure{"CreateNetworkInterface", 100, 5},
		ec2Figure{"DeleteNetworkInterface", 100, 5},
		ec2Figure{"RunInstances", 5, 2},
		ec2Figure{"StartInstances", 5, 2},
		ec2Figure{"TerminateInstances", 100, 5},
	)

	// Resource token buckets: tokens are instances.
	ec2Resource = ec2Limits(true,
		ec2Figure{"RunInstances", 1000, 2},
		ec2Figure{"TerminateInstances", 1000, 20},
		ec2Figure{"StartInstances", 1000, 2},
		ec2Figure{"StopInstances", 1000, 20},
	)
)

type ec2Figure struct {
	action           string
	capacity, refill float64
}

func ec2Limits(resources bool, figures ...ec2Figure) map[string]Limit {
	m := make(map[string]Limit, len(figures))
	for _, f := range figures {
		class := f.action
		if resources {
			class += " instances"
		}
		m[f.action] = Limit{Service: EC2, Class: class, Capacity: f.capacity, Refill: f.refill, Resources: resources, Source: ec2Source}
	}
	return m
}

func ec2Class(op string, unfiltered bool) Limit {
	if l, ok := ec2Action[op]; ok {
		return l
	}
	switch {
	case unfiltered && slices.Contains(ec2UnfilteredActions, op):
		return ec2Unfiltered
	case slices.Contains(ec2IntensiveActions, op):
		return ec2Intensive
	}
	for _, p := range []string{"Describe", "List", "Search", "Get"} {
		if strings.HasPrefix(op, p) {
			return ec2NonMutating
		}
	}
	return ec2Mutating
}

// Amazon EC2 Auto Scaling throttles every action from one shared bucket
// ("API request rate", https://docs.aws.amazon.com/autoscaling/ec2/APIReference/Welcome.html,
// and https://repost.aws/knowledge-center/autoscaling-api-calls-throttled)
// but publishes no size: 20 tokens refilled at 2 a second is our own,
// low, figure.
var autoScalingShared = Limit{Service: AutoScaling, Class: "shared", Capacity: 20, Refill: 2,
	Source: "https://docs.aws.amazon.com/autoscaling/ec2/APIReference/Welcome.html", Assumed: true}

// Amazon CloudWatch gives each action a rate in transactions per second
// ("CloudWatch service quotas",
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html,
// "Rate of <Action> requests"). It publishes no burst: a bucket holds one
// second's worth of tokens (assumed). Actions the table leaves out get 3 a
// second, the lowest rate it gives (assumed).
const cloudWatchSource = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html"

var (
	cloudWatchAction = cloudWatchLimits(map[string]float64{
		"DescribeAlarms":          9,
		"DescribeAlarmsForMetric": 9,
		"DescribeAlarmHistory":    20,
		"GetMetricData":           500,
		"GetMetricStatistics":     400,
		"ListMetrics":             25,
		"PutMetricAlarm":          3,
		"PutCompositeAlarm":       3,
		"PutMetricData":           500,
		"SetAlarmState":           3,
		"DeleteAlarms":            3,
		"EnableAlarmActions":      3,
		"DisableAlarmActions":     3,
		"TagResource":             20,
		"UntagResource":           20,
		"ListTagsForResource":     10,
	})
	cloudWatchOther = Limit{Service: CloudWatch, Class: "other", Capacity: 3, Refill: 3, PerAction: true,
		Source: cloudWatchSource, Assumed: true}
)

func cloudWatchLimits(tps map[string]float64) map[string]Limit {
	m := make(map[string]Limit, len(tps))
	for action, rate := range tps {
		m[action] = Limit{Service: CloudWatch, Class: action, Capacity: rate, Refill: rate, Source: cloudWatchSource}
	}
	return m
}

// Amazon ECR gives its image actions a rate a second, per account and Region
// ("Amazon ECR service quotas", "Rate of BatchGetImage requests": 2,000), and
// no burst: a bucket holds one second's worth (as CloudWatch's). The shifter
// calls BatchGetImage only, to pin an image to its digest; the actions the
// page does not list get 10 a second, its lowest rate (assumed).
const ecrSource = "https://docs.aws.amazon.com/AmazonECR/latest/userguide/service-quotas.html"

var (
	ecrBatchGetImage = Limit{Service: ECR, Class: "BatchGetImage", Capacity: 2000, Refill: 2000, Source: ecrSource}
	ecrOther         = Limit{Service: ECR, Class: "other", Capacity: 10, Refill: 10, PerAction: true, Source: ecrSource, Assumed: true}
)

// Route 53. "Quotas on Route 53 API requests": "All requests – Five requests
// per second per AWS account" (a few actions have lower rates of their own;
// the shifter calls none of them). No burst is given: a bucket holds one
// second's worth. The budget is the account's, for every region alike,
// while the shifter's schedulers are per account and region: an account
// whose endpoints use Route 53 from several regions shares 5 a second
// between schedulers that each believe they have it.
const route53Source = "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DNSLimitations.html#limits-api-requests"

var route53Account = Limit{Service: Route53, Class: "account", Capacity: 5, Refill: 5, Source: route53Source}

// Amazon ECS. "Request throttling for the Amazon ECS API":
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/request-throttling.html
// The guide's example gives cluster reads (DescribeClusters) a bucket of 50;
// its per-action table is not reproduced here: the shifter's calls are
// charged to three buckets on the low side, marked Assumed.
const ecsSource = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/request-throttling.html"

var (
	ecsRead           = Limit{Service: ECS, Class: "read", Capacity: 50, Refill: 20, Source: ecsSource, Assumed: true}
	ecsServiceWrite   = Limit{Service: ECS, Class: "service-modification", Capacity: 20, Refill: 5, Source: ecsSource, Assumed: true}
	ecsTaskDefinition = Limit{Service: ECS, Class: "task-definition-modification", Capacity: 20, Refill: 1, Source: ecsSource, Assumed: true}

	ecsClasses = []Limit{ecsRead, ecsServiceWrite, ecsTaskDefinition}
)

func ecsClass(op string) Limit {
	switch {
	case strings.HasPrefix(op, "Describe") || strings.HasPrefix(op, "List"):
		return ecsRead
	case strings.HasSuffix(op, "TaskDefinition"):
		return ecsTaskDefinition
	}
	return ecsServiceWrite
}
