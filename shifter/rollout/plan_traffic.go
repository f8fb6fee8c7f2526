package rollout

import (
	"maps"
	"slices"
)

// setRoute sets a track's intended weights; writeRoute writes them.
func (p *planner) setRoute(track Track, weights map[string]int) {
	t := p.st.Track(track)
	if SameWeights(t.Route.Weights, weights) {
		return
	}
	t.Route = Route{Weights: weights}
}

// routeAll sends all of a track's traffic to one environment.
func (p *planner) routeAll(track Track, id string) {
	if w := p.st.Track(track).Route.Weights; allOn(w, id) {
		return // the common steady case: no new map
	}
	p.setRoute(track, map[string]int{id: 100})
}

// allOn reports whether weights send all traffic to id (SameWeights with
// {id: 100}, without making that map).
func allOn(weights map[string]int, id string) bool {
	for other, w := range weights {
		if other != id && w != 0 {
			return false
		}
	}
	return weights[id] == 100
}

// split is the route of a step: weight on the target, the rest on stable.
func (p *planner) split(stable, target string, weight int) map[string]int {
	if weight >= 100 {
		return map[string]int{target: 100}
	}
	return map[string]int{stable: 100 - weight, target: weight}
}

// returnToStable gives the stable environment 100% if the rollout's target
// carries traffic. Without a stable environment (a first release) there is
// nothing to return to and traffic stays.
func (p *planner) returnToStable(track Track, r *Rollout) {
	t := p.st.Track(track)
	if t.Stable == "" || t.Route.Weights[r.Target] == 0 || r.Target == t.Stable {
		return
	}
	p.routeAll(track, t.Stable)
}

// attach keeps every environment that may get the track's traffic on its
// route, at weight 0 while it carries none, so that the load balancer
// health-checks it (invariant 8): the stable environment, the rollout's
// target once it exists, and on production the hot environments. What is
// being torn down leaves the route first (collect waits for it).
func (p *planner) attach(track Track) {
	if p.in.Endpoint.Deleting {
		return
	}
	// Most passes change nothing: count before making a new route.
	t := p.st.Track(track)
	n, missing := 0, false
	for _, w := range t.Route.Weights {
		if w > 0 {
			n++
		}
	}
	for i := range p.st.Environments {
		if e := &p.st.Environments[i]; p.attachedAtZero(track, t, e) {
			_, on := t.Route.Weights[e.ID]
			n, missing = n+1, missing || !on
		}
	}
	if n == 0 || (!missing && n == len(t.Route.Weights)) {
		return
	}
	want := make(map[string]int, n)
	for id, w := range t.Route.Weights {
		if w > 0 {
			want[id] = w
		}
	}
	for i := range p.st.Environments {
		if e := &p.st.Environments[i]; p.attachedAtZero(track, t, e) {
			want[e.ID] = 0
		}
	}
	t.Route = Route{Weights: want}
}

// attachedAtZero reports whether e, carrying none of track t's traffic,
// belongs on its route at weight 0.
func (p *planner) attachedAtZero(track Track, t *TrackState, e *Environment) bool {
	if t.Route.Weights[e.ID] > 0 || e.Status == EnvDeleting {
		return false
	}
	r := t.Rollout
	target := r.Active() && r.Target == e.ID && (e.Status == EnvReady || p.in.Observed.Environments[e.ID].Exists)
	return e.ID == t.Stable || target || (track == Production && p.isHot(e))
}

// writeRoute writes a track's intended weights when the rule differs from
// them, but only once every environment gaining traffic is healthy at its
// capacity. A difference after the weights were verified is drift (rule 13).
func (p *planner) writeRoute(track Track) {
	t := p.st.Track(track)
	o, seen := p.in.Observed.Routes[track]
	if p.in.Endpoint.Deleting {
		if !seen || o.Exists || len(o.Weights) > 0 { // its standby rule too
			p.act(Action{Kind: ActionDeleteRoute, Track: track})
			p.poll()
		}
		return
	}
	if len(t.Route.Weights) == 0 || (seen && SameRoute(o.Weights, t.Route.Weights) && o.Unlike == "") {
		return
	}
	if !seen {
		p.poll()
		return
	}
	switch {
	case !t.Route.Verified:
	case SameRoute(o.Weights, t.Route.Weights):
		// Only the route's own settings differ from the spec (changed
		// outside the shifter, or in the spec: a certificate rotated):
		// the write of the same weights brings them to it, and the
		// route is verified again once it reads like the spec.
		p.settingsRestored(track, o.Unlike)
		t.Route.Verified = false
	default:
		// The rule is not what was verified (rule 13): nothing on it is
		// verified again until it is restored, which may wait for health.
		p.driftRepaired(track, o.Weights, t.Route.Weights)
		t.Route.Verified = false
	}
	gated := true
	for _, id := range sortedKeys(t.Route.Weights) {
		if t.Route.Weights[id] <= o.Weights[id] {
			continue
		}
		if e := p.st.Environment(id); e == nil || e.Status != EnvReady || !p.gate(e) {
			gated = false // go on: every environment gaining traffic asks for its health at once
		}
	}
	if !gated {
		p.attachUngated(track, o, t.Route.Weights)
		p.poll()
		return
	}
	p.act(Action{Kind: ActionSetWeights, Track: track, Weights: t.Route.Weights})
	p.poll()
}

// attachUngated writes the route as read with every environment of want that
// it lacks added at weight 0, when some of them exist: traffic stays where
// it is, and what must be healthy before it takes traffic is health-checked
// by the load balancer meanwhile (invariant 8). That is how a stable
// environment rebuilt after its resources were lost gets back on a route
// that lost its rule too.
func (p *planner) attachUngated(track Track, o RouteObservation, want map[string]int) {
	w := make(map[string]int, len(want))
	sum := 0
	for id, weight := range o.Weights {
		if p.st.Environment(id) == nil {
			return // a target that is none of the endpoint's: drift to restore whole
		}
		w[id] = weight
		sum += weight
	}
	added := false
	for id := range want {
		if _, ok := w[id]; !ok && p.in.Observed.Environments[id].Exists {
			w[id], added = 0, true
		}
	}
	if added && (sum == 0 || sum == 100) { // invariant 1 holds for what is written
		p.act(Action{Kind: ActionSetWeights, Track: track, Weights: w})
	}
}

// gate reports whether e may take traffic: healthy at its capacity as read
// in this pass (invariants 2 and 3). Without a read of its target health it
// asks for one (Decision.Health) and reports false, unless its target group
// is not attached to the load balancer yet, which would not health-check it.
func (p *planner) gate(e *Environment) bool {
	o, seen := p.in.Observed.Environments[e.ID]
	if !seen || !o.Exists {
		return false
	}
	if o.HealthRead {
		return p.healthy(e, o)
	}
	if p.attachedInAWS(e.ID) && !slices.Contains(p.health, e.ID) {
		p.health = append(p.health, e.ID)
	}
	return false
}

// healthy reports whether observation o shows e with its capacity in service
// and enough healthy targets to take traffic.
func (p *planner) healthy(e *Environment, o EnvObservation) bool {
	return takesTraffic(e.Capacity, p.in.Endpoint.Policy.MinHealthyPercent, o.Capacity, o.InService, o.Healthy)
}

// takesTraffic reports whether an environment that must run capacity may
// take traffic (invariants 2 and 3): it runs that much, all of it in
// service, and at least minHealthyPercent of it healthy targets.
func takesTraffic(capacity, minHealthyPercent, running, inService, healthy int) bool {
	if capacity < 1 {
		return false
	}
	need := max(1, (capacity*minHealthyPercent+99)/100)
	return running >= capacity && inService >= capacity && healthy >= need
}

// routed reports whether an environment is on a route, at any weight, as
// observed in AWS or as the planner means to write it.
func (p *planner) routed(id string) bool {
	for _, track := range Tracks {
		if _, ok := p.st.Track(track).Route.Weights[id]; ok {
			return true
		}
	}
	return p.attachedInAWS(id)
}

// attachedInAWS reports whether a route read in this pass has the
// environment, at any weight: its target group is health-checked.
func (p *planner) attachedInAWS(id string) bool {
	for _, track := range Tracks {
		if _, ok := p.in.Observed.Routes[track].Weights[id]; ok {
			return true
		}
	}
	return false
}

// SameRoute reports whether two routes are alike: the same environments
// attached, with the same weights.
func SameRoute(a, b map[string]int) bool { return maps.Equal(a, b) }

// SameWeights reports whether two routes send the same share to each
// environment; a weight of zero is the same as no entry.
func SameWeights(a, b map[string]int) bool {
	n := 0
	for id, w := range a {
		if w == 0 {
			continue
		}
		if b[id] != w {
			return false
		}
		n++
	}
	if n == len(b) {
		return true // b has an entry for each of a's, so none other
	}
	for _, w := range b {
		if w != 0 {
			n--
		}
	}
	return n == 0
}
