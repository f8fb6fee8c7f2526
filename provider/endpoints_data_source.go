package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/ionroller/terraform-provider-ionroller/shifter/client"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

var (
	_ datasource.DataSource              = (*endpointsDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*endpointsDataSource)(nil)
)

// NewEndpointsDataSource returns the ionroller_endpoints data source.
func NewEndpointsDataSource() datasource.DataSource {
	return &endpointsDataSource{}
}

// endpointsDataSource lists the endpoints the provider's token may see.
type endpointsDataSource struct {
	client *client.Client
}

type endpointsDataSourceModel struct {
	Team      types.String `tfsdk:"team"`
	Endpoints types.List   `tfsdk:"endpoints"`
}

type endpointSummaryModel struct {
	Name          types.String `tfsdk:"name"`
	Team          types.String `tfsdk:"team"`
	State         types.String `tfsdk:"state"`
	StableVersion types.String `tfsdk:"stable_version"`
	Weights       types.Map    `tfsdk:"weights"`
}

func (d *endpointsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_endpoints"
}

func (d *endpointsDataSource) Schema(ctx context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	status := computedAttributes(statusAttribute().Attributes, &resp.Diagnostics)
	resp.Schema = schema.Schema{
		MarkdownDescription: "The endpoints the provider's token may see, with what is live on each.",
		Attributes: map[string]schema.Attribute{
			"team": schema.StringAttribute{
				MarkdownDescription: "Only the endpoints of this team.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.RegexMatches(rollout.TeamPattern, "must be a team name")},
			},
			"endpoints": schema.ListNestedAttribute{
				MarkdownDescription: "The endpoints, by name.",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name":           schema.StringAttribute{MarkdownDescription: "Name of the endpoint.", Computed: true},
					"team":           schema.StringAttribute{MarkdownDescription: "Team that owns it.", Computed: true},
					"state":          status["state"],
					"stable_version": status["stable_version"],
					"weights":        status["weights"],
				}},
			},
		},
	}
}

func (d *endpointsDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.client = clientFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *endpointsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var config endpointsDataSourceModel
	resp.Diagnostics.Append(getModel(ctx, req.Config, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}

	team := config.Team.ValueString()
	views, err := d.client.ListEndpoints(ctx, team)
	if err != nil {
		addShifterError(ctx, &resp.Diagnostics, resp.State, "listing", "endpoints", err)
		return
	}
	tflog.Debug(ctx, "listed endpoints", map[string]any{"team": team, "count": len(views)})

	t := objectType(resp.State.Schema.Type(), &resp.Diagnostics)
	config.Endpoints = flattenEndpointSummaries(ctx, objectType(t.AttrTypes["endpoints"], &resp.Diagnostics), views, &resp.Diagnostics)
	resp.Diagnostics.Append(setState(ctx, &resp.State, config)...)
}

// flattenEndpointSummaries returns the list of views; t is the object type
// of its elements.
func flattenEndpointSummaries(ctx context.Context, t types.ObjectType, views []rollout.EndpointView, diags *diag.Diagnostics) types.List {
	summaries := make([]endpointSummaryModel, 0, len(views))
	for _, v := range views {
		summaries = append(summaries, endpointSummaryModel{
			Name:          types.StringValue(v.Endpoint.Name),
			Team:          stringOrNull(v.Endpoint.Team),
			State:         types.StringValue(v.Status.State),
			StableVersion: stringOrNull(v.Status.StableVersion),
			Weights:       int64Map(v.Status.Weights),
		})
	}
	return listValue(ctx, t, summaries, diags)
}
