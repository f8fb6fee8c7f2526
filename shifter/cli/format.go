package cli

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// How status, watch and events show the shifter's view to people. The JSON
// of the API is for programs (-output json); these are for eyes and CI logs.

// barWidth is the cells of a traffic bar: 5% each, so every policy weight
// people write (10, 25, 50) shows exactly.
const barWidth = 20

// bar draws a weight out of 100: "██████████████████░░".
func bar(weight int) string {
	full := (max(0, min(weight, 100))*barWidth + 50) / 100
	return strings.Repeat("█", full) + strings.Repeat("░", barWidth-full)
}

// pausedBy says who paused r, and why when known: "alice",
// "shifter (the traffic of step 1 did not follow its weights within 5m)".
func pausedBy(r *rollout.RolloutStatus) string {
	who := r.PausedBy
	if who == "" {
		who = "a person"
	}
	if r.PauseReason != "" {
		who += " (" + r.PauseReason + ")"
	}
	return who
}

// share is one version's part of a route: its weight, and the share of the
// requests the load balancer counted on it in the step in flight (observed;
// nil when none were counted).
type share struct {
	version  string
	weight   int
	observed *float64
}

// observedLabel is a share's counted traffic, to follow its weight:
// " (observed 9.6%)", or "" when none was counted.
func (s share) observedLabel() string {
	if s.observed == nil {
		return ""
	}
	return fmt.Sprintf(" (observed %.1f%%)", *s.observed)
}

// observation is the traffic counted of the rollout in flight, or nil.
func observation(s rollout.EndpointStatus) *rollout.TrafficObservation {
	if r := s.Rollout; inFlight(r) {
		return r.ObservedTraffic
	}
	return nil
}

// observedLine says what the observed shares rest on and where the step's
// hold for its traffic is: "observed: 1000 requests counted 12:00:01–12:01:01;
// the step holds until its traffic is within 5 points of its weights, until
// 12:05:00 at most".
func observedLine(o *rollout.TrafficObservation) string {
	line := "observed: nothing counted yet"
	if !o.End.IsZero() {
		line = fmt.Sprintf("observed: %.0f requests counted %s–%s", o.Requests, clock(o.Start), clock(o.End))
	}
	switch o.Hold {
	case rollout.HoldWaiting:
		line += fmt.Sprintf("; the step holds until its traffic is within %g points of its weights, until %s at most", o.TolerancePercent, clock(o.HoldUntil))
	case rollout.HoldFollowed:
		line += "; the traffic followed the weights at " + clock(o.HoldEndedAt)
	case rollout.HoldNotFollowed:
		line += fmt.Sprintf("; the traffic was not within %g points of the weights by %s (max_wait)", o.TolerancePercent, clock(o.HoldEndedAt))
	case rollout.HoldUnobserved:
		line += "; no request was counted by " + clock(o.HoldEndedAt) + ", and the step went on"
	}
	return line
}

// shares lists a route's weights by version, in the order the versions'
// environments were created, so the stable version leads and the new one
// follows. During a rollout both of its versions are listed even without
// traffic, so a display shows where traffic comes from and goes to.
func shares(s rollout.EndpointStatus) []share {
	r := s.Rollout
	listed := func(version string) bool {
		_, routed := s.Weights[version]
		return routed || (inFlight(r) && (version == r.FromVersion || version == r.Version))
	}
	var out []share
	seen := map[string]bool{"": true}
	o := observation(s)
	add := func(version string) {
		if !seen[version] && listed(version) {
			seen[version] = true
			sh := share{version: version, weight: s.Weights[version]}
			if o != nil && o.Requests > 0 {
				observed := o.Shares[version]
				sh.observed = &observed
			}
			out = append(out, sh)
		}
	}
	for _, e := range s.Environments {
		add(e.Version)
	}
	// Versions without an environment in the status: routed ones (the
	// route is the truth of what serves) and one not yet provisioned.
	for _, v := range slices.Sorted(maps.Keys(s.Weights)) {
		add(v)
	}
	if inFlight(r) {
		add(r.FromVersion)
		add(r.Version)
	}
	return out
}

// split is a route in one line: "v1 90%, v2 10%".
func split(shares []share) string {
	if len(shares) == 0 {
		return "-"
	}
	parts := make([]string, len(shares))
	for i, s := range shares {
		parts[i] = fmt.Sprintf("%s %d%%%s", s.version, s.weight, s.observedLabel())
	}
	return strings.Join(parts, ", ")
}

// inFlight reports whether r is a rollout that has not ended.
func inFlight(r *rollout.RolloutStatus) bool { return r != nil && !r.Phase.Done() }

// rolloutLine is a rollout in a few words: "deploy v1 → v2, step 2/3 at 50%".
func rolloutLine(r *rollout.RolloutStatus) string {
	var b strings.Builder
	b.WriteString(string(r.Kind) + " ")
	if r.FromVersion != "" {
		b.WriteString(r.FromVersion + " → ")
	}
	b.WriteString(r.Version)
	if r.Step > 0 {
		fmt.Fprintf(&b, ", step %d/%d at %d%%", r.Step, r.Steps, r.Weight)
	}
	return b.String()
}

// dueStyle is how a due time is written.
type dueStyle int

const (
	// dueIn counts down ("in 4s"), for a display redrawn every second.
	dueIn dueStyle = iota
	// dueAt is a time of day ("at 12:05:00"), for a log line, which must
	// not change by itself.
	dueAt
	// dueInAt is both ("in 4m12s, at 12:05:00"), for a one-off status.
	dueInAt
)

// conditionLines describes the endpoint's conditions, one a line: "aws_unreachable
// for 45s (blocking): AWS did not answer within 10s".
func conditionLines(s rollout.EndpointStatus, now time.Time) []string {
	lines := make([]string, len(s.Conditions))
	for i, c := range s.Conditions {
		blocking := ""
		if c.Blocking {
			blocking = ", blocking"
		}
		lines[i] = fmt.Sprintf("%s (for %s%s): %s", c.Type, human(now.Sub(c.Since)), blocking, c.Message)
	}
	return lines
}

// overrideLine says what a break-glass override in force does: "v1 until
// 12:30:00 (29m left) by alice: v2 corrupts carts; releases wait for its
// end".
func overrideLine(o *rollout.OverrideStatus, now time.Time) string {
	return fmt.Sprintf("%s until %s (%s left) by %s: %s; releases wait for its end", o.Version, clock(o.Until), human(o.Until.Sub(now)), o.Actor, o.Reason)
}

// waiting says what the rollout in flight waits for.
func waiting(s rollout.EndpointStatus, now time.Time, style dueStyle) string {
	r := s.Rollout
	due := func(what string, at time.Time) string {
		switch style {
		case dueIn:
			return what + " in " + human(at.Sub(now))
		case dueAt:
			return what + " at " + clock(at)
		default:
			return what + " in " + human(at.Sub(now)) + ", at " + clock(at)
		}
	}
	switch {
	case !inFlight(r):
		return ""
	case r.Holding != "":
		return r.Holding
	case r.Paused && !r.PausedUntil.IsZero():
		return due("paused by "+pausedBy(r)+", resumes", r.PausedUntil)
	case r.Paused:
		return "paused by " + pausedBy(r) + " until resumed"
	case r.Phase == rollout.PhasePaused:
		return fmt.Sprintf("canary at %d%%, waiting for a promote", r.Weight)
	case r.Phase == rollout.PhasePending || r.Phase == rollout.PhaseProvisioning:
		return "creating the environment of " + r.Version
	case r.Phase == rollout.PhaseWaitingHealthy:
		msg := "waiting for " + r.Version + " to be healthy"
		if e := environmentOf(s, r.Version); e != nil {
			msg += " (" + e.Health + ")"
		}
		return msg
	case r.NextAt.IsZero():
		return "setting the weights"
	case r.Phase == rollout.PhaseBaking:
		return due("baking, done", r.NextAt)
	default:
		return due("next step", r.NextAt)
	}
}

// environmentOf returns the newest environment of version that is not
// being torn down, or nil.
func environmentOf(s rollout.EndpointStatus, version string) *rollout.EnvironmentStatus {
	for i := len(s.Environments) - 1; i >= 0; i-- {
		if e := &s.Environments[i]; e.Version == version && e.Phase != "expiring" {
			return e
		}
	}
	return nil
}

// human is a duration as people say it: "45s", "4m12s", "3h5m", "2d3h".
func human(d time.Duration) string {
	d = max(d, 0).Round(time.Second)
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + "s"
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
	}
}

// ago is a past time relative to now: "12s ago", "-" for none.
func ago(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return human(now.Sub(t)) + " ago"
}

// clock is a time of day in the local zone, for lines read as they happen.
func clock(t time.Time) string { return t.Local().Format(time.TimeOnly) }

// orDash shows an empty value as "-" so table columns stay aligned.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// eventLine is one event of the trail on one line:
// "2025-06-01T12:00:04Z  #12   step.applied          v2   traffic ...".
// The time is the full timestamp, since a trail spans days.
func eventLine(ev rollout.Event) string {
	return fmt.Sprintf("%s  #%-4d %-21s %-8s %s", ev.Time.Format(time.RFC3339), ev.Seq, ev.Type, orDash(ev.Version), eventMessage(ev))
}

// shortEventLine is an event for a live display: the time of day only.
func shortEventLine(ev rollout.Event) string {
	return fmt.Sprintf("%s  #%-4d %-21s %-8s %s", clock(ev.Time), ev.Seq, ev.Type, orDash(ev.Version), eventMessage(ev))
}

// eventMessage is an event's message on one line, with the changes of an
// endpoint.updated: "endpoint updated by ci: template.instance_type:
// "t3.micro" → "t3.small"; notifications.webhook_url: changed (secret)".
func eventMessage(ev rollout.Event) string {
	msg := oneLine(ev.Message)
	if len(ev.Changes) == 0 {
		return msg
	}
	changes := make([]string, len(ev.Changes))
	for i, ch := range ev.Changes {
		changes[i] = oneLine(ch.String())
	}
	return msg + ": " + strings.Join(changes, "; ")
}
