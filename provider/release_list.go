package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/list"
	"github.com/hashicorp/terraform-plugin-framework/list/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

var (
	_ list.ListResource              = (*releaseList)(nil)
	_ list.ListResourceWithConfigure = (*releaseList)(nil)
)

// NewReleaseList returns the ionroller_release list resource: `terraform
// query` (Terraform 1.14 and later) finds the releases declared on existing
// endpoints with it, so a team can adopt them.
func NewReleaseList() list.ListResource {
	return &releaseList{}
}

// releaseList finds the releases declared on the endpoints the provider's
// token may see. It is named, configured and flattens a release as the
// resource is and does.
type releaseList struct {
	releaseResource
}

type releaseFilter struct {
	endpointFilter
	Track types.String `tfsdk:"track"`
}

func (l *releaseList) ListResourceConfigSchema(_ context.Context, _ list.ListResourceSchemaRequest, resp *list.ListResourceSchemaResponse) {
	attributes := endpointFilterAttributes()
	attributes["track"] = schema.StringAttribute{
		MarkdownDescription: "Only the releases of this track: `production` or `preview`.",
		Optional:            true,
		Validators:          []validator.String{stringvalidator.OneOf(string(rollout.Production), string(rollout.Preview))},
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Finds the releases declared on the endpoints the provider's token may see, for `terraform query` to import them.",
		Attributes:          attributes,
	}
}

func (l *releaseList) List(ctx context.Context, req list.ListRequest, stream *list.ListResultsStream) {
	var filter releaseFilter
	endpoints, ok := filter.find(ctx, req, &filter, l.client, stream)
	if !ok {
		return
	}
	tracks := rollout.Tracks
	if !filter.Track.IsNull() {
		tracks = []rollout.Track{rollout.Track(filter.Track.ValueString())}
	}
	stream.Results = func(push func(list.ListResult) bool) {
		for _, ep := range endpoints {
			for _, track := range tracks {
				result := req.NewListResult(ctx)
				view, err := l.client.GetRelease(ctx, ep.Endpoint.Name, track)
				if isNotFound(err) {
					continue // nothing declared on this track
				}
				if err != nil {
					result.Diagnostics.AddError("Error reading "+releaseObject(ep.Endpoint.Name, track), err.Error())
				} else {
					l.result(ctx, req, view, &result)
				}
				if !push(result) {
					return
				}
			}
		}
	}
}

// result sets the identity of the release in view and, if asked, its state
// as an import would leave it.
func (l *releaseList) result(ctx context.Context, req list.ListRequest, view rollout.ReleaseView, result *list.ListResult) {
	rel := view.Release
	result.DisplayName = releaseID(rel.Endpoint, rel.Track)
	m := releaseResourceModel{Endpoint: types.StringValue(rel.Endpoint), Track: types.StringValue(string(rel.Track))}
	result.Diagnostics.Append(result.Identity.Set(ctx, m.identity())...)
	if req.IncludeResource {
		// As ImportState leaves it.
		m.WaitFor, m.Timeouts = types.StringValue(waitHealthy), nullTimeouts(req.ResourceSchema.Type(), &result.Diagnostics)
		result.Diagnostics.Append(l.flatten(ctx, view, &m, l.client.GetEndpoint)...)
		result.Diagnostics.Append(result.Resource.Set(ctx, m)...)
	}
}
