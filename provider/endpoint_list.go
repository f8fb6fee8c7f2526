package provider

import (
	"context"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/list"
	"github.com/hashicorp/terraform-plugin-framework/list/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/ionroller/terraform-provider-ionroller/shifter/client"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

var (
	_ list.ListResource              = (*endpointList)(nil)
	_ list.ListResourceWithConfigure = (*endpointList)(nil)
)

// NewEndpointList returns the ionroller_endpoint list resource: `terraform
// query` (Terraform 1.14 and later) finds existing endpoints with it, so a
// team can adopt them.
func NewEndpointList() list.ListResource {
	return &endpointList{}
}

// endpointList finds the endpoints the provider's token may see.
type endpointList struct {
	client *client.Client
}

// endpointFilter is the config of a list block: which endpoints to find.
type endpointFilter struct {
	Team       types.String `tfsdk:"team"`
	NamePrefix types.String `tfsdk:"name_prefix"`
}

// endpointFilterAttributes are the filters every list resource takes.
func endpointFilterAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"team": schema.StringAttribute{
			MarkdownDescription: "Only the endpoints of this team.",
			Optional:            true,
			Validators:          []validator.String{stringvalidator.RegexMatches(rollout.TeamPattern, "must be a team name")},
		},
		"name_prefix": schema.StringAttribute{
			MarkdownDescription: "Only the endpoints whose name starts with this.",
			Optional:            true,
		},
	}
}

// find reads a list block's config into config (of which f is part) and
// returns the endpoints f selects, in the shifter's order; false, with the
// diagnostics in stream, when it cannot.
func (f *endpointFilter) find(ctx context.Context, req list.ListRequest, config any, c *client.Client, stream *list.ListResultsStream) ([]rollout.EndpointView, bool) {
	diags := req.Config.Get(ctx, config)
	if diags.HasError() {
		stream.Results = list.ListResultsStreamDiagnostics(diags)
		return nil, false
	}
	all, err := c.ListEndpoints(ctx, f.Team.ValueString())
	if err != nil {
		diags.AddError("Error listing endpoints", err.Error())
		stream.Results = list.ListResultsStreamDiagnostics(diags)
		return nil, false
	}
	var found []rollout.EndpointView
	for _, v := range all {
		if strings.HasPrefix(v.Endpoint.Name, f.NamePrefix.ValueString()) {
			found = append(found, v)
		}
	}
	return found, true
}

func (l *endpointList) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_endpoint"
}

func (l *endpointList) ListResourceConfigSchema(_ context.Context, _ list.ListResourceSchemaRequest, resp *list.ListResourceSchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Finds the endpoints the provider's token may see, for `terraform query` to import them.",
		Attributes:          endpointFilterAttributes(),
	}
}

func (l *endpointList) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	l.client = clientFrom(req.ProviderData, &resp.Diagnostics)
}

func (l *endpointList) List(ctx context.Context, req list.ListRequest, stream *list.ListResultsStream) {
	var filter endpointFilter
	found, ok := filter.find(ctx, req, &filter, l.client, stream)
	if !ok {
		return
	}
	stream.Results = func(push func(list.ListResult) bool) {
		for _, v := range found {
			result := req.NewListResult(ctx)
			result.DisplayName = v.Endpoint.Name
			result.Diagnostics.Append(result.Identity.Set(ctx, endpointIdentity{Name: types.StringValue(v.Endpoint.Name)})...)
			if req.IncludeResource {
				m := endpointResourceModel{Timeouts: nullTimeouts(req.ResourceSchema.Type(), &result.Diagnostics)}
				result.Diagnostics.Append(flattenEndpoint(ctx, req.ResourceSchema.Type(), v, &m.endpointModel)...)
				result.Diagnostics.Append(result.Resource.Set(ctx, m)...)
			}
			if !push(result) {
				return
			}
		}
	}
}

// nullTimeouts is an unset timeouts block of the resource whose schema type
// is schemaType: a found resource has none, as after an import.
func nullTimeouts(schemaType attr.Type, diags *diag.Diagnostics) timeouts.Value {
	// The timeouts block's type is timeouts.Type, an object type underneath.
	t, ok := objectType(schemaType, diags).AttrTypes["timeouts"].(attr.TypeWithAttributeTypes)
	if !ok {
		diags.AddError("Unexpected Schema Type", "The resource has no timeouts block. This is a bug in the provider.")
		return timeouts.Value{}
	}
	return timeouts.Value{Object: types.ObjectNull(t.AttributeTypes())}
}
