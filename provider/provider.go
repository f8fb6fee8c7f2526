// Package provider is the ionroller Terraform provider (terraform-plugin-framework).
package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
)

var _ provider.Provider = (*ionrollerProvider)(nil)

// New returns a constructor of the provider, as providerserver wants it.
func New(version string) func() provider.Provider {
	return func() provider.Provider {
		return &ionrollerProvider{version: version}
	}
}

type ionrollerProvider struct {
	version string
}

func (p *ionrollerProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "ionroller"
	resp.Version = p.version
}

func (p *ionrollerProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Gradual, immutable deploys of Docker services on AWS, rolled out by the ionroller shifter.",
		Attributes: map[string]schema.Attribute{
			"address": schema.StringAttribute{
				MarkdownDescription: "URL of the shifter's API, for example `https://shifter.example.com:7070`.",
				Optional:            true,
			},
			"token": schema.StringAttribute{
				MarkdownDescription: "Bearer token for the shifter's API.",
				Optional:            true,
				Sensitive:           true,
			},
		},
	}
}

// Configure does nothing yet: the shifter client is built here once the provider has resources.
func (p *ionrollerProvider) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}

func (p *ionrollerProvider) Resources(context.Context) []func() resource.Resource {
	return nil
}

func (p *ionrollerProvider) DataSources(context.Context) []func() datasource.DataSource {
	return nil
}
