package rollout

import (
	"cmp"
	"slices"
	"strconv"
	"time"
)

// provision follows environments whose resources are being created: each pass
// asks for the missing ones (creation is idempotent) until they exist and
// are healthy. It also recreates serving environments deleted by hand
// (rule 13).
func (p *planner) provision() {
	for i := range p.st.Environments {
		e := &p.st.Environments[i]
		o, seen := p.in.Observed.Environments[e.ID]
		if seen && o.Exists {
			e.Health.InService = o.InService
			if o.HealthRead {
				e.Health.TargetHealth, e.Health.ReadAt = o.TargetHealth, p.now
			}
			p.restoreCapacity(e, o.Capacity)
		}
		switch {
		case !seen || e.Status == EnvDeleting:
		case e.Status == EnvProvisioning && !o.Exists:
			p.create(p.trackOf(e), e, false)
		case e.Status == EnvProvisioning && p.gate(e):
			e.Status = EnvReady
			p.environmentHealthy(e, o)
		case e.Status == EnvProvisioning:
			p.poll()
		case !o.Exists && p.serving(e):
			e.Status = EnvProvisioning
			p.environmentMissing(e, true)
			p.create(p.trackOf(e), e, false)
		case !o.Exists:
			e.Status = EnvDeleting // a hot environment deleted by hand can no longer be returned to
			p.environmentMissing(e, false)
		}
	}
}

// collect tears down every environment nothing needs: not serving, not a
// rollout's target, not inside its rollback window (invariant 4). It removes
// an environment from the state once AWS shows none of it.
func (p *planner) collect() {
	p.trimHot()               // a rollout that completed in this pass made one more hot
	envs := p.st.Environments // the planner's own clone: compacted in place
	n := 0
	for i := range envs {
		if !p.keep(&envs[i]) {
			continue
		}
		if n != i {
			envs[n] = envs[i]
		}
		n++
	}
	p.st.Environments = envs[:n]
	// An environment forgotten here may have been asked for earlier in the
	// pass (a create that never landed, then the release went back): an
	// action on it could only fail.
	p.actions = slices.DeleteFunc(p.actions, func(a Action) bool {
		return a.Environment != "" && p.st.Environment(a.Environment) == nil
	})
}

// keep decides the fate of one environment: needed, torn down, or gone
// (false: forget it).
func (p *planner) keep(e *Environment) bool {
	if e.Status != EnvDeleting {
		if p.needed(e) {
			if p.isHot(e) {
				p.wakeAt(e.HotUntil)
			}
			return true
		}
		e.Status = EnvDeleting
		p.environmentDeleting(e)
	}
	if p.in.Observed.Environments[e.ID].Gone {
		p.environmentDeleted(e)
		return false
	}
	if p.routed(e.ID) {
		p.poll() // attach() leaves it out of the route; it goes once AWS shows it detached
		return true
	}
	// Scaling to zero first lets instances drain through the target
	// group's deregistration delay before the group goes.
	p.scale(e, 0)
	p.act(Action{Kind: ActionDeleteEnvironment, Environment: e.ID})
	p.poll()
	return true
}

// needed reports whether anything still depends on e. Once the endpoint is
// being deleted only traffic does: there is nothing left to roll back to.
func (p *planner) needed(e *Environment) bool {
	if p.serving(e) {
		return true
	}
	if p.in.Endpoint.Deleting {
		return false
	}
	if p.isHot(e) {
		return true
	}
	for _, track := range Tracks {
		if r := p.st.Track(track).Rollout; r.Active() && r.Target == e.ID {
			return true
		}
	}
	return false
}

// serving reports whether e is a track's stable environment or carries (or
// is meant to carry) traffic.
func (p *planner) serving(e *Environment) bool {
	for _, track := range Tracks {
		t := p.st.Track(track)
		if t.Stable == e.ID || t.Route.Weights[e.ID] > 0 || p.in.Observed.Routes[track].Weights[e.ID] > 0 {
			return true
		}
	}
	return false
}

// isHot reports whether e is a previous production version inside its
// rollback window.
func (p *planner) isHot(e *Environment) bool { return e.hotAt(p.now, p.st.Production.Stable) }

// hotAt reports whether e, stable being production's stable environment,
// is a previous production version inside its rollback window at now: it
// once held 100% and a rollback returns to it in one write (rule 4). The
// planner and the status (EnvironmentStatus.HotUntil) both go by it.
func (e *Environment) hotAt(now time.Time, stable string) bool {
	return e.Status == EnvReady && e.HeldFull && e.ID != stable && now.Before(e.HotUntil)
}

// trimHot ends the rollback window of hot environments beyond the policy's
// max_hot_versions, oldest first (the earliest end of window; the lower ID
// between equals), so that a route never has more to keep attached than a
// load balancer allows.
func (p *planner) trimHot() {
	var hot []*Environment
	for i := range p.st.Environments {
		if e := &p.st.Environments[i]; p.isHot(e) {
			hot = append(hot, e)
		}
	}
	slices.SortFunc(hot, func(a, b *Environment) int {
		return cmp.Or(b.HotUntil.Compare(a.HotUntil), cmp.Compare(b.ID, a.ID))
	})
	for _, e := range hot[min(len(hot), p.in.Endpoint.Policy.HotVersions()):] {
		e.HotUntil = p.now
		p.environmentCold(e)
	}
}

// hot returns the environment hot for k on track, or nil: only production
// keeps environments hot.
func (p *planner) hot(track Track, k Key) *Environment {
	if track != Production {
		return nil
	}
	for i := range p.st.Environments {
		e := &p.st.Environments[i]
		if p.isHot(e) && e.runs(k) {
			return e
		}
	}
	return nil
}

// reusable returns an environment running key that is not being torn down,
// such as one built for the preview track.
func (p *planner) reusable(key Key) *Environment {
	for i := range p.st.Environments {
		e := &p.st.Environments[i]
		if e.Status != EnvDeleting && e.runs(key) {
			return e
		}
	}
	return nil
}

// newEnvironment records the intent to create an environment for d before
// anything exists in AWS (invariant 5).
func (p *planner) newEnvironment(d *Desired) *Environment {
	p.st.NextEnvironment++
	template := p.in.Endpoint.Template
	image := d.Release.ImageFor(p.in.Endpoint)
	p.st.Environments = append(p.st.Environments, Environment{
		ID:           "e" + strconv.Itoa(p.st.NextEnvironment),
		Version:      d.Release.Version,
		TemplateHash: d.Key.TemplateHash,
		Image:        image,
		Digest:       DigestOf(image), // an image given by digest needs no resolving
		Template:     &template,
		SpecRevision: p.in.Endpoint.Revision,
		Env:          d.Release.Env,
		Status:       EnvProvisioning,
		Capacity:     p.in.Endpoint.Template.DesiredCapacity,
		CreatedAt:    p.now,
	})
	e := &p.st.Environments[len(p.st.Environments)-1]
	p.create(d.Release.Track, e, true)
	return e
}

// create asks for e's resources once its image is pinned. The digest is
// recorded in the decision that first asks for them, before anything of e
// exists in AWS (invariant 5), so that every attempt and every recreation
// runs the same image; a tag pushed again later changes nothing. Until the
// image is resolved, e waits (Decision.Resolve). announce says e was just
// recorded: its creation has not been told yet.
func (p *planner) create(track Track, e *Environment, announce bool) {
	p.poll()
	if e.Digest == "" && p.in.PinImages {
		d, ok := p.in.Observed.Digests[e.Image]
		if !ok {
			if !slices.Contains(p.resolve, e.Image) {
				p.resolve = append(p.resolve, e.Image)
			}
			return
		}
		e.Digest, announce = d, true
	}
	if announce {
		p.environmentCreating(track, e)
	}
	p.act(Action{Kind: ActionCreateEnvironment, Environment: e.ID})
}

// trackOf returns the track whose rollout targets e, "" when none does.
func (p *planner) trackOf(e *Environment) Track {
	for _, track := range Tracks {
		if r := p.st.Track(track).Rollout; r != nil && r.Target == e.ID {
			return track
		}
	}
	return ""
}

// restoreCapacity sets back the capacity of an environment scaled outside
// the shifter (rule 13): it was what the shifter set at the last
// observation, and found differs now. A capacity the shifter's own write has
// not reached yet (or failed to set) is not taken for a change outside.
func (p *planner) restoreCapacity(e *Environment, found int) {
	last := e.Health.Capacity
	e.Health.Capacity = found
	if e.Status == EnvDeleting || found == e.Capacity || last != e.Capacity {
		return
	}
	p.environmentRescaled(e, found)
	p.act(Action{Kind: ActionScaleEnvironment, Environment: e.ID, Capacity: e.Capacity})
}

// ensureCapacity scales an environment back to its template's capacity
// before traffic moves to it (invariant 3).
func (p *planner) ensureCapacity(e *Environment) {
	if e.Capacity < e.Template.DesiredCapacity {
		p.scale(e, e.Template.DesiredCapacity)
	}
}

func (p *planner) scale(e *Environment, capacity int) {
	if e.Capacity == capacity {
		return
	}
	p.environmentScaled(e, capacity)
	e.Capacity = capacity
	p.act(Action{Kind: ActionScaleEnvironment, Environment: e.ID, Capacity: capacity})
}

// runs reports whether e runs key's version and template.
func (e *Environment) runs(k Key) bool { return k.runBy(e.Version, e.TemplateHash) }
