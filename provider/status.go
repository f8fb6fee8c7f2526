package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// The endpoint's live status, as the shifter reports it: read-only, shown
// by the ionroller_endpoint resource and data source alike.

type statusModel struct {
	State          types.String `tfsdk:"state"`
	StableVersion  types.String `tfsdk:"stable_version"`
	PreviewVersion types.String `tfsdk:"preview_version"`
	Weights        types.Map    `tfsdk:"weights"`
	DNSTTL         types.String `tfsdk:"dns_ttl"`
	HotVersions    types.List   `tfsdk:"hot_versions"`
	Override       types.Object `tfsdk:"override"`
	Rollout        types.Object `tfsdk:"rollout"`
	Conditions     types.List   `tfsdk:"conditions"`
	ObservedAt     types.String `tfsdk:"observed_at"`
}

type conditionModel struct {
	Type     types.String `tfsdk:"type"`
	Since    types.String `tfsdk:"since"`
	Message  types.String `tfsdk:"message"`
	Blocking types.Bool   `tfsdk:"blocking"`
}

type hotVersionModel struct {
	Version      types.String `tfsdk:"version"`
	SpecRevision types.Int64  `tfsdk:"spec_revision"`
	Until        types.String `tfsdk:"until"`
	Ready        types.Bool   `tfsdk:"ready"`
	ScaleUp      types.Bool   `tfsdk:"scale_up"`
	Healthy      types.Int64  `tfsdk:"healthy"`
	FullCapacity types.Int64  `tfsdk:"full_capacity"`
}

type overrideModel struct {
	Version types.String `tfsdk:"version"`
	Until   types.String `tfsdk:"until"`
	Actor   types.String `tfsdk:"actor"`
	Reason  types.String `tfsdk:"reason"`
}

type rolloutStatusModel struct {
	Version types.String `tfsdk:"version"`
	Phase   types.String `tfsdk:"phase"`
	Step    types.Int64  `tfsdk:"step"`
	Steps   types.Int64  `tfsdk:"steps"`
	Weight  types.Int64  `tfsdk:"weight"`
	NextAt  types.String `tfsdk:"next_at"`
	Holding types.String `tfsdk:"holding"`
	Judged  types.String `tfsdk:"judged"`
	Reason  types.String `tfsdk:"reason"`
}

// statusAttribute is the computed status of an endpoint.
func statusAttribute() schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		MarkdownDescription: "Live status of the endpoint as the shifter last reported it: what is live, what is moving, what is hot. " +
			"It changes as the shifter works, without any change to the configuration.",
		Computed: true,
		Attributes: map[string]schema.Attribute{
			"state": schema.StringAttribute{
				MarkdownDescription: "The production rollout's phase while one is in flight (`provisioning`, `waiting_healthy`, `shifting`, `paused`, `baking`), " +
					"otherwise `steady`, `empty` (no version went live yet) or `deleting`.",
				Computed: true,
			},
			"stable_version": schema.StringAttribute{
				MarkdownDescription: "Version that last completed a rollout in production.",
				Computed:            true,
			},
			"preview_version": schema.StringAttribute{
				MarkdownDescription: "Version the preview route serves.",
				Computed:            true,
			},
			"weights": schema.MapAttribute{
				MarkdownDescription: "Production traffic split: percentage by version, summing to 100.",
				ElementType:         types.Int64Type,
				Computed:            true,
			},
			"dns_ttl": schema.StringAttribute{
				MarkdownDescription: "With `traffic.route53`: how long DNS resolvers may go on answering with the records as they were (the alias's TTL). " +
					"`weights` are the records'; traffic follows them that much later at the earliest, and later with resolvers that keep answers longer.",
				Computed: true,
			},
			"hot_versions": schema.ListNestedAttribute{
				MarkdownDescription: "Previous versions kept hot: declaring one of them again moves all traffic back in one step.",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"version": schema.StringAttribute{MarkdownDescription: "The hot version.", Computed: true},
					"spec_revision": schema.Int64Attribute{MarkdownDescription: "The revision of the endpoint's spec the hot version runs: " +
						"a rollback to it brings back that configuration too (`shifter diff` shows what differs). Null for an environment built before history was kept.", Computed: true},
					"until": schema.StringAttribute{MarkdownDescription: "End of its rollback window (RFC 3339).", Computed: true},
					"ready": schema.BoolAttribute{MarkdownDescription: "All the traffic can return to it in one load-balancer write now: it runs its full " +
						"capacity, in service, with enough healthy targets (as last read).", Computed: true},
					"scale_up": schema.BoolAttribute{MarkdownDescription: "It is kept below full capacity (`policy.retain_capacity_percent`): a rollback " +
						"to it first scales it up and waits for its health, up to `policy.healthy_timeout`.", Computed: true},
					"healthy":       schema.Int64Attribute{MarkdownDescription: "Its healthy targets, as last read.", Computed: true},
					"full_capacity": schema.Int64Attribute{MarkdownDescription: "The capacity taking all the traffic back needs.", Computed: true},
				}},
			},
			"override": schema.SingleNestedAttribute{
				MarkdownDescription: "A break-glass override in force (`shifter override`): production traffic stays on its version until it ends " +
					"or is lifted, and releases applied meanwhile are `deferred`. Null when there is none.",
				Computed: true,
				Attributes: map[string]schema.Attribute{
					"version": schema.StringAttribute{MarkdownDescription: "The version production traffic is pinned to.", Computed: true},
					"until":   schema.StringAttribute{MarkdownDescription: "When the override ends by itself (RFC 3339).", Computed: true},
					"actor":   schema.StringAttribute{MarkdownDescription: "Who overrode.", Computed: true},
					"reason":  schema.StringAttribute{MarkdownDescription: "Why, as they said.", Computed: true},
				},
			},
			"rollout": schema.SingleNestedAttribute{
				MarkdownDescription: "The production rollout in flight, or the last one.",
				Computed:            true,
				Attributes: map[string]schema.Attribute{
					"version": schema.StringAttribute{MarkdownDescription: "Version being rolled out.", Computed: true},
					"phase": schema.StringAttribute{
						MarkdownDescription: "`pending`, `provisioning`, `waiting_healthy`, `shifting`, `paused`, `baking`, `complete`, `aborted`, `rolled_back` or `failed`.",
						Computed:            true,
					},
					"step":    schema.Int64Attribute{MarkdownDescription: "Current step, from 1 (0 before the first).", Computed: true},
					"steps":   schema.Int64Attribute{MarkdownDescription: "Number of steps.", Computed: true},
					"weight":  schema.Int64Attribute{MarkdownDescription: "Percentage of traffic the current step gives the new version.", Computed: true},
					"next_at": schema.StringAttribute{MarkdownDescription: "When the next step or the end of the bake is due (RFC 3339); null while waiting for a promote or for health.", Computed: true},
					"judged": schema.StringAttribute{MarkdownDescription: "What the last look at the new version's metrics saw, e.g. `0.50% 5xx of 200 requests, 41ms average: passing`; " +
						"null before the first (see `policy.metric_checks.interval`).", Computed: true},
					"holding": schema.StringAttribute{MarkdownDescription: "Why a rollout in flight cannot act, e.g. `holding at 10%: AWS did not answer within 10s for 45s`; null when it can.", Computed: true},
					"reason":  schema.StringAttribute{MarkdownDescription: "Why the rollout was rolled back, aborted or failed.", Computed: true},
				},
			},
			"conditions": schema.ListNestedAttribute{
				MarkdownDescription: "What the shifter found wrong and cannot fix by itself, or not yet; `terraform plan` also shows each as a warning. " +
					"Types: `aws_unreachable`, `throttled`, `traffic_missing` (the listener or its load balancer is gone), `alarm_missing`, " +
					"`action_failing`, `not_health_checked`, `observation_stale` (see the architecture guide).",
				Computed: true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"type":     schema.StringAttribute{MarkdownDescription: "What is wrong.", Computed: true},
					"since":    schema.StringAttribute{MarkdownDescription: "When the shifter first saw it (RFC 3339).", Computed: true},
					"message":  schema.StringAttribute{MarkdownDescription: "What the shifter saw, for people.", Computed: true},
					"blocking": schema.BoolAttribute{MarkdownDescription: "Whether the endpoint cannot move while it lasts: a rollout due to act holds.", Computed: true},
				}},
			},
			"observed_at": schema.StringAttribute{
				MarkdownDescription: "When the shifter last observed the endpoint in AWS (RFC 3339). Nothing is reported verified from an observation " +
					"older than two resync intervals.",
				Computed: true,
			},
		},
	}
}

// warnConditions adds a warning per condition of an endpoint, so that
// `terraform plan` shows what the shifter cannot fix.
func warnConditions(endpoint string, cs rollout.Conditions, diags *diag.Diagnostics) {
	for _, c := range cs {
		summary := fmt.Sprintf("ionroller endpoint %q: %s", endpoint, c.Type)
		if c.Blocking {
			summary += " (blocking: its rollouts hold)"
		}
		diags.AddWarning(summary, fmt.Sprintf("%s (since %s).", c.Message, c.Since.UTC().Format(time.RFC3339)))
	}
}

// warnDNS adds a warning while traffic moved by DNS records is moving: the
// records change at once, the traffic as resolvers let go of their answers.
func warnDNS(endpoint string, s rollout.EndpointStatus, diags *diag.Diagnostics) {
	if s.DNSTTL == 0 || s.Rollout == nil {
		return
	}
	diags.AddWarning(fmt.Sprintf("ionroller endpoint %q: traffic follows DNS slowly", endpoint),
		fmt.Sprintf("The endpoint's traffic moves by Route 53 weighted records: status.weights are the records', and traffic follows them "+
			"only as resolvers let go of their cached answers, after %s (the alias TTL) at the earliest and later with resolvers that keep answers longer.", s.DNSTTL))
}

// warnOverride adds a warning while a break-glass override holds the
// endpoint's traffic: applies move none of it.
func warnOverride(endpoint string, s rollout.EndpointStatus, diags *diag.Diagnostics) {
	if o := s.Override; o != nil {
		diags.AddWarning(fmt.Sprintf("ionroller endpoint %q: production traffic is overridden", endpoint), overrideDetail(endpoint, o))
	}
}

// overrideDetail says what an override does to an apply, and how to end it.
func overrideDetail(endpoint string, o *rollout.OverrideStatus) string {
	return fmt.Sprintf("The %s. Releases applied meanwhile are recorded and move no traffic: they roll out when the override ends, "+
		"or when `shifter override %s -lift` ends it sooner.", o.Sentence(), endpoint)
}

// durationOrNull is d as the provider writes durations, null for 0.
func durationOrNull(d rollout.Duration) types.String {
	if d == 0 {
		return types.StringNull()
	}
	return types.StringValue(d.String())
}

// flattenStatus returns the status object of s; t is its object type.
func flattenStatus(ctx context.Context, t types.ObjectType, s rollout.EndpointStatus, diags *diag.Diagnostics) types.Object {
	hot := make([]hotVersionModel, 0, len(s.HotVersions))
	for _, h := range s.HotVersions {
		hot = append(hot, hotVersionModel{Version: types.StringValue(h.Version), SpecRevision: int64OrNull(h.SpecRevision), Until: timeOrNull(h.Until),
			Ready: types.BoolValue(h.Ready), ScaleUp: types.BoolValue(h.ScaleUp), Healthy: types.Int64Value(int64(h.Healthy)), FullCapacity: types.Int64Value(int64(h.FullCapacity))})
	}
	roType := objectType(t.AttrTypes["rollout"], diags)
	ro := types.ObjectNull(roType.AttrTypes)
	if r := s.Rollout; r != nil {
		ro = objectValue(ctx, roType, rolloutStatusModel{
			Version: types.StringValue(r.Version),
			Phase:   types.StringValue(string(r.Phase)),
			Step:    types.Int64Value(int64(r.Step)),
			Steps:   types.Int64Value(int64(r.Steps)),
			Weight:  types.Int64Value(int64(r.Weight)),
			NextAt:  timeOrNull(r.NextAt),
			Holding: stringOrNull(r.Holding),
			Judged:  stringOrNull(r.Judged),
			Reason:  stringOrNull(r.Reason),
		}, diags)
	}
	oType := objectType(t.AttrTypes["override"], diags)
	override := types.ObjectNull(oType.AttrTypes)
	if o := s.Override; o != nil {
		override = objectValue(ctx, oType, overrideModel{Version: types.StringValue(o.Version), Until: timeOrNull(o.Until),
			Actor: types.StringValue(o.Actor), Reason: types.StringValue(o.Reason)}, diags)
	}
	conditions := make([]conditionModel, len(s.Conditions))
	for i, c := range s.Conditions {
		conditions[i] = conditionModel{Type: types.StringValue(string(c.Type)), Since: timeOrNull(c.Since),
			Message: types.StringValue(c.Message), Blocking: types.BoolValue(c.Blocking)}
	}
	return objectValue(ctx, t, statusModel{
		State:          types.StringValue(s.State),
		StableVersion:  stringOrNull(s.StableVersion),
		PreviewVersion: stringOrNull(s.PreviewVersion),
		Weights:        int64Map(s.Weights),
		DNSTTL:         durationOrNull(s.DNSTTL),
		HotVersions:    listValue(ctx, objectType(t.AttrTypes["hot_versions"], diags), hot, diags),
		Override:       override,
		Rollout:        ro,
		Conditions:     listValue(ctx, objectType(t.AttrTypes["conditions"], diags), conditions, diags),
		ObservedAt:     timeOrNull(s.ObservedAt),
	}, diags)
}

func timeOrNull(t time.Time) types.String {
	if t.IsZero() {
		return types.StringNull()
	}
	return types.StringValue(t.UTC().Format(time.RFC3339))
}
