// Package provider is the ionroller Terraform provider (terraform-plugin-framework).
package provider

import (
	"context"
	"crypto/x509"
	"fmt"
	"github.com/hashicorp/terraform-plugin-framework/action"
	"os"
	"regexp"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/list"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/ionroller/terraform-provider-ionroller/shifter/client"
)

var (
	_ provider.ProviderWithActions       = (*ionrollerProvider)(nil)
	_ provider.ProviderWithListResources = (*ionrollerProvider)(nil)
)

// Environment variables the provider reads when its block leaves a setting out.
const (
	addressEnv = "IONROLLER_ADDR"
	tokenEnv   = "IONROLLER_TOKEN"
	// workloadIdentityEnv is where HCP Terraform puts a run's workload
	// identity token; a tagged token is in workloadIdentityEnv_TAG.
	workloadIdentityEnv = "TFC_WORKLOAD_IDENTITY_TOKEN"
)

// workloadIdentityTag is what HCP Terraform accepts as the tag of a
// TFC_WORKLOAD_IDENTITY_AUDIENCE_TAG variable, and so of the token's.
var workloadIdentityTag = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// New returns a constructor of the provider, as providerserver wants it.
func New(version string) func() provider.Provider {
	return func() provider.Provider {
		return &ionrollerProvider{version: version}
	}
}

type ionrollerProvider struct {
	version string
}

type providerModel struct {
	Address        types.String  `tfsdk:"address"`
	Token          types.String  `tfsdk:"token"`
	WorkloadTag    types.String  `tfsdk:"workload_identity_tag"`
	CABundle       types.String  `tfsdk:"ca_bundle"`
	CAFile         types.String  `tfsdk:"ca_file"`
	RequestTimeout durationValue `tfsdk:"request_timeout"`
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
				MarkdownDescription: "URL of the shifter's API, for example `https://shifter.example.com:7070`. " +
					"Defaults to the `" + addressEnv + "` environment variable; one of the two is required by every resource and " +
					"data source but `ionroller_shifter_iam_policy`, which never asks the shifter.",
				Optional: true,
			},
			"token": schema.StringAttribute{
				MarkdownDescription: "Bearer token for the shifter's API. Defaults to the `" + tokenEnv + "` environment variable, " +
					"then, in an HCP Terraform run, to the run's workload identity token `" + workloadIdentityEnv + "` " +
					"(see `workload_identity_tag` and the HCP Terraform workload identity guide). " +
					"A shifter with anonymous access needs none.",
				Optional:  true,
				Sensitive: true,
			},
			"workload_identity_tag": schema.StringAttribute{
				MarkdownDescription: "The tag of the HCP Terraform workload identity token to use when neither `token` nor `" + tokenEnv + "` " +
					"is set: with tag `IONROLLER`, the provider reads `" + workloadIdentityEnv + "_IONROLLER`, the token HCP Terraform " +
					"makes for the audience in the workspace's `TFC_WORKLOAD_IDENTITY_AUDIENCE_IONROLLER`, and never the untagged one. " +
					"Without a tag the provider reads `" + workloadIdentityEnv + "`.",
				Optional: true,
				Validators: []validator.String{stringvalidator.RegexMatches(workloadIdentityTag,
					"must be letters, digits and underscores, as in the name of the TFC_WORKLOAD_IDENTITY_AUDIENCE_<TAG> variable")},
			},
			"ca_bundle": schema.StringAttribute{
				MarkdownDescription: "PEM certificates to trust, instead of the system's, for an `https` shifter with its own CA.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.ConflictsWith(path.MatchRoot("ca_file"))},
			},
			"ca_file": schema.StringAttribute{
				MarkdownDescription: "Path of a PEM file of certificates to trust; the file form of `ca_bundle`.",
				Optional:            true,
			},
			"request_timeout": schema.StringAttribute{
				MarkdownDescription: "Bound on each request to the shifter, such as `30s` (the default). " +
					"Waiting for a rollout is many short requests, bounded by the resources' `timeouts`.",
				CustomType: durationType{},
				Optional:   true,
				Validators: []validator.String{durationBetween(time.Second, 10*time.Minute)},
			},
		},
	}
}

// Configure builds the one shifter client every resource and data source
// uses. Without an address it builds none, and only what needs the shifter
// fails (clientFrom): ionroller_shifter_iam_policy works without one, in the
// configuration that creates the shifter's role before any shifter runs.
func (p *ionrollerProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var config providerModel
	resp.Diagnostics.Append(getModel(ctx, req.Config, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	for name, v := range map[string]attr.Value{
		"address": config.Address, "token": config.Token, "workload_identity_tag": config.WorkloadTag, "ca_bundle": config.CABundle,
		"ca_file": config.CAFile, "request_timeout": config.RequestTimeout,
	} {
		if v.IsUnknown() {
			resp.Diagnostics.AddAttributeError(path.Root(name), "Unknown Provider Setting", fmt.Sprintf(
				"The provider needs %s to reach the shifter while planning, but its value is only known after apply. "+
					"Set it from a value known at plan time (a variable, or the environment variables the provider reads).", name))
		}
	}
	if resp.Diagnostics.HasError() {
		return
	}

	address := valueOrEnv(config.Address, addressEnv)
	if address == "" {
		resp.ResourceData, resp.DataSourceData, resp.ActionData, resp.ListResourceData = noAddress{}, noAddress{}, noAddress{}, noAddress{}
		return
	}
	token, source := tokenOf(config)
	if token == "" && !config.WorkloadTag.IsNull() {
		resp.Diagnostics.AddAttributeError(path.Root("workload_identity_tag"), "No Workload Identity Token", fmt.Sprintf(
			"%s is not set: HCP Terraform sets it in runs of a workspace with the variable TFC_WORKLOAD_IDENTITY_AUDIENCE_%s, "+
				"the audience the shifter's jwt_issuer expects.", source, config.WorkloadTag.ValueString()))
		return
	}
	if token != "" {
		ctx = tflog.MaskAllFieldValuesStrings(ctx, token)
		ctx = tflog.MaskMessageStrings(ctx, token)
		tflog.Debug(ctx, "shifter token chosen", map[string]any{"from": source})
	}
	timeout := client.DefaultTimeout
	if !config.RequestTimeout.IsNull() {
		d, err := config.RequestTimeout.duration()
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("request_timeout"), "Invalid Request Timeout", err.Error())
			return
		}
		timeout = d.D()
	}
	opts := []client.Option{client.WithToken(token), client.WithTimeout(timeout), client.WithLogger(newClientLogger(ctx))}
	if ca := caBundle(config, &resp.Diagnostics); ca != nil {
		opts = append(opts, client.WithCABundle(ca))
	}
	if resp.Diagnostics.HasError() {
		return
	}

	c, err := client.New(address, opts...)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("address"), "Invalid Shifter Address", err.Error())
		return
	}
	tflog.Debug(ctx, "shifter client configured", map[string]any{"address": address, "request_timeout": timeout.String()})
	data := newProviderData(c)
	resp.ResourceData, resp.DataSourceData, resp.ActionData, resp.ListResourceData = data, data, data, data
}

func (p *ionrollerProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		NewEndpointResource,
		NewReleaseResource,
	}
}

// ListResources find existing endpoints and releases for `terraform query`
// (Terraform 1.14 and later).
func (p *ionrollerProvider) ListResources(context.Context) []func() list.ListResource {
	return []func() list.ListResource{
		NewEndpointList,
		NewReleaseList,
	}
}

// Actions are the steering verbs (Terraform 1.14 and later).
func (p *ionrollerProvider) Actions(context.Context) []func() action.Action {
	return []func() action.Action{
		NewPromoteAction,
		NewPauseAction,
		NewResumeAction,
		NewAbortAction,
		NewRollbackAction,
	}
}

func (p *ionrollerProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		NewEndpointDataSource,
		NewEndpointsDataSource,
		NewShifterIAMPolicyDataSource,
	}
}

// caBundle returns the PEM certificates of ca_bundle or ca_file, nil when
// neither is set. An unreadable file or a bundle without a certificate is
// reported at its attribute.
func caBundle(config providerModel, diags *diag.Diagnostics) []byte {
	attribute, pem := path.Root("ca_bundle"), []byte(config.CABundle.ValueString())
	if !config.CAFile.IsNull() {
		file := config.CAFile.ValueString()
		b, err := os.ReadFile(file)
		if err != nil {
			diags.AddAttributeError(path.Root("ca_file"), "Unreadable CA File", err.Error())
			return nil
		}
		attribute, pem = path.Root("ca_file"), b
	} else if config.CABundle.IsNull() {
		return nil
	}
	if !x509.NewCertPool().AppendCertsFromPEM(pem) {
		diags.AddAttributeError(attribute, "Invalid CA Bundle", "It holds no PEM certificate.")
		return nil
	}
	return pem
}

// tokenOf returns the token to send and where it came from: token, else
// IONROLLER_TOKEN, else the HCP Terraform run's workload identity token
// (the tagged one when workload_identity_tag is set: a tag names a token
// made for another audience than the untagged one, so it never falls back).
func tokenOf(config providerModel) (token, source string) {
	if !config.Token.IsNull() {
		return config.Token.ValueString(), "token"
	}
	if t := os.Getenv(tokenEnv); t != "" {
		return t, tokenEnv
	}
	env := workloadIdentityEnv
	if tag := config.WorkloadTag.ValueString(); tag != "" {
		env += "_" + tag
	}
	return os.Getenv(env), env
}

// valueOrEnv returns v, or the environment variable env when v is null.
func valueOrEnv(v types.String, env string) string {
	if !v.IsNull() {
		return v.ValueString()
	}
	return os.Getenv(env)
}
