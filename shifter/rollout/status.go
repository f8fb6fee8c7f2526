package rollout

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// EndpointStatus is the live view of an endpoint that the API serves and the
// provider, CLI and UI show: what is live, what is moving, what is hot.
type EndpointStatus struct {
	// State is the production rollout's phase while one is in flight
	// ("paused" while a person holds it), otherwise "steady", "deleting"
	// or "empty" (no version has gone live yet).
	State         string `json:"state"`
	StableVersion string `json:"stable_version,omitempty"`
	// Weights are the production route's weights by version, and
	// Verified whether they were read back from the rule, by an
	// observation that is not stale.
	Weights  map[string]int `json:"weights,omitempty"`
	Verified bool           `json:"verified"`
	// DNSTTL is, for traffic moved by DNS records (Route 53), how long
	// resolvers may go on answering with the records as they were: the
	// weights are the records', and traffic follows them that much later
	// at the earliest. 0 for traffic a load balancer moves at once.
	DNSTTL         Duration            `json:"dns_ttl,omitempty"`
	ObservedAt     time.Time           `json:"observed_at,omitzero"`
	Conditions     Conditions          `json:"conditions,omitempty"`
	PreviewVersion string              `json:"preview_version,omitempty"`
	Rollout        *RolloutStatus      `json:"rollout,omitempty"`
	Environments   []EnvironmentStatus `json:"environments,omitempty"`
	HotVersions    []HotVersion        `json:"hot_versions,omitempty"`
	// Override is the break-glass override holding production's traffic,
	// if one is in force.
	Override *OverrideStatus `json:"override,omitempty"`
	// ObserveOnly says the endpoint's environments and routes are imagined
	// (Endpoint.ObserveOnly): nothing of it is in AWS.
	ObserveOnly bool      `json:"observe_only,omitempty"`
	UpdatedAt   time.Time `json:"updated_at,omitzero"`
	// CommandSeq is the sequence of the last operator command the planner
	// took (applied or ignored): a command queued as N has had its effect
	// once CommandSeq >= N.
	CommandSeq int64 `json:"command_seq,omitempty"`
}

// RolloutStatus describes a rollout for people.
type RolloutStatus struct {
	ID      int    `json:"id"`
	Kind    Kind   `json:"kind"`
	Version string `json:"version"`
	// TemplateHash and Retry complete the key of the release it rolls
	// out (Key).
	TemplateHash string `json:"template_hash"`
	Retry        int    `json:"retry,omitempty"`
	FromVersion  string `json:"from_version,omitempty"`
	// SpecRevision is the revision of the endpoint's spec the version's
	// environment was built from, and FromSpecRevision the stable one's: a
	// rollback to a hot version brings back its configuration too, which
	// these say.
	SpecRevision     int64 `json:"spec_revision,omitempty"`
	FromSpecRevision int64 `json:"from_spec_revision,omitempty"`
	Phase            Phase `json:"phase"`
	// Step is 1-based (0 before the first step); Weight is its share.
	Step   int `json:"step"`
	Steps  int `json:"steps"`
	Weight int `json:"weight"`
	// Plan is the rollout's steps, as they were when it started.
	Plan []Step `json:"plan"`
	// NextAt is when the next step or the end of the bake is due; zero
	// while waiting for a promote, for health, or while paused.
	NextAt      time.Time `json:"next_at,omitzero"`
	Paused      bool      `json:"paused,omitempty"`
	PausedUntil time.Time `json:"paused_until,omitzero"`
	// PausedBy is who paused it (a person, or "shifter"), and PauseReason
	// why, when known.
	PausedBy    string `json:"paused_by,omitempty"`
	PauseReason string `json:"pause_reason,omitempty"`
	// Holding says why a rollout in flight cannot act: "holding at 10%:
	// AWS unreachable for 45s".
	Holding string `json:"holding,omitempty"`
	// Judged says what the last look at the new version's metrics saw,
	// and when: "0.50% 5xx of 200 requests, 41ms average: passing".
	Judged   string    `json:"judged,omitempty"`
	JudgedAt time.Time `json:"judged_at,omitzero"`
	// ObservedTraffic is the step's traffic as the load balancer counted
	// it, beside its weights; nil for a rollout whose traffic is not
	// counted (StepTraffic).
	ObservedTraffic *TrafficObservation `json:"observed_traffic,omitempty"`
	// Series is what the reads of its steps' traffic saw of the canary
	// and the stable version, oldest first (Rollout.Series).
	Series    []SeriesPoint `json:"series,omitempty"`
	Reason    string        `json:"reason,omitempty"`
	StartedAt time.Time     `json:"started_at"`
	EndedAt   time.Time     `json:"ended_at,omitzero"`
}

// TrafficObservation is a step's traffic as ALB's RequestCount per target
// group counted it, beside the weights it intends.
type TrafficObservation struct {
	Step int `json:"step"`
	// Shares are the percent of the requests each version took over
	// [Start, End), and Weights the shares the rule gives them; Shares is
	// empty when no request was counted, Start and End zero before the
	// first count.
	Shares   map[string]float64 `json:"shares,omitempty"`
	Weights  map[string]int     `json:"weights,omitempty"`
	Requests float64            `json:"requests"`
	Start    time.Time          `json:"start,omitzero"`
	End      time.Time          `json:"end,omitzero"`
	// Hold is where the step's hold for its traffic is: "holding" (until
	// HoldUntil at the latest), "followed", "not_following" or
	// "unobserved"; empty when the policy does not hold steps for it.
	Hold        string    `json:"hold,omitempty"`
	HoldUntil   time.Time `json:"hold_until,omitzero"`
	HoldEndedAt time.Time `json:"hold_ended_at,omitzero"`
	// TolerancePercent is the policy's tolerance, in percentage points.
	TolerancePercent float64 `json:"tolerance_percent,omitempty"`
}

// EnvironmentStatus describes an environment for people.
type EnvironmentStatus struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	// TemplateHash identifies what it runs (TemplateHash): a release runs
	// on it when its key has the same version and hash.
	TemplateHash string `json:"template_hash"`
	Image        string `json:"image"`
	// Digest is what the image is pinned to: the instances run
	// image@digest. Empty while it is resolved, or when the shifter runs
	// images as tagged.
	Digest string `json:"digest,omitempty"`
	// SpecRevision is the revision of the endpoint's spec it was built
	// from: the configuration it runs.
	SpecRevision int64 `json:"spec_revision,omitempty"`
	// Phase is provisioning, healthy, serving, hot or expiring.
	Phase string `json:"phase"`
	// StableOn are the tracks whose stable environment it is: production
	// once it completed a rollout there, preview while it serves the
	// preview route.
	StableOn      []Track `json:"stable_on,omitempty"`
	Weight        int     `json:"weight"`
	PreviewWeight int     `json:"preview_weight,omitempty"`
	Capacity      int     `json:"capacity"`
	InService     int     `json:"in_service"`
	Healthy       int     `json:"healthy"`
	// Health says what the last read of its targets showed, and so why
	// it is not healthy: "2 targets in their first health checks".
	Health       string    `json:"health"`
	HealthReadAt time.Time `json:"health_read_at,omitzero"`
	// Attached says the load balancer health-checks it: it is on a route,
	// at weight 0 if it carries no traffic.
	Attached bool `json:"attached"`
	// HotUntil ends the rollback window of a hot environment (Hot); zero
	// for any other.
	HotUntil  time.Time `json:"hot_until,omitzero"`
	CreatedAt time.Time `json:"created_at"`
}

// Hot reports whether e is a previous production version inside its
// rollback window: declaring its version again is a rollback (rule 4). Its
// phase says "hot" unless it also serves the preview route.
func (e *EnvironmentStatus) Hot() bool { return !e.HotUntil.IsZero() }

// Phases of an environment's life, as the status shows them.
const (
	phaseProvisioning = "provisioning"
	phaseHealthy      = "healthy"
	phaseServing      = "serving"
	phaseHot          = "hot"
	phaseExpiring     = "expiring"
)

// HotVersion is a previous version that can take traffic back at once.
type HotVersion struct {
	Version string `json:"version"`
	// SpecRevision is the configuration it runs, which a rollback to it
	// brings back.
	SpecRevision int64     `json:"spec_revision,omitempty"`
	Until        time.Time `json:"until"`
	// Rollback readiness, as the last health read showed it: Capacity
	// is what it runs, FullCapacity what taking all the traffic back
	// needs, Healthy its healthy targets. Ready says all the traffic can
	// return to it in one write now; otherwise a rollback first scales
	// it up (ScaleUp) and waits for its health, up to the policy's
	// healthy_timeout.
	Capacity     int       `json:"capacity"`
	FullCapacity int       `json:"full_capacity"`
	Healthy      int       `json:"healthy"`
	HealthReadAt time.Time `json:"health_read_at,omitzero"`
	Ready        bool      `json:"ready"`
	ScaleUp      bool      `json:"scale_up,omitempty"`
}

// OverrideStatus is a break-glass override in force: production's traffic
// stays on Version until Until, and releases declared meanwhile wait.
type OverrideStatus struct {
	Version string    `json:"version"`
	Since   time.Time `json:"since"`
	Until   time.Time `json:"until"`
	Actor   string    `json:"actor"`
	Reason  string    `json:"reason"`
}

// describeOverride returns the override in force at now, or nil.
func describeOverride(now time.Time, st State) *OverrideStatus {
	o := st.Production.Override
	if o == nil || !now.Before(o.Until) {
		return nil
	}
	s := o.OverrideStatus
	return &s
}

// Sentence says what the override does, for plans, statuses and the UI:
// "production traffic is overridden to v1 until 2026-12-04T10:00:00Z by
// alice: bad carts".
func (o *OverrideStatus) Sentence() string {
	return fmt.Sprintf("production traffic is overridden to version %s until %s by %s: %s", o.Version, o.Until.UTC().Format(time.RFC3339), o.Actor, o.Reason)
}

// RollbackReady reports whether one of hot can take all the traffic back in
// one write now.
func RollbackReady(hot []HotVersion) bool {
	return slices.ContainsFunc(hot, func(h HotVersion) bool { return h.Ready })
}

// ReleaseStatus is the live state of a desired release.
type ReleaseStatus struct {
	// State is "pending" until the shifter acts on the release, then the
	// phase of its rollout: ... "complete", or "rolled_back", "aborted",
	// "failed" (held: not retried until the release changes).
	State string `json:"state"`
	// TrafficPercent is the share of the track's traffic on the release's
	// environment, Verified whether it was read back from the rule.
	TrafficPercent int  `json:"traffic_percent"`
	Verified       bool `json:"verified"`
	// ObservedTrafficPercent is the share of the requests the load
	// balancer counted on the release's environment over the last window
	// of the step in flight (RolloutStatus.ObservedTraffic); nil when
	// none was counted.
	ObservedTrafficPercent *float64 `json:"observed_traffic_percent,omitempty"`
	// Conditions are the endpoint's (Condition).
	Conditions  Conditions `json:"conditions,omitempty"`
	LiveVersion string     `json:"live_version,omitempty"`
	// LiveSpecRevision is the revision of the endpoint's spec the live
	// version runs.
	LiveSpecRevision int64  `json:"live_spec_revision,omitempty"`
	EnvironmentID    string `json:"environment_id,omitempty"`
	// Digest is what the release's environment runs its image by (see
	// EnvironmentStatus.Digest).
	Digest string `json:"digest,omitempty"`
	// SpecRevision is the revision of the endpoint's spec the release's
	// environment was built from.
	SpecRevision int64 `json:"spec_revision,omitempty"`
	// HotVersions are, on the production track, the previous versions a
	// rollback may return to at once, with the configuration each runs.
	HotVersions []HotVersion `json:"hot_versions,omitempty"`
	// Override is, on the production track, the break-glass override in
	// force: a release of another version is "deferred" until it ends.
	Override *OverrideStatus `json:"override,omitempty"`
	// Reason says why a release was rolled back, aborted, failed or is
	// deferred.
	Reason  string         `json:"reason,omitempty"`
	Rollout *RolloutStatus `json:"rollout,omitempty"`
}

// Release states besides rollout phases.
const (
	StatePending  = "pending"
	StateSteady   = "steady"
	StateEmpty    = "empty"
	StateDeleting = "deleting"
	// StateRetired is a preview release declared retired, once the shifter
	// took its route down.
	StateRetired = "retired"
	// StateDeferred is a production release declared during a break-glass
	// override: it rolls out when the override ends.
	StateDeferred = "deferred"
)

// DescribeEndpoint returns the status of ep given its state.
func DescribeEndpoint(now time.Time, ep Endpoint, st State) EndpointStatus {
	prod := &st.Production
	conditions := describeConditions(now, st)
	s := EndpointStatus{
		State:      StateEmpty,
		Weights:    byVersion(st, prod.Route.Weights),
		Verified:   prod.Route.Verified && conditions.Get(ObservationStale) == nil,
		ObservedAt: st.ObservedAt,
		Conditions: conditions,
		UpdatedAt:  st.UpdatedAt,
		CommandSeq: st.CommandSeq,
	}
	if ep.Traffic.Route53 != nil {
		s.DNSTTL = Duration(Route53AliasTTL)
	}
	if e := st.Environment(prod.Stable); e != nil {
		s.StableVersion, s.State = e.Version, StateSteady
	}
	if e := st.Environment(st.Preview.Stable); e != nil {
		s.PreviewVersion = e.Version
	}
	if r := prod.Rollout; r != nil {
		s.Rollout = describeRollout(now, ep, st, r, conditions)
		if r.Active() {
			s.State = string(r.Phase)
			if s.Rollout.Paused {
				s.State = string(PhasePaused)
			}
		}
	}
	if ep.Deleting {
		s.State = StateDeleting
	}
	for _, e := range st.Environments {
		es := EnvironmentStatus{
			ID:            e.ID,
			Version:       e.Version,
			TemplateHash:  e.TemplateHash,
			Image:         e.Image,
			Digest:        e.Digest,
			SpecRevision:  e.SpecRevision,
			Weight:        prod.Route.Weights[e.ID],
			PreviewWeight: st.Preview.Route.Weights[e.ID],
			Capacity:      e.Capacity,
			InService:     e.Health.InService,
			Healthy:       e.Health.Healthy,
			Health:        e.Health.Why(e.Capacity, e.Units()),
			HealthReadAt:  e.Health.ReadAt,
			CreatedAt:     e.CreatedAt,
		}
		es.Attached = st.attached(e.ID)
		es.Phase = environmentPhase(now, st, e)
		if e.hotAt(now, prod.Stable) {
			es.HotUntil = e.HotUntil
		}
		for _, track := range Tracks {
			if st.Track(track).Stable == e.ID {
				es.StableOn = append(es.StableOn, track)
			}
		}
		s.Environments = append(s.Environments, es)
	}
	s.HotVersions = HotVersions(now, ep, st)
	s.Override, s.ObserveOnly = describeOverride(now, st), ep.ObserveOnly
	return s
}

// environmentPhase is where e is in its life, for people: provisioning,
// healthy, serving, hot or expiring.
func environmentPhase(now time.Time, st State, e Environment) string {
	switch {
	case e.Status == EnvDeleting:
		return phaseExpiring
	case e.Status == EnvProvisioning:
		return phaseProvisioning
	case st.Production.Route.Weights[e.ID] > 0 || st.Preview.Route.Weights[e.ID] > 0 || e.ID == st.Production.Stable:
		return phaseServing
	case e.hotAt(now, st.Production.Stable):
		return phaseHot
	}
	return phaseHealthy
}

// HotVersions are the versions a rollback may return to at once, with the
// configuration each runs and how ready each is to take the traffic back.
func HotVersions(now time.Time, ep Endpoint, st State) []HotVersion {
	var hot []HotVersion
	for _, e := range st.Environments {
		if !e.hotAt(now, st.Production.Stable) {
			continue
		}
		full := ep.Template.DesiredCapacity
		if e.Template != nil {
			full = e.Template.DesiredCapacity
		}
		hot = append(hot, HotVersion{
			Version: e.Version, SpecRevision: e.SpecRevision, Until: e.HotUntil,
			Capacity: e.Capacity, FullCapacity: full, Healthy: e.Health.Healthy, HealthReadAt: e.Health.ReadAt,
			Ready:   takesTraffic(full, ep.Policy.MinHealthyPercent, e.Capacity, e.Health.InService, e.Health.Healthy),
			ScaleUp: e.Capacity < full,
		})
	}
	return hot
}

// DescribeRelease returns the status of the desired release d on its track.
func DescribeRelease(now time.Time, ep Endpoint, st State, d *Desired) ReleaseStatus {
	t := st.Track(d.Release.Track)
	conditions := describeConditions(now, st)
	s := ReleaseStatus{State: StatePending, Verified: t.Route.Verified && conditions.Get(ObservationStale) == nil, Conditions: conditions}
	if e := st.Environment(t.Stable); e != nil {
		s.LiveVersion, s.LiveSpecRevision = e.Version, e.SpecRevision
	}
	for _, e := range st.Environments {
		if e.Status != EnvDeleting && e.runs(d.Key) {
			s.EnvironmentID, s.Digest, s.SpecRevision = e.ID, e.Digest, e.SpecRevision
			s.TrafficPercent = t.Route.Weights[e.ID]
			if r := t.Rollout; r.Active() && r.Traffic != nil && r.Traffic.Step == r.Step {
				if share, ok := r.Traffic.Shares()[e.ID]; ok || r.Traffic.Total() > 0 {
					s.ObservedTrafficPercent = &share
				}
			}
		}
	}
	if d.Release.Track == Production {
		s.HotVersions, s.Override = HotVersions(now, ep, st), describeOverride(now, st)
	}
	r := t.Rollout
	if r != nil && r.Key.Version == d.Key.Version && r.Key.TemplateHash == d.Key.TemplateHash {
		s.Rollout = describeRollout(now, ep, st, r, conditions)
	}
	stable := st.Environment(t.Stable)
	switch {
	case t.Held != nil && t.Held.Key == d.Key:
		s.State, s.Reason = string(t.Held.Phase), t.Held.Reason
	case r.Active() && r.Key == d.Key:
		s.State = string(r.Phase)
		if s.Rollout.Paused {
			s.State = string(PhasePaused)
		}
	case stable != nil && stable.runs(d.Key):
		s.State = string(PhaseComplete)
	case s.Override != nil && s.Override.Version != d.Key.Version:
		s.State, s.Reason = StateDeferred, "it waits: "+s.Override.Sentence()
	case d.Release.Retired:
		s.State = StateRetired
	}
	return s
}

func describeRollout(now time.Time, ep Endpoint, st State, r *Rollout, conditions Conditions) *RolloutStatus {
	rs := &RolloutStatus{
		ID:           r.ID,
		Kind:         r.Kind,
		Version:      r.Key.Version,
		TemplateHash: r.Key.TemplateHash,
		Retry:        r.Key.Retry,
		Phase:        r.Phase,
		Step:         r.Step + 1,
		Steps:        len(r.Steps),
		Plan:         r.Steps,
		Paused:       !r.PausedAt.IsZero(),
		PausedUntil:  r.PausedUntil,
		PausedBy:     r.PausedBy,
		PauseReason:  r.PauseReason,
		Reason:       r.Reason,
		Judged:       r.Judged,
		JudgedAt:     r.JudgedAt,
		Series:       r.Series,
		StartedAt:    r.StartedAt,
		EndedAt:      r.EndedAt,
	}
	if e := st.Environment(r.Target); e != nil {
		rs.SpecRevision = e.SpecRevision
	}
	if e := st.Environment(r.From); e != nil {
		rs.FromVersion, rs.FromSpecRevision = e.Version, e.SpecRevision
	}
	if r.Step >= 0 {
		rs.Weight = r.Steps[r.Step].Weight
	}
	rs.ObservedTraffic = observedTraffic(ep, st, r)
	if c := conditions.Blocking(); c != nil && r.Active() {
		rs.Holding = fmt.Sprintf("holding at %d%%: %s for %s", rs.Weight, c.Message, now.Sub(c.Since).Round(time.Second))
	}
	if !r.Active() || rs.Paused || r.Since.IsZero() || (rs.ObservedTraffic != nil && rs.ObservedTraffic.Hold == HoldWaiting) {
		return rs // no timer runs: the step's pause begins when its hold ends
	}
	switch {
	case r.Phase == PhaseBaking:
		rs.NextAt = r.Since.Add(ep.Policy.BakeTime.D())
	case r.Phase == PhaseShifting && r.Step >= 0 && r.Steps[r.Step].Pause != nil:
		rs.NextAt = r.Since.Add(r.Steps[r.Step].Pause.D())
	}
	return rs
}

// observedTraffic describes the traffic counted of r's current step, or
// returns nil when none is.
func observedTraffic(ep Endpoint, st State, r *Rollout) *TrafficObservation {
	tr := r.Traffic
	if tr == nil || tr.Step != r.Step {
		return nil
	}
	o := &TrafficObservation{Step: tr.Step + 1, Requests: tr.Total(), Start: tr.Start, End: tr.End, Hold: tr.Hold, HoldEndedAt: tr.HoldEndedAt}
	if shares := tr.Shares(); shares != nil {
		o.Shares = map[string]float64{}
		for id, share := range shares {
			o.Shares[versionOf(st, id)] += share
		}
	}
	if r.Active() {
		o.Weights = byVersion(st, st.Track(Production).Route.Weights)
	}
	if ot := ep.Policy.ObservedTraffic; ot != nil {
		o.TolerancePercent = ot.TolerancePercent
		if tr.Hold == HoldWaiting {
			o.HoldUntil = r.Since.Add(ot.MaxWait.D())
		}
	}
	return o
}

// TrafficConditions returns the conditions of the production rollout's
// observed traffic (TrafficNotFollowing, TrafficUnobserved): a step whose
// hold ended at max_wait without its traffic following, as long as the last
// count still shows it. The reconciler keeps them with the others, so that
// their start and end are events.
func TrafficConditions(ep Endpoint, st State) Conditions {
	r, ot := st.Production.Rollout, ep.Policy.ObservedTraffic
	if !r.Active() || ot == nil || r.Traffic == nil || r.Traffic.Step != r.Step {
		return nil
	}
	tr := r.Traffic
	weights := st.Production.Route.Weights
	switch tr.Hold {
	case HoldUnobserved:
		if ot.Enough(tr.Total()) {
			return nil
		}
		return Conditions{{Type: TrafficUnobserved, Names: []string{r.Key.Version},
			Message: fmt.Sprintf("%s on the route in the last minute, %s after step %d's weights changed: whether traffic follows them is unknown; the step went on after %s",
				tooFew(tr.Total(), ot.MinRequests), tr.End.Sub(tr.ShiftedAt).Round(time.Second), tr.Step+1, ot.MaxWait)}}
	case HoldNotFollowed:
		off := tr.Off(weights, ot.TolerancePercent)
		if len(off) == 0 {
			return nil
		}
		shares := tr.Shares()
		names := make([]string, len(off))
		what := make([]string, len(off))
		for i, id := range off {
			names[i] = versionOf(st, id)
			what[i] = fmt.Sprintf("%s took %.1f%% (weight %d%%)", names[i], shares[id], weights[id])
		}
		return Conditions{{Type: TrafficNotFollowing, Names: names,
			Message: fmt.Sprintf("step %d: %s of %.0f requests counted over %s, more than %g points off; the step went on after %s",
				tr.Step+1, strings.Join(what, ", "), tr.Total(), tr.End.Sub(tr.Start).Round(time.Second), ot.TolerancePercent, ot.MaxWait)}}
	}
	return nil
}

// versionOf returns the version of environment id, or id for a target
// that is none of the endpoint's environments.
func versionOf(st State, id string) string {
	if e := st.Environment(id); e != nil {
		return e.Version
	}
	return id
}

// describeConditions returns the endpoint's conditions as of now: those the
// reconciler keeps, and those the state shows by itself.
func describeConditions(now time.Time, st State) Conditions {
	out := slices.Clone(st.Conditions)
	if !st.StaleAt.IsZero() && now.After(st.StaleAt) {
		out = append(out, Condition{Type: ObservationStale, Since: st.StaleAt, Blocking: true,
			Message: fmt.Sprintf("AWS last observed %s ago", now.Sub(st.ObservedAt).Round(time.Second))})
	}
	var unchecked []string
	for _, e := range st.Environments {
		if e.Status != EnvDeleting && st.attached(e.ID) && e.Health.Unused > 0 {
			unchecked = append(unchecked, e.Version)
		}
	}
	if len(unchecked) > 0 {
		out = append(out, Condition{Type: NotHealthChecked, Since: st.UpdatedAt, Names: unchecked,
			Message: fmt.Sprintf("the load balancer does not health-check %s, though routed", strings.Join(unchecked, ", "))})
	}
	slices.SortFunc(out, func(a, b Condition) int { return cmp.Compare(a.Type, b.Type) })
	return out
}

// byVersion sums a route's weights by version.
func byVersion(st State, weights map[string]int) map[string]int {
	if len(weights) == 0 {
		return nil
	}
	out := make(map[string]int, len(weights))
	for _, id := range slices.Sorted(maps.Keys(weights)) {
		if weights[id] == 0 {
			continue // attached for health checks, no traffic
		}
		v := id
		if e := st.Environment(id); e != nil {
			v = e.Version
		}
		out[v] += weights[id]
	}
	return out
}
