package rollout

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Observed traffic (rules 7–9, policy.observed_traffic): a rule's weights
// are not the traffic. The load balancer applies them at once, but requests
// in flight, keep-alive connections and sticky sessions carry the old split
// for a while. Each verified step of a production deploy behind an ALB rule
// counts the requests each target group took (RequestCount), which the
// status shows beside the weights; with observed_traffic, the step holds
// until the counted shares are within tolerance of the weights, and its
// pause begins then.

// counted reports whether the planner counts the traffic of r's steps: a
// production deploy from a stable version, on an ALB rule.
func (p *planner) counted(track Track, r *Rollout) bool {
	return track == Production && r.Kind == KindDeploy && r.From != "" && p.in.Endpoint.Traffic.Kind() == TrafficALB
}

// shifted starts counting the traffic of r's step, whose weights were just
// verified, and its hold when the policy asks for one.
func (p *planner) shifted(track Track, r *Rollout) {
	if !p.counted(track, r) {
		r.Traffic = nil
		return
	}
	r.Traffic = &StepTraffic{Step: r.Step, ShiftedAt: p.now}
	if p.in.Endpoint.Policy.ObservedTraffic != nil {
		r.Traffic.Hold = HoldWaiting
	}
}

// follow reads the step's traffic when a read is due, and holds the step
// until it follows the weights or max_wait passes. It returns false while
// the step holds, and when its end paused or rolled back the rollout.
func (p *planner) follow(track Track, r *Rollout) bool {
	if r.Traffic == nil || r.Traffic.Step != r.Step {
		return true
	}
	tr := r.Traffic // the state's copy (State.clone), never the input's
	ot := p.in.Endpoint.Policy.ObservedTraffic
	if tr.Hold == HoldWaiting && ot == nil {
		tr.Hold = "" // the policy no longer asks for it
	}
	holding := tr.Hold == HoldWaiting && !r.Promote
	p.readTraffic(r, tr, holding)
	if !holding {
		return true
	}
	weights := p.st.Track(track).Route.Weights
	off := tr.Off(weights, ot.TolerancePercent)
	deadline := r.Since.Add(ot.MaxWait.D())
	switch {
	case !tr.End.IsZero() && ot.Enough(tr.Total()) && len(off) == 0:
		p.endHold(r, tr, HoldFollowed)
		p.trafficFollowed(track, r, weights, ot)
		return true
	case p.now.Before(deadline):
		p.wakeAt(deadline)
		p.judgeSoFar(track, r) // a bad canary rolls back while it holds
		return false
	case !ot.Enough(tr.Total()):
		p.endHold(r, tr, HoldUnobserved)
		p.trafficUnobserved(track, r, ot)
		return true
	}
	p.endHold(r, tr, HoldNotFollowed)
	pause := ot.OnTimeout == OnTimeoutPause
	p.trafficNotFollowing(track, r, weights, off, ot, pause)
	if pause {
		r.PausedAt, r.PausedUntil, r.PausedBy = p.now, time.Time{}, ActorShifter
		r.PauseReason = fmt.Sprintf("the traffic of step %d did not follow its weights within %s (policy.observed_traffic.on_timeout)", r.Step+1, ot.MaxWait)
		return false
	}
	return true
}

// endHold ends the step's hold: its pause (or its wait for a promote, or
// the bake) begins now.
func (p *planner) endHold(r *Rollout, tr *StepTraffic, outcome string) {
	tr.Hold, tr.HoldEndedAt = outcome, p.now
	r.Since = p.now
}

// readTraffic takes in the requests counted over the window the planner
// asked for (Observed.Traffic), with a point of r's series, or asks for them
// when a read is due: every interval of the policy while the step holds,
// which wakes the planner, and while its hold's end is a condition (which
// the next count may end); otherwise, only to show them, at the first pass
// a TrafficWindow after the last read (the reconciler's resync passes come
// often enough).
func (p *planner) readTraffic(r *Rollout, tr *StepTraffic, holding bool) {
	every := TrafficWindow
	if ot := p.in.Endpoint.Policy.ObservedTraffic; ot != nil && (holding || tr.Hold == HoldNotFollowed || tr.Hold == HoldUnobserved) {
		every = ot.ReadEvery()
	}
	due := tr.ShiftedAt.Add(max(every, MinTrafficWindow))
	if !tr.End.IsZero() {
		due = tr.End.Add(every)
	}
	if p.now.Before(due) {
		if holding {
			p.wakeAt(due)
		}
		return
	}
	w := trafficWindow(tr, p.now)
	observed := p.in.Observed.Traffic
	if observed == nil {
		p.traffic = &Window{Environments: countedEnvironments(p.st.Production.Route.Weights), Start: w.Start, End: w.End}
		return
	}
	tr.Requests, tr.Start, tr.End = make(map[string]float64, len(observed)), w.Start, w.End
	for id, m := range observed {
		tr.Requests[id] = m.Requests
	}
	p.addPoint(r, observed, w)
	if holding {
		p.wakeAt(tr.End.Add(every))
	}
}

// addPoint adds what a read of the step's traffic saw to r's series, the
// oldest point leaving once it holds MaxSeriesPoints.
func (p *planner) addPoint(r *Rollout, observed map[string]Metrics, w Window) {
	weights := p.st.Production.Route.Weights
	point := SeriesPoint{Start: w.Start, End: w.End, Step: r.Step + 1,
		Canary: seriesValue(weights[r.Target], observed[r.Target]),
		Stable: seriesValue(weights[r.From], observed[r.From])}
	r.Series = append(slices.Clone(r.Series[max(0, len(r.Series)-MaxSeriesPoints+1):]), point)
}

// trafficWindow is the window a read at now counts: the last TrafficWindow,
// never before the step's weights were verified.
func trafficWindow(tr *StepTraffic, now time.Time) Window {
	start := now.Add(-TrafficWindow)
	if tr.ShiftedAt.After(start) {
		start = tr.ShiftedAt
	}
	return Window{Start: start, End: now}
}

// countedEnvironments are the environments on a route, sorted: those at
// weight 0 too, whose requests must be none.
func countedEnvironments(weights map[string]int) []string { return sortedKeys(weights) }

// describeShares says, for people, what share of the requests counted the
// versions took beside their weights: "v2 9.8% (weight 10%), v1 90.2%
// (weight 90%) of 1000 requests".
func (p *planner) describeShares(tr *StepTraffic, weights map[string]int) string {
	shares := tr.Shares()
	var parts []string
	for _, id := range sortedKeys(weights) {
		if weights[id] == 0 && shares[id] == 0 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %.1f%% (weight %d%%)", p.versionOf(id), shares[id], weights[id]))
	}
	return fmt.Sprintf("%s of %.0f requests", strings.Join(parts, ", "), tr.Total())
}

func (p *planner) trafficFollowed(track Track, r *Rollout, weights map[string]int, ot *ObservedTraffic) {
	tr := r.Traffic
	p.event(track, r.Key.Version, EventTrafficObserved,
		fmt.Sprintf("step %d/%d: traffic followed the weights after %s: %s, within %g points", r.Step+1, len(r.Steps),
			p.now.Sub(tr.ShiftedAt).Round(time.Second), p.describeShares(tr, weights), ot.TolerancePercent),
		p.trafficDetails(r, HoldFollowed)...)
}

func (p *planner) trafficNotFollowing(track Track, r *Rollout, weights map[string]int, off []string, ot *ObservedTraffic, pause bool) {
	tr := r.Traffic
	then := "the step goes on"
	if pause {
		then = "the rollout is paused until a person resumes or promotes it"
	}
	versions := make([]string, len(off))
	for i, id := range off {
		versions[i] = p.versionOf(id)
	}
	p.event(track, r.Key.Version, EventTrafficObserved,
		fmt.Sprintf("step %d/%d: traffic did not follow the weights within %s: %s, more than %g points off for %s; %s", r.Step+1, len(r.Steps),
			ot.MaxWait, p.describeShares(tr, weights), ot.TolerancePercent, strings.Join(versions, ", "), then),
		p.trafficDetails(r, HoldNotFollowed)...)
}

func (p *planner) trafficUnobserved(track Track, r *Rollout, ot *ObservedTraffic) {
	p.event(track, r.Key.Version, EventTrafficObserved,
		fmt.Sprintf("step %d/%d: %s within %s, so whether traffic followed the weights is unknown; the step goes on", r.Step+1, len(r.Steps),
			tooFew(r.Traffic.Total(), ot.MinRequests), ot.MaxWait),
		p.trafficDetails(r, HoldUnobserved)...)
}

// tooFew says how few requests were counted: "no request counted", "only 12
// requests counted, fewer than min_requests (100)".
func tooFew(requests float64, minRequests int) string {
	if requests <= 0 {
		return "no request counted"
	}
	return fmt.Sprintf("only %.0f requests counted, fewer than min_requests (%d)", requests, minRequests)
}

func (p *planner) trafficDetails(r *Rollout, outcome string) []string {
	tr := r.Traffic
	details := []string{"step", strconv.Itoa(r.Step + 1), "outcome", outcome, "requests", strconv.FormatFloat(tr.Total(), 'f', 0, 64)}
	shares := tr.Shares()
	for _, id := range sortedKeys(tr.Requests) {
		details = append(details, "share."+p.versionOf(id), strconv.FormatFloat(shares[id], 'f', 2, 64))
	}
	return details
}
