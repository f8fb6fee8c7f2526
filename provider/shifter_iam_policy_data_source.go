package provider

import (
	"context"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-validators/boolvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/iampolicy"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

var _ datasource.DataSource = (*shifterIAMPolicyDataSource)(nil)

// NewShifterIAMPolicyDataSource returns the ionroller_shifter_iam_policy
// data source.
func NewShifterIAMPolicyDataSource() datasource.DataSource {
	return &shifterIAMPolicyDataSource{}
}

// shifterIAMPolicyDataSource renders the IAM policy the shifter needs. It is
// a function of its inputs and never asks the shifter, so that the
// configuration that creates the shifter's role can use it before any
// shifter runs (the provider needs no address for it).
type shifterIAMPolicyDataSource struct{}

type shifterIAMPolicyModel struct {
	ShifterID        types.String `tfsdk:"shifter_id"`
	Partition        types.String `tfsdk:"partition"`
	Region           types.String `tfsdk:"region"`
	AccountID        types.String `tfsdk:"account_id"`
	TableARN         types.String `tfsdk:"dynamodb_table_arn"`
	CreateTable      types.Bool   `tfsdk:"dynamodb_create_table"`
	InstanceRoleARNs types.Set    `tfsdk:"instance_role_arns"`
	TaskRoleARNs     types.Set    `tfsdk:"task_role_arns"`
	EndpointRoleARNs types.Set    `tfsdk:"endpoint_role_arns"`
	TopicARNs        types.Set    `tfsdk:"sns_topic_arns"`
	HostedZoneIDs    types.Set    `tfsdk:"hosted_zone_ids"`
	JSON             types.String `tfsdk:"json"`
}

var (
	partitionPattern = regexp.MustCompile(`^aws(-[a-z]+)*$`)
	accountPattern   = regexp.MustCompile(`^[0-9]{12}$`)
	tableARNPattern  = regexp.MustCompile(`^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]{3,255}$`)
	topicARNPattern  = regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$`)
)

func (d *shifterIAMPolicyDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_shifter_iam_policy"
}

func (d *shifterIAMPolicyDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	roleARNs := []validator.Set{setvalidator.ValueStringsAre(stringvalidator.RegexMatches(rollout.RoleARNPattern, "must be an IAM role ARN"))}
	resp.Schema = schema.Schema{
		MarkdownDescription: "The IAM policy the shifter needs, for the role it runs as: what its AWS calls require and nothing " +
			"more, with changes confined to the resources it tagged `ionroller:shifter`. A function of its inputs: it never asks " +
			"the shifter, and works in a configuration whose provider block has no `address` (the one that creates the shifter's role).",
		Attributes: map[string]schema.Attribute{
			"shifter_id": schema.StringAttribute{
				MarkdownDescription: "The shifter's `shifter_id`: creating and changing are allowed only for resources whose " +
					"`ionroller:shifter` tag is this ID. Without it, any value of the tag is allowed (the tag must be there).",
				Optional:   true,
				Validators: []validator.String{stringvalidator.RegexMatches(rollout.ShifterIDPattern, "must be a shifter ID: 1 to 20 lowercase letters, digits and hyphens")},
			},
			"partition": schema.StringAttribute{
				MarkdownDescription: "The AWS partition of the ARNs the policy writes. Default `aws`.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.RegexMatches(partitionPattern, "must be an AWS partition, such as aws or aws-cn")},
			},
			"region": schema.StringAttribute{
				MarkdownDescription: "Only the resources of this region may be created and changed. Default: any region.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.RegexMatches(rollout.RegionPattern, "must be an AWS region")},
			},
			"account_id": schema.StringAttribute{
				MarkdownDescription: "Only the resources of this account may be created and changed. Default: any account.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.RegexMatches(accountPattern, "must be 12 digits")},
			},
			"dynamodb_table_arn": schema.StringAttribute{
				MarkdownDescription: "ARN of the DynamoDB store's table. Without it the policy grants no DynamoDB access " +
					"(the embedded bbolt store needs none).",
				Optional:   true,
				Validators: []validator.String{stringvalidator.RegexMatches(tableARNPattern, "must be a DynamoDB table ARN")},
			},
			"dynamodb_create_table": schema.BoolAttribute{
				MarkdownDescription: "Whether the shifter creates the table (`create = true` in its `dynamodb` block): adds " +
					"`CreateTable`, `DescribeTable` and `UpdateTimeToLive` on it. Default `false`.",
				Optional:   true,
				Validators: []validator.Bool{boolvalidator.AlsoRequires(path.MatchRoot("dynamodb_table_arn"))},
			},
			"instance_role_arns": schema.SetAttribute{
				MarkdownDescription: "ARNs of the roles of the instance profiles the endpoints' templates name: the shifter " +
					"passes them to EC2 (`iam:PassRole`) when an environment's instances launch. Without them, templates cannot name an instance profile.",
				ElementType: types.StringType,
				Optional:    true,
				Validators:  roleARNs,
			},
			"task_role_arns": schema.SetAttribute{
				MarkdownDescription: "ARNs of the task and task execution roles the endpoints' ecs templates name: the shifter " +
					"passes them to ECS (`iam:PassRole`) when it registers an environment's task definition.",
				ElementType: types.StringType,
				Optional:    true,
				Validators:  roleARNs,
			},
			"endpoint_role_arns": schema.SetAttribute{
				MarkdownDescription: "ARNs of the roles endpoints in other accounts name (`aws.role_arn`), which the shifter " +
					"assumes. Each of those roles needs this policy too, made without the DynamoDB table and these roles.",
				ElementType: types.StringType,
				Optional:    true,
				Validators:  roleARNs,
			},
			"sns_topic_arns": schema.SetAttribute{
				MarkdownDescription: "ARNs of the SNS topics the endpoints' notifications publish to.",
				ElementType:         types.StringType,
				Optional:            true,
				Validators:          []validator.Set{setvalidator.ValueStringsAre(stringvalidator.RegexMatches(topicARNPattern, "must be an SNS topic ARN"))},
			},
			"hosted_zone_ids": schema.SetAttribute{
				MarkdownDescription: "IDs of the Route 53 hosted zones whose weighted A records endpoints route by (`traffic.route53`).",
				ElementType:         types.StringType,
				Optional:            true,
				Validators:          []validator.Set{setvalidator.ValueStringsAre(stringvalidator.RegexMatches(rollout.HostedZoneIDPattern, "must be a Route 53 hosted zone ID"))},
			},
			"json": schema.StringAttribute{
				MarkdownDescription: "The policy document, for `aws_iam_policy`'s `policy` or `aws_iam_role_policy`'s `policy`.",
				Computed:            true,
			},
		},
	}
}

func (d *shifterIAMPolicyDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var config shifterIAMPolicyModel
	resp.Diagnostics.Append(getModel(ctx, req.Config, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	options := iampolicy.Options{
		ShifterID:   config.ShifterID.ValueString(),
		Partition:   config.Partition.ValueString(),
		Region:      config.Region.ValueString(),
		Account:     config.AccountID.ValueString(),
		TableARN:    config.TableARN.ValueString(),
		CreateTable: config.CreateTable.ValueBool(),
	}
	for _, set := range []struct {
		from types.Set
		to   *[]string
	}{
		{config.InstanceRoleARNs, &options.InstanceRoleARNs},
		{config.TaskRoleARNs, &options.TaskRoleARNs},
		{config.EndpointRoleARNs, &options.EndpointRoleARNs},
		{config.TopicARNs, &options.TopicARNs},
		{config.HostedZoneIDs, &options.HostedZoneIDs},
	} {
		resp.Diagnostics.Append(set.from.ElementsAs(ctx, set.to, false)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	config.JSON = types.StringValue(iampolicy.Policy(options).JSON())
	resp.Diagnostics.Append(setState(ctx, &resp.State, &config)...)
}
