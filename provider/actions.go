package provider

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/action"
	"github.com/hashicorp/terraform-plugin-framework/action/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/ionroller/terraform-provider-ionroller/shifter/client"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

// The five steering verbs are one action type that differs by the command
// it sends and by one attribute (pause's duration, rollback's version),
// which is why its configuration is read attribute by attribute. An
// action changes no Terraform state: the shifter acts, and the next plan's
// read of the endpoint and release shows what it did.

var (
	_ action.ActionWithConfigure  = (*steeringAction)(nil)
	_ action.ActionWithModifyPlan = (*steeringAction)(nil)
)

func NewPromoteAction() action.Action  { return &steeringAction{kind: rollout.CommandPromote} }
func NewPauseAction() action.Action    { return &steeringAction{kind: rollout.CommandPause} }
func NewResumeAction() action.Action   { return &steeringAction{kind: rollout.CommandResume} }
func NewAbortAction() action.Action    { return &steeringAction{kind: rollout.CommandAbort} }
func NewRollbackAction() action.Action { return &steeringAction{kind: rollout.CommandRollback} }

type steeringAction struct {
	kind   rollout.CommandKind
	client *client.Client
}

// defaultActionTimeout bounds how long an action follows the rollout to its
// next resting point when its configuration does not say.
const defaultActionTimeout = 30 * time.Minute

func (a *steeringAction) Metadata(_ context.Context, req action.MetadataRequest, resp *action.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_" + string(a.kind)
}

func (a *steeringAction) Schema(_ context.Context, _ action.SchemaRequest, resp *action.SchemaResponse) {
	attrs := map[string]schema.Attribute{
		"endpoint": schema.StringAttribute{
			MarkdownDescription: "Name of the endpoint whose rollout to steer.",
			Required:            true,
			Validators:          []validator.String{stringvalidator.RegexMatches(rollout.NamePattern, "must be an endpoint name")},
		},
		"track": schema.StringAttribute{
			MarkdownDescription: "The release track: `production`, the default and the only one with steps to steer " +
				"(a `preview` release goes to 100% of the preview route once healthy).",
			Optional:   true,
			Validators: []validator.String{stringvalidator.OneOf(string(rollout.Production))},
		},
		"reason": schema.StringAttribute{
			MarkdownDescription: fmt.Sprintf("Why, recorded in the endpoint's event trail with the token's name (at most %d characters).", rollout.MaxReason),
			Optional:            true,
			Validators:          []validator.String{stringvalidator.LengthAtMost(rollout.MaxReason)},
		},
		"timeout": schema.StringAttribute{
			MarkdownDescription: fmt.Sprintf("How long the action follows the rollout to its next resting point (paused, waiting for a promote, "+
				"complete, rolled back, aborted or failed) before it gives up; the command stays applied. A duration such as `10m`. Defaults to `%s`.",
				short(defaultActionTimeout)),
			CustomType: durationType{},
			Optional:   true,
			Validators: []validator.String{durationBetween(time.Second, rollout.MaxWait)},
		},
	}
	switch a.kind {
	case rollout.CommandPause:
		attrs["duration"] = schema.StringAttribute{
			MarkdownDescription: "Resume on its own after this long, a duration such as `30m`. Left out, the rollout stays paused until resumed.",
			CustomType:          durationType{},
			Optional:            true,
			Validators:          []validator.String{durationBetween(time.Second, rollout.MaxWait)},
		}
	case rollout.CommandRollback:
		attrs["version"] = schema.StringAttribute{
			MarkdownDescription: "The hot version to return to. Left out: the version the last rollout replaced.",
			Optional:            true,
			Validators:          []validator.String{stringvalidator.RegexMatches(rollout.VersionPattern, "must be a version")},
		}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: actionDescriptions[a.kind] + " Runs as an audited command: the endpoint's events name the token " +
			"followed by `(Terraform action)`. The action reports the rollout's events as progress until it reaches its next resting point, " +
			"and changes no Terraform state: the next plan's read shows what it did. Needs Terraform 1.14 or later.",
		Attributes: attrs,
	}
}

// actionDescriptions say what each verb does to the production rollout.
var actionDescriptions = map[rollout.CommandKind]string{
	rollout.CommandPromote: "Moves the endpoint's production rollout to its next step now: past a canary step waiting for a promote, " +
		"or before a step's pause is over. Fails when the rollout is then rolled back or aborted.",
	rollout.CommandPause: "Holds the endpoint's production rollout where it is: its timers stop until it is resumed (or `duration` is over). " +
		"Alarms are still watched.",
	rollout.CommandResume: "Lets a paused production rollout go on; its timers continue where they stopped. " +
		"Fails when the rollout is then rolled back or aborted.",
	rollout.CommandAbort: "Ends the endpoint's production rollout: all traffic returns to the stable version in one write and the new " +
		"environment is torn down. The release is not retried until it changes.",
	rollout.CommandRollback: "Returns production traffic to a hot previous version in one write: ends the rollout in flight, or after a " +
		"completed one goes back to the version it replaced (or `version`), inside its rollback window.",
}

func (a *steeringAction) Configure(_ context.Context, req action.ConfigureRequest, resp *action.ConfigureResponse) {
	a.client = clientFrom(req.ProviderData, &resp.Diagnostics)
}

// ModifyPlan asks the shifter, while planning, whether it would take the
// command (a dry run): an unknown endpoint, or nothing to promote, pause,
// resume or abort, is an error before anything runs. A shifter that does
// not answer at once is left to the invocation, which asks the same.
func (a *steeringAction) ModifyPlan(ctx context.Context, req action.ModifyPlanRequest, resp *action.ModifyPlanResponse) {
	if a.client == nil {
		return
	}
	endpoint, cmd, _, ok := a.command(ctx, req.Config, &resp.Diagnostics)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, planLookupTimeout)
	defer cancel()
	_, err := a.client.Act(ctx, endpoint, cmd, client.DryRun(), client.Via(wire.ViaTerraformAction))
	switch {
	case err == nil:
	case client.Unavailable(err) || errors.Is(err, context.DeadlineExceeded):
		tflog.Warn(ctx, "the shifter did not answer; the invocation checks the command", map[string]any{"error": err.Error()})
	default:
		a.addError(&resp.Diagnostics, endpoint, err)
	}
}

func (a *steeringAction) Invoke(ctx context.Context, req action.InvokeRequest, resp *action.InvokeResponse) {
	endpoint, cmd, timeout, ok := a.command(ctx, req.Config, &resp.Diagnostics)
	if !ok {
		return
	}
	progress := func(line string) {
		if resp.SendProgress != nil {
			resp.SendProgress(action.InvokeProgressEvent{Message: line})
		}
	}
	// The trail's end before the command: what follows is what it did.
	after, err := a.trailEnd(ctx, endpoint)
	if err != nil {
		a.addError(&resp.Diagnostics, endpoint, err)
		return
	}
	queued, err := a.client.Act(ctx, endpoint, cmd, client.Via(wire.ViaTerraformAction))
	if err != nil {
		a.addError(&resp.Diagnostics, endpoint, err)
		return
	}
	progress(fmt.Sprintf("%s: %s queued as command #%d by %s", endpoint, queued.Kind, queued.Seq, queued.Actor))

	waitCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var status rollout.EndpointStatus
	var trail []rollout.Event
	err = poll(waitCtx, func() (bool, error) {
		// The status first, then the events: every event up to the
		// status read is then reported.
		v, err := a.client.GetEndpoint(waitCtx, endpoint)
		if err != nil {
			return false, err
		}
		events, err := a.eventsAfter(waitCtx, endpoint, &after)
		for _, ev := range events {
			progress(fmt.Sprintf("%s: %s %s", endpoint, ev.Type, ev.Message))
		}
		trail = append(trail, events...)
		status = v.Status
		return err == nil && status.CommandSeq >= queued.Seq && resting(status), err
	})
	summary := fmt.Sprintf("Error running %s on endpoint %q", queued.Kind, endpoint)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		resp.Diagnostics.AddError(summary, fmt.Sprintf("The shifter took command #%d, but the rollout did not reach a resting point within %s "+
			"(state %q when the shifter last answered). The command stays applied: follow it with `shifter watch %s`.\n\n%s",
			queued.Seq, timeout, status.State, endpoint, describeEvents(trail)))
	case err != nil:
		a.addError(&resp.Diagnostics, endpoint, err)
	default:
		if why := ignored(trail, queued.Seq); why != "" {
			resp.Diagnostics.AddError(summary, fmt.Sprintf("The shifter ignored %s: %s.\n\n%s", queued.Kind, why, describeEvents(trail)))
		} else if r := status.Rollout; r != nil && r.Phase.Bad() && !expectedEnd(queued.Kind, r.Phase) {
			resp.Diagnostics.AddError(summary, fmt.Sprintf("The shifter ended rollout %d of version %s as %s: %s. Live version: %s.\n\n%s",
				r.ID, r.Version, r.Phase, r.Reason, orNone(status.StableVersion), describeEvents(trail)))
		} else {
			tflog.Info(ctx, "action done", map[string]any{"command": string(queued.Kind), "seq": queued.Seq, "state": status.State})
		}
	}
}

// command reads the action's configuration into the command it sends. It
// reports false when a value is unknown (planned from a resource not yet
// created) or invalid.
func (a *steeringAction) command(ctx context.Context, config tfsdk.Config, diags *diag.Diagnostics) (endpoint string, cmd rollout.Command, timeout time.Duration, ok bool) {
	// Each verb has its own attributes: they are read one by one.
	var name, track, reason, to types.String
	var wait, pauseFor durationValue
	read := func(attribute string, target any) {
		diags.Append(config.GetAttribute(ctx, path.Root(attribute), target)...)
	}
	read("endpoint", &name)
	read("track", &track)
	read("reason", &reason)
	read("timeout", &wait)
	switch a.kind {
	case rollout.CommandPause:
		read("duration", &pauseFor)
	case rollout.CommandRollback:
		read("version", &to)
	}
	if diags.HasError() || !allKnown(ctx, name, track, reason, wait, pauseFor, to) {
		return "", cmd, 0, false
	}
	x := &expander{ctx: ctx}
	cmd = rollout.Command{Kind: a.kind, For: x.duration(pauseFor), To: to.ValueString(), Reason: reason.ValueString()}
	timeout = defaultActionTimeout
	if !wait.IsNull() {
		timeout = x.duration(wait).D()
	}
	diags.Append(x.diags...)
	return name.ValueString(), cmd, timeout, !diags.HasError()
}

// trailEnd returns the sequence of the endpoint's last event.
func (a *steeringAction) trailEnd(ctx context.Context, endpoint string) (int64, error) {
	var after int64
	for {
		page, next, err := a.client.Events(ctx, endpoint, after, eventPage)
		if err != nil || len(page) < eventPage {
			return next, err
		}
		after = next
	}
}

// eventsAfter returns every event after *after and moves *after on.
func (a *steeringAction) eventsAfter(ctx context.Context, endpoint string, after *int64) ([]rollout.Event, error) {
	var events []rollout.Event
	for {
		page, next, err := a.client.Events(ctx, endpoint, *after, eventPage)
		events = append(events, page...)
		*after = next
		if err != nil || len(page) < eventPage {
			return events, err
		}
	}
}

func (a *steeringAction) addError(diags *diag.Diagnostics, endpoint string, err error) {
	summary := fmt.Sprintf("Error running %s on endpoint %q", a.kind, endpoint)
	switch rollout.ErrorCode(err) {
	case rollout.ENOTFOUND:
		diags.AddAttributeError(path.Root("endpoint"), "Endpoint Not Found",
			fmt.Sprintf("The shifter has no endpoint %q that this provider's token may see.", endpoint))
	case rollout.ECONFLICT:
		diags.AddError(fmt.Sprintf("Nothing to %s on endpoint %q", a.kind, endpoint), apiMessage(err))
	case rollout.EINVALID:
		if p, ok := fieldPath(rollout.ErrorField(err)); ok {
			diags.AddAttributeError(actionAttribute(p), summary, apiMessage(err))
			return
		}
		diags.AddError(summary, apiMessage(err))
	default:
		diags.AddError(summary, err.Error())
	}
}

// actionAttribute is the attribute of a command's field: the API calls
// pause's duration "for" and rollback's version "to".
func actionAttribute(p path.Path) path.Path {
	switch p.String() {
	case "for":
		return path.Root("duration")
	case "to":
		return path.Root("version")
	}
	return p
}

// resting reports whether the production rollout is where it stays until
// something happens: no rollout in flight, held by a person, or at a step
// that waits for a promote. A step with a pause, health checks and the bake
// go on by themselves.
func resting(s rollout.EndpointStatus) bool {
	r := s.Rollout
	return r == nil || r.Phase.Done() || r.Paused || r.Phase == rollout.PhasePaused
}

// expectedEnd reports whether a rollout that ended as phase is what command
// kind asked for.
func expectedEnd(kind rollout.CommandKind, phase rollout.Phase) bool {
	return (kind == rollout.CommandAbort && phase == rollout.PhaseAborted) ||
		(kind == rollout.CommandRollback && phase == rollout.PhaseRolledBack)
}

// ignored returns why the planner ignored command seq, or "".
func ignored(events []rollout.Event, seq int64) string {
	for _, ev := range events {
		if ev.Type == rollout.EventCommand && ev.Details["command_seq"] == strconv.FormatInt(seq, 10) && ev.Details["ignored"] != "" {
			return ev.Details["ignored"]
		}
	}
	return ""
}

// describeEvents lists events for a diagnostic, one a line.
func describeEvents(events []rollout.Event) string {
	if len(events) == 0 {
		return "No events since the command."
	}
	var b strings.Builder
	b.WriteString("Events since the command:\n")
	writeEvents(&b, events)
	return b.String()
}

// writeEvents writes events one a line: time, type, message.
func writeEvents(b *strings.Builder, events []rollout.Event) {
	for _, ev := range events {
		fmt.Fprintf(b, "  %s  %-22s %s\n", ev.Time.UTC().Format(time.RFC3339), ev.Type, ev.Message)
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
