package provider

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// What a release's plan says the apply will do: the endpoint the release is
// planned on, and the warning naming the change the shifter will make of
// it, foreseen from the endpoint's live status by the planner's own rules
// (rollout.Foresee). The warning never says more than the plan knows: what
// depends on values known only after apply is said to be decided then.

// releasePlan is the endpoint a release is planned on.
type releasePlan struct {
	name string
	// spec is the endpoint the apply will find: the run's plan of it when
	// the run changes it (changes), the shifter's otherwise. known is
	// false when there is neither, or the run changes it with values known
	// only after apply.
	spec    rollout.Endpoint
	known   bool
	changes bool
	// current is the endpoint as the shifter has it now, and status its
	// live status; exists is false when the shifter has no such endpoint
	// (status is then empty, as a new endpoint's is).
	current rollout.Endpoint
	status  rollout.EndpointStatus
	exists  bool
}

// releasePlan returns the endpoint a release on endpoint is planned on, as
// the run's refresh read it (readEndpoints); an error when the shifter does
// not answer.
func (r *releaseResource) releasePlan(ctx context.Context, endpoint string) (releasePlan, error) {
	ep := releasePlan{name: endpoint}
	ctx, cancel := context.WithTimeout(ctx, planLookupTimeout)
	defer cancel()
	v, err := r.endpoint(ctx, endpoint)
	switch {
	case err == nil:
		ep.current, ep.status, ep.exists = v.Endpoint, v.Status, true
		ep.spec, ep.known = v.Endpoint, true
	case !isNotFound(err):
		return ep, err
	}
	if planned, ok := r.planned.get(endpoint); ok {
		ep.spec, ep.known, ep.changes = planned.spec, planned.known, true
	}
	return ep, nil
}

// keepsHold reports whether a release the shifter holds after a rollout
// that ended badly stays held once the run is applied: a hold lasts until
// what the release runs changes, which a change of its endpoint's template
// does.
func (ep releasePlan) keepsHold(rel rollout.Release) bool {
	return ep.known && ep.exists && rollout.KeyOf(ep.current, rel) == rollout.KeyOf(ep.spec, rel)
}

// warning returns the plan warning of release rel on the endpoint: the kind
// of change the shifter will make of it, and how. runs says whether what rel
// runs (its image and env) is known; now is the time of the plan.
func (ep releasePlan) warning(rel rollout.Release, runs bool, now time.Time) (summary, detail string) {
	title := releaseTitle(rel.Version, rel.Endpoint, rel.Track)
	switch {
	case !ep.exists && !ep.changes:
		return title + ": its endpoint is not in the shifter", fmt.Sprintf(
			"The shifter has no endpoint %q, so the plan cannot say what declaring %s does. If this run creates the endpoint, "+
				"refer to it (endpoint = ionroller_endpoint.NAME.name) so that the release is planned after it, on its spec.", ep.name, rel.Version)
	case rel.Retired:
		return title + ": retired", "The release is declared retired: the preview route is down once the apply is done, and the release's " +
			"environment expires unless production runs it. No production traffic moves."
	case !ep.known || !runs:
		return ep.undecided(rel, runs)
	case rel.Track == rollout.Production && ep.status.Override != nil && ep.status.Override.Version != rel.Version:
		return title + ": deferred by an override", overrideDetail(ep.name, ep.status.Override)
	}
	f := rollout.Foresee(ep.status, rel.Track, rollout.KeyOf(ep.spec, rel))
	var b strings.Builder
	if s := f.Superseded; s != nil && f.Course != rollout.CourseRevert {
		fmt.Fprintf(&b, "The rollout of %s in flight (%s) ends first: its share of traffic goes back to %s at once. ",
			s.Version, rolloutState(s), environmentName(f.Stable))
	}
	var kind string
	switch {
	case f.Course == rollout.CourseRollback:
		kind = "a rollback to a hot version"
		ep.writeRollback(&b, f, now)
	case f.Course == rollout.CourseRevert:
		kind = "a return to the stable version"
		fmt.Fprintf(&b, "%s is the stable version: applying ends the rollout of %s in flight (%s) and moves all of %s's %s back to %s "+
			"in one load-balancer write.", rel.Version, f.Superseded.Version, rolloutState(f.Superseded), ep.name, trafficOf(rel.Track), environmentName(f.Stable))
	case f.Course == rollout.CourseKeep:
		kind = "no traffic change"
		fmt.Fprintf(&b, "%s already serves %s's %s from environment %s, with what this release runs: the shifter moves no traffic.",
			rel.Version, ep.name, trafficOf(rel.Track), f.To.ID)
	case f.Course == rollout.CourseContinue:
		kind = "no traffic change"
		fmt.Fprintf(&b, "The rollout of %s in flight (%s) is this release's: it goes on as it is, and the apply moves no traffic.",
			rel.Version, rolloutState(ep.status.Rollout))
	case f.NewTemplate():
		kind = "a template change"
		fmt.Fprintf(&b, "What %s runs changed (the endpoint's template, or the release's image or env), so environment %s, which serves it now, "+
			"is not reused: applying rolls %[1]s out again", rel.Version, f.Stable.ID)
		ep.writeRollout(&b, f, rel.Track)
	default:
		kind = "a new rollout"
		fmt.Fprintf(&b, "Applying rolls %s out", rel.Version)
		ep.writeRollout(&b, f, rel.Track)
	}
	if ep.changes {
		fmt.Fprintf(&b, " (Foreseen on endpoint %s as this run changes it.)", ep.name)
	}
	return title + ": " + kind, b.String()
}

// writeRollout ends the sentence of a rollout: where it runs, its steps,
// and what serves until it is done.
func (ep releasePlan) writeRollout(b *strings.Builder, f rollout.Forecast, track rollout.Track) {
	if f.To != nil {
		fmt.Fprintf(b, " on environment %s, which already runs it", f.To.ID)
	} else {
		b.WriteString(" in a new environment")
	}
	fmt.Fprintf(b, ", then moves %s to it: %s.", trafficOf(track), rolloutSteps(ep.spec.Policy, track, f.Stable == nil))
	if f.Stable == nil || track != rollout.Production {
		return
	}
	fmt.Fprintf(b, " %s serves the rest until then", environmentName(f.Stable))
	if retain := ep.spec.Policy.RetainPrevious; retain > 0 {
		fmt.Fprintf(b, ", and stays hot for %s after for a rollback", short(retain.D()))
		if pct := ep.spec.Policy.RetainCapacityPercent; pct < 100 {
			fmt.Fprintf(b, ", at %d%% of its capacity: a revert would first scale it back up and wait for its health, not be one write", pct)
		}
	}
	b.WriteString(".")
}

// writeRollback says where a rollback goes: the hot environment, its
// health and capacity now, and what is left of its rollback window.
func (ep releasePlan) writeRollback(b *strings.Builder, f rollout.Forecast, now time.Time) {
	e := f.To
	fmt.Fprintf(b, "%s is hot: applying moves all of %s's production traffic", e.Version, ep.name)
	if f.Stable != nil {
		fmt.Fprintf(b, " from %s", environmentName(f.Stable))
	}
	fmt.Fprintf(b, " back to environment %s in one load-balancer write, with no new environment and no steps. "+
		"It has %d healthy of a capacity of %d now", e.ID, e.Healthy, e.Capacity)
	if want := ep.spec.Template.DesiredCapacity; e.Capacity < want {
		fmt.Fprintf(b, " (kept smaller while hot: it is scaled back to %d before traffic moves)", want)
	}
	left := max(e.HotUntil.Sub(now), 0).Round(time.Second)
	fmt.Fprintf(b, ", and %s left in its rollback window (until %s).", short(left), e.HotUntil.UTC().Format(time.RFC3339))
}

// undecided is the warning of a release whose course depends on values
// known only after apply: what the endpoint's status tells whatever they
// are.
func (ep releasePlan) undecided(rel rollout.Release, runs bool) (summary, detail string) {
	title := releaseTitle(rel.Version, rel.Endpoint, rel.Track)
	why := fmt.Sprintf("endpoint %s changes in this run with values known only after apply", ep.name)
	if !runs {
		why = "what the release runs (its image or env) is known only after apply"
	}
	var running []string
	for _, e := range ep.status.Environments {
		if e.Version == rel.Version && e.Phase != "expiring" {
			running = append(running, e.ID)
		}
	}
	if len(running) == 0 {
		// Whatever it runs, no environment does: it rolls out anew.
		steps := "the steps of the endpoint's policy, as this run leaves it"
		if ep.known {
			steps = rolloutSteps(ep.spec.Policy, rel.Track, ep.status.StableVersion == "")
		}
		return title + ": a new rollout", fmt.Sprintf("No environment runs %s, so applying rolls it out in a new environment, then moves %s to it: %s. "+
			"(Which environment it is built from is decided at apply: %s.)", rel.Version, trafficOf(rel.Track), steps, why)
	}
	return title + ": decided at apply", fmt.Sprintf(
		"%[1]s runs in environment %[2]s now. Whether applying returns traffic to it, leaves traffic as it is, or rolls %[1]s out again in a new "+
			"environment depends on what the release runs, and %[3]s.", rel.Version, strings.Join(running, ", "), why)
}

// settingsWarning is the warning of a release whose plan changes only
// Terraform's settings of it.
func settingsWarning(m releaseResourceModel) (summary, detail string) {
	return releaseTitle(m.Version.ValueString(), m.Endpoint.ValueString(), rollout.Track(m.Track.ValueString())) + ": no traffic change",
		"Only Terraform's settings of the release change (wait_for, timeouts): the apply does not call the shifter, and no traffic moves."
}

// rolloutSteps says how a rollout on track moves traffic under policy p, as
// the planner runs it: once the environment is healthy, each step for its
// pause or until a promote (the canary: rule 8), the last one, 100%, then the
// bake (rule 9). An endpoint's first release and a preview take 100% once
// healthy.
func rolloutSteps(p rollout.Policy, track rollout.Track, first bool) string {
	bake := ""
	if p.BakeTime > 0 {
		bake = ", then a bake of " + short(p.BakeTime.D())
	}
	switch {
	case track == rollout.Preview:
		return "100% once healthy"
	case first:
		return "100% once healthy, as the endpoint's first release" + bake
	}
	steps := make([]string, len(p.Steps))
	for i, s := range p.Steps {
		switch {
		case i == len(p.Steps)-1:
			steps[i] = fmt.Sprintf("%d%%", s.Weight)
		case s.Pause == nil:
			steps[i] = fmt.Sprintf("%d%% until promoted", s.Weight)
		default:
			steps[i] = fmt.Sprintf("%d%% for %s", s.Weight, short(s.Pause.D()))
		}
	}
	return "once healthy, " + strings.Join(steps, ", ") + bake
}

// releaseTitle names a release in plan warnings.
func releaseTitle(version, endpoint string, track rollout.Track) string {
	if track == rollout.Preview {
		return fmt.Sprintf("Release %s of %s (preview)", version, endpoint)
	}
	return fmt.Sprintf("Release %s of %s", version, endpoint)
}

// trafficOf names the traffic a track's route carries.
func trafficOf(track rollout.Track) string {
	if track == rollout.Preview {
		return "preview route"
	}
	return "production traffic"
}

// environmentName is "v1 (environment e1)", "none" for no environment.
func environmentName(e *rollout.EnvironmentStatus) string {
	if e == nil {
		return "none"
	}
	return fmt.Sprintf("%s (environment %s)", e.Version, e.ID)
}

// rolloutState is where a rollout in flight is: "paused at 10%",
// "provisioning".
func rolloutState(s *rollout.RolloutStatus) string {
	if s.Weight == 0 {
		return string(s.Phase)
	}
	return fmt.Sprintf("%s at %d%%", s.Phase, s.Weight)
}
