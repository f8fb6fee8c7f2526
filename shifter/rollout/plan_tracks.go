package rollout

// track applies the planner's rules to one track, the first that applies
// acting (DESIGN §3; chooseCourse says which). The preview track has one
// rule: its environment gets 100% of the preview route once healthy; it
// never touches production traffic and has no hot versions.
func (p *planner) track(track Track) {
	t := p.st.Track(track)
	p.liftHold(track)
	d := p.desired(track)
	if track == Production && p.overridden(d) {
		d = nil // traffic stays on the overridden version
	}
	p.verify(track)
	r := t.Rollout
	if d == nil {
		if r.Active() {
			p.advance(track, r) // rules 6–10
			return
		}
		if track == Preview {
			if why := p.previewRetirement(); why != "" {
				p.retirePreview(why)
			}
		}
		return // rule 1, a held release or an override: traffic stays as it is
	}
	stable, hot := p.st.Environment(t.Stable), p.hot(track, d.Key)
	course := chooseCourse(d.Key, r.activeKey(), stable != nil && stable.runs(d.Key), hot != nil)
	if course == CourseContinue {
		p.advance(track, r) // rules 6–10
		return
	}
	if r.Active() {
		p.supersede(track, r, d.Key) // rules 3, 11
	}
	switch course {
	case CourseKeep, CourseRevert:
		p.routeAll(track, stable.ID) // rules 2, 3
	case CourseRollback:
		p.startRollback(hot.ID, d.Key, reasonHot(hot.Version)) // rule 4
	default:
		p.start(track, d) // rule 5
	}
}

// desired returns the track's desired release, or nil when none is declared
// or it is held after ending badly.
func (p *planner) desired(track Track) *Desired {
	d := p.in.Desired(track)
	if h := p.st.Track(track).Held; h != nil && d != nil && d.Key == h.Key {
		return nil
	}
	return d
}

// liftHold forgets a track's hold once the desired release is another: a
// hold lasts until the release changes.
func (p *planner) liftHold(track Track) {
	t := p.st.Track(track)
	if d := p.in.Desired(track); t.Held != nil && (d == nil || d.Key != t.Held.Key) {
		t.Held = nil
	}
}

// start records a new rollout of d (rule 5); it begins in the same pass.
func (p *planner) start(track Track, d *Desired) {
	t := p.st.Track(track)
	steps := p.in.Endpoint.Policy.Steps
	if track == Preview {
		steps = []Step{{Weight: 100}}
	}
	p.st.NextRollout++
	r := &Rollout{
		ID:        p.st.NextRollout,
		Kind:      KindDeploy,
		Key:       d.Key,
		From:      t.Stable,
		Steps:     steps,
		Phase:     PhasePending,
		Step:      -1,
		StartedAt: p.now,
	}
	t.Rollout = r
	p.rolloutStarted(track, r)
	if track == Production {
		r.Alarming = p.alarming()
		for _, name := range r.Alarming {
			p.alarmAtStart(track, r, name)
		}
	}
	p.advance(track, r)
}

// startRollback moves production to a hot environment in one step (rules 4
// and 12): it is scaled back to full capacity, and 100% moves once it is
// healthy.
func (p *planner) startRollback(id string, key Key, reason string) {
	t := &p.st.Production
	e := p.st.Environment(id)
	p.st.NextRollout++
	t.Rollout = &Rollout{
		ID:        p.st.NextRollout,
		Kind:      KindRollback,
		Key:       Key{Version: e.Version, TemplateHash: e.TemplateHash, Retry: key.Retry},
		Target:    e.ID,
		From:      t.Stable,
		Steps:     []Step{{Weight: 100}},
		Phase:     PhaseWaitingHealthy,
		Step:      -1,
		Since:     p.now,
		StartedAt: p.now,
		Reason:    reason,
	}
	p.rollbackStarted(t.Rollout)
	p.ensureCapacity(e)
	p.advance(Production, t.Rollout)
}

// supersede ends a rollout whose release changed (rules 3 and 11): the
// canary's share returns to stable at once; the unfinished environment is
// torn down by collect unless the new release uses it.
func (p *planner) supersede(track Track, r *Rollout, next Key) {
	t := p.st.Track(track)
	reason := reasonSuperseded(next.Version)
	if stable := p.st.Environment(t.Stable); stable != nil && stable.runs(next) {
		reason = reasonReverted(next.Version)
	}
	r.Phase, r.Reason, r.EndedAt = PhaseAborted, reason, p.now
	p.returnToStable(track, r)
	p.ended(track, r, CauseSuperseded, "superseded_by", next.Version)
}

// previewRetirement says why the preview is retired: its release was
// removed or declared retired; "" while it is wanted.
func (p *planner) previewRetirement() string {
	switch {
	case p.in.Preview == nil:
		return reasonPreviewRemoved
	case p.in.Preview.Release.Retired:
		return reasonPreviewDeclaredRetired
	}
	return ""
}

// retirePreview ends the preview once its release is removed or declared
// retired: a rollout to it stops, its route goes, and collect expires its
// environment unless production runs on it.
func (p *planner) retirePreview(why string) {
	t := &p.st.Preview
	if r := t.Rollout; r.Active() {
		r.Phase, r.Reason, r.EndedAt = PhaseAborted, why, p.now
		p.ended(Preview, r, CauseOperator)
	}
	if e := p.st.Environment(t.Stable); e != nil {
		p.previewRetired(e.Version, why)
	}
	t.Stable, t.Route = "", Route{}
	if !p.in.Endpoint.Traffic.HasPreview() {
		return
	}
	if o, seen := p.in.Observed.Routes[Preview]; seen && (o.Exists || len(o.Weights) > 0) {
		p.act(Action{Kind: ActionDeleteRoute, Track: Preview})
		p.poll()
	}
}

// teardown ends everything of a deleted endpoint: rollouts stop, routes go,
// and collect deletes every environment once no rule points at it.
func (p *planner) teardown() {
	for _, track := range Tracks {
		t := p.st.Track(track)
		if r := t.Rollout; r.Active() {
			r.Phase, r.Reason, r.EndedAt = PhaseAborted, reasonEndpointDeleted, p.now
		}
		t.Stable, t.Route, t.Override = "", Route{}, nil
	}
}
