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
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
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
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// This file is the endpoint's spec as Terraform sees it: the nested schema,
// its models, and the conversions to and from rollout.Endpoint. Attribute
// names are the JSON names of rollout.Endpoint, so the shifter's error
// fields are attribute paths. Defaults come from rollout.NewEndpoint, the
// same defaults the shifter applies.

// Bounds of the shifter's durations (rollout/validate.go). TestValidatorsMatchTheShifter
// checks that Terraform and the API accept and refuse the same values.
const (
	maxWait             = 7 * 24 * time.Hour
	maxRetainPrevious   = 30 * 24 * time.Hour
	maxHealthyTimeout   = 24 * time.Hour
	maxDeregistration   = time.Hour
	maxMetricLatency    = time.Minute
	minHealthInterval   = 5 * time.Second
	maxHealthInterval   = 300 * time.Second
	minHealthTimeout    = 2 * time.Second
	maxHealthTimeout    = 120 * time.Second
	minHealthyTimeout   = time.Second
	maxPriority         = 50000
	maxExternalIDLength = 1224
)

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
		WebhookURL  types.String `tfsdk:"webhook_url"`
		SNSTopicARN types.String `tfsdk:"sns_topic_arn"`
	}

	trafficModel struct {
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
	}

	healthCheckModel struct {
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
		MetricChecks          types.Object  `tfsdk:"metric_checks"`
		BakeTime              durationValue `tfsdk:"bake_time"`
		RetainPrevious        durationValue `tfsdk:"retain_previous"`
		RetainCapacityPercent types.Int64   `tfsdk:"retain_capacity_percent"`
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
	}
)

// Object types of the nested attributes. TestSpecTypesMatchTheSchema keeps
// them equal to the schema's.
func placementType() types.ObjectType {
	return types.ObjectType{AttrTypes: map[string]attr.Type{
		"region": types.StringType, "role_arn": types.StringType, "external_id": types.StringType,
	}}
}

func notificationsType() types.ObjectType {
	return types.ObjectType{AttrTypes: map[string]attr.Type{"webhook_url": types.StringType, "sns_topic_arn": types.StringType}}
}

func trafficType() types.ObjectType {
	return types.ObjectType{AttrTypes: map[string]attr.Type{
		"listener_arn":         types.StringType,
		"priority":             types.Int64Type,
		"hosts":                types.ListType{ElemType: types.StringType},
		"paths":                types.ListType{ElemType: types.StringType},
		"preview_host":         types.StringType,
		"preview_listener_arn": types.StringType,
		"preview_priority":     types.Int64Type,
	}}
}

func templateType() types.ObjectType {
	return types.ObjectType{AttrTypes: map[string]attr.Type{
		"backend":              types.StringType,
		"repository":           types.StringType,
		"container_port":       types.Int64Type,
		"command":              types.ListType{ElemType: types.StringType},
		"args":                 types.ListType{ElemType: types.StringType},
		"env":                  types.MapType{ElemType: types.StringType},
		"secrets":              types.MapType{ElemType: types.StringType},
		"instance_type":        types.StringType,
		"ami":                  types.StringType,
		"min_size":             types.Int64Type,
		"max_size":             types.Int64Type,
		"desired_capacity":     types.Int64Type,
		"subnets":              types.ListType{ElemType: types.StringType},
		"security_groups":      types.ListType{ElemType: types.StringType},
		"instance_profile":     types.StringType,
		"health_check":         healthCheckType(),
		"deregistration_delay": durationType{},
	}}
}

func healthCheckType() types.ObjectType {
	return types.ObjectType{AttrTypes: map[string]attr.Type{
		"path":                types.StringType,
		"interval":            durationType{},
		"timeout":             durationType{},
		"healthy_threshold":   types.Int64Type,
		"unhealthy_threshold": types.Int64Type,
	}}
}

func policyType() types.ObjectType {
	return types.ObjectType{AttrTypes: map[string]attr.Type{
		"steps":                   types.ListType{ElemType: stepType()},
		"healthy_timeout":         durationType{},
		"min_healthy_percent":     types.Int64Type,
		"alarms":                  types.ListType{ElemType: types.StringType},
		"block_on_alarm":          types.BoolType,
		"metric_checks":           metricChecksType(),
		"bake_time":               durationType{},
		"retain_previous":         durationType{},
		"retain_capacity_percent": types.Int64Type,
		"auto_rollback":           types.BoolType,
	}}
}

func stepType() types.ObjectType {
	return types.ObjectType{AttrTypes: map[string]attr.Type{"weight": types.Int64Type, "pause": durationType{}}}
}

func metricChecksType() types.ObjectType {
	return types.ObjectType{AttrTypes: map[string]attr.Type{
		"max_5xx_percent":     types.Float64Type,
		"max_latency":         durationType{},
		"max_ratio_to_stable": types.Float64Type,
		"min_requests":        types.Int64Type,
	}}
}

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
			Validators:    []validator.String{stringvalidator.RegexMatches(rollout.NamePattern, "must be 2 to 40 lowercase letters, digits and hyphens, start with a letter and not end with a hyphen")},
			PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
		},
		"team": schema.StringAttribute{
			MarkdownDescription: "Team that owns the endpoint. A token bound to a team may only manage that team's endpoints; " +
				"when omitted the shifter sets the token's team.",
			Optional:      true,
			Computed:      true,
			Validators:    []validator.String{stringvalidator.RegexMatches(rollout.TeamPattern, "must be lowercase letters, digits, '_' and '-' (at most 63)")},
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
	}
}

func placementAttribute(ctx context.Context, diags *diag.Diagnostics) schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		MarkdownDescription: "AWS account and region of the endpoint's environments and listener rule. " +
			"Omit it to use the shifter's own credentials and region.",
		Optional: true,
		Computed: true,
		Default:  objectdefault.StaticValue(objectValue(ctx, placementType(), flattenPlacement(rollout.Placement{}), diags)),
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
				Validators:          []validator.String{stringvalidator.RegexMatches(rollout.RoleARNPattern, "must be an IAM role ARN such as \"arn:aws:iam::123456789012:role/ionroller\"")},
			},
			"external_id": schema.StringAttribute{
				MarkdownDescription: "External ID to present when assuming `role_arn`.",
				Optional:            true,
				Sensitive:           true,
				Validators: []validator.String{
					stringvalidator.LengthAtMost(maxExternalIDLength),
					stringvalidator.AlsoRequires(path.MatchRelative().AtParent().AtName("role_arn")),
				},
			},
		},
	}
}

func notificationsAttribute(ctx context.Context, diags *diag.Diagnostics) schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		MarkdownDescription: "Who hears of the endpoint's rollouts: started, waiting for a promote, complete, rolled back, aborted " +
			"and failed. Delivery is retried and never holds a rollout up.",
		Optional: true,
		Computed: true,
		Default:  objectdefault.StaticValue(objectValue(ctx, notificationsType(), flattenNotifications(rollout.Notifications{}), diags)),
		Attributes: map[string]schema.Attribute{
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
			"sns_topic_arn": schema.StringAttribute{
				MarkdownDescription: "SNS topic the shifter publishes the same JSON message to, in the endpoint's account.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.RegexMatches(rollout.SNSTopicARNPattern, "must be an SNS topic ARN")},
			},
		},
	}
}

func trafficAttribute() schema.SingleNestedAttribute {
	replaceOncePreviewExists := "The shifter keeps the preview rule where it was created, so once the endpoint has a preview route, changing it replaces the endpoint."
	return schema.SingleNestedAttribute{
		MarkdownDescription: "Where the endpoint's requests arrive: a rule on an Application Load Balancer listener, and an optional preview route " +
			"for testing a release in production without production traffic. The shifter owns the rule and its weights.",
		Required: true,
		Attributes: map[string]schema.Attribute{
			"listener_arn": schema.StringAttribute{
				MarkdownDescription: "ARN of the ALB listener (owned by your Terraform) that gets the endpoint's rule.",
				Required:            true,
				Validators:          []validator.String{listenerARNValidator()},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"priority": schema.Int64Attribute{
				MarkdownDescription: "Priority of the endpoint's rule on the listener, 1 to 50000.",
				Required:            true,
				Validators:          []validator.Int64{int64validator.Between(1, maxPriority)},
				PlanModifiers:       []planmodifier.Int64{int64planmodifier.RequiresReplace()},
			},
			"hosts": schema.ListAttribute{
				MarkdownDescription: "Host header patterns the rule matches, such as `api.example.com` or `*.example.com`. " +
					"Hosts and paths together have at most 5 values; with neither, the rule matches every path.",
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
				MarkdownDescription: "Priority of the preview rule, 1 to 50000; it must differ from `priority` on the same listener.",
				Optional:            true,
				Validators:          []validator.Int64{int64validator.Between(1, maxPriority)},
				PlanModifiers: []planmodifier.Int64{int64planmodifier.RequiresReplaceIf(previewRouteExistsInt64,
					replaceOncePreviewExists, replaceOncePreviewExists)},
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
				MarkdownDescription: fmt.Sprintf("How environments run: `%s` (a launch template and an Auto Scaling group per version), the only backend so far and the default.", rollout.BackendEC2),
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(def.Backend),
				Validators:          []validator.String{stringvalidator.OneOf(rollout.BackendEC2)},
			},
			"repository": schema.StringAttribute{
				MarkdownDescription: "Docker image repository, such as `registry.example.com/team/app`; a release runs `repository:version` unless it names an image.",
				Required:            true,
				Validators:          []validator.String{stringvalidator.RegexMatches(rollout.RepositoryPattern, "must be a Docker image repository such as \"registry.example.com/team/app\"")},
			},
			"container_port": schema.Int64Attribute{
				MarkdownDescription: "Port the container listens on, 1 to 65535.",
				Required:            true,
				Validators:          []validator.Int64{int64validator.Between(1, 65535)},
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
				MarkdownDescription: "Environment variables of the container. Put secrets in `secrets`, not here.",
				ElementType:         types.StringType,
				Optional:            true,
				Computed:            true,
				Default:             mapdefault.StaticValue(emptyMap()),
				Validators: []validator.Map{
					mapvalidator.KeysAre(envName),
					mapvalidator.ValueStringsAre(stringvalidator.RegexMatches(noNUL, "must not contain a NUL character")),
				},
			},
			"secrets": schema.MapAttribute{
				MarkdownDescription: "Environment variables whose values are read on the instance from SSM parameters or Secrets Manager secrets, " +
					"by ARN. The values never pass through Terraform or the shifter. A name may not also be in `env`.",
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
				MarkdownDescription: fmt.Sprintf("EC2 instance type of the environments. Defaults to `%s`.", def.InstanceType),
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(def.InstanceType),
				Validators:          []validator.String{stringvalidator.RegexMatches(rollout.InstanceTypePattern, "must be an EC2 instance type such as \"t3.micro\"")},
			},
			"ami": schema.StringAttribute{
				MarkdownDescription: "AMI the instances boot, with Docker installed, such as `ami-0123456789abcdef0`.",
				Required:            true,
				Validators:          []validator.String{stringvalidator.RegexMatches(rollout.AMIPattern, "must be an AMI ID such as \"ami-0123456789abcdef0\"")},
			},
			"min_size": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Minimum size of each environment's Auto Scaling group. Defaults to %d.", def.MinSize),
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(int64(def.MinSize)),
				Validators:          []validator.Int64{int64validator.AtLeast(0)},
			},
			"max_size": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Maximum size of each environment's Auto Scaling group, 1 to 1000. Defaults to %d.", def.MaxSize),
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(int64(def.MaxSize)),
				Validators:          []validator.Int64{int64validator.Between(1, 1000)},
			},
			"desired_capacity": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Instances each environment runs: at least 1, between `min_size` and `max_size`. Defaults to %d.", def.DesiredCapacity),
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(int64(def.DesiredCapacity)),
				Validators:          []validator.Int64{int64validator.AtLeast(1)},
			},
			"subnets": schema.ListAttribute{
				MarkdownDescription: "Subnet IDs the instances run in (at least one).",
				ElementType:         types.StringType,
				Required:            true,
				Validators: []validator.List{
					listvalidator.SizeAtLeast(1),
					uniqueStrings{},
					listvalidator.ValueStringsAre(stringvalidator.RegexMatches(rollout.SubnetPattern, "must be a subnet ID such as \"subnet-0123456789abcdef0\"")),
				},
			},
			"security_groups": schema.ListAttribute{
				MarkdownDescription: "Security group IDs of the instances.",
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
				MarkdownDescription: "Instance profile (name or ARN) of the instances; it needs read access to the `secrets`.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.RegexMatches(rollout.InstanceProfilePattern, "must be an instance profile name or ARN")},
			},
			"health_check":         healthCheckAttribute(ctx, def.HealthCheck, diags),
			"deregistration_delay": durationAttribute("How long a target drains before it is deregistered", def.DeregistrationDelay, 0, maxDeregistration),
		},
	}
}

func healthCheckAttribute(ctx context.Context, def rollout.HealthCheck, diags *diag.Diagnostics) schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		MarkdownDescription: "Health check of each environment's target group. An environment takes traffic only once enough of its targets are healthy.",
		Optional:            true,
		Computed:            true,
		Default:             objectdefault.StaticValue(objectValue(ctx, healthCheckType(), flattenHealthCheck(def), diags)),
		Attributes: map[string]schema.Attribute{
			"path": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("Path the load balancer requests. Defaults to `%s`.", def.Path),
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(def.Path),
				Validators:          []validator.String{stringvalidator.RegexMatches(rollout.PathPattern, "must be a path starting with \"/\"")},
			},
			"interval": durationAttribute("Time between health checks", def.Interval, minHealthInterval, maxHealthInterval),
			"timeout":  durationAttribute("Time a health check may take; shorter than `interval`", def.Timeout, minHealthTimeout, maxHealthTimeout),
			"healthy_threshold": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Consecutive successes before a target is healthy, 2 to 10. Defaults to %d.", def.HealthyThreshold),
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(int64(def.HealthyThreshold)),
				Validators:          []validator.Int64{int64validator.Between(2, 10)},
			},
			"unhealthy_threshold": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Consecutive failures before a target is unhealthy, 2 to 10. Defaults to %d.", def.UnhealthyThreshold),
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(int64(def.UnhealthyThreshold)),
				Validators:          []validator.Int64{int64validator.Between(2, 10)},
			},
		},
	}
}

func policyAttribute(ctx context.Context, def rollout.Policy, diags *diag.Diagnostics) schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		MarkdownDescription: "How a new version is rolled out and watched. Changing only the policy rolls nothing out.",
		Optional:            true,
		Computed:            true,
		Default:             objectdefault.StaticValue(objectValue(ctx, policyType(), flattenPolicy(ctx, def, diags), diags)),
		Attributes: map[string]schema.Attribute{
			"steps": schema.ListNestedAttribute{
				MarkdownDescription: fmt.Sprintf("Traffic steps of a rollout: weights rising from 1 to exactly 100, at most %d steps. "+
					"A step with a `pause` moves on after it; a step without one waits for a promote (`shifter promote`): that is the canary. "+
					"Defaults to %s.", rollout.MaxSteps, describeSteps(def.Steps)),
				Optional:   true,
				Computed:   true,
				Default:    listdefault.StaticValue(listValue(ctx, stepType(), flattenSteps(def.Steps), diags)),
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
						Validators:          []validator.String{durationBetween(0, maxWait)},
					},
				}},
			},
			"healthy_timeout": durationAttribute("Time a new environment has to become healthy before its rollout fails", def.HealthyTimeout, minHealthyTimeout, maxHealthyTimeout),
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
			"metric_checks": metricChecksAttribute(),
			"bake_time":     durationAttribute("How long the new version holds 100%, still watched, before the rollout is complete", def.BakeTime, 0, maxWait),
			"retain_previous": durationAttribute("The rollback window: how long the previous version stays hot after a rollout completes. "+
				"Inside it, rolling back is one load-balancer call", def.RetainPrevious, 0, maxRetainPrevious),
			"retain_capacity_percent": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Percentage of its capacity a hot environment keeps, 0 to 100; it is scaled back up before traffic returns to it. Defaults to %d.", def.RetainCapacityPercent),
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(int64(def.RetainCapacityPercent)),
				Validators:          []validator.Int64{int64validator.Between(0, 100)},
			},
			"auto_rollback": schema.BoolAttribute{
				MarkdownDescription: fmt.Sprintf("Whether an alarm or a failed metric check rolls the rollout back (default `%t`). When `false` they are only reported.", def.AutoRollback),
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(def.AutoRollback),
			},
		},
	}
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
			"max_latency": durationAttribute("Highest average target response time", 0, 0, maxMetricLatency),
			"max_ratio_to_stable": schema.Float64Attribute{
				MarkdownDescription: "Fails a step whose 5xx rate or latency is more than this many times the stable version's: at least 1, or 0.",
				Optional:            true,
				Computed:            true,
				Default:             float64default.StaticFloat64(0),
				Validators:          []validator.Float64{disabledOrAtLeast{min: 1}},
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

// durationAttribute is an optional duration with a default and the
// shifter's bounds.
func durationAttribute(what string, def rollout.Duration, lo, hi time.Duration) schema.StringAttribute {
	return schema.StringAttribute{
		MarkdownDescription: fmt.Sprintf("%s: a duration such as `30s`, `5m` or `1h`, from %s to %s. Defaults to `%s`.", what, short(lo), short(hi), short(def.D())),
		CustomType:          durationType{},
		Optional:            true,
		Computed:            true,
		Default:             stringdefault.StaticString(def.String()),
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

// expandEndpoint returns the spec of m (a plan or a state) for the API.
func expandEndpoint(ctx context.Context, m endpointModel) (rollout.Endpoint, diag.Diagnostics) {
	x := &expander{ctx: ctx}
	ep := rollout.Endpoint{
		Name:               m.Name.ValueString(),
		Team:               m.Team.ValueString(),
		DeletionProtection: m.DeletionProtection.ValueBool(),
	}
	var placement placementModel
	if x.object(m.Placement, &placement) {
		ep.Placement = rollout.Placement{
			Region:     placement.Region.ValueString(),
			RoleARN:    placement.RoleARN.ValueString(),
			ExternalID: placement.ExternalID.ValueString(),
		}
	}
	var traffic trafficModel
	if x.object(m.Traffic, &traffic) {
		ep.Traffic = rollout.Traffic{
			ListenerARN:        traffic.ListenerARN.ValueString(),
			Priority:           int(traffic.Priority.ValueInt64()),
			Hosts:              x.strings(traffic.Hosts),
			Paths:              x.strings(traffic.Paths),
			PreviewHost:        traffic.PreviewHost.ValueString(),
			PreviewListenerARN: traffic.PreviewListenerARN.ValueString(),
			PreviewPriority:    int(traffic.PreviewPriority.ValueInt64()),
		}
	}
	var template templateModel
	if x.object(m.Template, &template) {
		ep.Template = x.template(template)
	}
	var policy policyModel
	if x.object(m.Policy, &policy) {
		ep.Policy = x.policy(policy)
	}
	var notifications notificationsModel
	if x.object(m.Notifications, &notifications) {
		ep.Notifications = rollout.Notifications{
			WebhookURL:  notifications.WebhookURL.ValueString(),
			SNSTopicARN: notifications.SNSTopicARN.ValueString(),
		}
	}
	return ep, x.diags
}

// expander converts framework values to the API's, collecting diagnostics.
type expander struct {
	ctx   context.Context
	diags diag.Diagnostics
}

// object decodes o into target and reports whether it had a value.
func (x *expander) object(o types.Object, target any) bool {
	if o.IsNull() || o.IsUnknown() {
		return false
	}
	d := o.As(x.ctx, target, basetypes.ObjectAsOptions{})
	x.diags.Append(d...)
	return !d.HasError()
}

func (x *expander) strings(l types.List) []string {
	var out []string
	x.diags.Append(l.ElementsAs(x.ctx, &out, false)...)
	return out
}

func (x *expander) stringMap(m types.Map) map[string]string {
	var out map[string]string
	x.diags.Append(m.ElementsAs(x.ctx, &out, false)...)
	return out
}

func (x *expander) duration(v durationValue) rollout.Duration {
	if v.IsNull() || v.IsUnknown() {
		return 0
	}
	d, err := v.duration()
	if err != nil {
		x.diags.AddError("Invalid Duration", err.Error())
	}
	return d
}

func (x *expander) template(t templateModel) rollout.Template {
	out := rollout.Template{
		Backend:             t.Backend.ValueString(),
		Repository:          t.Repository.ValueString(),
		ContainerPort:       int(t.ContainerPort.ValueInt64()),
		Command:             x.strings(t.Command),
		Args:                x.strings(t.Args),
		Env:                 x.stringMap(t.Env),
		Secrets:             x.stringMap(t.Secrets),
		InstanceType:        t.InstanceType.ValueString(),
		AMI:                 t.AMI.ValueString(),
		MinSize:             int(t.MinSize.ValueInt64()),
		MaxSize:             int(t.MaxSize.ValueInt64()),
		DesiredCapacity:     int(t.DesiredCapacity.ValueInt64()),
		Subnets:             x.strings(t.Subnets),
		SecurityGroups:      x.strings(t.SecurityGroups),
		InstanceProfile:     t.InstanceProfile.ValueString(),
		DeregistrationDelay: x.duration(t.DeregistrationDelay),
	}
	var hc healthCheckModel
	if x.object(t.HealthCheck, &hc) {
		out.HealthCheck = rollout.HealthCheck{
			Path:               hc.Path.ValueString(),
			Interval:           x.duration(hc.Interval),
			Timeout:            x.duration(hc.Timeout),
			HealthyThreshold:   int(hc.HealthyThreshold.ValueInt64()),
			UnhealthyThreshold: int(hc.UnhealthyThreshold.ValueInt64()),
		}
	}
	return out
}

func (x *expander) policy(p policyModel) rollout.Policy {
	out := rollout.Policy{
		Steps:                 x.steps(p.Steps),
		HealthyTimeout:        x.duration(p.HealthyTimeout),
		MinHealthyPercent:     int(p.MinHealthyPercent.ValueInt64()),
		Alarms:                x.strings(p.Alarms),
		BlockOnAlarm:          p.BlockOnAlarm.ValueBool(),
		BakeTime:              x.duration(p.BakeTime),
		RetainPrevious:        x.duration(p.RetainPrevious),
		RetainCapacityPercent: int(p.RetainCapacityPercent.ValueInt64()),
		AutoRollback:          p.AutoRollback.ValueBool(),
	}
	var mc metricChecksModel
	if x.object(p.MetricChecks, &mc) {
		out.MetricChecks = &rollout.MetricChecks{
			Max5xxPercent:    mc.Max5xxPercent.ValueFloat64(),
			MaxLatency:       x.duration(mc.MaxLatency),
			MaxRatioToStable: mc.MaxRatioToStable.ValueFloat64(),
			MinRequests:      int(mc.MinRequests.ValueInt64()),
		}
	}
	return out
}

func (x *expander) steps(l types.List) []rollout.Step {
	var models []stepModel
	x.diags.Append(l.ElementsAs(x.ctx, &models, false)...)
	steps := make([]rollout.Step, 0, len(models))
	for _, s := range models {
		step := rollout.Step{Weight: int(s.Weight.ValueInt64())}
		if !s.Pause.IsNull() && !s.Pause.IsUnknown() {
			d := x.duration(s.Pause)
			step.Pause = &d
		}
		steps = append(steps, step)
	}
	return steps
}

// flattenEndpoint sets m from the shifter's view of an endpoint.
func flattenEndpoint(ctx context.Context, v rollout.EndpointView, m *endpointModel) diag.Diagnostics {
	diags := flattenEndpointSpec(ctx, v.Endpoint, m)
	m.Status = flattenStatus(ctx, v.Status, &diags)
	return diags
}

// flattenEndpointSpec sets the spec attributes of m from the shifter's copy
// of the endpoint.
func flattenEndpointSpec(ctx context.Context, ep rollout.Endpoint, m *endpointModel) diag.Diagnostics {
	var diags diag.Diagnostics
	m.ID = types.StringValue(ep.Name)
	m.Name = types.StringValue(ep.Name)
	m.Team = stringOrNull(ep.Team)
	m.DeletionProtection = types.BoolValue(ep.DeletionProtection)
	m.Placement = objectValue(ctx, placementType(), flattenPlacement(ep.Placement), &diags)
	m.Traffic = objectValue(ctx, trafficType(), trafficModel{
		ListenerARN:        types.StringValue(ep.Traffic.ListenerARN),
		Priority:           types.Int64Value(int64(ep.Traffic.Priority)),
		Hosts:              stringList(ep.Traffic.Hosts),
		Paths:              stringList(ep.Traffic.Paths),
		PreviewHost:        stringOrNull(ep.Traffic.PreviewHost),
		PreviewListenerARN: stringOrNull(ep.Traffic.PreviewListenerARN),
		PreviewPriority:    int64OrNull(ep.Traffic.PreviewPriority),
	}, &diags)
	t := ep.Template
	m.Template = objectValue(ctx, templateType(), templateModel{
		Backend:             types.StringValue(t.Backend),
		Repository:          types.StringValue(t.Repository),
		ContainerPort:       types.Int64Value(int64(t.ContainerPort)),
		Command:             stringList(t.Command),
		Args:                stringList(t.Args),
		Env:                 stringMap(t.Env),
		Secrets:             stringMap(t.Secrets),
		InstanceType:        types.StringValue(t.InstanceType),
		AMI:                 types.StringValue(t.AMI),
		MinSize:             types.Int64Value(int64(t.MinSize)),
		MaxSize:             types.Int64Value(int64(t.MaxSize)),
		DesiredCapacity:     types.Int64Value(int64(t.DesiredCapacity)),
		Subnets:             stringList(t.Subnets),
		SecurityGroups:      stringList(t.SecurityGroups),
		InstanceProfile:     stringOrNull(t.InstanceProfile),
		HealthCheck:         objectValue(ctx, healthCheckType(), flattenHealthCheck(t.HealthCheck), &diags),
		DeregistrationDelay: newDuration(t.DeregistrationDelay),
	}, &diags)
	m.Policy = objectValue(ctx, policyType(), flattenPolicy(ctx, ep.Policy, &diags), &diags)
	m.Notifications = objectValue(ctx, notificationsType(), flattenNotifications(ep.Notifications), &diags)
	return diags
}

func flattenNotifications(n rollout.Notifications) notificationsModel {
	return notificationsModel{WebhookURL: stringOrNull(n.WebhookURL), SNSTopicARN: stringOrNull(n.SNSTopicARN)}
}

func flattenPlacement(p rollout.Placement) placementModel {
	return placementModel{
		Region:     stringOrNull(p.Region),
		RoleARN:    stringOrNull(p.RoleARN),
		ExternalID: stringOrNull(p.ExternalID),
	}
}

func flattenHealthCheck(h rollout.HealthCheck) healthCheckModel {
	return healthCheckModel{
		Path:               types.StringValue(h.Path),
		Interval:           newDuration(h.Interval),
		Timeout:            newDuration(h.Timeout),
		HealthyThreshold:   types.Int64Value(int64(h.HealthyThreshold)),
		UnhealthyThreshold: types.Int64Value(int64(h.UnhealthyThreshold)),
	}
}

func flattenPolicy(ctx context.Context, p rollout.Policy, diags *diag.Diagnostics) policyModel {
	metricChecks := types.ObjectNull(metricChecksType().AttrTypes)
	if mc := p.MetricChecks; mc != nil {
		metricChecks = objectValue(ctx, metricChecksType(), metricChecksModel{
			Max5xxPercent:    types.Float64Value(mc.Max5xxPercent),
			MaxLatency:       newDuration(mc.MaxLatency),
			MaxRatioToStable: types.Float64Value(mc.MaxRatioToStable),
			MinRequests:      types.Int64Value(int64(mc.MinRequests)),
		}, diags)
	}
	return policyModel{
		Steps:                 listValue(ctx, stepType(), flattenSteps(p.Steps), diags),
		HealthyTimeout:        newDuration(p.HealthyTimeout),
		MinHealthyPercent:     types.Int64Value(int64(p.MinHealthyPercent)),
		Alarms:                stringList(p.Alarms),
		BlockOnAlarm:          types.BoolValue(p.BlockOnAlarm),
		MetricChecks:          metricChecks,
		BakeTime:              newDuration(p.BakeTime),
		RetainPrevious:        newDuration(p.RetainPrevious),
		RetainCapacityPercent: types.Int64Value(int64(p.RetainCapacityPercent)),
		AutoRollback:          types.BoolValue(p.AutoRollback),
	}
}

func flattenSteps(steps []rollout.Step) []stepModel {
	out := make([]stepModel, 0, len(steps))
	for _, s := range steps {
		m := stepModel{Weight: types.Int64Value(int64(s.Weight)), Pause: durationValue{StringValue: types.StringNull()}}
		if s.Pause != nil {
			m.Pause = newDuration(*s.Pause)
		}
		out = append(out, m)
	}
	return out
}
