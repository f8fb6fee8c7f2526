package rollout

import (
	"fmt"
	"strings"
	"time"
)

// State is everything the shifter remembers about an endpoint between wakes:
// its environments, and per track the rollout and the weights it set. The
// planner is the only writer; the store keeps it under one revision.
type State struct {
	Endpoint     string        `json:"endpoint"`
	Environments []Environment `json:"environments,omitempty"`
	Production   TrackState    `json:"production"`
	Preview      TrackState    `json:"preview"`

	// NextEnvironment and NextRollout number new environments and
	// rollouts; numbers are never reused, so names never collide.
	NextEnvironment int `json:"next_environment"`
	NextRollout     int `json:"next_rollout"`
	// CommandSeq is the sequence of the last operator command applied.
	CommandSeq int64 `json:"command_seq"`

	// Conditions are what the shifter found wrong and cannot fix, or not
	// yet. The reconciler keeps them (the planner never reads them).
	Conditions Conditions `json:"conditions,omitempty"`
	// ObservedAt is when the shifter last observed AWS for the endpoint,
	// kept at most half a resync behind; StaleAt is when that observation
	// becomes too old to verify anything by (two resyncs after it).
	ObservedAt time.Time `json:"observed_at,omitzero"`
	StaleAt    time.Time `json:"stale_at,omitzero"`

	Revision  int64     `json:"revision"`
	UpdatedAt time.Time `json:"updated_at"`
}

// TrackState is one track's rollout and route.
type TrackState struct {
	// Stable is the environment that last completed a rollout (production)
	// or that serves the preview route (preview).
	Stable string `json:"stable,omitempty"`
	// Rollout is the rollout in flight, or the last one to end.
	Rollout *Rollout `json:"rollout,omitempty"`
	// Route is what the shifter wrote to the track's listener rule.
	Route Route `json:"route"`
	// Held is a desired release whose rollout ended badly. It is not
	// retried until the desired release changes.
	Held *Hold `json:"held,omitempty"`
	// Override pins production's traffic to one version while it lasts.
	Override *Override `json:"override,omitempty"`
}

// Override is a break-glass override (CommandOverride): production's traffic
// stays on Version until Until or a lift, whatever is declared meanwhile.
// The status shows it as it is stored, but for what only the planner needs.
type Override struct {
	OverrideStatus
	// Deferred is the last release declared during the override that it
	// keeps from rolling out, recorded once in the trail.
	Deferred Key `json:"deferred,omitzero"`
}

// Hold records why a desired release is not being rolled out.
type Hold struct {
	Key    Key    `json:"key"`
	Phase  Phase  `json:"phase"`
	Reason string `json:"reason"`
}

// Route is the weight per environment on a track's route.
type Route struct {
	// Weights by environment ID: the shares of traffic, which sum to 100,
	// and 0 for every other environment attached to the route so that the
	// load balancer health-checks it (invariant 8). A route of zeros only
	// carries no traffic yet: a first release being gated.
	Weights map[string]int `json:"weights,omitempty"`
	// Verified is false between a weight change being decided and the
	// rule being read back with those weights.
	Verified bool `json:"verified"`
}

// Environment is the immutable unit: one per (endpoint, version, template
// hash), built from a snapshot of the template and never changed but for its
// capacity.
type Environment struct {
	ID           string `json:"id"`
	Version      string `json:"version"`
	TemplateHash string `json:"template_hash"`
	Image        string `json:"image"`
	// Digest pins Image (sha256:…): resolved once and recorded before
	// the environment is created, so that its instances, and any
	// recreation of it, run what the tag named then. Empty while it is
	// being resolved, and for good on a shifter that runs images as tagged.
	Digest string `json:"digest,omitempty"`
	// Template is shared, never changed: environments are immutable.
	Template *Template `json:"template"`
	// SpecRevision is the revision of the endpoint's spec the environment
	// was built from: its configuration, kept in the spec's history for as
	// long as the environment lives. 0 for environments recorded before
	// history was kept.
	SpecRevision int64             `json:"spec_revision,omitempty"`
	Env          map[string]string `json:"env,omitempty"`
	Status       EnvStatus         `json:"status"`
	// Capacity is the desired capacity the shifter set.
	Capacity int `json:"capacity"`
	// HeldFull is set once the environment held 100% of production.
	HeldFull bool `json:"held_full,omitempty"`
	// HotUntil ends the rollback window of an environment that no longer
	// serves production.
	HotUntil  time.Time `json:"hot_until,omitempty"`
	Health    Health    `json:"health"`
	CreatedAt time.Time `json:"created_at"`
}

// EnvStatus is where an environment is in its life.
type EnvStatus string

const (
	EnvProvisioning EnvStatus = "provisioning" // intent recorded, resources being created
	EnvReady        EnvStatus = "ready"        // created and was healthy
	EnvDeleting     EnvStatus = "deleting"     // expired, failed or abandoned; being torn down
)

// Health is the last observation of an environment's capacity and targets.
type Health struct {
	InService int `json:"in_service"`
	// Capacity is the capacity AWS showed at the last observation: a
	// capacity that was what the shifter set and no longer is was changed
	// outside it.
	Capacity int `json:"capacity,omitempty"`
	TargetHealth
	// ReadAt is when the targets' health was read.
	ReadAt time.Time `json:"read_at,omitzero"`
}

// Why says, for people, what keeps an environment of this capacity from
// being healthy, or that it is: "2 of 2 targets healthy", "1 of 2 instances
// in service", "2 targets in their first health checks". units names what
// the capacity counts (Environment.Units).
func (h Health) Why(capacity int, units string) string {
	if h.ReadAt.IsZero() {
		return fmt.Sprintf("%d of %d %s in service; target health not read yet", h.InService, capacity, units)
	}
	var why []string
	if h.InService < capacity {
		why = append(why, fmt.Sprintf("%d of %d %s in service", h.InService, capacity, units))
	}
	for _, c := range []struct {
		n    int
		what string
	}{
		{h.Unused, "unused: the load balancer does not use the target group"},
		{h.Initial, "in their first health checks"},
		{h.Unhealthy, "failing health checks"},
		{h.Draining, "draining"},
	} {
		if c.n > 0 {
			why = append(why, fmt.Sprintf("%d %s %s", c.n, plural(c.n, "target", "targets"), c.what))
		}
	}
	if len(why) == 0 {
		why = append(why, fmt.Sprintf("%d of %d targets healthy", h.Healthy, h.Targets))
	}
	return strings.Join(why, "; ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Rollout is the move of a track from its stable environment to a new one.
type Rollout struct {
	ID   int  `json:"id"`
	Kind Kind `json:"kind"`
	Key  Key  `json:"key"`
	// Target is the environment being rolled to, From the stable one when
	// the rollout started ("" for an endpoint's first release).
	Target string `json:"target"`
	From   string `json:"from,omitempty"`
	// Steps are the policy's steps when the rollout started.
	Steps []Step `json:"steps"`
	Phase Phase  `json:"phase"`
	// Step is the index of the step whose weights are live, -1 before the
	// first.
	Step int `json:"step"`
	// Since is when the current phase began; for a step, when its weights
	// were verified (zero while they are being written).
	Since time.Time `json:"since,omitempty"`
	// PausedAt is set while the rollout is paused (PausedBy); timers are frozen
	// and resume where they were. PausedUntil ends such a pause on its own.
	PausedAt    time.Time `json:"paused_at,omitempty"`
	PausedUntil time.Time `json:"paused_until,omitempty"`
	// PausedBy is who paused it: a person's name, or ActorShifter for a
	// step whose traffic did not follow its weights (observed_traffic's
	// on_timeout); PauseReason says why, when known.
	PausedBy    string `json:"paused_by,omitempty"`
	PauseReason string `json:"pause_reason,omitempty"`
	// Promote asks for the next step now.
	Promote bool `json:"promote,omitempty"`
	// JudgedAt is when the metrics were last judged, and Judged what that
	// look saw (judgement); between the ends of steps they are judged every
	// MetricChecks.Interval.
	JudgedAt time.Time `json:"judged_at,omitzero"`
	Judged   string    `json:"judged,omitempty"`
	// Alarming are policy alarms in ALARM that do not roll this rollout
	// back: already alarming when it started, or reported while
	// auto_rollback is off. An alarm leaves the list when it recovers, so
	// entering ALARM again counts.
	Alarming []string `json:"alarming,omitempty"`
	// Traffic is what the load balancer counted of the current step's
	// traffic, and the step's hold until it follows the weights
	// (policy.observed_traffic); nil for steps it does not count (a
	// first release, a rollback, the preview track, traffic that is not
	// an ALB rule's).
	Traffic *StepTraffic `json:"traffic,omitempty"`
	// Series is what each read of the steps' traffic saw of the canary
	// (Target) and the stable version (From), oldest first, at most
	// MaxSeriesPoints: the pictures of a canary.
	Series    []SeriesPoint `json:"series,omitempty"`
	Reason    string        `json:"reason,omitempty"`
	StartedAt time.Time     `json:"started_at"`
	EndedAt   time.Time     `json:"ended_at,omitempty"`
}

// StepTraffic is a step's traffic as ALB's RequestCount per target group
// counted it over the last window, and where the step's hold for it is.
type StepTraffic struct {
	// Step is the index of the step counted; ShiftedAt is when its weights
	// were read back from the rule: no window begins before.
	Step      int       `json:"step"`
	ShiftedAt time.Time `json:"shifted_at"`
	// Hold is HoldWaiting while the step waits for its traffic, then how
	// the wait ended (HoldFollowed, HoldNotFollowed, HoldUnobserved) at
	// HoldEndedAt; "" when the step does not wait.
	Hold        string    `json:"hold,omitempty"`
	HoldEndedAt time.Time `json:"hold_ended_at,omitzero"`
	// Requests counted per environment over [Start, End), by ID; no read
	// yet while End is zero.
	Requests map[string]float64 `json:"requests,omitempty"`
	Start    time.Time          `json:"start,omitzero"`
	End      time.Time          `json:"end,omitzero"`
}

// SeriesPoint is one read of a rollout's traffic: the metrics of the canary
// and the stable version over [Start, End), beside their weights then.
type SeriesPoint struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Step is the step in progress, from 1.
	Step   int         `json:"step"`
	Canary SeriesValue `json:"canary"`
	Stable SeriesValue `json:"stable"`
}

// SeriesValue is one version's weight and metrics in a SeriesPoint: the
// requests it took, its 5xx answers, and their average target response time
// in milliseconds (0 without requests).
type SeriesValue struct {
	Weight    int     `json:"weight"`
	Requests  float64 `json:"requests"`
	Errors5xx float64 `json:"errors_5xx"`
	LatencyMS float64 `json:"latency_ms"`
}

// seriesValue is a version's weight and metrics as a series keeps them.
func seriesValue(weight int, m Metrics) SeriesValue {
	return SeriesValue{Weight: weight, Requests: m.Requests, Errors5xx: m.Errors5xx, LatencyMS: float64(m.AverageLatency) / float64(time.Millisecond)}
}

// MaxSeriesPoints bounds a rollout's series: four hours of a read a minute.
const MaxSeriesPoints = 240

// Where a step's hold for its traffic is (StepTraffic.Hold).
const (
	HoldWaiting     = "holding"
	HoldFollowed    = "followed"
	HoldNotFollowed = "not_following"
	HoldUnobserved  = "unobserved"
)

// Total returns how many requests were counted.
func (t *StepTraffic) Total() float64 {
	var n float64
	for _, r := range t.Requests {
		n += r
	}
	return n
}

// Shares returns each environment's share of the requests counted, in
// percent, by ID; nil when none was counted.
func (t *StepTraffic) Shares() map[string]float64 {
	total := t.Total()
	if total <= 0 {
		return nil
	}
	out := make(map[string]float64, len(t.Requests))
	for id, r := range t.Requests {
		out[id] = 100 * r / total
	}
	return out
}

// Off returns the environments whose share is further than tolerance
// percentage points from their weight, sorted; every weighted one when
// none was counted.
func (t *StepTraffic) Off(weights map[string]int, tolerance float64) []string {
	shares := t.Shares()
	var off []string
	for _, id := range sortedKeys(weights) {
		if shares == nil {
			if weights[id] > 0 {
				off = append(off, id)
			}
			continue
		}
		if d := shares[id] - float64(weights[id]); d > tolerance || -d > tolerance {
			off = append(off, id)
		}
	}
	for _, id := range sortedKeys(t.Requests) {
		if _, weighted := weights[id]; !weighted && shares != nil && shares[id] > tolerance {
			off = append(off, id) // counted on no route of the endpoint's
		}
	}
	return off
}

// Kind distinguishes a gradual deploy from a one-step return to a hot
// environment.
type Kind string

const (
	KindDeploy   Kind = "deploy"
	KindRollback Kind = "rollback"
)

// Phase is the rollout's state machine (DESIGN §3).
type Phase string

const (
	PhasePending        Phase = "pending"
	PhaseProvisioning   Phase = "provisioning"
	PhaseWaitingHealthy Phase = "waiting_healthy"
	PhaseShifting       Phase = "shifting"
	PhasePaused         Phase = "paused"
	PhaseBaking         Phase = "baking"
	PhaseComplete       Phase = "complete"
	PhaseAborted        Phase = "aborted"
	PhaseRolledBack     Phase = "rolled_back"
	PhaseFailed         Phase = "failed"
)

// Done reports whether the phase is final.
func (p Phase) Done() bool {
	switch p {
	case PhaseComplete, PhaseAborted, PhaseRolledBack, PhaseFailed:
		return true
	}
	return false
}

// Bad reports whether the phase is a final phase that did not complete.
func (p Phase) Bad() bool { return p.Done() && p != PhaseComplete }

// Active reports whether r is a rollout in flight.
func (r *Rollout) Active() bool { return r != nil && !r.Phase.Done() }

// Track returns the state of track t.
func (s *State) Track(t Track) *TrackState {
	if t == Preview {
		return &s.Preview
	}
	return &s.Production
}

// attached reports whether the environment is on a route of either track,
// and so health-checked by the load balancer (invariant 8).
func (s *State) attached(id string) bool {
	_, onProduction := s.Production.Route.Weights[id]
	_, onPreview := s.Preview.Route.Weights[id]
	return onProduction || onPreview
}

// Environment returns the environment with id, or nil.
func (s *State) Environment(id string) *Environment {
	for i := range s.Environments {
		if s.Environments[i].ID == id {
			return &s.Environments[i]
		}
	}
	return nil
}

// Units names what an environment's capacity counts: the instances of an ec2
// environment, the tasks of an ecs one.
func (e Environment) Units() string {
	if e.Template != nil && e.Template.Backend == BackendECS {
		return "tasks"
	}
	return "instances"
}
