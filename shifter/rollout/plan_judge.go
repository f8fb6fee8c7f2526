package rollout

import "slices"

// watch is rule 10: an alarm of the policy entering ALARM while traffic is
// on the new version rolls it back. It reports false when it did.
func (p *planner) watch(track Track, r *Rollout) bool {
	if track != Production || r.Kind != KindDeploy || len(p.in.Endpoint.Policy.Alarms) == 0 {
		return true
	}
	p.poll() // alarms are polled while a rollout is in flight
	watching := r.Phase == PhaseShifting || r.Phase == PhasePaused || r.Phase == PhaseBaking
	for _, name := range p.in.Endpoint.Policy.Alarms {
		state, seen := p.in.Observed.Alarms[name]
		known := slices.Contains(r.Alarming, name)
		switch {
		case !seen:
		case state != AlarmStateAlarm:
			if known {
				r.Alarming = slices.DeleteFunc(slices.Clone(r.Alarming), func(n string) bool { return n == name })
			}
		case known || !watching:
		case !p.in.Endpoint.Policy.AutoRollback || r.From == "":
			r.Alarming = append(slices.Clone(r.Alarming), name)
			p.alarmNotActedOn(track, r, name)
		default:
			p.end(track, r, PhaseRolledBack, CauseAlarm, reasonAlarm(name), "alarm", name)
			return false
		}
	}
	return true
}

// AlarmStateAlarm is the CloudWatch state that rolls a rollout back.
const AlarmStateAlarm = "ALARM"

// alarming returns the policy's alarms observed in ALARM.
func (p *planner) alarming() []string {
	var names []string
	for _, name := range p.in.Endpoint.Policy.Alarms {
		if p.in.Observed.Alarms[name] == AlarmStateAlarm {
			names = append(names, name)
		}
	}
	return names
}

// judgeSoFar judges the metrics of the step (or bake) in progress while it
// waits, every MetricChecks.Interval: a failing verdict rolls back at once
// (rule 10) rather than at the end of a pause, or never for a canary that
// waits for a promote. It returns false when the rollout was rolled back or
// waits for the metrics (Decision.Measure).
func (p *planner) judgeSoFar(track Track, r *Rollout) bool {
	mc := p.in.Endpoint.Policy.MetricChecks
	if track != Production || mc == nil || r.From == "" {
		return true
	}
	next := r.Since.Add(mc.JudgeEvery())
	if r.JudgedAt.After(r.Since) {
		next = r.JudgedAt.Add(mc.JudgeEvery())
	}
	if p.now.Before(next) {
		p.wakeAt(next)
		return true
	}
	if !p.judge(track, r) {
		return false
	}
	p.wakeAt(p.now.Add(mc.JudgeEvery()))
	return true
}

// missingAlarms returns the policy's alarms that a read of them did not
// find: they do not exist.
func (p *planner) missingAlarms() []string {
	if p.in.Observed.Alarms == nil {
		return nil // not read in this pass
	}
	var names []string
	for _, name := range p.in.Endpoint.Policy.Alarms {
		if _, ok := p.in.Observed.Alarms[name]; !ok {
			names = append(names, name)
		}
	}
	return names
}

// judge runs the policy's metric checks over the step that is ending (rules
// 7, 9 and 10). It returns true when the rollout may go on; false when it
// must wait for the metrics (Decision.Measure) or for a missing alarm, or
// was rolled back.
func (p *planner) judge(track Track, r *Rollout) bool {
	if track == Production && r.From != "" && !p.in.Endpoint.Policy.ProceedWithoutAlarms && len(p.missingAlarms()) > 0 {
		p.poll() // rule 10 cannot watch what is not there: hold until it is
		return false
	}
	mc := p.in.Endpoint.Policy.MetricChecks
	if track != Production || mc == nil || r.From == "" || !p.now.After(r.Since) {
		return true // nothing to judge, or an empty window (a bake of 0s)
	}
	target, seen := p.in.Observed.Metrics[r.Target]
	if !seen {
		p.measure = &Window{Environments: []string{r.Target, r.From}, Start: r.Since, End: p.now}
		return false
	}
	stable, hasStable := p.in.Observed.Metrics[r.From]
	verdict := mc.verdict(target, stable, hasStable)
	r.Judged, r.JudgedAt = judgement(target, mc.MinRequests, verdict), p.now
	measured := metricDetails(target, stable, hasStable)
	if verdict == "" {
		p.metricsJudged(track, r, measured)
		return true
	}
	if !p.in.Endpoint.Policy.AutoRollback {
		p.metricNotActedOn(track, r, verdict)
		return true
	}
	p.end(track, r, PhaseRolledBack, CauseMetric, reasonMetric(verdict), measured...)
	return false
}

// verdict returns why the target's metrics fail the checks, or "".
func (mc *MetricChecks) verdict(target, stable Metrics, hasStable bool) string {
	if target.Requests <= 0 || target.Requests < float64(mc.MinRequests) {
		return "" // too little traffic for a verdict
	}
	rate := 100 * target.Errors5xx / target.Requests
	if mc.Max5xxPercent > 0 && rate > mc.Max5xxPercent {
		return verdictRate(rate, mc.Max5xxPercent)
	}
	if mc.MaxLatency > 0 && target.AverageLatency > mc.MaxLatency.D() {
		return verdictLatency(target.AverageLatency, mc.MaxLatency)
	}
	if mc.MaxRatioToStable == 0 || !hasStable || stable.Requests <= 0 || stable.Requests < float64(mc.MinRequests) {
		return ""
	}
	stableRate := 100 * stable.Errors5xx / stable.Requests
	if stableRate > 0 && rate > stableRate*mc.MaxRatioToStable {
		return verdictRateToStable(rate, mc.MaxRatioToStable, stableRate)
	}
	if stable.AverageLatency > 0 && float64(target.AverageLatency) > float64(stable.AverageLatency)*mc.MaxRatioToStable {
		return verdictLatencyToStable(target.AverageLatency, mc.MaxRatioToStable, stable.AverageLatency)
	}
	return ""
}
