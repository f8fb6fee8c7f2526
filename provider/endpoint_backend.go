package provider

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// This file is what of the template depends on its backend: the ecs
// backend's nested attribute, and the plan of the attributes only the ec2
// backend uses. Defaults come from rollout.DefaultECS and
// rollout.NewEndpoint, limits and patterns from rollout/ecs.go.

var (
	_ planmodifier.String = ec2Default{}
	_ planmodifier.Int64  = ec2Default{}
	_ planmodifier.String = launchTypeDefault{}
)

// Models of template.ecs.
type (
	ecsModel struct {
		Cluster           types.String `tfsdk:"cluster"`
		LaunchType        types.String `tfsdk:"launch_type"`
		CapacityProviders types.List   `tfsdk:"capacity_providers"`
		CPU               types.Int64  `tfsdk:"cpu"`
		Memory            types.Int64  `tfsdk:"memory"`
		TaskRoleARN       types.String `tfsdk:"task_role_arn"`
		ExecutionRoleARN  types.String `tfsdk:"execution_role_arn"`
		AssignPublicIP    types.Bool   `tfsdk:"assign_public_ip"`
		PlatformVersion   types.String `tfsdk:"platform_version"`
		Logs              types.Object `tfsdk:"logs"`
		HealthCheck       types.Object `tfsdk:"health_check"`
	}

	capacityProviderModel struct {
		Name   types.String `tfsdk:"name"`
		Weight types.Int64  `tfsdk:"weight"`
		Base   types.Int64  `tfsdk:"base"`
	}

	ecsLogsModel struct {
		Group        types.String `tfsdk:"group"`
		StreamPrefix types.String `tfsdk:"stream_prefix"`
	}

	containerHealthCheckModel struct {
		Command     types.List    `tfsdk:"command"`
		Interval    durationValue `tfsdk:"interval"`
		Timeout     durationValue `tfsdk:"timeout"`
		Retries     types.Int64   `tfsdk:"retries"`
		StartPeriod durationValue `tfsdk:"start_period"`
	}
)

// backendDescription describes template.backend.
func backendDescription() string {
	return fmt.Sprintf("How environments run: `%s` (the default), a launch template and an Auto Scaling group per version; or `%s`, "+
		"an ECS service, a task definition revision and a target group of IP targets per version, in the cluster `ecs` names. "+
		"With `%[2]s`, set `ecs` and leave out `ami`, `instance_type`, `instance_profile`, `min_size` and `max_size`: "+
		"an environment's size is `desired_capacity` tasks.", rollout.BackendEC2, rollout.BackendECS)
}

// ecsAttribute is template.ecs: how the ecs backend runs every version.
func ecsAttribute(ctx context.Context, diags *diag.Diagnostics) schema.SingleNestedAttribute {
	def := rollout.DefaultECS()
	fargate := fmt.Sprintf("On `%s`, a task size Fargate runs", rollout.LaunchTypeFargate)
	smallest := rollout.FargateSizes[def.CPU]
	return schema.SingleNestedAttribute{
		MarkdownDescription: fmt.Sprintf("How backend `%s` runs every version: one ECS service per version in `cluster`, with a task definition "+
			"revision and a target group (IP targets, as tasks run in `awsvpc` network mode in `subnets` with `security_groups`) of its own. "+
			"Required with backend `%[1]s`, refused with `%s`.", rollout.BackendECS, rollout.BackendEC2),
		Optional: true,
		Attributes: map[string]schema.Attribute{
			"cluster": schema.StringAttribute{
				MarkdownDescription: "Name or ARN of the ECS cluster (owned by your Terraform) the services run in.",
				Required:            true,
				Validators:          []validator.String{stringvalidator.RegexMatches(rollout.ClusterPattern, "must be an ECS cluster name or ARN")},
			},
			"launch_type": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("`%s` or `%s`. Defaults to `%s` unless `capacity_providers` place the tasks; set one or the other.",
					rollout.LaunchTypeFargate, rollout.LaunchTypeEC2, def.LaunchType),
				Optional:      true,
				Computed:      true,
				Validators:    []validator.String{stringvalidator.OneOf(rollout.LaunchTypeFargate, rollout.LaunchTypeEC2)},
				PlanModifiers: []planmodifier.String{launchTypeDefault{}},
			},
			"capacity_providers": capacityProvidersAttribute(ctx, diags),
			"cpu": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("CPU units of each task (1024 is one vCPU). %s: %s. Defaults to %d.", fargate, fargateCPUs(), def.CPU),
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(int64(def.CPU)),
			},
			"memory": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Memory of each task in MiB. %s with `cpu`, such as %d to %d with %d CPU units. Defaults to %d.",
					fargate, smallest[0], smallest[len(smallest)-1], def.CPU, def.Memory),
				Optional: true,
				Computed: true,
				Default:  int64default.StaticInt64(int64(def.Memory)),
			},
			"task_role_arn": schema.StringAttribute{
				MarkdownDescription: "IAM role the container's code acts as.",
				Optional:            true,
				Validators:          []validator.String{roleARNValidator()},
			},
			"execution_role_arn": schema.StringAttribute{
				MarkdownDescription: "IAM role ECS acts as for the task: it pulls the image, reads `secrets` (native ECS secrets) and writes `logs`. " +
					"Required with `secrets`, and with `logs` on Fargate.",
				Optional:   true,
				Validators: []validator.String{roleARNValidator()},
			},
			"assign_public_ip": schema.BoolAttribute{
				MarkdownDescription: fmt.Sprintf("Whether tasks get a public IP address: Fargate tasks in public subnets need one to pull images from the internet. Defaults to `%t`.", def.AssignPublicIP),
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(def.AssignPublicIP),
			},
			"platform_version": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("Fargate platform version, such as `1.4.0`; `LATEST` when omitted. Not with launch type `%s`.", rollout.LaunchTypeEC2),
				Optional:            true,
				Validators:          []validator.String{stringvalidator.RegexMatches(rollout.PlatformVersionPattern, "must be LATEST or a version such as \"1.4.0\"")},
			},
			"logs":         ecsLogsAttribute(),
			"health_check": containerHealthCheckAttribute(),
		},
	}
}

func capacityProvidersAttribute(ctx context.Context, diags *diag.Diagnostics) schema.ListNestedAttribute {
	a := schema.ListNestedAttribute{
		MarkdownDescription: fmt.Sprintf("Capacity provider strategy placing the tasks instead of `launch_type`, at most %d entries, such as "+
			"`[{ name = \"FARGATE_SPOT\", weight = 3 }, { name = \"FARGATE\", weight = 1, base = 1 }]`. The providers must be the cluster's.", rollout.MaxCapacityProviders),
		Optional:   true,
		Computed:   true,
		Validators: []validator.List{listvalidator.SizeAtMost(rollout.MaxCapacityProviders)},
		NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
			"name": schema.StringAttribute{
				MarkdownDescription: "Name of the capacity provider, such as `FARGATE_SPOT`, each at most once.",
				Required:            true,
				Validators:          []validator.String{stringvalidator.RegexMatches(rollout.CapacityProviderPattern, "must be a capacity provider name")},
			},
			"weight": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Relative share of the tasks beyond the bases placed with this provider, 0 to %d.", rollout.MaxCapacityWeight),
				Required:            true,
				Validators:          []validator.Int64{int64validator.Between(0, rollout.MaxCapacityWeight)},
			},
			"base": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Tasks placed with this provider before any weight applies, 0 to %d. Defaults to 0.", rollout.MaxCapacityBase),
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(0),
				Validators:          []validator.Int64{int64validator.Between(0, rollout.MaxCapacityBase)},
			},
		}},
	}
	a.Default = listdefault.StaticValue(listValue(ctx, objectType(a.GetType(), diags), []capacityProviderModel{}, diags))
	return a
}

func ecsLogsAttribute() schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		MarkdownDescription: "Sends the container's output to CloudWatch Logs (the `awslogs` driver) in the endpoint's region. " +
			"Omit it to keep no logs. On Fargate it needs `execution_role_arn`.",
		Optional: true,
		Attributes: map[string]schema.Attribute{
			"group": schema.StringAttribute{
				MarkdownDescription: "Log group (owned by your Terraform), such as `/ecs/web`.",
				Required:            true,
				Validators:          []validator.String{stringvalidator.RegexMatches(rollout.LogGroupPattern, "must be a CloudWatch Logs group name")},
			},
			"stream_prefix": schema.StringAttribute{
				MarkdownDescription: "Prefix of the log streams, one per task: 1 to 255 characters without `:` or `*`.",
				Required:            true,
				Validators:          []validator.String{stringvalidator.RegexMatches(rollout.StreamPrefixPattern, "must be 1 to 255 characters without ':' or '*'")},
			},
		},
	}
}

func containerHealthCheckAttribute() schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		MarkdownDescription: "Health check ECS runs in the container (Docker's `HEALTHCHECK`), besides the load balancer's `template.health_check`: " +
			"ECS replaces a task that fails it. Omit it to rely on the load balancer's alone.",
		Optional: true,
		Attributes: map[string]schema.Attribute{
			"command": schema.ListAttribute{
				MarkdownDescription: "Command to run, starting with `CMD` or `CMD-SHELL`, such as `[\"CMD-SHELL\", \"curl -f http://localhost:8080/ || exit 1\"]`.",
				ElementType:         types.StringType,
				Required:            true,
			},
			"interval": requiredDurationAttribute("Time between checks", rollout.MinContainerCheck, rollout.MaxContainerCheck),
			"timeout":  requiredDurationAttribute("Time a check may take; shorter than `interval`", rollout.MinContainerTimeout, rollout.MaxContainerTimeout),
			"retries": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Consecutive failures before the container is unhealthy, 1 to %d.", rollout.MaxContainerRetries),
				Required:            true,
				Validators:          []validator.Int64{int64validator.Between(1, rollout.MaxContainerRetries)},
			},
			"start_period": durationAttribute("Grace time after the container starts during which failures are not counted", 0, 0, rollout.MaxStartPeriod),
		},
	}
}

func roleARNValidator() validator.String {
	return stringvalidator.RegexMatches(rollout.RoleARNPattern, "must be an IAM role ARN such as \"arn:aws:iam::123456789012:role/ionroller\"")
}

// fargateCPUs lists the CPU units Fargate runs.
func fargateCPUs() string {
	cpus := slices.Sorted(maps.Keys(rollout.FargateSizes))
	words := make([]string, len(cpus))
	for i, cpu := range cpus {
		words[i] = fmt.Sprint(cpu)
	}
	return strings.Join(words, ", ")
}

// ec2Default plans an attribute only the ec2 backend uses, when the
// configuration leaves it out: its default with backend ec2, and null with
// any other (the shifter refuses it there), so that the plan is known as
// soon as the backend is.
type ec2Default struct {
	str types.String
	num types.Int64
}

func ec2DefaultString(def string) ec2Default { return ec2Default{str: types.StringValue(def)} }

func ec2DefaultInt64(def int) ec2Default { return ec2Default{num: types.Int64Value(int64(def))} }

func (m ec2Default) Description(context.Context) string {
	value := m.str.String()
	if m.str.IsNull() {
		value = m.num.String()
	}
	return fmt.Sprintf("%s with backend %q, null with %q", value, rollout.BackendEC2, rollout.BackendECS)
}

func (m ec2Default) MarkdownDescription(ctx context.Context) string { return m.Description(ctx) }

func (m ec2Default) PlanModifyString(ctx context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	if req.ConfigValue.IsNull() {
		resp.PlanValue = forBackend(ctx, req.Plan, req.Path, m.str, types.StringNull(), types.StringUnknown(), &resp.Diagnostics)
	}
}

func (m ec2Default) PlanModifyInt64(ctx context.Context, req planmodifier.Int64Request, resp *planmodifier.Int64Response) {
	if req.ConfigValue.IsNull() {
		resp.PlanValue = forBackend(ctx, req.Plan, req.Path, m.num, types.Int64Null(), types.Int64Unknown(), &resp.Diagnostics)
	}
}

// forBackend returns ec2 when the planned backend of the template p is an
// attribute of is ec2, unknown while the backend is unknown, other
// otherwise.
func forBackend[T attr.Value](ctx context.Context, plan tfsdk.Plan, p path.Path, ec2, other, unknown T, diags *diag.Diagnostics) T {
	var backend types.String
	diags.Append(plan.GetAttribute(ctx, p.ParentPath().AtName("backend"), &backend)...)
	switch {
	case backend.IsUnknown():
		return unknown
	case backend.ValueString() == rollout.BackendEC2:
		return ec2
	}
	return other
}

// launchTypeDefault plans template.ecs.launch_type when the configuration
// leaves it out: rollout.DefaultECS's, unless capacity providers place the
// tasks.
type launchTypeDefault struct{}

func (launchTypeDefault) Description(context.Context) string {
	return fmt.Sprintf("%s unless capacity_providers is set", rollout.DefaultECS().LaunchType)
}

func (m launchTypeDefault) MarkdownDescription(ctx context.Context) string { return m.Description(ctx) }

func (launchTypeDefault) PlanModifyString(ctx context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	if !req.ConfigValue.IsNull() {
		return
	}
	var providers types.List
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, req.Path.ParentPath().AtName("capacity_providers"), &providers)...)
	switch {
	case providers.IsUnknown():
		resp.PlanValue = types.StringUnknown()
	case len(providers.Elements()) > 0:
		resp.PlanValue = types.StringNull()
	default:
		resp.PlanValue = types.StringValue(rollout.DefaultECS().LaunchType)
	}
}

// backendFields returns t as far as rollout's Template.ValidateBackend reads
// it: its backend, and which of the fields of one backend are set, whether
// or not their values are known.
func backendFields(t templateModel, backend string) rollout.Template {
	set := func(v attr.Value) string {
		if v.IsNull() {
			return ""
		}
		return "set"
	}
	count := func(v attr.Value) int { return len(set(v)) }
	out := rollout.Template{Backend: backend, AMI: set(t.AMI), InstanceType: set(t.InstanceType), InstanceProfile: set(t.InstanceProfile),
		MinSize: count(t.MinSize), MaxSize: count(t.MaxSize)}
	if !t.ECS.IsNull() {
		out.ECS = &rollout.ECS{}
	}
	return out
}

// knownBackend returns the backend the configuration t names (the default
// when it names none), and whether it is known and one there is.
func knownBackend(t templateModel, def string) (string, bool) {
	switch {
	case t.Backend.IsUnknown():
		return "", false
	case t.Backend.IsNull():
		return def, true
	}
	return t.Backend.ValueString(), slices.Contains(rollout.Backends, t.Backend.ValueString())
}
