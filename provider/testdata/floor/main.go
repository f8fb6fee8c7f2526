// Command floor is the floor the provider's Terraform benchmarks measure it
// against (provider/bench_test.go): a terraform-plugin-framework provider
// with ionroller's schemas, whose resources do nothing.
//
// The schemas are the provider's own, taken from the provider package when
// the floor starts, so they cannot drift from it: the provider block, every
// resource with its attributes, nested attributes, defaults, validators,
// plan modifiers and identity, and the data sources. What the floor leaves
// out is the provider's code around them: Configure, ValidateConfig,
// ModifyPlan, and CRUD that asks the shifter. Create and Update copy the
// plan to the state (values known only after apply become null), Read and
// Delete keep what terraform gives them. The difference between a plan with
// the provider and a plan with the floor, of the same configuration and
// state, is what the provider's code costs.
//
// It is served under the provider's address, so the benchmarks point
// terraform at it with dev_overrides and use the same configuration, and
// the same state, for both.
package main

import (
	"context"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/action"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/list"
	fwprovider "github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/ionroller/terraform-provider-ionroller/provider"
)

var (
	_ fwprovider.ProviderWithActions       = floorProvider{}
	_ fwprovider.ProviderWithListResources = floorProvider{}
	_ resource.ResourceWithIdentity        = floorResource{}
)

func main() {
	// As the provider's main does.
	provider.QuietSDKLogs()
	err := providerserver.Serve(context.Background(), func() fwprovider.Provider {
		return floorProvider{provider.New("floor")()}
	}, providerserver.ServeOpts{Address: "registry.terraform.io/ionroller/ionroller", ProtocolVersion: 6})
	if err != nil {
		log.Fatal(err)
	}
}

// floorProvider is the provider with its Configure doing nothing and its
// resources replaced by floorResources. Its metadata, schema, data sources,
// actions and list resources are the provider's: terraform reads their
// schemas as it reads the provider's.
type floorProvider struct {
	fwprovider.Provider
}

func (floorProvider) Configure(context.Context, fwprovider.ConfigureRequest, *fwprovider.ConfigureResponse) {
}

func (p floorProvider) Resources(ctx context.Context) []func() resource.Resource {
	var floors []func() resource.Resource
	for _, newResource := range p.Provider.Resources(ctx) {
		floors = append(floors, func() resource.Resource { return floorResource{newResource()} })
	}
	return floors
}

func (p floorProvider) Actions(ctx context.Context) []func() action.Action {
	if a, ok := p.Provider.(fwprovider.ProviderWithActions); ok {
		return a.Actions(ctx)
	}
	return nil
}

func (p floorProvider) ListResources(ctx context.Context) []func() list.ListResource {
	if l, ok := p.Provider.(fwprovider.ProviderWithListResources); ok {
		return l.ListResources(ctx)
	}
	return nil
}

// floorResource is a resource of the provider with nothing but its type
// name, its schema and its identity schema.
type floorResource struct {
	real resource.Resource
}

func (r floorResource) Metadata(ctx context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	r.real.Metadata(ctx, req, resp)
}

func (r floorResource) Schema(ctx context.Context, req resource.SchemaRequest, resp *resource.SchemaResponse) {
	r.real.Schema(ctx, req, resp)
}

// IdentitySchema is the real resource's; every resource of the provider
// has one.
func (r floorResource) IdentitySchema(ctx context.Context, req resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	if id, ok := r.real.(resource.ResourceWithIdentity); ok {
		id.IdentitySchema(ctx, req, resp)
	}
}

// Create copies the plan to the state.
func (floorResource) Create(_ context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	resp.State.Raw = applied(req.Plan.Raw)
	identify(resp.State, resp.Identity, &resp.Diagnostics)
}

// Read keeps the state terraform has.
func (floorResource) Read(_ context.Context, _ resource.ReadRequest, resp *resource.ReadResponse) {
	identify(resp.State, resp.Identity, &resp.Diagnostics)
}

// Update copies the plan to the state.
func (floorResource) Update(_ context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	resp.State = tfsdk.State{Schema: req.Plan.Schema, Raw: applied(req.Plan.Raw)}
	identify(resp.State, resp.Identity, &resp.Diagnostics)
}

// Delete does nothing: the framework removes the resource from the state.
func (floorResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}

// identify sets an identity terraform did not give (Terraform before 1.12
// keeps none, and the framework wants one after every create, read and
// update) from the state's attributes of the same names.
func identify(state tfsdk.State, identity *tfsdk.ResourceIdentity, diags *diag.Diagnostics) {
	if identity == nil || !identity.Raw.IsFullyNull() {
		return
	}
	var attrs map[string]tftypes.Value
	if err := state.Raw.As(&attrs); err != nil {
		diags.AddError("Floor state", err.Error())
		return
	}
	id := map[string]tftypes.Value{}
	for name := range identity.Schema.GetAttributes() {
		id[name] = attrs[name]
	}
	identity.Raw = tftypes.NewValue(identity.Raw.Type(), id)
}

// applied is plan as an apply leaves it: what the plan knows, and null for
// what it knows only after apply.
func applied(plan tftypes.Value) tftypes.Value {
	v, err := tftypes.Transform(plan, func(_ *tftypes.AttributePath, v tftypes.Value) (tftypes.Value, error) {
		if !v.IsKnown() {
			return tftypes.NewValue(v.Type(), nil), nil
		}
		return v, nil
	})
	if err != nil {
		// Transform fails only when the callback does, and it never does.
		panic(err)
	}
	return v
}
