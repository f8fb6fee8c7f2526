package provider

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/identityschema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/ionroller/terraform-provider-ionroller/shifter/client"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

var (
	_ resource.Resource                   = (*endpointResource)(nil)
	_ resource.ResourceWithConfigure      = (*endpointResource)(nil)
	_ resource.ResourceWithImportState    = (*endpointResource)(nil)
	_ resource.ResourceWithValidateConfig = (*endpointResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*endpointResource)(nil)
	_ resource.ResourceWithIdentity       = (*endpointResource)(nil)
)

// NewEndpointResource returns the ionroller_endpoint resource.
func NewEndpointResource() resource.Resource {
	return &endpointResource{}
}

// endpointResource declares an endpoint in the shifter: its spec is
// Terraform's, its status the shifter's.
type endpointResource struct {
	client  *client.Client
	planned *plannedEndpoints
	read    *readEndpoints
}

// endpointModel is an endpoint's spec and live status, as the resource and
// the data source show it.
type endpointModel struct {
	ID                 types.String `tfsdk:"id"`
	Name               types.String `tfsdk:"name"`
	Team               types.String `tfsdk:"team"`
	Placement          types.Object `tfsdk:"placement"`
	Traffic            types.Object `tfsdk:"traffic"`
	Template           types.Object `tfsdk:"template"`
	Policy             types.Object `tfsdk:"policy"`
	Notifications      types.Object `tfsdk:"notifications"`
	DeletionProtection types.Bool   `tfsdk:"deletion_protection"`
	ObserveOnly        types.Bool   `tfsdk:"observe_only"`
	Status             types.Object `tfsdk:"status"`
}

// endpointIdentity is what names an endpoint across configurations:
// import blocks and `terraform query` use it (Terraform 1.12 and later).
type endpointIdentity struct {
	Name types.String `tfsdk:"name"`
}

type endpointResourceModel struct {
	endpointModel
	Timeouts timeouts.Value `tfsdk:"timeouts"`
}

// defaultDeleteTimeout bounds the wait for the shifter to tear an endpoint
// down: draining targets through the deregistration delay, then deleting
// every environment and the rule.
const defaultDeleteTimeout = 30 * time.Minute

func (r *endpointResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_endpoint"
}

func (r *endpointResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "An HTTP service behind an Application Load Balancer listener, and how every version of it runs and is rolled out. " +
			"Terraform owns this spec; the shifter owns the environments, the listener rule and its weights, and reports them in `status`.",
		Attributes: endpointAttributes(ctx, &resp.Diagnostics),
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Delete: true}),
		},
	}
}

func (r *endpointResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = identityschema.Schema{
		Attributes: map[string]identityschema.Attribute{
			"name": identityschema.StringAttribute{RequiredForImport: true, Description: "The endpoint's name."},
		},
	}
}

func (r *endpointResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = clientFrom(req.ProviderData, &resp.Diagnostics)
	r.planned = plannedFrom(req.ProviderData)
	r.read = readFrom(req.ProviderData)
}

// plannedSpec reads a plan and the spec it declares; false when either has
// errors, which diags holds.
func plannedSpec(ctx context.Context, plan tfsdk.Plan, diags *diag.Diagnostics) (endpointResourceModel, rollout.Endpoint, bool) {
	var m endpointResourceModel
	diags.Append(getModel(ctx, plan, &m)...)
	if diags.HasError() {
		return m, rollout.Endpoint{}, false
	}
	ep, d := expandEndpoint(ctx, m.endpointModel)
	diags.Append(d...)
	return m, ep, !diags.HasError()
}

func (r *endpointResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	plan, ep, ok := plannedSpec(ctx, req.Plan, &resp.Diagnostics)
	if !ok {
		return
	}

	ctx = tflog.SetField(ctx, "endpoint", ep.Name)
	r.read.forget(ep.Name)
	view, err := r.client.PutEndpoint(ctx, ep, rollout.RevisionNew)
	if err != nil {
		if rollout.ErrorCode(err) == rollout.ECONFLICT {
			resp.Diagnostics.AddError("Error creating "+endpointObject(ep.Name), fmt.Sprintf(
				"The shifter refused to create it: %s\n\nIf an endpoint named %q exists, import it (terraform import ADDRESS %s) or choose another name.",
				apiMessage(err), ep.Name, ep.Name))
			return
		}
		addShifterError(ctx, &resp.Diagnostics, resp.State, "creating", endpointObject(ep.Name), err)
		return
	}
	tflog.Info(ctx, "endpoint created", map[string]any{"revision": view.Endpoint.Revision})

	resp.Diagnostics.Append(flattenEndpoint(ctx, resp.State.Schema.Type(), view, &plan.endpointModel)...)
	resp.Diagnostics.Append(setRevision(ctx, resp.Private, view.Endpoint.Revision)...)
	resp.Diagnostics.Append(setState(ctx, &resp.State, plan)...)
	resp.Diagnostics.Append(resp.Identity.Set(ctx, endpointIdentity{Name: plan.Name})...)
}

func (r *endpointResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state endpointResourceModel
	resp.Diagnostics.Append(getModel(ctx, req.State, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}

	// The identity is set first: the framework wants one after every Read,
	// even one that removes the resource, and state that an older Terraform
	// (before 1.12) kept has none.
	resp.Diagnostics.Append(resp.Identity.Set(ctx, endpointIdentity{Name: state.Name})...)
	name := state.Name.ValueString()
	ctx = tflog.SetField(ctx, "endpoint", name)
	view, err := r.client.GetEndpoint(ctx, name)
	if isNotFound(err) {
		tflog.Warn(ctx, "endpoint not found in the shifter; removing it from state")
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addShifterError(ctx, &resp.Diagnostics, resp.State, "reading", endpointObject(name), err)
		return
	}

	r.read.set(name, view)
	resp.Diagnostics.Append(flattenEndpoint(ctx, resp.State.Schema.Type(), view, &state.endpointModel)...)
	resp.Diagnostics.Append(setRevision(ctx, resp.Private, view.Endpoint.Revision)...)
	resp.Diagnostics.Append(setState(ctx, &resp.State, state)...)
	warnConditions(name, view.Status.Conditions, &resp.Diagnostics)
	warnDNS(name, view.Status, &resp.Diagnostics)
	warnOverride(name, view.Status, &resp.Diagnostics)
}

func (r *endpointResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state endpointResourceModel
	resp.Diagnostics.Append(getModel(ctx, req.Plan, &plan)...)
	resp.Diagnostics.Append(getModel(ctx, req.State, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	want, diags := expandEndpoint(ctx, plan.endpointModel)
	resp.Diagnostics.Append(diags...)
	have, diags := expandEndpoint(ctx, state.endpointModel)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}

	ctx = tflog.SetField(ctx, "endpoint", want.Name)
	if reflect.DeepEqual(want, have) {
		// Only Terraform's own settings (timeouts) changed: the shifter
		// has nothing to learn.
		tflog.Debug(ctx, "endpoint spec unchanged; not calling the shifter")
		plan.Status = state.Status
		resp.Diagnostics.Append(setState(ctx, &resp.State, plan)...)
		resp.Diagnostics.Append(resp.Identity.Set(ctx, endpointIdentity{Name: plan.Name})...)
		return
	}
	revision, diags := getRevision(ctx, req.Private)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.read.forget(want.Name)
	view, err := r.client.PutEndpoint(ctx, want, revision)
	if err != nil {
		addShifterError(ctx, &resp.Diagnostics, resp.State, "updating", endpointObject(want.Name), err)
		return
	}
	tflog.Info(ctx, "endpoint updated", map[string]any{"revision": view.Endpoint.Revision})

	resp.Diagnostics.Append(flattenEndpoint(ctx, resp.State.Schema.Type(), view, &plan.endpointModel)...)
	resp.Diagnostics.Append(setRevision(ctx, resp.Private, view.Endpoint.Revision)...)
	resp.Diagnostics.Append(setState(ctx, &resp.State, plan)...)
	resp.Diagnostics.Append(resp.Identity.Set(ctx, endpointIdentity{Name: plan.Name})...)
}

func (r *endpointResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state endpointResourceModel
	resp.Diagnostics.Append(getModel(ctx, req.State, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := state.Timeouts.Delete(ctx, defaultDeleteTimeout)
	resp.Diagnostics.Append(diags...)
	revision, diags := getRevision(ctx, req.Private)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}

	name := state.Name.ValueString()
	ctx = tflog.SetField(ctx, "endpoint", name)
	summary := "Error deleting " + endpointObject(name)
	r.read.forget(name)
	_, err := r.client.DeleteEndpoint(ctx, name, revision)
	switch {
	case isNotFound(err):
		tflog.Info(ctx, "endpoint already gone")
		return
	case rollout.ErrorCode(err) == rollout.ECONFLICT && rollout.ErrorField(err) == "deletion_protection":
		resp.Diagnostics.AddAttributeError(path.Root("deletion_protection"), summary, fmt.Sprintf(
			"The shifter refuses to delete endpoint %q while deletion_protection is true. "+
				"Set deletion_protection = false, run terraform apply, then destroy the endpoint.", name))
		return
	case err != nil:
		addShifterError(ctx, &resp.Diagnostics, resp.State, "deleting", endpointObject(name), err)
		return
	}

	tflog.Info(ctx, "endpoint deletion accepted; waiting for the shifter to tear it down", map[string]any{"timeout": timeout.String()})
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err = poll(ctx, func() (bool, error) {
		_, err := r.client.GetEndpoint(ctx, name)
		if isNotFound(err) {
			return true, nil
		}
		return false, err
	})
	if err != nil {
		resp.Diagnostics.AddError(summary, fmt.Sprintf(
			"The shifter accepted the deletion, but the endpoint was not gone within %s (%s). It removes the endpoint once its "+
				"environments and listener rule are deleted; run destroy again to keep waiting, or raise timeouts.delete.", timeout, err))
	}
}

func (r *endpointResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	// By ID (terraform import ADDRESS NAME, or an import block's id) or by
	// identity (an import block's identity, or `terraform query`'s).
	resource.ImportStatePassthroughWithIdentity(ctx, path.Root("name"), path.Root("name"), req, resp)
}

// ValidateConfig checks the rules between attributes of the traffic and the
// template, the only ones with such rules: the rest of the configuration is
// not read (terraform validates every endpoint twice in a plan).
func (r *endpointResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var traffic, template types.Object
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("traffic"), &traffic)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("template"), &template)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(validateEndpointConfig(ctx, traffic, template)...)
}

// ModifyPlan refuses, while planning, a spec the shifter would refuse: the
// whole of rollout's validation, and whether the releases declared on the
// endpoint can run on it. Only a spec the apply writes is checked, and one
// with values known only after apply is checked by the shifter then. What
// the apply writes is noted for the releases planned after the endpoint
// (plannedEndpoints).
func (r *endpointResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	if req.Plan.Raw.Equal(req.State.Raw) {
		// The configuration leaves the endpoint as it is: nothing is
		// written, so nothing can be refused, and the plan is not read
		// (the framework's conversions of a whole model are most of what a
		// plan of many endpoints costs, BenchmarkTerraform).
		var name types.String
		resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("name"), &name)...)
		r.planned.forget(name.ValueString())
		return
	}
	var plan endpointResourceModel
	resp.Diagnostics.Append(getModel(ctx, req.Plan, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !allKnown(ctx, plan.Name, plan.Team, plan.Placement, plan.Traffic, plan.Template, plan.Policy, plan.Notifications) {
		if !plan.Name.IsUnknown() {
			r.planned.set(plan.Name.ValueString(), plannedEndpoint{})
		}
		resp.Diagnostics.Append(validateBootScript(ctx, plan.Template)...)
		return
	}
	ep, diags := expandEndpoint(ctx, plan.endpointModel)
	resp.Diagnostics.Append(diags...)
	if !req.State.Raw.IsNull() {
		var state endpointResourceModel
		resp.Diagnostics.Append(getModel(ctx, req.State, &state)...)
		have, diags := expandEndpoint(ctx, state.endpointModel)
		resp.Diagnostics.Append(diags...)
		if reflect.DeepEqual(ep, have) {
			r.planned.forget(ep.Name)
			return // nothing is written, so nothing can be refused
		}
	}
	r.planned.set(ep.Name, plannedEndpoint{})
	if resp.Diagnostics.HasError() {
		return
	}
	err := ep.Validate()
	if err == nil && r.client != nil {
		err = r.validateReleases(ctx, ep)
	}
	addRuleError(&resp.Diagnostics, "Invalid Endpoint", err)
	if err == nil && r.client != nil {
		r.checkWithShifter(ctx, ep, req.Plan, &resp.Diagnostics)
	}
}

// checkWithShifter asks the shifter whether it would accept ep, checked
// against the endpoint's AWS account (a listener, alarm, subnet, security
// group or AMI that is not there; a priority or host another rule has), so
// that `terraform plan` shows on the attribute to fix what apply would be
// refused for. A shifter that cannot answer is a warning: apply checks again.
// What it would accept is noted as the run's plan of the endpoint.
func (r *endpointResource) checkWithShifter(ctx context.Context, ep rollout.Endpoint, plan tfsdk.Plan, diags *diag.Diagnostics) {
	stored, err := r.client.CheckEndpoint(ctx, ep)
	switch rollout.ErrorCode(err) {
	case "":
		r.planned.set(stored.Name, plannedEndpoint{spec: stored, known: true})
	case rollout.EINVALID, rollout.EFORBIDDEN, rollout.ECONFLICT, rollout.EUNAUTHORIZED:
		addShifterError(ctx, diags, tfsdk.State{Schema: plan.Schema}, "checking", endpointObject(ep.Name), err)
	default:
		diags.AddWarning("Could not check "+endpointObject(ep.Name)+" with the shifter",
			"The plan could not ask the shifter whether it would accept the endpoint (apply will): "+err.Error())
	}
}

// validateBootScript checks the size of the instances' boot script once
// what it is made of is known, however much else of the spec is not: the
// subnets and the listener often come from resources the same run creates.
func validateBootScript(ctx context.Context, template types.Object) diag.Diagnostics {
	x := &expander{ctx: ctx}
	var t templateModel
	if !x.object(template, &t) || !allKnown(ctx, t.Backend, t.Repository, t.ContainerPort, t.Command, t.Args, t.Env, t.Secrets) {
		return x.diags
	}
	runs := x.container(t)
	if !x.diags.HasError() {
		addRuleError(&x.diags, "Invalid Endpoint", runs.ValidateUserData())
	}
	return x.diags
}

// validateReleases checks ep against the releases declared on it in the
// shifter. An endpoint the shifter does not have yet has none.
func (r *endpointResource) validateReleases(ctx context.Context, ep rollout.Endpoint) error {
	ctx, cancel := context.WithTimeout(ctx, planLookupTimeout)
	defer cancel()
	var releases []rollout.Release
	for _, track := range rollout.Tracks {
		v, err := r.client.GetRelease(ctx, ep.Name, track)
		switch {
		case isNotFound(err):
			continue
		case err != nil:
			tflog.Warn(ctx, "releases not read; the shifter checks them at apply", map[string]any{"error": err.Error()})
			return nil
		}
		releases = append(releases, v.Release)
	}
	return ep.ValidateReleases(releases)
}

// endpointObject names an endpoint in diagnostics.
func endpointObject(name string) string { return fmt.Sprintf("endpoint %q", name) }
