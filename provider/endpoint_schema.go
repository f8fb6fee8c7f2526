package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/defaults"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/float64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/objectdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/userdata"
)

// This file is the endpoint's spec as Terraform sees it: the nested schema
// and the models that hold its values (endpoint_expand.go and
// endpoint_flatten.go convert them to and from rollout.Endpoint). Attribute
// names are the JSON names of rollout.Endpoint, so the shifter's error
// fields are attribute paths. Defaults come from rollout.NewEndpoint and
// limits from rollout/validate.go: what the shifter applies and enforces.

// noNUL matches values an environment variable can carry.
var noNUL = regexp.MustCompile(`^[^\x00]*$`)

// Models of the nested attributes. Every field is a framework value so a
// configuration with unknown values can be validated with the same models.
type (
	placementModel struct {
		Region     types.String `tfsdk:"region"`
		RoleARN    types.String `tfsdk:"role_arn"`
		ExternalID types.String `tfsdk:"external_id"`
	}

	notificationsModel struct {
		WebhookURL    types.String `tfsdk:"webhook_url"`
		WebhookFormat types.String `tfsdk:"webhook_format"`
		SNSTopicARN   types.String `tfsdk:"sns_topic_arn"`
	}

	nlbTrafficModel struct {
		LoadBalancerARN types.String `tfsdk:"load_balancer_arn"`
		Port            types.Int64  `tfsdk:"port"`
		Protocol        types.String `tfsdk:"protocol"`
		CertificateARN  types.String `tfsdk:"certificate_arn"`
		SSLPolicy       types.String `tfsdk:"ssl_policy"`
	}

	route53TrafficModel struct {
		HostedZoneID         types.String `tfsdk:"hosted_zone_id"`
		Name                 types.String `tfsdk:"name"`
		Listeners            types.List   `tfsdk:"listeners"`
		EvaluateTargetHealth types.Bool   `tfsdk:"evaluate_target_health"`
		HealthCheck          types.Object `tfsdk:"health_check"`
	}

	route53HealthCheckModel struct {
		Path             types.String  `tfsdk:"path"`
		Interval         durationValue `tfsdk:"interval"`
		FailureThreshold types.Int64   `tfsdk:"failure_threshold"`
	}

	trafficModel struct {
		NLB                types.Object `tfsdk:"nlb"`
		Route53            types.Object `tfsdk:"route53"`
		ListenerARN        types.String `tfsdk:"listener_arn"`
		Priority           types.Int64  `tfsdk:"priority"`
		Hosts              types.List   `tfsdk:"hosts"`
		Paths              types.List   `tfsdk:"paths"`
		PreviewHost        types.String `tfsdk:"preview_host"`
		PreviewListenerARN types.String `tfsdk:"preview_listener_arn"`
		PreviewPriority    types.Int64  `tfsdk:"preview_priority"`
	}

	templateModel struct {
		Backend             types.String  `tfsdk:"backend"`
		Repository          types.String  `tfsdk:"repository"`
		ContainerPort       types.Int64   `tfsdk:"container_port"`
		Command             types.List    `tfsdk:"command"`
		Args                types.List    `tfsdk:"args"`
		Env                 types.Map     `tfsdk:"env"`
		Secrets             types.Map     `tfsdk:"secrets"`
		InstanceType        types.String  `tfsdk:"instance_type"`
		AMI                 types.String  `tfsdk:"ami"`
		MinSize             types.Int64   `tfsdk:"min_size"`
		MaxSize             types.Int64   `tfsdk:"max_size"`
		DesiredCapacity     types.Int64   `tfsdk:"desired_capacity"`
		Subnets             types.List    `tfsdk:"subnets"`
		SecurityGroups      types.List    `tfsdk:"security_groups"`
		InstanceProfile     types.String  `tfsdk:"instance_profile"`
		HealthCheck         types.Object  `tfsdk:"health_check"`
		DeregistrationDelay durationValue `tfsdk:"deregistration_delay"`
		ECS                 types.Object  `tfsdk:"ecs"`
	}

	healthCheckModel struct {
		Protocol           types.String  `tfsdk:"protocol"`
		Path               types.String  `tfsdk:"path"`
		Interval           durationValue `tfsdk:"interval"`
		Timeout            durationValue `tfsdk:"timeout"`
		HealthyThreshold   types.Int64   `tfsdk:"healthy_threshold"`
		UnhealthyThreshold types.Int64   `tfsdk:"unhealthy_threshold"`
	}

	policyModel struct {
		Steps                 types.List    `tfsdk:"steps"`
		HealthyTimeout        durationValue `tfsdk:"healthy_timeout"`
		MinHealthyPercent     types.Int64   `tfsdk:"min_healthy_percent"`
		Alarms                types.List    `tfsdk:"alarms"`
		BlockOnAlarm          types.Bool    `tfsdk:"block_on_alarm"`
		ProceedWithoutAlarms  types.Bool    `tfsdk:"proceed_without_alarms"`
		MetricChecks          types.Object  `tfsdk:"metric_checks"`
		ObservedTraffic       types.Object  `tfsdk:"observed_traffic"`
		BakeTime              durationValue `tfsdk:"bake_time"`
		RetainPrevious        durationValue `tfsdk:"retain_previous"`
		RetainCapacityPercent types.Int64   `tfsdk:"retain_capacity_percent"`
		MaxHotVersions        types.Int64   `tfsdk:"max_hot_versions"`
		AutoRollback          types.Bool    `tfsdk:"auto_rollback"`
	}

	stepModel struct {
		Weight types.Int64   `tfsdk:"weight"`
		Pause  durationValue `tfsdk:"pause"`
	}

	metricChecksModel struct {
		Max5xxPercent    types.Float64 `tfsdk:"max_5xx_percent"`
		MaxLatency       durationValue `tfsdk:"max_latency"`
		MaxRatioToStable types.Float64 `tfsdk:"max_ratio_to_stable"`
		MinRequests      types.Int64   `tfsdk:"min_requests"`
		Interval         durationValue `tfsdk:"interval"`
	}

	observedTrafficModel struct {
		TolerancePercent types.Float64 `tfsdk:"tolerance_percent"`
		MaxWait          durationValue `tfsdk:"max_wait"`
		Interval         durationValue `tfsdk:"interval"`
		MinRequests      types.Int64   `tfsdk:"min_requests"`
		OnTimeout        types.String  `tfsdk:"on_timeout"`
	}
)

// endpointAttributes returns the schema of an endpoint: its spec, with the
// shifter's defaults, its ID and its live status.
func endpointAttributes(ctx context.Context, diags *diag.Diagnostics) map[string]schema.Attribute {
	attrs := endpointSpecAttributes(ctx, rollout.NewEndpoint(), diags)
	attrs["id"] = schema.StringAttribute{
		MarkdownDescription: "The endpoint's name.",
		Computed:            true,
		PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
	}
	attrs["status"] = statusAttribute()
	return attrs
}

// endpointSpecAttributes returns the schema of the endpoint's spec, with the
// shifter's defaults (def is rollout.NewEndpoint()).
func endpointSpecAttributes(ctx context.Context, def rollout.Endpoint, diags *diag.Diagnostics) map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"name": schema.StringAttribute{
			MarkdownDescription: "Name of the endpoint, unique in the shifter: 2 to 40 lowercase letters, digits and hyphens, " +
				"starting with a letter.",
			Required:      true,
			Validators:    []validator.String{stringvalidator.RegexMatches(rollout.NamePattern, "must be "+rollout.NameRule)},
			PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
		},
		"team": schema.StringAttribute{
			MarkdownDescription: "Team that owns the endpoint. A token bound to a team may only manage that team's endpoints; " +
				"when omitted the shifter sets the token's team.",
			Optional:      true,
			Computed:      true,
			Validators:    []validator.String{stringvalidator.RegexMatches(rollout.TeamPattern, "must be "+rollout.TeamRule)},
			PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
		},
		"placement":     placementAttribute(ctx, diags),
		"traffic":       trafficAttribute(),
		"template":      templateAttribute(ctx, def.Template, diags),
		"policy":        policyAttribute(ctx, def.Policy, diags),
		"notifications": notificationsAttribute(ctx, diags),
		"deletion_protection": schema.BoolAttribute{
			MarkdownDescription: "While `true` (the default) the shifter refuses to delete the endpoint. Set it to `false` and apply " +
				"before destroying the endpoint.",
			Optional: true,
			Computed: true,
			Default:  booldefault.StaticBool(def.DeletionProtection),
		},
		"observe_only": schema.BoolAttribute{
			MarkdownDescription: "Observe-only mode, to adopt ionroller next to an existing deploy and compare: the shifter decides and records " +
				"in the trail what it would do for each release, against environments and routes it only imagines, and writes nothing to AWS. " +
				"The policy's alarms are read as for any endpoint (the requests its metric checks and traffic holds count follow the weights, with no errors), and the traffic it names is not checked " +
				"against the rules already there. Notifications say nothing was done in AWS. Changing it replaces the endpoint. Default `false`.",
			Optional:      true,
			Computed:      true,
			Default:       booldefault.StaticBool(false),
			PlanModifiers: []planmodifier.Bool{boolplanmodifier.RequiresReplace()},
		},
	}
}

func placementAttribute(ctx context.Context, diags *diag.Diagnostics) schema.SingleNestedAttribute {
	a := schema.SingleNestedAttribute{
		MarkdownDescription: "AWS account and region of the endpoint's environments and listener rule. " +
			"Omit it to use the shifter's own credentials and region.",
		Optional: true,
		Computed: true,
		Attributes: map[string]schema.Attribute{
			"region": schema.StringAttribute{
				MarkdownDescription: "AWS region, such as `eu-west-1`; the shifter's region when omitted.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.RegexMatches(rollout.RegionPattern, "must be an AWS region such as \"us-east-1\"")},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"role_arn": schema.StringAttribute{
				MarkdownDescription: "IAM role the shifter assumes to act in the endpoint's account (one shifter serves many accounts).",
				Optional:            true,
				Validators:          []validator.String{roleARNValidator()},
			},
			"external_id": schema.StringAttribute{
				MarkdownDescription: "External ID to present when assuming `role_arn`.",
				Optional:            true,
				Sensitive:           true,
				Validators: []validator.String{
					stringvalidator.LengthAtMost(rollout.MaxExternalIDLength),
					stringvalidator.AlsoRequires(path.MatchRelative().AtParent().AtName("role_arn")),
				},
			},
		},
	}
	a.Default = objectDefault(ctx, a, flattenPlacement(rollout.Placement{}), diags)
	return a
}

func notificationsAttribute(ctx context.Context, diags *diag.Diagnostics) schema.SingleNestedAttribute {
	a := schema.SingleNestedAttribute{
		MarkdownDescription: "Who hears of the endpoint's rollouts: started, waiting for a promote, complete, rolled back, aborted " +
			"and failed. Delivery is retried and never holds a rollout up.",
		Optional: true,
		Computed: true,
		Attributes: map[string]schema.Attribute{
			// Sensitive, not write-only: terraform-plugin-framework refuses a
			// WriteOnly child in a Computed nested attribute, and notifications
			// and placement are Computed (their defaults are shown in state).
			// Making them write-only means dropping those defaults, a state
			// upgrade and a version attribute per secret; the shifter already
			// answers only whether they are set (see withKnownSecrets).
			"webhook_url": schema.StringAttribute{
				MarkdownDescription: "URL the shifter POSTs a JSON message to, whose `text` a Slack incoming webhook shows as is. " +
					"Sensitive, as such URLs carry their own secret.",
				Optional:  true,
				Sensitive: true,
				Validators: []validator.String{
					stringvalidator.RegexMatches(rollout.WebhookURLPattern, "must be an http or https URL"),
					stringvalidator.LengthAtMost(rollout.MaxWebhookURL),
				},
			},
			"webhook_format": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("What the webhook is sent: `%s` (the default: a JSON message whose `text` Slack shows), "+
					"`%s` (an Adaptive Card, for a Microsoft Teams Workflows webhook), `%s` (a CloudEvent carrying a CDEvent "+
					"`service.deployed`, `service.upgraded` or `service.rolledback` each time a version goes live, and nothing else) or `%s` "+
					"(an annotation; the URL is Grafana's `/api/annotations` with a service account token as `https://api_key:TOKEN@...`).",
					rollout.WebhookSlack, rollout.WebhookTeams, rollout.WebhookCloudEvents, rollout.WebhookGrafana),
				Optional:   true,
				Validators: []validator.String{stringvalidator.OneOf(rollout.WebhookFormats...)},
			},
			"sns_topic_arn": schema.StringAttribute{
				MarkdownDescription: "SNS topic the shifter publishes the same JSON message to, in the endpoint's account.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.RegexMatches(rollout.SNSTopicARNPattern, "must be an SNS topic ARN")},
			},
		},
	}
	a.Default = objectDefault(ctx, a, flattenNotifications(rollout.Notifications{}), diags)
	return a
}

func trafficAttribute() schema.SingleNestedAttribute {
	replaceOncePreviewExists := "The shifter keeps the preview rule where it was created, so once the endpoint has a preview route, changing it replaces the endpoint."
	return schema.SingleNestedAttribute{
		MarkdownDescription: "Where the endpoint's traffic arrives, of exactly one kind: a rule on an Application Load Balancer listener " +
			"(`listener_arn`, `priority`, `hosts`, `paths`, and an optional preview route for testing a release in production without " +
			"production traffic), a Network Load Balancer listener (`nlb`), or Route 53 weighted records (`route53`). The shifter owns the rule, " +
			"the listener's default action or the records, and their weights.",
		Required: true,
		Attributes: map[string]schema.Attribute{
			"nlb":     nlbTrafficAttribute(),
			"route53": route53TrafficAttribute(),
			"listener_arn": schema.StringAttribute{
				MarkdownDescription: "ARN of the ALB listener (owned by your Terraform) that gets the endpoint's rule. Exactly one of `listener_arn` and `nlb` is set.",
				Optional:            true,
				// Exactly one kind: the plan runs the shifter's own rule
				// (rollout's validation), which names this attribute.
				Validators: []validator.String{
					listenerARNValidator(),
					stringvalidator.AlsoRequires(path.MatchRelative().AtParent().AtName("priority")),
				},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"priority": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Priority of the endpoint's rule on the listener, 1 to %d; required with `listener_arn`.", rollout.MaxPriority),
				Optional:            true,
				Validators: []validator.Int64{
					int64validator.Between(1, rollout.MaxPriority),
					int64validator.AlsoRequires(path.MatchRelative().AtParent().AtName("listener_arn")),
				},
				PlanModifiers: []planmodifier.Int64{int64planmodifier.RequiresReplace()},
			},
			"hosts": schema.ListAttribute{
				MarkdownDescription: fmt.Sprintf("Host header patterns the rule matches, such as `api.example.com` or `*.example.com`. "+
					"Hosts and paths together have at most %d values; with neither, the rule matches every path.", rollout.MaxConditionValues),
				ElementType: types.StringType,
				Optional:    true,
				Computed:    true,
				Default:     listdefault.StaticValue(emptyList()),
				Validators:  []validator.List{listvalidator.ValueStringsAre(stringvalidator.RegexMatches(rollout.HostPattern, "must be a host name pattern"))},
			},
			"paths": schema.ListAttribute{
				MarkdownDescription: "Path patterns the rule matches, such as `/api/*`.",
				ElementType:         types.StringType,
				Optional:            true,
				Computed:            true,
				Default:             listdefault.StaticValue(emptyList()),
				Validators:          []validator.List{listvalidator.ValueStringsAre(stringvalidator.RegexMatches(rollout.PathPattern, "must be a path pattern starting with \"/\""))},
			},
			"preview_host": schema.StringAttribute{
				MarkdownDescription: "Host of the preview route on the same listener: requests for it go to the `preview` track's release.",
				Optional:            true,
				Validators: []validator.String{
					stringvalidator.RegexMatches(rollout.HostPattern, "must be a host name pattern"),
					stringvalidator.AlsoRequires(path.MatchRelative().AtParent().AtName("preview_priority")),
				},
			},
			"preview_listener_arn": schema.StringAttribute{
				MarkdownDescription: "Listener of the preview route, when it is another listener (same hosts and paths).",
				Optional:            true,
				Validators: []validator.String{
					listenerARNValidator(),
					stringvalidator.AlsoRequires(path.MatchRelative().AtParent().AtName("preview_priority")),
				},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplaceIf(previewRouteExists,
					replaceOncePreviewExists, replaceOncePreviewExists)},
			},
			"preview_priority": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Priority of the preview rule, 1 to %d; it must differ from `priority` on the same listener.", rollout.MaxPriority),
				Optional:            true,
				Validators:          []validator.Int64{int64validator.Between(1, rollout.MaxPriority)},
				PlanModifiers: []planmodifier.Int64{int64planmodifier.RequiresReplaceIf(previewRouteExistsInt64,
					replaceOncePreviewExists, replaceOncePreviewExists)},
			},
		},
	}
}

func nlbTrafficAttribute() schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		MarkdownDescription: "A port of a Network Load Balancer the endpoint's connections arrive on. The shifter creates a " +
			"TCP or TLS listener on that port, owns it (tagged `ionroller:*`) and deletes it with the endpoint: " +
			"its default action is a weighted forward to the target groups of the versions (`template.health_check.protocol`: " +
			"`TCP` behind a TCP listener, `TCP` or `TLS` behind a TLS one), and while no version has traffic, before the first release is healthy, " +
			"a forward to an idle target group of the shifter's own, with no targets. Each step and each rollback is one write of the " +
			"listener. Your Terraform declares the load balancer (and a TLS listener's certificate) and no listener on the port: nothing needs `ignore_changes`. An NLB " +
			"endpoint has no preview route and no metric checks (NLBs have no HTTP metrics), and keeps at most " +
			fmt.Sprintf("%d hot versions.", rollout.MaxNLBHotVersions),
		Optional: true,
		Attributes: map[string]schema.Attribute{
			"load_balancer_arn": schema.StringAttribute{
				MarkdownDescription: "ARN of the Network Load Balancer (owned by your Terraform) the shifter creates the endpoint's listener on. " +
					"Changing it replaces the endpoint.",
				Required:      true,
				Validators:    []validator.String{stringvalidator.RegexMatches(rollout.NLBARNPattern, "must be a Network Load Balancer ARN (loadbalancer/net/...)")},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"port": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Port of the endpoint's listener on the load balancer, 1 to %d: free, or already this endpoint's. ", rollout.MaxPort) +
					"One endpoint per load balancer and port. Changing it replaces the endpoint.",
				Required:      true,
				Validators:    []validator.Int64{int64validator.Between(1, rollout.MaxPort)},
				PlanModifiers: []planmodifier.Int64{int64planmodifier.RequiresReplace()},
			},
			"protocol": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("Protocol of the endpoint's listener: `%s` (the default) or `%s`, where the load balancer terminates TLS ", rollout.NLBProtocolTCP, rollout.NLBProtocolTLS) +
					"with `certificate_arn` and forwards to `TCP` or `TLS` target groups. Changing it replaces the endpoint.",
				Optional:      true,
				Computed:      true,
				Default:       stringdefault.StaticString(rollout.NLBProtocolTCP),
				Validators:    []validator.String{stringvalidator.OneOf(rollout.NLBProtocols...)},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"certificate_arn": schema.StringAttribute{
				MarkdownDescription: "With `protocol = \"TLS\"`, required: the listener's default certificate, an ACM certificate ARN or an IAM server " +
					"certificate ARN (owned by your Terraform). It can change in place: the shifter puts the new certificate on the listener " +
					"in one write, with an event, and traffic stays where it is.",
				Optional: true,
				Validators: []validator.String{
					stringvalidator.RegexMatches(rollout.CertificateARNPattern, "must be an ACM certificate ARN (arn:aws:acm:REGION:ACCOUNT:certificate/ID) or an IAM server certificate ARN"),
				},
			},
			"ssl_policy": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("With `protocol = \"TLS\"`: the listener's security policy, a predefined `ELBSecurityPolicy-...`. Unset, the shifter uses `%s` ", rollout.DefaultSSLPolicy) +
					"(TLS 1.3 and 1.2; AWS's own default for a listener created by its API, `ELBSecurityPolicy-2016-08`, still accepts TLS 1.0). It can change in place.",
				Optional: true,
				Validators: []validator.String{
					stringvalidator.RegexMatches(rollout.SSLPolicyPattern, "must be an ELB security policy name (ELBSecurityPolicy-...)"),
				},
			},
		},
	}
}

func route53TrafficAttribute() schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		MarkdownDescription: "Route 53 weighted records the endpoint's traffic arrives by: one A record per version on the route, same name, " +
			"each an alias of the Application Load Balancer of one of `listeners`, the version's slot. The shifter owns the records (their set " +
			"identifiers name it) and the slots' default actions: a version's slot forwards to its target group while it is on the route, so the " +
			"load balancer health-checks it at weight 0 too. Every weight change, a rollback included, is one batch of record changes. " +
			fmt.Sprintf("**Traffic follows DNS slowly**: resolvers keep answers for the alias's TTL (%s) or longer, so `status.weights` (the records') ", rollout.Route53AliasTTL) +
			"lead the traffic by at least `status.dns_ttl`, and a rollback takes as long to reach every client. No preview route and no metric checks.",
		Optional: true,
		Attributes: map[string]schema.Attribute{
			"hosted_zone_id": schema.StringAttribute{
				MarkdownDescription: "ID of the hosted zone (owned by your Terraform) that holds the records.",
				Required:            true,
				Validators:          []validator.String{stringvalidator.RegexMatches(rollout.HostedZoneIDPattern, "must be a Route 53 hosted zone ID")},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "Name of the records, such as `api.example.com`. One endpoint per name.",
				Required:            true,
				Validators:          []validator.String{stringvalidator.RegexMatches(rollout.DNSNamePattern, "must be a DNS name such as \"api.example.com\"")},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"listeners": schema.ListAttribute{
				MarkdownDescription: fmt.Sprintf("ARNs of %d to %d ALB listeners of yours, each of a load balancer of its own: the slots a version takes "+
					"while on the route. There must be one for the stable version, the new one and each hot version (`policy.max_hot_versions`). "+
					"The shifter adds a rule of its own to the listener of the slot a version holds (the first, matching every request), "+
					"and deletes it when the slot is freed: the listener and its default action stay yours. Slots may be added, never removed (a version may be on one).", rollout.MinRoute53Listeners, rollout.MaxRoute53Listeners),
				ElementType: types.StringType,
				Required:    true,
				Validators: []validator.List{
					listvalidator.SizeBetween(rollout.MinRoute53Listeners, rollout.MaxRoute53Listeners),
					listvalidator.ValueStringsAre(listenerARNValidator()),
				},
			},
			"evaluate_target_health": schema.BoolAttribute{
				MarkdownDescription: "Route 53 leaves out the record of a version whose load balancer has no healthy target. Defaults to `false`.",
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(false),
			},
			"health_check": schema.SingleNestedAttribute{
				MarkdownDescription: "Gives each version's record a Route 53 health check of its slot's load balancer (HTTP or HTTPS as the slot " +
					"listener is, on its port): Route 53 answers only with the records whose checks pass, as its checkers around the world see " +
					"the version. The shifter makes the checks, tags them `ionroller:shifter` and deletes them when no record uses them.",
				Optional: true,
				Attributes: map[string]schema.Attribute{
					"path": schema.StringAttribute{
						MarkdownDescription: "Path requested of the slot's load balancer.",
						Required:            true,
						Validators:          []validator.String{stringvalidator.RegexMatches(rollout.PathPattern, "must be a path starting with \"/\"")},
					},
					"interval": durationAttribute("Time between two checks of one checker: `10s` (Route 53's fast checks) or `30s`",
						rollout.Duration(rollout.Route53CheckIntervals[1]), rollout.Route53CheckIntervals[0], rollout.Route53CheckIntervals[1]),
					"failure_threshold": schema.Int64Attribute{
						MarkdownDescription: fmt.Sprintf("Checks in a row that change a record's health, 1 to %d. Defaults to 3.", rollout.MaxRoute53FailureThreshold),
						Optional:            true,
						Computed:            true,
						Default:             int64default.StaticInt64(3),
						Validators:          []validator.Int64{int64validator.Between(1, rollout.MaxRoute53FailureThreshold)},
					},
				},
			},
		},
	}
}

func listenerARNValidator() validator.String {
	return stringvalidator.RegexMatches(rollout.ListenerARNPattern, "must be an Application Load Balancer listener ARN")
}

func templateAttribute(ctx context.Context, def rollout.Template, diags *diag.Diagnostics) schema.SingleNestedAttribute {
	envName := stringvalidator.RegexMatches(rollout.EnvNamePattern, "must be an environment variable name")
	return schema.SingleNestedAttribute{
		MarkdownDescription: "How every version of the endpoint runs. The shifter builds one immutable environment per version from it; " +
			"changing the template rolls out a new environment even for the same version.",
		Required: true,
		Attributes: map[string]schema.Attribute{
			"backend": schema.StringAttribute{
				MarkdownDescription: backendDescription(),
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(def.Backend),
				Validators:          []validator.String{stringvalidator.OneOf(rollout.Backends...)},
			},
			"repository": schema.StringAttribute{
				MarkdownDescription: "Docker image repository, such as `registry.example.com/team/app`; a release runs `repository:version` unless it names an image.",
				Required:            true,
				Validators:          []validator.String{stringvalidator.RegexMatches(rollout.RepositoryPattern, "must be a Docker image repository such as \"registry.example.com/team/app\"")},
			},
			"container_port": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Port the container listens on, 1 to %d.", rollout.MaxPort),
				Required:            true,
				Validators:          []validator.Int64{int64validator.Between(1, rollout.MaxPort)},
			},
			"command": schema.ListAttribute{
				MarkdownDescription: "Overrides the image's entrypoint.",
				ElementType:         types.StringType,
				Optional:            true,
				Computed:            true,
				Default:             listdefault.StaticValue(emptyList()),
			},
			"args": schema.ListAttribute{
				MarkdownDescription: "Overrides the image's command (its arguments).",
				ElementType:         types.StringType,
				Optional:            true,
				Computed:            true,
				Default:             listdefault.StaticValue(emptyList()),
			},
			"env": schema.MapAttribute{
				MarkdownDescription: fmt.Sprintf("Environment variables of the container. Put secrets in `secrets`, not here. With backend `%s` they travel in the "+
					"instances' boot script, which with each release's `image` and `env` must fit EC2's %d bytes of user data.", rollout.BackendEC2, userdata.MaxBytes),
				ElementType: types.StringType,
				Optional:    true,
				Computed:    true,
				Default:     mapdefault.StaticValue(emptyMap()),
				Validators: []validator.Map{
					mapvalidator.KeysAre(envName),
					mapvalidator.ValueStringsAre(stringvalidator.RegexMatches(noNUL, "must not contain a NUL character")),
				},
			},
			"secrets": schema.MapAttribute{
				MarkdownDescription: fmt.Sprintf("Environment variables whose values are read from SSM parameters or Secrets Manager secrets, by ARN: "+
					"on the instance with backend `%s`, by ECS (native ECS secrets, read with `ecs.execution_role_arn`) with `%s`. "+
					"The values never pass through Terraform or the shifter. A name may not also be in `env`.", rollout.BackendEC2, rollout.BackendECS),
				ElementType: types.StringType,
				Optional:    true,
				Computed:    true,
				Default:     mapdefault.StaticValue(emptyMap()),
				Validators: []validator.Map{
					mapvalidator.KeysAre(envName),
					mapvalidator.ValueStringsAre(stringvalidator.RegexMatches(rollout.SecretARNPattern, "must be the ARN of an SSM parameter or a Secrets Manager secret")),
				},
			},
			"instance_type": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("EC2 instance type of the environments. Defaults to `%s` with backend `%s`; not set with `%s`.", def.InstanceType, rollout.BackendEC2, rollout.BackendECS),
				Optional:            true,
				Computed:            true,
				Validators:          []validator.String{stringvalidator.RegexMatches(rollout.InstanceTypePattern, "must be an EC2 instance type such as \"t3.micro\"")},
				PlanModifiers:       []planmodifier.String{ec2DefaultString(def.InstanceType)},
			},
			"ami": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("AMI the instances boot, with Docker installed, such as `ami-0123456789abcdef0`. Required with backend `%s`; not set with `%s`.", rollout.BackendEC2, rollout.BackendECS),
				Optional:            true,
				Validators:          []validator.String{stringvalidator.RegexMatches(rollout.AMIPattern, "must be an AMI ID such as \"ami-0123456789abcdef0\"")},
			},
			"min_size": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Minimum size of each environment's Auto Scaling group. Defaults to %d with backend `%s`; not set with `%s`.", def.MinSize, rollout.BackendEC2, rollout.BackendECS),
				Optional:            true,
				Computed:            true,
				Validators:          []validator.Int64{int64validator.AtLeast(0)},
				PlanModifiers:       []planmodifier.Int64{ec2DefaultInt64(def.MinSize)},
			},
			"max_size": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Maximum size of each environment's Auto Scaling group, 1 to %d. Defaults to %d with backend `%s`; not set with `%s`.", rollout.MaxGroupSize, def.MaxSize, rollout.BackendEC2, rollout.BackendECS),
				Optional:            true,
				Computed:            true,
				Validators:          []validator.Int64{int64validator.Between(1, rollout.MaxGroupSize)},
				PlanModifiers:       []planmodifier.Int64{ec2DefaultInt64(def.MaxSize)},
			},
			"desired_capacity": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Instances each environment runs with backend `%s`: at least 1, between `min_size` and `max_size`; tasks each environment's service runs with `%s`, 1 to %d. Defaults to %d.",
					rollout.BackendEC2, rollout.BackendECS, rollout.MaxGroupSize, def.DesiredCapacity),
				Optional:   true,
				Computed:   true,
				Default:    int64default.StaticInt64(int64(def.DesiredCapacity)),
				Validators: []validator.Int64{int64validator.AtLeast(1)},
			},
			"subnets": schema.ListAttribute{
				MarkdownDescription: "Subnet IDs the instances or tasks run in (at least one).",
				ElementType:         types.StringType,
				Required:            true,
				Validators: []validator.List{
					listvalidator.SizeAtLeast(1),
					uniqueStrings{},
					listvalidator.ValueStringsAre(stringvalidator.RegexMatches(rollout.SubnetPattern, "must be a subnet ID such as \"subnet-0123456789abcdef0\"")),
				},
			},
			"security_groups": schema.ListAttribute{
				MarkdownDescription: "Security group IDs of the instances or tasks.",
				ElementType:         types.StringType,
				Optional:            true,
				Computed:            true,
				Default:             listdefault.StaticValue(emptyList()),
				Validators: []validator.List{
					uniqueStrings{},
					listvalidator.ValueStringsAre(stringvalidator.RegexMatches(rollout.SecurityGroupPattern, "must be a security group ID such as \"sg-0123456789abcdef0\"")),
				},
			},
			"instance_profile": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("Instance profile (name or ARN) of the instances; it needs read access to the `secrets`. Backend `%s` only.", rollout.BackendEC2),
				Optional:            true,
				Validators:          []validator.String{stringvalidator.RegexMatches(rollout.InstanceProfilePattern, "must be an instance profile name or ARN")},
			},
			"health_check":         healthCheckAttribute(ctx, def.HealthCheck, diags),
			"deregistration_delay": durationAttribute("How long a target drains before it is deregistered", def.DeregistrationDelay, 0, rollout.MaxDeregistrationDelay),
			"ecs":                  ecsAttribute(ctx, diags),
		},
	}
}

func healthCheckAttribute(ctx context.Context, def rollout.HealthCheck, diags *diag.Diagnostics) schema.SingleNestedAttribute {
	a := schema.SingleNestedAttribute{
		MarkdownDescription: "Health check of each environment's target group. An environment takes traffic only once enough of its targets are healthy.",
		Optional:            true,
		Computed:            true,
		Attributes: map[string]schema.Attribute{
			"protocol": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("Protocol of the target groups, which their health checks use: `%s` behind `traffic` (the default), "+
					"`TCP` or `TLS` behind `traffic.nlb`, checked by opening a TCP connection (`path` is then unused).", rollout.DefaultTargetProtocol),
				Optional:   true,
				Computed:   true,
				Default:    stringdefault.StaticString(rollout.DefaultTargetProtocol),
				Validators: []validator.String{stringvalidator.OneOf(rollout.HealthCheckProtocols[1:]...)},
			},
			"path": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("Path the load balancer requests. Defaults to `%s`.", def.Path),
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(def.Path),
				Validators:          []validator.String{stringvalidator.RegexMatches(rollout.PathPattern, "must be a path starting with \"/\"")},
			},
			"interval": durationAttribute("Time between health checks", def.Interval, rollout.MinHealthCheckInterval, rollout.MaxHealthCheckInterval),
			"timeout":  durationAttribute("Time a health check may take; shorter than `interval`", def.Timeout, rollout.MinHealthCheckTimeout, rollout.MaxHealthCheckTimeout),
			"healthy_threshold": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Consecutive successes before a target is healthy, %d to %d. Defaults to %d.", rollout.MinHealthThreshold, rollout.MaxHealthThreshold, def.HealthyThreshold),
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(int64(def.HealthyThreshold)),
				Validators:          []validator.Int64{int64validator.Between(rollout.MinHealthThreshold, rollout.MaxHealthThreshold)},
			},
			"unhealthy_threshold": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Consecutive failures before a target is unhealthy, %d to %d. Defaults to %d.", rollout.MinHealthThreshold, rollout.MaxHealthThreshold, def.UnhealthyThreshold),
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(int64(def.UnhealthyThreshold)),
				Validators:          []validator.Int64{int64validator.Between(rollout.MinHealthThreshold, rollout.MaxHealthThreshold)},
			},
		},
	}
	a.Default = objectDefault(ctx, a, flattenHealthCheck(def), diags)
	return a
}

func policyAttribute(ctx context.Context, def rollout.Policy, diags *diag.Diagnostics) schema.SingleNestedAttribute {
	a := schema.SingleNestedAttribute{
		MarkdownDescription: "How a new version is rolled out and watched. Changing only the policy rolls nothing out.",
		Optional:            true,
		Computed:            true,
		Attributes: map[string]schema.Attribute{
			"steps":           stepsAttribute(ctx, def.Steps, diags),
			"healthy_timeout": durationAttribute("Time a new environment has to become healthy before its rollout fails", def.HealthyTimeout, rollout.MinHealthyTimeout, rollout.MaxHealthyTimeout),
			"min_healthy_percent": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Percentage of the desired capacity that must be healthy targets before an environment gets any traffic, 1 to 100. Defaults to %d.", def.MinHealthyPercent),
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(int64(def.MinHealthyPercent)),
				Validators:          []validator.Int64{int64validator.Between(1, 100)},
			},
			"alarms": schema.ListAttribute{
				MarkdownDescription: fmt.Sprintf("CloudWatch alarm names (at most %d). One that enters ALARM during a rollout or its bake rolls it back.", rollout.MaxAlarms),
				ElementType:         types.StringType,
				Optional:            true,
				Computed:            true,
				Default:             listdefault.StaticValue(emptyList()),
				Validators: []validator.List{
					listvalidator.SizeAtMost(rollout.MaxAlarms),
					uniqueStrings{},
					listvalidator.ValueStringsAre(stringvalidator.RegexMatches(rollout.AlarmNamePattern, "must be a CloudWatch alarm name")),
				},
			},
			"block_on_alarm": schema.BoolAttribute{
				MarkdownDescription: "Whether an alarm already in ALARM when a rollout starts blocks it. By default (`false`) it is reported and a fix can still be deployed.",
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(def.BlockOnAlarm),
			},
			"proceed_without_alarms": schema.BoolAttribute{
				MarkdownDescription: fmt.Sprintf("Whether a rollout goes on while an alarm of `alarms` does not exist (default `%t`). By default it holds before its next step "+
					"(or the end of its bake) until the alarm exists: an alarm that is not there can roll nothing back. Either way the endpoint shows an `alarm_missing` condition.",
					def.ProceedWithoutAlarms),
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(def.ProceedWithoutAlarms),
			},
			"metric_checks":    metricChecksAttribute(),
			"observed_traffic": observedTrafficAttribute(),
			"bake_time":        durationAttribute("How long the new version holds 100%, still watched, before the rollout is complete", def.BakeTime, 0, rollout.MaxWait),
			"retain_previous": durationAttribute("The rollback window: how long the previous version stays hot after a rollout completes. "+
				"Inside it, rolling back is one load-balancer call", def.RetainPrevious, 0, rollout.MaxRetainPrevious),
			"retain_capacity_percent": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Percentage of its capacity a hot environment keeps, 0 to 100; it is scaled back up before traffic returns to it. Defaults to %d.", def.RetainCapacityPercent),
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(int64(def.RetainCapacityPercent)),
				Validators:          []validator.Int64{int64validator.Between(0, 100)},
			},
			"max_hot_versions": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("How many previous versions stay hot at once besides the live one, 0 to %d; the oldest goes cold first. "+
					"Every hot version stays attached to the load balancer (at weight 0), which forwards a route to a bounded number of target groups. Defaults to %d.",
					rollout.MaxHotVersions, rollout.DefaultMaxHotVersions),
				Optional:   true,
				Computed:   true,
				Default:    int64default.StaticInt64(int64(def.HotVersions())),
				Validators: []validator.Int64{int64validator.Between(0, rollout.MaxHotVersions)},
			},
			"auto_rollback": schema.BoolAttribute{
				MarkdownDescription: fmt.Sprintf("Whether an alarm or a failed metric check rolls the rollout back (default `%t`). When `false` they are only reported.", def.AutoRollback),
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(def.AutoRollback),
			},
		},
	}
	a.Default = objectDefault(ctx, a, flattenPolicy(ctx, objectType(a.GetType(), diags), def, diags), diags)
	return a
}

// stepsAttribute is the policy's steps, whose default is the shifter's.
func stepsAttribute(ctx context.Context, def []rollout.Step, diags *diag.Diagnostics) schema.ListNestedAttribute {
	a := schema.ListNestedAttribute{
		MarkdownDescription: fmt.Sprintf("Traffic steps of a rollout: weights rising from 1 to exactly 100, at most %d steps. "+
			"A step with a `pause` moves on after it; a step without one waits for a promote (`shifter promote`): that is the canary. "+
			"Defaults to %s.", rollout.MaxSteps, describeSteps(def)),
		Optional:   true,
		Computed:   true,
		Validators: []validator.List{stepsValidator{}},
		NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
			"weight": schema.Int64Attribute{
				MarkdownDescription: "Percentage of the traffic the new version gets at this step, 1 to 100.",
				Required:            true,
				Validators:          []validator.Int64{int64validator.Between(1, 100)},
			},
			"pause": schema.StringAttribute{
				MarkdownDescription: "How long the step holds before the next one, such as `5m`. Omit it to wait for a promote.",
				CustomType:          durationType{},
				Optional:            true,
				Validators:          []validator.String{durationBetween(0, rollout.MaxWait)},
			},
		}},
	}
	a.Default = listdefault.StaticValue(listValue(ctx, objectType(a.GetType(), diags), flattenSteps(def), diags))
	return a
}

func metricChecksAttribute() schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		MarkdownDescription: "Checks of the new version's ALB metrics over each step, against thresholds and against the stable version. " +
			"A step that fails one rolls back. A zero disables a check.",
		Optional: true,
		Attributes: map[string]schema.Attribute{
			"max_5xx_percent": schema.Float64Attribute{
				MarkdownDescription: "Highest share of 5xx answers, 0 to 100.",
				Optional:            true,
				Computed:            true,
				Default:             float64default.StaticFloat64(0),
				Validators:          []validator.Float64{float64validator.Between(0, 100)},
			},
			"max_latency": durationAttribute("Highest average target response time", 0, 0, rollout.MaxMetricLatency),
			"interval": durationAttribute("How often the metrics are judged while traffic is on the new version, between the ends of its steps "+
				"(the pause of a step, the wait for a promote, the bake): a failing verdict rolls back then. `0s` means ALB's metric period, 1m",
				0, 0, rollout.MaxWait),
			"max_ratio_to_stable": schema.Float64Attribute{
				MarkdownDescription: fmt.Sprintf("Fails a step whose 5xx rate or latency is more than this many times the stable version's: at least %d, or 0.", rollout.MinRatioToStable),
				Optional:            true,
				Computed:            true,
				Default:             float64default.StaticFloat64(0),
				Validators:          []validator.Float64{disabledOrAtLeast{min: rollout.MinRatioToStable}},
			},
			"min_requests": schema.Int64Attribute{
				MarkdownDescription: "Requests a window needs before the checks give a verdict.",
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(0),
				Validators:          []validator.Int64{int64validator.AtLeast(0)},
			},
		},
	}
}

// Defaults of policy.observed_traffic in the provider (the API requires
// tolerance_percent and max_wait).
const (
	defaultTrafficTolerance = 5
	defaultTrafficMaxWait   = rollout.Duration(5 * time.Minute)
)

func observedTrafficAttribute() schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		MarkdownDescription: "Holds each step after its weights change until the share of requests each version took, as the load balancer counted them " +
			"(ALB's `RequestCount` per target group), is within `tolerance_percent` of its weight, or `max_wait` passed: a rule's weights are not the traffic, " +
			"which follows them later. The step's pause (its wait for a promote, the bake of the last step) begins when the hold ends. " +
			"Past `max_wait` the endpoint shows a `traffic_not_following` condition and the step goes on, or pauses (`on_timeout`); a step with no request counted " +
			"at all goes on with a `traffic_unobserved` condition. ALB traffic only: refused with `traffic.nlb` and `traffic.route53`.",
		Optional: true,
		Attributes: map[string]schema.Attribute{
			"tolerance_percent": schema.Float64Attribute{
				MarkdownDescription: fmt.Sprintf("How far, in percentage points, a version's observed share may be from its weight: more than 0, at most %d. Defaults to %d.",
					rollout.MaxTrafficTolerance, defaultTrafficTolerance),
				Optional:   true,
				Computed:   true,
				Default:    float64default.StaticFloat64(defaultTrafficTolerance),
				Validators: []validator.Float64{float64validator.Between(0, rollout.MaxTrafficTolerance), float64validator.NoneOf(0)},
			},
			"max_wait": durationAttribute("How long a step holds at most for its traffic to follow its weights. ALB publishes a count a minute, "+
				"a minute or two late, so a step seldom sees its traffic follow in less than two", defaultTrafficMaxWait, rollout.MinTrafficWindow, rollout.MaxWait),
			"interval": durationAttribute("How often the requests are counted while a step holds", rollout.Duration(rollout.DefaultTrafficInterval), rollout.MinTrafficWindow, rollout.TrafficWindow),
			"min_requests": schema.Int64Attribute{
				MarkdownDescription: "How many requests a minute's count needs to tell anything: fewer are taken as none (the shares of a few requests are noise), " +
					"so the step holds on, and at `max_wait` goes on with a `traffic_unobserved` condition. `0` (the default) takes any request.",
				Optional:   true,
				Computed:   true,
				Default:    int64default.StaticInt64(0),
				Validators: []validator.Int64{int64validator.AtLeast(0)},
			},
			"on_timeout": schema.StringAttribute{
				MarkdownDescription: "What a step whose counted traffic did not follow its weights does at `max_wait`: `proceed` (the default) goes on, with the condition and " +
					"an event; `pause` pauses the rollout until a person resumes or promotes it (`shifter resume`, `ionroller_resume`). " +
					"A step with no request counted at all always goes on: no traffic is no evidence against the new version.",
				Optional:   true,
				Computed:   true,
				Default:    stringdefault.StaticString(rollout.OnTimeoutProceed),
				Validators: []validator.String{stringvalidator.OneOf(rollout.OnTimeouts...)},
			},
		},
	}
}

// objectDefault is the default of a nested attribute: model, as a value of
// the attribute's own type.
func objectDefault(ctx context.Context, a schema.SingleNestedAttribute, model any, diags *diag.Diagnostics) defaults.Object {
	return objectdefault.StaticValue(objectValue(ctx, objectType(a.GetType(), diags), model, diags))
}

// durationAttribute is an optional duration with a default and the
// shifter's bounds.
func durationAttribute(what string, def rollout.Duration, lo, hi time.Duration) schema.StringAttribute {
	a := requiredDurationAttribute(what, lo, hi)
	a.MarkdownDescription += fmt.Sprintf(" Defaults to `%s`.", short(def.D()))
	a.Required, a.Optional, a.Computed = false, true, true
	a.Default = stringdefault.StaticString(def.String())
	return a
}

// requiredDurationAttribute is a duration the configuration must give,
// within the shifter's bounds.
func requiredDurationAttribute(what string, lo, hi time.Duration) schema.StringAttribute {
	return schema.StringAttribute{
		MarkdownDescription: fmt.Sprintf("%s: a duration such as `30s`, `5m` or `1h`, from %s to %s.", what, short(lo), short(hi)),
		CustomType:          durationType{},
		Required:            true,
		Validators:          []validator.String{durationBetween(lo, hi)},
	}
}

// describeSteps writes steps as a configuration would.
func describeSteps(steps []rollout.Step) string {
	parts := make([]string, 0, len(steps))
	for _, s := range steps {
		if s.Pause != nil {
			parts = append(parts, fmt.Sprintf("{ weight = %d, pause = %q }", s.Weight, short(s.Pause.D())))
		} else {
			parts = append(parts, fmt.Sprintf("{ weight = %d }", s.Weight))
		}
	}
	return "`[" + strings.Join(parts, ", ") + "]`"
}

// short writes a duration the way people do: 1h rather than 1h0m0s.
func short(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// previewRouteExists is true when the endpoint already has a preview route:
// the shifter then refuses to move it (a new one may be added).
func previewRouteExists(ctx context.Context, req planmodifier.StringRequest, resp *stringplanmodifier.RequiresReplaceIfFuncResponse) {
	resp.RequiresReplace, resp.Diagnostics = hadPreviewRoute(ctx, req.State)
}

func previewRouteExistsInt64(ctx context.Context, req planmodifier.Int64Request, resp *int64planmodifier.RequiresReplaceIfFuncResponse) {
	resp.RequiresReplace, resp.Diagnostics = hadPreviewRoute(ctx, req.State)
}

// stateGetter is the prior state of a plan modifier request.
type stateGetter interface {
	GetAttribute(ctx context.Context, p path.Path, target any) diag.Diagnostics
}

func hadPreviewRoute(ctx context.Context, state stateGetter) (bool, diag.Diagnostics) {
	var host, listener types.String
	diags := state.GetAttribute(ctx, path.Root("traffic").AtName("preview_host"), &host)
	diags.Append(state.GetAttribute(ctx, path.Root("traffic").AtName("preview_listener_arn"), &listener)...)
	return !host.IsNull() || !listener.IsNull(), diags
}
