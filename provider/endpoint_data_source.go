package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/ionroller/terraform-provider-ionroller/shifter/client"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

var (
	_ datasource.DataSource              = (*endpointDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*endpointDataSource)(nil)
)

// NewEndpointDataSource returns the ionroller_endpoint data source.
func NewEndpointDataSource() datasource.DataSource {
	return &endpointDataSource{}
}

// endpointDataSource reads an endpoint's spec and live status, for
// configurations that use an endpoint another one manages.
type endpointDataSource struct {
	client *client.Client
}

func (d *endpointDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_endpoint"
}

func (d *endpointDataSource) Schema(ctx context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	attrs := computedAttributes(endpointAttributes(ctx, &resp.Diagnostics), &resp.Diagnostics)
	attrs["name"] = schema.StringAttribute{
		MarkdownDescription: "Name of the endpoint.",
		Required:            true,
		Validators:          []validator.String{stringvalidator.RegexMatches(rollout.NamePattern, "must be an endpoint name")},
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "An endpoint's spec and live status, as the shifter holds them: the same attributes as the " +
			"`ionroller_endpoint` resource, read-only.",
		Attributes: attrs,
	}
}

func (d *endpointDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.client = clientFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *endpointDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var config endpointModel
	resp.Diagnostics.Append(getModel(ctx, req.Config, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}

	name := config.Name.ValueString()
	ctx = tflog.SetField(ctx, "endpoint", name)
	view, err := d.client.GetEndpoint(ctx, name)
	if isNotFound(err) {
		resp.Diagnostics.AddError("Error reading "+endpointObject(name),
			fmt.Sprintf("The shifter has no endpoint named %q that this provider's token may see.", name))
		return
	}
	if err != nil {
		addShifterError(ctx, &resp.Diagnostics, resp.State, "reading", endpointObject(name), err)
		return
	}

	resp.Diagnostics.Append(flattenEndpoint(ctx, resp.State.Schema.Type(), view, &config)...)
	resp.Diagnostics.Append(setState(ctx, &resp.State, config)...)
}
