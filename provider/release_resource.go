package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/identityschema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/ionroller/terraform-provider-ionroller/shifter/client"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

var (
	_ resource.Resource                   = (*releaseResource)(nil)
	_ resource.ResourceWithConfigure      = (*releaseResource)(nil)
	_ resource.ResourceWithImportState    = (*releaseResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*releaseResource)(nil)
	_ resource.ResourceWithValidateConfig = (*releaseResource)(nil)
	_ resource.ResourceWithIdentity       = (*releaseResource)(nil)
	_ planmodifier.String                 = imageDefault{}
)

// NewReleaseResource returns the ionroller_release resource.
func NewReleaseResource() resource.Resource {
	return &releaseResource{}
}

// releaseResource declares the version an endpoint's track should run. The
// shifter rolls it out; the resource waits as wait_for says and shows the
// release's live state.
type releaseResource struct {
	client  *client.Client
	planned *plannedEndpoints
	read    *readEndpoints
}

type releaseResourceModel struct {
	ID               types.String   `tfsdk:"id"`
	Endpoint         types.String   `tfsdk:"endpoint"`
	Track            types.String   `tfsdk:"track"`
	Version          types.String   `tfsdk:"version"`
	Image            types.String   `tfsdk:"image"`
	Env              types.Map      `tfsdk:"env"`
	Retry            types.Int64    `tfsdk:"retry"`
	Retired          types.Bool     `tfsdk:"retired"`
	WaitFor          types.String   `tfsdk:"wait_for"`
	State            types.String   `tfsdk:"state"`
	TrafficPercent   types.Int64    `tfsdk:"traffic_percent"`
	ObservedTraffic  types.Float64  `tfsdk:"observed_traffic_percent"`
	LiveVersion      types.String   `tfsdk:"live_version"`
	EnvironmentID    types.String   `tfsdk:"environment_id"`
	Digest           types.String   `tfsdk:"digest"`
	SpecRevision     types.Int64    `tfsdk:"spec_revision"`
	LiveSpecRevision types.Int64    `tfsdk:"live_spec_revision"`
	HotSpecRevisions types.Map      `tfsdk:"hot_spec_revisions"`
	RolledBackReason types.String   `tfsdk:"rolled_back_reason"`
	Timeouts         timeouts.Value `tfsdk:"timeouts"`
}

// releaseIdentity is what names a release across configurations: import
// blocks and `terraform query` use it (Terraform 1.12 and later).
type releaseIdentity struct {
	Endpoint types.String `tfsdk:"endpoint"`
	Track    types.String `tfsdk:"track"`
}

// identity is the release's identity.
func (m releaseResourceModel) identity() releaseIdentity {
	return releaseIdentity{Endpoint: m.Endpoint, Track: m.Track}
}

// What an apply waits for after declaring a release.
const (
	waitNone     = "none"
	waitHealthy  = "healthy"
	waitComplete = "complete"
)

const (
	// defaultReleaseTimeout bounds the wait of create and update.
	defaultReleaseTimeout = 30 * time.Minute
	// imageDeclaredKey is the private state key saying whether the
	// shifter holds a declared image ("true") or defaults it ("false").
	imageDeclaredKey = "image_declared"
	// recentEvents is how many events a failed rollout's error quotes.
	recentEvents = 10
	// eventPage is the largest page of events the API serves.
	eventPage = 1000
)

func (r *releaseResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_release"
}

func (r *releaseResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The version an endpoint's track should run. Applying a new version asks the shifter to roll it out " +
			"(or, for a version still hot, to move traffic back to it at once) and waits as `wait_for` says. " +
			"Destroying the resource stops declaring a release; traffic stays on what is live.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "`ENDPOINT/TRACK`, the import ID.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"endpoint": schema.StringAttribute{
				MarkdownDescription: "Name of the endpoint. Changing it replaces the release.",
				Required:            true,
				Validators:          []validator.String{stringvalidator.RegexMatches(rollout.NamePattern, "must be an endpoint name")},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"track": schema.StringAttribute{
				MarkdownDescription: "`production` (the endpoint's traffic, the default) or `preview` (only the preview route, for testing in production). " +
					"Changing it replaces the release.",
				Optional:      true,
				Computed:      true,
				Default:       stringdefault.StaticString(string(rollout.Production)),
				Validators:    []validator.String{stringvalidator.OneOf(string(rollout.Production), string(rollout.Preview))},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"version": schema.StringAttribute{
				MarkdownDescription: "The version to run: 1 to 64 letters, digits, `.`, `_` and `-`. Declaring a version that is still hot " +
					"(see the endpoint's `status.hot_versions`) is a rollback: traffic moves to it in one step.",
				Required:   true,
				Validators: []validator.String{stringvalidator.RegexMatches(rollout.VersionPattern, "must be 1 to 64 letters, digits, '.', '_' and '-', starting with a letter or digit")},
			},
			"image": schema.StringAttribute{
				MarkdownDescription: "Docker image to run. Defaults to the endpoint's `template.repository` tagged with `version`, which this attribute then shows.",
				Optional:            true,
				Computed:            true,
				Validators:          []validator.String{stringvalidator.RegexMatches(rollout.ImagePattern, "must be a Docker image reference such as \"registry.example.com/app:1.2.3\"")},
				PlanModifiers:       []planmodifier.String{imageDefault{}},
			},
			"env": schema.MapAttribute{
				MarkdownDescription: "Environment variables of this release, added to the endpoint's `template.env` (a name may not be one of its " +
					"`template.secrets`). Changing them rolls out a new environment. With the template they must fit EC2's user data; the plan checks " +
					"both against the endpoint as the shifter has it.",
				ElementType: types.StringType,
				Optional:    true,
				Computed:    true,
				Default:     mapdefault.StaticValue(emptyMap()),
				Validators: []validator.Map{
					mapvalidator.KeysAre(stringvalidator.RegexMatches(rollout.EnvNamePattern, "must be an environment variable name")),
					mapvalidator.ValueStringsAre(stringvalidator.RegexMatches(noNUL, "must not contain a NUL character")),
				},
			},
			"retry": schema.Int64Attribute{
				MarkdownDescription: "Retry counter. A release that was rolled back, aborted or failed is not rolled out again by applying the " +
					"same configuration (that would loop under automated applies); raising `retry` starts a new rollout of the same version.",
				Optional:   true,
				Computed:   true,
				Default:    int64default.StaticInt64(0),
				Validators: []validator.Int64{int64validator.AtLeast(0)},
			},
			"retired": schema.BoolAttribute{
				MarkdownDescription: "Only on the `preview` track: takes the preview down while the release stays declared. The preview " +
					"route is removed and the environment expires (unless production runs the same version), as when the release is destroyed; " +
					"setting it back to `false` rolls the version out on the preview route again.",
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(false),
			},
			"wait_for": schema.StringAttribute{
				MarkdownDescription: "What an apply waits for after declaring the release: `none` (the shifter accepted it), " +
					"`healthy` (the default: the new environment is healthy and has the first traffic step) or `complete` " +
					"(100% and baked). An apply fails if the rollout is rolled back, aborted or fails while it waits.",
				Optional:   true,
				Computed:   true,
				Default:    stringdefault.StaticString(waitHealthy),
				Validators: []validator.String{stringvalidator.OneOf(waitNone, waitHealthy, waitComplete)},
			},
			"state": schema.StringAttribute{
				MarkdownDescription: "The release's live state: `pending`, `provisioning`, `waiting_healthy`, `shifting`, `paused`, `baking`, " +
					"`complete`, `retired` (a preview release declared retired, its route taken down), `deferred` (declared during a break-glass override: " +
					"it rolls out when the override ends; an apply does not wait for it), or `rolled_back`, `aborted`, `failed` (held: not retried until the release changes).",
				Computed: true,
			},
			"traffic_percent": schema.Int64Attribute{
				MarkdownDescription: "Share of the track's traffic on this release's environment.",
				Computed:            true,
			},
			"observed_traffic_percent": schema.Float64Attribute{
				MarkdownDescription: "Share of the requests the load balancer counted on this release's environment (ALB's `RequestCount` per target group) " +
					"over the last window of the step in flight, beside `traffic_percent`, the share its weight intends: a rule's weights are not the traffic, " +
					"which follows them later. Null when none was counted: no rollout in flight, a first release, a rollback, NLB or Route 53 traffic. " +
					"`policy.observed_traffic` holds each step until the two agree.",
				Computed: true,
			},
			"live_version": schema.StringAttribute{
				MarkdownDescription: "Version the track serves as its stable version; after a rollback, the version traffic went back to.",
				Computed:            true,
			},
			"environment_id": schema.StringAttribute{
				MarkdownDescription: "The shifter's ID of the environment running this release.",
				Computed:            true,
			},
			"digest": schema.StringAttribute{
				MarkdownDescription: "The digest (`sha256:…`) the shifter pinned `image` to when it created the release's environment: " +
					"its instances run `image` by this digest, so a tag pushed again later changes nothing that runs. " +
					"Null until the shifter has pinned it, and on a shifter that runs images as tagged (`images { pin = false }`).",
				Computed: true,
			},
			"spec_revision": schema.Int64Attribute{
				MarkdownDescription: "The revision of the endpoint's spec the release's environment was built from: the configuration it runs " +
					"(`shifter history` and `shifter diff` show the revisions). Null until the environment is recorded.",
				Computed: true,
			},
			"live_spec_revision": schema.Int64Attribute{
				MarkdownDescription: "The revision of the endpoint's spec that `live_version` runs. After a spec change it stays the old revision " +
					"until the environment built from the new one is live.",
				Computed: true,
			},
			"hot_spec_revisions": schema.MapAttribute{
				MarkdownDescription: "Production only: each hot version (a rollback returns to it at once) with the revision of the endpoint's spec it runs. " +
					"A rollback to a hot version brings back that configuration too, not the endpoint's current one.",
				ElementType: types.Int64Type,
				Computed:    true,
			},
			"rolled_back_reason": schema.StringAttribute{
				MarkdownDescription: "Why the release was rolled back, aborted or failed.",
				Computed:            true,
			},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true}),
		},
	}
}

// ValidateConfig refuses retired on a production release: production goes
// back by declaring the version to return to.
func (r *releaseResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = identityschema.Schema{
		Attributes: map[string]identityschema.Attribute{
			"endpoint": identityschema.StringAttribute{RequiredForImport: true, Description: "The endpoint the release belongs to."},
			"track":    identityschema.StringAttribute{RequiredForImport: true, Description: "The release's track: `production` or `preview`."},
		},
	}
}

func (r *releaseResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var retired types.Bool
	var track types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("retired"), &retired)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("track"), &track)...)
	if !retired.ValueBool() || track.IsUnknown() || track.ValueString() == string(rollout.Preview) {
		return
	}
	resp.Diagnostics.AddAttributeError(path.Root("retired"), "Only a preview release can be retired",
		"Attribute retired can only be true on the preview track: it takes the preview route down. Production goes back by declaring the version to return to.")
}

func (r *releaseResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = clientFrom(req.ProviderData, &resp.Diagnostics)
	r.planned = plannedFrom(req.ProviderData)
	r.read = readFrom(req.ProviderData)
}

func (r *releaseResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan releaseResourceModel
	resp.Diagnostics.Append(getModel(ctx, req.Plan, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, defaultReleaseTimeout)
	resp.Diagnostics.Append(diags...)
	rel, diags := expandRelease(ctx, plan, req.Config)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}

	ctx = tflog.SetField(ctx, "release", releaseID(rel.Endpoint, rel.Track))
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	view, err := r.client.PutRelease(ctx, rel, rollout.RevisionNew)
	if err != nil {
		object := releaseObject(rel.Endpoint, rel.Track)
		if rollout.ErrorCode(err) == rollout.ECONFLICT {
			resp.Diagnostics.AddError("Error creating "+object, fmt.Sprintf(
				"The shifter refused to declare it: %s\n\nIf endpoint %q already has a %s release declared, import it (terraform import ADDRESS %s) instead.",
				apiMessage(err), rel.Endpoint, rel.Track, releaseID(rel.Endpoint, rel.Track)))
			return
		}
		addShifterError(ctx, &resp.Diagnostics, resp.State, "creating", object, err)
		return
	}
	tflog.Info(ctx, "release declared", map[string]any{"version": rel.Version, "revision": view.Release.Revision})

	// The release is declared: its state is kept even if the wait fails.
	resp.Diagnostics.Append(r.settle(ctx, &plan, view, timeout, resp.Private)...)
	resp.Diagnostics.Append(setState(ctx, &resp.State, plan)...)
	resp.Diagnostics.Append(resp.Identity.Set(ctx, plan.identity())...)
}

func (r *releaseResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state releaseResourceModel
	resp.Diagnostics.Append(getModel(ctx, req.State, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}

	// First, as the endpoint's Read says.
	resp.Diagnostics.Append(resp.Identity.Set(ctx, state.identity())...)
	endpoint, track := state.Endpoint.ValueString(), rollout.Track(state.Track.ValueString())
	ctx = tflog.SetField(ctx, "release", releaseID(endpoint, track))
	view, err := r.client.GetRelease(ctx, endpoint, track)
	if isNotFound(err) {
		tflog.Warn(ctx, "release not declared in the shifter; removing it from state")
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addShifterError(ctx, &resp.Diagnostics, resp.State, "reading", releaseObject(endpoint, track), err)
		return
	}

	resp.Diagnostics.Append(r.flatten(ctx, view, &state, r.endpoint)...)
	resp.Diagnostics.Append(setReleasePrivate(ctx, resp.Private, view.Release)...)
	resp.Diagnostics.Append(setState(ctx, &resp.State, state)...)
	warnConditions(endpoint, view.Status.Conditions, &resp.Diagnostics)
}

func (r *releaseResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state releaseResourceModel
	resp.Diagnostics.Append(getModel(ctx, req.Plan, &plan)...)
	resp.Diagnostics.Append(getModel(ctx, req.State, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Update(ctx, defaultReleaseTimeout)
	resp.Diagnostics.Append(diags...)
	rel, diags := expandRelease(ctx, plan, req.Config)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}

	ctx = tflog.SetField(ctx, "release", releaseID(rel.Endpoint, rel.Track))
	if !declarationChanged(plan, state) {
		// Only Terraform's own settings (wait_for, timeouts) changed.
		tflog.Debug(ctx, "release unchanged; not calling the shifter")
		plan.keepLiveState(state)
		resp.Diagnostics.Append(setState(ctx, &resp.State, plan)...)
		resp.Diagnostics.Append(resp.Identity.Set(ctx, plan.identity())...)
		return
	}
	revision, diags := getRevision(ctx, req.Private)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	view, err := r.client.PutRelease(ctx, rel, revision)
	if err != nil {
		addShifterError(ctx, &resp.Diagnostics, resp.State, "updating", releaseObject(rel.Endpoint, rel.Track), err)
		return
	}
	tflog.Info(ctx, "release declared", map[string]any{"version": rel.Version, "revision": view.Release.Revision})

	resp.Diagnostics.Append(r.settle(ctx, &plan, view, timeout, resp.Private)...)
	resp.Diagnostics.Append(setState(ctx, &resp.State, plan)...)
	resp.Diagnostics.Append(resp.Identity.Set(ctx, plan.identity())...)
}

func (r *releaseResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state releaseResourceModel
	resp.Diagnostics.Append(getModel(ctx, req.State, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	revision, diags := getRevision(ctx, req.Private)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}

	endpoint, track := state.Endpoint.ValueString(), rollout.Track(state.Track.ValueString())
	ctx = tflog.SetField(ctx, "release", releaseID(endpoint, track))
	err := r.client.DeleteRelease(ctx, endpoint, track, revision)
	switch {
	case isNotFound(err):
		tflog.Info(ctx, "release already not declared")
	case err != nil:
		addShifterError(ctx, &resp.Diagnostics, resp.State, "deleting", releaseObject(endpoint, track), err)
	default:
		tflog.Info(ctx, "release no longer declared; traffic stays on what is live")
	}
}

// ImportState takes a release by ID (ENDPOINT/TRACK: terraform import, or
// an import block's id) or by identity (an import block's identity, or
// `terraform query`'s).
func (r *releaseResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	var endpoint, track string
	if req.ID != "" {
		var ok bool
		endpoint, track, ok = strings.Cut(req.ID, "/")
		if !ok || endpoint == "" || track == "" {
			resp.Diagnostics.AddError("Invalid Import ID",
				fmt.Sprintf("A release is imported as ENDPOINT/TRACK, such as \"web/production\"; got %q.", req.ID))
			return
		}
	} else {
		var id releaseIdentity
		resp.Diagnostics.Append(req.Identity.Get(ctx, &id)...)
		if resp.Diagnostics.HasError() {
			return
		}
		endpoint, track = id.Endpoint.ValueString(), id.Track.ValueString()
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("endpoint"), endpoint)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("track"), track)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("wait_for"), waitHealthy)...)
}

// ModifyPlan plans what the apply will do, and says it (DESIGN §3,
// Terraform semantics). A release the apply declares is refused when the
// shifter would refuse it on its endpoint, its default image is planned as
// the reference it resolves to there, and a warning names what the shifter
// will make of it: a new rollout with its steps, a rollback to a hot
// version, a template change, or no traffic change (releasePlan). A plan
// that declares nothing new keeps the live state the release shows (Update
// calls no shifter), and warns when the shifter holds the release after a
// rollout that ended badly: applying it does not roll it out again.
func (r *releaseResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var plan, state releaseResourceModel
	created := req.State.Raw.IsNull()
	if !created {
		resp.Diagnostics.Append(getModel(ctx, req.State, &state)...)
	}
	// A release the configuration leaves as it is plans as its state, which
	// keepLiveState would copy anyway: the plan is read and written only
	// when it differs (the framework's conversions of a whole model are most
	// of what a plan of many releases costs, BenchmarkTerraform).
	unchanged := !created && req.Plan.Raw.Equal(req.State.Raw)
	if unchanged {
		plan = state
	} else {
		resp.Diagnostics.Append(getModel(ctx, req.Plan, &plan)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	declares := created || declarationChanged(plan, state)
	if !declares {
		plan.keepLiveState(state)
	}
	r.planRelease(ctx, &plan, state, req, declares, &resp.Diagnostics)
	if !unchanged && !resp.Diagnostics.HasError() {
		resp.Diagnostics.Append(setPlan(ctx, &resp.Plan, plan)...)
	}
}

// planRelease plans a release on its endpoint (releasePlan) and warns what
// the apply, or its endpoint's apply in the same run, will make of it. A
// release that changes only in Terraform's settings, on an endpoint the run
// leaves alone, asks the shifter nothing.
func (r *releaseResource) planRelease(ctx context.Context, plan *releaseResourceModel, state releaseResourceModel, req resource.ModifyPlanRequest,
	declares bool, diags *diag.Diagnostics) {
	heldSummary, heldDetail, held := heldWarning(state)
	held = held && !declares
	if !allKnown(ctx, plan.Endpoint, plan.Track, plan.Version) {
		diags.AddAttributeWarning(path.Root("version"), "Release: what it does is known only after apply",
			"The release's endpoint, track or version is known only after apply, so the plan cannot say what the shifter will do with it.")
		return
	}
	endpoint := plan.Endpoint.ValueString()
	if _, changes := r.planned.get(endpoint); !declares && !changes {
		switch {
		case held:
			diags.AddAttributeWarning(path.Root("version"), heldSummary, heldDetail)
		case !req.Plan.Raw.Equal(req.State.Raw):
			summary, detail := settingsWarning(*plan)
			diags.AddAttributeWarning(path.Root("version"), summary, detail)
		}
		return
	}
	if r.client == nil {
		return
	}
	rel, d := expandRelease(ctx, *plan, req.Config)
	diags.Append(d...)
	var image types.String
	diags.Append(req.Config.GetAttribute(ctx, path.Root("image"), &image)...)
	if diags.HasError() {
		return
	}
	ep, err := r.releasePlan(ctx, endpoint)
	if err != nil {
		tflog.Warn(ctx, "endpoint not read; the shifter checks the release at apply", map[string]any{"error": err.Error()})
		diags.AddAttributeWarning(path.Root("version"), fmt.Sprintf("Release %s of %s: not foreseen", rel.Version, endpoint),
			fmt.Sprintf("The plan could not read endpoint %q from the shifter, so it cannot say what the shifter will do with the release: %s", endpoint, err))
		return
	}
	runs := allKnown(ctx, plan.Env, plan.Retry, plan.Retired, image)
	if declares {
		plan.ID = types.StringValue(releaseID(rel.Endpoint, rel.Track))
		if image.IsNull() && ep.known {
			plan.Image = types.StringValue(rel.ImageFor(ep.spec))
		}
		if runs {
			checkOnEndpoint(ep, rel, diags)
		}
	}
	if held && ep.keepsHold(rel) {
		diags.AddAttributeWarning(path.Root("version"), heldSummary, heldDetail)
		return
	}
	summary, detail := ep.warning(rel, runs, time.Now())
	diags.AddAttributeWarning(path.Root("version"), summary, detail)
}

// checkOnEndpoint reports what of release rel cannot run on its endpoint as
// the apply will find it. An endpoint the shifter does not have, or that the
// run changes with values known only after apply, is left to the shifter's
// check at apply.
func checkOnEndpoint(ep releasePlan, rel rollout.Release, diags *diag.Diagnostics) {
	if !ep.known {
		return
	}
	where := "as the shifter has it now: if this run changes it so that the release fits, refer to it (endpoint = ionroller_endpoint.NAME.name) so that the release is planned on its change"
	if ep.changes {
		where = "as this run changes it"
	}
	if err := rel.ValidateOn(ep.spec); err != nil {
		addRuleError(diags, "Invalid Release", rollout.Invalid(rollout.ErrorField(err), "%s (endpoint %s %s)", apiMessage(err), rel.Endpoint, where))
	}
}

// imageDefault plans the image a configuration leaves out: the endpoint's
// repository tagged with the version. It stays what the state shows while
// the version does, and is unknown when the version changes or when the
// shifter holds a declared image the configuration no longer has (left
// alone, an optional and computed value would keep what the state has);
// ModifyPlan then plans the reference it resolves to when the endpoint is
// known.
type imageDefault struct{}

func (imageDefault) Description(context.Context) string {
	return "Unless declared, the image is the endpoint's repository tagged with the version."
}

func (m imageDefault) MarkdownDescription(ctx context.Context) string { return m.Description(ctx) }

func (imageDefault) PlanModifyString(ctx context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	if !req.ConfigValue.IsNull() || req.State.Raw.IsNull() || req.Plan.Raw.IsNull() {
		return
	}
	declared, diags := req.Private.GetKey(ctx, imageDeclaredKey)
	resp.Diagnostics.Append(diags...)
	var planned, prior types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("version"), &planned)...)
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("version"), &prior)...)
	switch {
	case resp.Diagnostics.HasError():
	case string(declared) == "true" || !planned.Equal(prior):
		resp.PlanValue = types.StringUnknown()
	default:
		resp.PlanValue = req.StateValue
	}
}

// expandRelease returns the release plan m declares. The image is the
// configuration's: when it has none, the shifter applies its default
// (the plan shows that default, which must not be declared).
func expandRelease(ctx context.Context, m releaseResourceModel, config tfsdk.Config) (rollout.Release, diag.Diagnostics) {
	x := &expander{ctx: ctx}
	var image types.String
	x.diags.Append(config.GetAttribute(ctx, path.Root("image"), &image)...)
	rel := rollout.Release{
		Endpoint: m.Endpoint.ValueString(),
		Track:    rollout.Track(m.Track.ValueString()),
		Version:  m.Version.ValueString(),
		Image:    image.ValueString(),
		Env:      x.stringMap(m.Env),
		Retry:    int(m.Retry.ValueInt64()),
		Retired:  m.Retired.ValueBool(),
	}
	return rel, x.diags
}

// declarationChanged reports whether plan declares another release than
// state: a new rollout (or a rollback) for the shifter.
func declarationChanged(plan, state releaseResourceModel) bool {
	return !plan.Version.Equal(state.Version) || !plan.Image.Equal(state.Image) ||
		!plan.Env.Equal(state.Env) || !plan.Retry.Equal(state.Retry) || !plan.Retired.Equal(state.Retired)
}

// keepLiveState copies the live state of state into m.
func (m *releaseResourceModel) keepLiveState(state releaseResourceModel) {
	m.Image = state.Image
	m.State, m.TrafficPercent, m.LiveVersion = state.State, state.TrafficPercent, state.LiveVersion
	m.ObservedTraffic = state.ObservedTraffic
	m.EnvironmentID, m.Digest, m.RolledBackReason = state.EnvironmentID, state.Digest, state.RolledBackReason
	m.SpecRevision, m.LiveSpecRevision, m.HotSpecRevisions = state.SpecRevision, state.LiveSpecRevision, state.HotSpecRevisions
}

// heldWarning returns the warning of a release the shifter holds after a
// rollout that ended badly.
func heldWarning(state releaseResourceModel) (summary, detail string, held bool) {
	phase := rollout.Phase(state.State.ValueString())
	if !phase.Bad() {
		return "", "", false
	}
	what := map[rollout.Phase]string{
		rollout.PhaseRolledBack: "was rolled back",
		rollout.PhaseAborted:    "was aborted",
		rollout.PhaseFailed:     "failed",
	}[phase]
	version, endpoint := state.Version.ValueString(), state.Endpoint.ValueString()
	reason, live := state.RolledBackReason.ValueString(), state.LiveVersion.ValueString()
	if reason == "" {
		reason = "no reason recorded"
	}
	if live == "" {
		live = "none"
	}
	return fmt.Sprintf("Release %s of %s %s", version, endpoint, what),
		fmt.Sprintf("release %s of %s %s: %s; live version is %s. Re-applying does not retry it: raise `retry` or declare another version.",
			version, endpoint, what, reason, live),
		true
}

// settle finishes a create or update once the shifter accepted the
// release: it keeps the revision, waits as wait_for says, and sets the
// live state in m from the shifter's last answer, also when the wait fails.
func (r *releaseResource) settle(ctx context.Context, m *releaseResourceModel, view rollout.ReleaseView, timeout time.Duration, private privateSetter) diag.Diagnostics {
	diags := setReleasePrivate(ctx, private, view.Release)
	diags.Append(r.flatten(ctx, view, m, r.client.GetEndpoint)...)
	if diags.HasError() {
		return diags
	}

	waitFor := m.WaitFor.ValueString()
	if waitFor == waitNone {
		return diags
	}
	rel := view.Release
	object := releaseObject(rel.Endpoint, rel.Track)
	tflog.Debug(ctx, "waiting for the release", map[string]any{"wait_for": waitFor})
	err := poll(ctx, func() (bool, error) {
		v, err := r.client.GetRelease(ctx, rel.Endpoint, rel.Track)
		if err != nil {
			return false, err
		}
		view = v
		if rollout.Phase(v.Status.State).Bad() {
			return false, errRolloutEnded
		}
		if rel.Retired {
			return v.Status.State == rollout.StateRetired, nil // whatever wait_for says: the preview is down
		}
		return reached(v.Status, waitFor), nil
	})
	setLiveState(view.Status, m)

	switch {
	case errors.Is(err, errRolloutEnded):
		diags.AddError(fmt.Sprintf("Error rolling out release %s of endpoint %q", rel.Version, rel.Endpoint),
			r.endedDetail(ctx, view))
	case errors.Is(err, context.DeadlineExceeded):
		diags.AddError(fmt.Sprintf("Timed out waiting for %s", object), fmt.Sprintf(
			"Release %s was not %s after %s: its state was %q with %d%% of the traffic when the shifter last answered (%s). %s\n\n"+
				"Raise the resource's timeouts, or set wait_for = %q to return sooner.",
			rel.Version, waitFor, timeout, view.Status.State, view.Status.TrafficPercent, err, r.followHint(rel), waitNone))
	case err != nil:
		diags.AddError(fmt.Sprintf("Error waiting for %s", object), fmt.Sprintf("%s\n\n%s", err, r.followHint(rel)))
	default:
		tflog.Info(ctx, "release reached what the apply waits for", map[string]any{"wait_for": waitFor, "state": view.Status.State})
	}
	return diags
}

// followHint says that a release whose wait gave up is still rolled out,
// and where to follow it.
func (r *releaseResource) followHint(rel rollout.Release) string {
	return fmt.Sprintf("The release is declared and the shifter goes on rolling it out: follow it with `shifter watch %s` "+
		"(or at %s).", rel.Endpoint, r.client.ReleaseURL(rel.Endpoint, rel.Track))
}

// errRolloutEnded stops a wait whose rollout was rolled back, aborted or
// failed.
var errRolloutEnded = errors.New("the rollout ended without completing")

// reached reports whether a release's status is what wait_for waits for.
func reached(s rollout.ReleaseStatus, waitFor string) bool {
	switch phase := rollout.Phase(s.State); {
	case phase == rollout.PhaseComplete:
		return true
	case s.State == rollout.StateDeferred:
		return true // nothing moves before the override ends: the plan said so
	case waitFor != waitHealthy:
		return false
	case phase == rollout.PhaseShifting || phase == rollout.PhasePaused || phase == rollout.PhaseBaking:
		// Healthy, and the first traffic step applied and read back.
		return s.TrafficPercent > 0 && s.Verified
	}
	return false
}

// endedDetail explains a rollout that ended badly, quoting the endpoint's
// recent events about the release.
func (r *releaseResource) endedDetail(ctx context.Context, view rollout.ReleaseView) string {
	rel, s := view.Release, view.Status
	var b strings.Builder
	fmt.Fprintf(&b, "The shifter ended the rollout of %s as %s", rel.Version, s.State)
	if s.Reason != "" {
		fmt.Fprintf(&b, ": %s", s.Reason)
	}
	fmt.Fprintf(&b, ".\nLive version: %s.\n\n", orNone(s.LiveVersion))
	events, err := r.recentEvents(ctx, rel)
	if err != nil {
		fmt.Fprintf(&b, "The endpoint's events could not be read: %s\n", err)
	}
	if len(events) > 0 {
		b.WriteString("Recent events:\n")
		writeEvents(&b, events)
		b.WriteString("\n")
	}
	b.WriteString("The release stays declared. Re-applying does not retry it: raise `retry` or declare another version.")
	return b.String()
}

// recentEvents returns the last events of the release's endpoint that
// concern its version and track (or the endpoint as a whole). The trail is
// read oldest first, a page at a time; this runs only when a rollout failed.
func (r *releaseResource) recentEvents(ctx context.Context, rel rollout.Release) ([]rollout.Event, error) {
	var recent []rollout.Event
	var after int64
	for {
		page, next, err := r.client.Events(ctx, rel.Endpoint, after, eventPage)
		if err != nil {
			return recent, err
		}
		for _, ev := range page {
			if (ev.Version == "" || ev.Version == rel.Version) && (ev.Track == "" || ev.Track == rel.Track) {
				recent = append(recent, ev)
			}
		}
		recent = recent[max(0, len(recent)-recentEvents):]
		if len(page) < eventPage {
			return recent, nil
		}
		after = next
	}
}

// flatten sets m from the shifter's view of the release. The image the
// shifter defaults is its endpoint's repository tagged with the version:
// the endpoint is read with endpoint (after a write, from the shifter;
// in a refresh, as the run read it).
func (r *releaseResource) flatten(ctx context.Context, view rollout.ReleaseView, m *releaseResourceModel,
	endpoint func(context.Context, string) (rollout.EndpointView, error)) diag.Diagnostics {
	var diags diag.Diagnostics
	rel := view.Release
	image := rel.Image
	if image == "" {
		ep, err := endpoint(ctx, rel.Endpoint)
		if err != nil {
			diags.AddError(fmt.Sprintf("Error reading endpoint %q of %s", rel.Endpoint, releaseObject(rel.Endpoint, rel.Track)),
				"The release's default image is the endpoint's repository tagged with the version: "+err.Error())
			if m.Image.IsUnknown() {
				m.Image = types.StringNull()
			}
		} else {
			image = rel.ImageFor(ep.Endpoint)
		}
	}
	if image != "" {
		m.Image = types.StringValue(image)
	}
	m.ID = types.StringValue(releaseID(rel.Endpoint, rel.Track))
	m.Endpoint = types.StringValue(rel.Endpoint)
	m.Track = types.StringValue(string(rel.Track))
	m.Version = types.StringValue(rel.Version)
	m.Env = stringMap(rel.Env)
	m.Retry = types.Int64Value(int64(rel.Retry))
	m.Retired = types.BoolValue(rel.Retired)
	setLiveState(view.Status, m)
	return diags
}

// setLiveState sets the computed live state of m.
func setLiveState(s rollout.ReleaseStatus, m *releaseResourceModel) {
	m.State = types.StringValue(s.State)
	m.TrafficPercent = types.Int64Value(int64(s.TrafficPercent))
	m.ObservedTraffic = types.Float64PointerValue(s.ObservedTrafficPercent)
	m.LiveVersion = stringOrNull(s.LiveVersion)
	m.EnvironmentID = stringOrNull(s.EnvironmentID)
	m.Digest = stringOrNull(s.Digest)
	m.SpecRevision, m.LiveSpecRevision = int64OrNull(s.SpecRevision), int64OrNull(s.LiveSpecRevision)
	hot := map[string]int64{}
	for _, h := range s.HotVersions {
		hot[h.Version] = h.SpecRevision
	}
	m.HotSpecRevisions = int64Map(hot)
	m.RolledBackReason = types.StringNull()
	if rollout.Phase(s.State).Bad() {
		m.RolledBackReason = types.StringValue(s.Reason)
	}
}

// setReleasePrivate keeps the release's revision and whether its image is
// declared.
func setReleasePrivate(ctx context.Context, private privateSetter, rel rollout.Release) diag.Diagnostics {
	diags := setRevision(ctx, private, rel.Revision)
	diags.Append(private.SetKey(ctx, imageDeclaredKey, fmt.Appendf(nil, "%t", rel.Image != ""))...)
	return diags
}

// endpoint returns endpoint name as the run's refresh read it
// (readEndpoints), or reads it from the shifter.
func (r *releaseResource) endpoint(ctx context.Context, name string) (rollout.EndpointView, error) {
	if v, ok := r.read.get(name); ok {
		return v, nil
	}
	v, err := r.client.GetEndpoint(ctx, name)
	if err == nil {
		r.read.set(name, v)
	}
	return v, err
}

func releaseID(endpoint string, track rollout.Track) string { return endpoint + "/" + string(track) }

// releaseObject names a release in diagnostics.
func releaseObject(endpoint string, track rollout.Track) string {
	return fmt.Sprintf("release %q", releaseID(endpoint, track))
}
