package rollout

import (
	"fmt"
	"strconv"
	"time"
)

// The planner's words: every event it records and every reason it gives (a
// rollout's and a hold's Reason, an ignored command's why), in one file so
// that their wording is reviewed together. The architecture guide lists the
// event types; people read these messages in the CLI, the UI and plan
// warnings, and scripts read the details.

// event records a decision; details are key, value pairs.
func (p *planner) event(track Track, version, typ, message string, details ...string) {
	e := Event{
		Endpoint: p.in.Endpoint.Name,
		Time:     p.now,
		Actor:    ActorShifter,
		Type:     typ,
		Track:    track,
		Version:  version,
		Message:  message,
	}
	if len(details) > 0 {
		e.Details = make(map[string]string, len(details)/2)
		for i := 0; i+1 < len(details); i += 2 {
			e.Details[details[i]] = details[i+1]
		}
	}
	p.events = append(p.events, e)
}

// Rollouts.

func (p *planner) rolloutStarted(track Track, r *Rollout) {
	p.event(track, r.Key.Version, EventRolloutStarted, fmt.Sprintf("rollout %d of version %s started", r.ID, r.Key.Version),
		"rollout", strconv.Itoa(r.ID), "from", p.versionOf(r.From))
}

// rollbackStarted says which configuration comes back with the version: a
// hot environment runs the spec revision it was built from, not the
// endpoint's current one.
func (p *planner) rollbackStarted(r *Rollout) {
	to, from := p.specRevisionOf(r.Target), p.specRevisionOf(r.From)
	config := ""
	if to != 0 && to != from {
		config = fmt.Sprintf(" with its configuration (spec revision %d, live runs %d)", to, from)
	}
	p.event(Production, r.Key.Version, EventRolloutStarted, fmt.Sprintf("rollback to version %s%s started: %s", r.Key.Version, config, r.Reason),
		"rollout", strconv.Itoa(r.ID), "kind", string(KindRollback), "from", p.versionOf(r.From),
		"spec_revision", strconv.FormatInt(to, 10), "from_spec_revision", strconv.FormatInt(from, 10))
}

func (p *planner) canaryWaiting(track Track, r *Rollout, weight int) {
	p.event(track, r.Key.Version, EventRolloutPaused, fmt.Sprintf("canary at %d%%: waiting for a promote", weight), "weight", strconv.Itoa(weight))
}

func (p *planner) stepApplied(track Track, r *Rollout, weight int) {
	p.event(track, r.Key.Version, EventStepApplied, fmt.Sprintf("step %d/%d: %d%% of traffic on version %s, verified", r.Step+1, len(r.Steps), weight, r.Key.Version),
		"step", strconv.Itoa(r.Step+1), "weight", strconv.Itoa(weight))
}

func (p *planner) previewRouted(r *Rollout) {
	p.event(Preview, r.Key.Version, EventPreviewRouted, fmt.Sprintf("preview route sends 100%% to version %s", r.Key.Version))
}

func (p *planner) baking(track Track, r *Rollout) {
	p.event(track, r.Key.Version, EventRolloutBaking, fmt.Sprintf("100%% of traffic on version %s, verified; baking for %s", r.Key.Version, p.in.Endpoint.Policy.BakeTime),
		"step", strconv.Itoa(r.Step+1), "weight", "100")
}

// completed records a rollout that completed: which kind, what it runs and
// the version it replaced ("" for an endpoint's first), which notifications
// tell apart (a deploy, an upgrade, a rollback).
func (p *planner) completed(track Track, r *Rollout, e *Environment) {
	details := []string{"rollout", strconv.Itoa(r.ID), "kind", string(r.Kind), "image", e.Runs()}
	if from := p.st.Environment(r.From); from != nil {
		details = append(details, "previous", from.Version)
	}
	p.event(track, r.Key.Version, EventRolloutComplete, fmt.Sprintf("version %s is live on %s", e.Version, track), details...)
}

// ended records a rollout that ended badly, by its phase and reason; details
// add to the rollout, reason and cause.
func (p *planner) ended(track Track, r *Rollout, cause string, details ...string) {
	types := map[Phase]string{PhaseAborted: EventRolloutAborted, PhaseRolledBack: EventRolloutRolledBack, PhaseFailed: EventRolloutFailed}
	p.event(track, r.Key.Version, types[r.Phase], fmt.Sprintf("rollout %d of version %s %s: %s", r.ID, r.Key.Version, r.Phase, r.Reason),
		append([]string{"rollout", strconv.Itoa(r.ID), "reason", r.Reason, "cause", cause}, details...)...)
}

func (p *planner) paused(r *Rollout, c Command) {
	p.event(Production, r.Key.Version, EventRolloutPaused, byOperator("rollout paused", c), "actor", c.Actor)
}

func (p *planner) resumed(track Track, r *Rollout, actor string) {
	p.event(track, r.Key.Version, EventRolloutResumed, "rollout resumed by "+actor, "actor", actor)
}

// Overrides.

func (p *planner) overrideStarted(o *Override) {
	p.event(Production, o.Version, EventOverrideStarted,
		fmt.Sprintf("production traffic overridden to version %s until %s by %s: %s; releases declared meanwhile wait for its end",
			o.Version, o.Until.UTC().Format(time.RFC3339), o.Actor, o.Reason),
		"actor", o.Actor, "reason", o.Reason, "until", o.Until.UTC().Format(time.RFC3339))
}

func (p *planner) overrideEnded(o *Override, why string) {
	p.event(Production, o.Version, EventOverrideEnded, fmt.Sprintf("override to version %s ended: %s; releases roll out again", o.Version, why),
		"actor", o.Actor, "ended", why)
}

func (p *planner) releaseDeferred(d *Desired, o *Override) {
	p.event(Production, d.Key.Version, EventReleaseDeferred,
		fmt.Sprintf("release %s waits: production traffic is overridden to version %s until %s", d.Key.Version, o.Version, o.Until.UTC().Format(time.RFC3339)),
		"override_version", o.Version, "until", o.Until.UTC().Format(time.RFC3339))
}

func (p *planner) commandIgnored(c Command, why string) {
	p.event(Production, "", EventCommand, fmt.Sprintf("%s by %s ignored: %s", c.Kind, c.Actor, why),
		"command", string(c.Kind), "command_seq", strconv.FormatInt(c.Seq, 10), "actor", c.Actor, "ignored", why)
}

// Alarms and metrics that do not roll back.

func (p *planner) alarmAtStart(track Track, r *Rollout, name string) {
	p.event(track, r.Key.Version, EventAlarmReported, fmt.Sprintf("alarm %s was already in ALARM when the rollout started", name), "alarm", name)
}

func (p *planner) alarmNotActedOn(track Track, r *Rollout, name string) {
	why := "auto_rollback is off"
	if r.From == "" {
		why = "there is no previous version to return to"
	}
	p.event(track, r.Key.Version, EventAlarmReported, fmt.Sprintf("alarm %s entered ALARM; not rolling back: %s", name, why), "alarm", name)
}

// metricsJudged records a verdict that lets the rollout go on, with what it
// saw; a failing one is in the rollback's reason or metricNotActedOn.
func (p *planner) metricsJudged(track Track, r *Rollout, seen []string) {
	p.event(track, r.Key.Version, EventMetricsJudged, fmt.Sprintf("metrics of version %s at step %d: %s", r.Key.Version, r.Step+1, r.Judged),
		append([]string{"step", strconv.Itoa(r.Step + 1)}, seen...)...)
}

// metricDetails are what a judgement saw, as event details: the new
// version's requests, 5xx responses and average latency in milliseconds,
// and the stable version's prefixed "stable_" (shifter simulate replays
// them).
func metricDetails(target, stable Metrics, hasStable bool) []string {
	of := func(prefix string, m Metrics) []string {
		return []string{prefix + "requests", strconv.FormatFloat(m.Requests, 'f', -1, 64),
			prefix + "errors_5xx", strconv.FormatFloat(m.Errors5xx, 'f', -1, 64),
			prefix + "latency_ms", strconv.FormatFloat(float64(m.AverageLatency)/float64(time.Millisecond), 'f', -1, 64)}
	}
	details := of("", target)
	if hasStable {
		details = append(details, of("stable_", stable)...)
	}
	return details
}

func (p *planner) metricNotActedOn(track Track, r *Rollout, verdict string) {
	p.event(track, r.Key.Version, EventAlarmReported, "metric check failed; not rolling back: auto_rollback is off: "+verdict)
}

// Routes.

func (p *planner) driftRepaired(track Track, live, want map[string]int) {
	p.event(track, "", EventDriftRepaired, fmt.Sprintf("%s rule was changed outside the shifter (%s); restoring %s", track, formatWeights(live), formatWeights(want)))
}

func (p *planner) settingsRestored(track Track, unlike string) {
	p.event(track, "", EventDriftRepaired, fmt.Sprintf("%s route differs from the endpoint's spec (%s); rewriting it", track, unlike))
}

func formatWeights(w map[string]int) string {
	keys := sortedKeys(w)
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += " "
		}
		s += k + "=" + strconv.Itoa(w[k])
	}
	if s == "" {
		return "no rule"
	}
	return s
}

// Environments.

func (p *planner) environmentCreating(track Track, e *Environment) {
	image := e.Image + " as tagged"
	details := []string{"environment", e.ID, "template_hash", e.TemplateHash, "image", e.Image}
	if e.Digest != "" {
		image = e.Image + " pinned to " + e.Digest
		details = append(details, "digest", e.Digest)
	}
	p.event(track, e.Version, EventEnvironmentCreating, fmt.Sprintf("creating environment %s for version %s (image %s, %d %s)", e.ID, e.Version, image, e.Capacity, e.Units()),
		details...)
}

func (p *planner) environmentHealthy(e *Environment, o EnvObservation) {
	p.event("", e.Version, EventEnvironmentHealthy, fmt.Sprintf("environment %s of version %s is healthy (%d in service, %d healthy targets)", e.ID, e.Version, o.InService, o.Healthy),
		"environment", e.ID)
}

// environmentMissing says what becomes of an environment whose resources
// vanished: what follows the message says so.
func (p *planner) environmentMissing(e *Environment, recreating bool) {
	what := "it is no longer a rollback target"
	if recreating {
		what = "recreating it"
	}
	p.event("", e.Version, EventEnvironmentMissing, fmt.Sprintf("environment %s of version %s is missing in AWS; %s", e.ID, e.Version, what), "environment", e.ID)
}

func (p *planner) environmentRescaled(e *Environment, found int) {
	p.event("", e.Version, EventEnvironmentRescaled, fmt.Sprintf("environment %s of version %s was scaled to %d outside the shifter; setting it back to %d", e.ID, e.Version, found, e.Capacity),
		"environment", e.ID, "capacity", strconv.Itoa(e.Capacity), "found", strconv.Itoa(found))
}

func (p *planner) environmentScaled(e *Environment, capacity int) {
	p.event("", e.Version, EventEnvironmentScaled, fmt.Sprintf("environment %s of version %s scaled from %d to %d %s", e.ID, e.Version, e.Capacity, capacity, e.Units()),
		"environment", e.ID, "capacity", strconv.Itoa(capacity))
}

func (p *planner) environmentCold(e *Environment) {
	p.event("", e.Version, EventEnvironmentCold, fmt.Sprintf("version %s is no longer a rollback target: %d newer versions are hot (policy.max_hot_versions)", e.Version, p.in.Endpoint.Policy.HotVersions()),
		"environment", e.ID)
}

func (p *planner) environmentDeleting(e *Environment) {
	p.event("", e.Version, EventEnvironmentDeleting, fmt.Sprintf("environment %s of version %s is no longer needed (%s); deleting it", e.ID, e.Version, p.whyUnneeded(e)),
		"environment", e.ID)
}

func (p *planner) environmentDeleted(e *Environment) {
	p.event("", e.Version, EventEnvironmentDeleted, fmt.Sprintf("environment %s of version %s deleted", e.ID, e.Version), "environment", e.ID)
}

func (p *planner) whyUnneeded(e *Environment) string {
	switch {
	case p.in.Endpoint.Deleting:
		return reasonEndpointDeleted
	case e.HeldFull:
		return "rollback window ended"
	case e.Status == EnvProvisioning:
		return "its rollout ended before it was healthy"
	}
	if r := p.st.Preview.Rollout; r != nil && r.Target == e.ID {
		if why := p.previewRetirement(); why != "" {
			return why
		}
	}
	return "its rollout did not complete"
}

func (p *planner) previewRetired(version, why string) {
	p.event(Preview, version, EventPreviewRetired, fmt.Sprintf("preview of version %s retired: %s; the preview route goes", version, why))
}

// judgement says what the last look at the new version's metrics saw, for
// status: "0.50% 5xx of 200 requests, 41ms average: passing".
func judgement(m Metrics, minRequests int, verdict string) string {
	if m.Requests <= 0 || m.Requests < float64(minRequests) {
		return fmt.Sprintf("%.0f requests, too few to judge (%d needed)", m.Requests, max(minRequests, 1))
	}
	seen := fmt.Sprintf("%.2f%% 5xx of %.0f requests, %s average", 100*m.Errors5xx/m.Requests, m.Requests, m.AverageLatency.Round(time.Millisecond))
	if verdict == "" {
		return seen + ": passing"
	}
	return seen + ": " + verdict
}

// Reasons: why a rollout waits or ended, kept in its Reason and its hold's.

const (
	reasonPreviewRemoved         = "the preview release was removed"
	reasonPreviewDeclaredRetired = "the preview release was declared retired"
)

const reasonEndpointDeleted = "endpoint deleted"

func reasonHot(version string) string {
	return fmt.Sprintf("version %s is still hot: traffic returns to it in one step", version)
}

func reasonBlocked(alarm string) string { return fmt.Sprintf("blocked: alarm %s is in ALARM", alarm) }

func reasonUnhealthy(e *Environment, timeout Duration, pinning bool) string {
	if pinning && e.Digest == "" {
		return fmt.Sprintf("environment %s of version %s was not created within %s: its image %s could not be resolved to a digest", e.ID, e.Version, timeout, e.Image)
	}
	return fmt.Sprintf("environment %s of version %s was not healthy within %s: %s", e.ID, e.Version, timeout, e.Health.Why(e.Capacity, e.Units()))
}

func reasonSuperseded(next string) string { return fmt.Sprintf("superseded by version %s", next) }

func reasonReverted(stable string) string {
	return fmt.Sprintf("reverted to stable version %s", stable)
}

func reasonAlarm(name string) string { return fmt.Sprintf("alarm %s entered ALARM", name) }

func reasonMetric(verdict string) string { return "metric check failed: " + verdict }

// byOperator says what a person's command did, by whom and, when they gave
// one, why: a reason and the message of a pause.
func byOperator(did string, c Command) string {
	because := did + " by " + c.Actor
	if c.Reason != "" {
		because += ": " + c.Reason
	}
	return because
}

// Why a command was ignored: nothing it could act on.
const (
	ignoredNotShifting = "no rollout is shifting traffic"
	ignoredNotInFlight = "no rollout is in flight"
	ignoredNotPaused   = "no rollout is paused"
	ignoredNoHot       = "there is no hot previous version"
	ignoredNoOverride  = "no override is in force"
)

// reasonOverrideNotLive says why an override ended before its time: its
// version did not take the traffic (r is the rollback that tried).
func reasonOverrideNotLive(version string, r *Rollout) string {
	why := fmt.Sprintf("version %s did not take the traffic", version)
	if r != nil && r.Reason != "" {
		why += ": " + r.Reason
	}
	return why
}

func ignoredNotHot(version string) string {
	return fmt.Sprintf("version %s has no hot environment", version)
}

// Metric verdicts: why a step's metrics fail the policy's checks.

func verdictRate(rate, limit float64) string {
	return fmt.Sprintf("5xx rate %.2f%% is above %.2f%%", rate, limit)
}

func verdictLatency(latency time.Duration, limit Duration) string {
	return fmt.Sprintf("average latency %s is above %s", latency, limit)
}

func verdictRateToStable(rate, ratio, stable float64) string {
	return fmt.Sprintf("5xx rate %.2f%% is more than %g times the stable version's %.2f%%", rate, ratio, stable)
}

func verdictLatencyToStable(latency time.Duration, ratio float64, stable time.Duration) string {
	return fmt.Sprintf("average latency %s is more than %g times the stable version's %s", latency, ratio, stable)
}
