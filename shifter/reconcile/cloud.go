package reconcile

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/schedule"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// view is one pass's observation: what the planner sees, by environment ID,
// and the target behind each environment, to translate between the planner
// and the router.
type view struct {
	observed rollout.Observed
	targets  map[string]string // environment ID → target
}

// observe reads the live state of the endpoint's environments and routes,
// and the alarms of a rollout that is or may be starting, as fresh as f
// says. The reads are independent and run at once.
func (a *actor) observe(ctx context.Context, cloud Cloud, in rollout.Input, f freshness) (view, error) {
	var (
		envs   map[string]Env
		routes = make([]Route, len(rollout.Tracks))
		alarms map[string]string
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		if envs, err = cloud.Backend.Observe(schedule.WithLane(gctx, envLane(in.State, f.changing, schedule.LaneOf(gctx))), a.endpoint, in.State.Environments, Query{Changing: f.changing, Since: f.env, Listed: f.listed}); err != nil {
			return fmt.Errorf("observe environments: %w", err)
		}
		return nil
	})
	for i, track := range rollout.Tracks {
		if !routed(in.Endpoint, track) {
			continue
		}
		g.Go(func() (err error) {
			routes[i], err = cloud.Router.Weights(schedule.WithLane(gctx, routeLane(in.State.Track(track), schedule.LaneOf(gctx))), in.Endpoint, track, f.route)
			switch {
			case errors.Is(err, ErrTrafficMissing) && in.Endpoint.Deleting:
				return nil // the route went with its listener: nothing to delete
			case err != nil:
				return fmt.Errorf("observe %s route: %w", track, err)
			}
			return nil
		})
	}
	if names := alarmsToWatch(in); len(names) > 0 && cloud.Alarms != nil {
		g.Go(func() (err error) {
			if alarms, err = cloud.Alarms.States(gctx, names); err != nil {
				return fmt.Errorf("observe alarms: %w", err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return view{}, err
	}

	v := view{
		observed: rollout.Observed{
			Environments: make(map[string]rollout.EnvObservation, len(envs)),
			Routes:       map[rollout.Track]rollout.RouteObservation{},
			Alarms:       alarms,
		},
		targets: make(map[string]string, len(envs)),
	}
	envOf := make(map[string]string, len(envs))
	for id, e := range envs {
		v.observed.Environments[id] = e.EnvObservation
		if e.Target != "" {
			v.targets[id] = e.Target
			envOf[e.Target] = id
		}
	}
	for i, track := range rollout.Tracks {
		if !routed(in.Endpoint, track) {
			v.observed.Routes[track] = rollout.RouteObservation{} // none: nothing to delete
			continue
		}
		o := rollout.RouteObservation{Exists: routes[i].Exists, Weights: make(map[string]int, len(routes[i].Weights)), Unlike: routes[i].Unlike}
		for target, w := range routes[i].Weights {
			if id, ok := envOf[target]; ok {
				o.Weights[id] = w
			} else {
				o.Weights[target] = w // not one of the endpoint's environments: drift
			}
		}
		v.observed.Routes[track] = o
	}
	return v, nil
}

// readHealth reads the target health the planner asked for into v.
func (a *actor) readHealth(ctx context.Context, cloud Cloud, in rollout.Input, f freshness, ids []string, v *view) error {
	envs, err := cloud.Backend.Observe(ctx, a.endpoint, in.State.Environments, Query{Changing: f.changing, Since: f.env, Listed: f.listed, Health: ids})
	if err != nil {
		return fmt.Errorf("read target health: %w", err)
	}
	for _, id := range ids {
		if e, ok := envs[id]; ok {
			v.observed.Environments[id] = e.EnvObservation
		}
	}
	return nil
}

// routed reports whether the endpoint routes a track: production always,
// preview when it has a preview route.
func routed(ep rollout.Endpoint, track rollout.Track) bool {
	return track == rollout.Production || ep.Traffic.HasPreview()
}

// atRest reports whether nothing of the endpoint is moving or about to:
// no rollout in flight or to start, every environment ready, every route
// verified.
func atRest(in rollout.Input) bool {
	for _, track := range rollout.Tracks {
		if d := in.Desired(track); d != nil && !settled(in.State.Track(track), in.State, d.Key) {
			return false
		}
	}
	return quiet(in.State)
}

// settled reports whether a track runs key, or holds it after it ended badly.
func settled(t *rollout.TrackState, st rollout.State, key rollout.Key) bool {
	if t.Held != nil && t.Held.Key == key {
		return true
	}
	e := st.Environment(t.Stable)
	return e != nil && e.Version == key.Version && e.TemplateHash == key.TemplateHash && !t.Rollout.Active()
}

// changing reports whether an environment is coming up or going.
func changing(st rollout.State) bool {
	for _, e := range st.Environments {
		if e.Status != rollout.EnvReady {
			return true
		}
	}
	return false
}

// quiet reports whether no rollout is in flight, every environment is
// ready and every route verified.
func quiet(st rollout.State) bool {
	for _, t := range []rollout.TrackState{st.Production, st.Preview} {
		if t.Rollout.Active() || (len(t.Route.Weights) > 0 && !t.Route.Verified) {
			return false
		}
	}
	return !changing(st)
}

// alarmsToWatch returns the policy's alarms while a production rollout is in
// flight or about to start; a steady endpoint costs no alarm reads.
func alarmsToWatch(in rollout.Input) []string {
	t := in.State.Production
	if t.Rollout.Active() {
		return in.Endpoint.Policy.Alarms
	}
	d := in.Production
	if d == nil || (t.Held != nil && t.Held.Key == d.Key) {
		return nil
	}
	if e := in.State.Environment(t.Stable); e != nil && e.Version == d.Key.Version && e.TemplateHash == d.Key.TemplateHash {
		return nil
	}
	return in.Endpoint.Policy.Alarms
}

// laneOf is the lane of a pass's reads: a pass that may take traffic off a
// version reads ahead of everything else; one of an endpoint in flight ahead
// of the endpoints at rest.
func laneOf(in rollout.Input) schedule.Lane {
	switch {
	case returning(in):
		return schedule.LaneRollback
	case !atRest(in):
		return schedule.LaneGate
	}
	return schedule.LaneRoutine
}

// returning reports whether the pass may move production traffic back: an
// operator's rollback, abort or override is queued, a rollback is in flight, a rollout
// in flight is reverted to the stable version, or the desired release is one
// whose environment is still hot.
func returning(in rollout.Input) bool {
	for _, c := range in.Commands {
		if c.Kind == rollout.CommandRollback || c.Kind == rollout.CommandAbort || c.Kind == rollout.CommandOverride {
			return true
		}
	}
	t := in.State.Production
	r, d := t.Rollout, in.Production
	switch {
	case r.Active() && r.Kind == rollout.KindRollback:
		return true
	case d == nil || (r.Active() && r.Key == d.Key):
		return false
	}
	runs := func(e *rollout.Environment) bool {
		return e.Version == d.Key.Version && e.TemplateHash == d.Key.TemplateHash
	}
	if stable := in.State.Environment(t.Stable); stable != nil && runs(stable) {
		return r.Active() // a revert during a rollout; otherwise nothing moves
	}
	for i := range in.State.Environments {
		if e := &in.State.Environments[i]; e.Status == rollout.EnvReady && e.HeldFull && runs(e) {
			return true
		}
	}
	return false
}

// healthLane is the lane of the health reads a pass asked for: the read that
// gates a step (of an environment already healthy once) goes before the polls
// of environments still coming up, which are routine observation and wait
// behind everything a rollout in flight needs now.
func healthLane(st rollout.State, ids []string, reads schedule.Lane) schedule.Lane {
	if reads == schedule.LaneRollback {
		return reads
	}
	for _, id := range ids {
		if e := st.Environment(id); e != nil && e.Status == rollout.EnvReady {
			return min(reads, schedule.LaneGate)
		}
	}
	return schedule.LaneRoutine
}

// envLane is the lane of a pass's read of its environments: reads by name of
// environments coming up or going (changing, and none of them ready) go with
// what the rollout builds; the others in the pass's lane.
func envLane(st rollout.State, changing []string, reads schedule.Lane) schedule.Lane {
	if reads == schedule.LaneRollback || len(changing) == 0 {
		return reads
	}
	for _, id := range changing {
		if e := st.Environment(id); e != nil && e.Status == rollout.EnvReady {
			return reads
		}
	}
	return max(reads, schedule.LaneBuild)
}

// routeLane is the lane of the read of a track's route: the read that
// verifies a weight step just written is part of that step.
func routeLane(t *rollout.TrackState, reads schedule.Lane) schedule.Lane {
	if len(t.Route.Weights) > 0 && !t.Route.Verified {
		return min(reads, schedule.LaneStep)
	}
	return reads
}

// laneOfAction is the lane an action runs in: weights that take traffic off
// a version and what a rollback needs first go in the rollback lane; a
// weight step in the step lane; what a rollout builds, weights that only
// attach or detach environments at 0 (live, the route as observed) among
// it, in the build lane, behind the steps that are due and the reads that
// gate them.
func laneOfAction(d rollout.Decision, act rollout.Action, reads schedule.Lane, live map[string]int) schedule.Lane {
	switch {
	case act.Kind == rollout.ActionDeleteEnvironment, act.Kind == rollout.ActionDeleteRoute,
		act.Kind == rollout.ActionScaleEnvironment && act.Capacity == 0:
		return schedule.LaneRoutine // tearing down waits
	}
	if reads == schedule.LaneRollback {
		return schedule.LaneRollback
	}
	for _, e := range d.Events {
		switch e.Type {
		case rollout.EventRolloutRolledBack, rollout.EventRolloutAborted:
			return schedule.LaneRollback
		}
	}
	if act.Kind == rollout.ActionSetWeights && movesTraffic(act.Weights, live) {
		return schedule.LaneStep
	}
	return schedule.LaneBuild
}

// movesTraffic reports whether weights give any environment a share other
// than the one it has on the live route.
func movesTraffic(weights, live map[string]int) bool {
	for id, w := range weights {
		if w != live[id] {
			return true
		}
	}
	for id, w := range live {
		if _, ok := weights[id]; !ok && w > 0 {
			return true
		}
	}
	return false
}

// count reads what the planner asked of the load balancer's metrics, the
// metrics that judge a step (Decision.Measure) and the requests that show
// whether its traffic follows the weights (Decision.Traffic), and plans
// again with them, until it asks for nothing more. Without a metrics reader
// nothing is read: the planner then judges no step, and a step that holds
// for its traffic gives up at its max_wait, unobserved. A read of the
// traffic that fails does not fail the pass (the decision without it
// stands: a holding step holds, any other goes on); it is an action_failing
// condition until a read succeeds.
func (a *actor) count(ctx, lctx context.Context, cloud Cloud, in *rollout.Input, d rollout.Decision, v view) (rollout.Decision, error) {
	if cloud.Metrics == nil {
		return d, nil
	}
	for {
		switch {
		case d.Measure != nil && in.Observed.Metrics == nil:
			m, err := a.measure(lctx, cloud, in.Endpoint, d.Measure, v)
			if err != nil {
				return d, err
			}
			in.Observed.Metrics = m
		case d.Traffic != nil && in.Observed.Traffic == nil && d.State.Production.Rollout.Active():
			// (A decision that ended the rollout needs no count of it.)
			m, err := a.measure(schedule.WithLane(ctx, trafficLane(in.State, schedule.LaneOf(lctx))), cloud, in.Endpoint, d.Traffic, v)
			switch {
			case ctx.Err() != nil:
				return d, ctx.Err()
			case err != nil:
				a.trafficReadFailure = err.Error()
				return d, nil
			}
			a.trafficReadFailure = ""
			for _, id := range d.Traffic.Environments {
				if _, ok := m[id]; !ok {
					m[id] = rollout.Metrics{} // no target group yet: nothing counted
				}
			}
			in.Observed.Traffic = m
		default:
			if d.Traffic == nil {
				a.trafficReadFailure = "" // nothing to read any more
			}
			return d, nil
		}
		d = rollout.Plan(*in)
	}
}

// trafficReadKey names a failing read of a step's traffic in the
// action_failing condition, beside the failing actions' keys.
const trafficReadKey = "read_traffic/" + string(rollout.Production)

// trafficLane is the lane of a read of a step's requests: the one that holds
// a step gates it; one only to show them is routine observation.
func trafficLane(st rollout.State, reads schedule.Lane) schedule.Lane {
	if r := st.Production.Rollout; r.Active() && r.Traffic != nil && r.Traffic.Step == r.Step && r.Traffic.Hold == rollout.HoldWaiting {
		return min(reads, schedule.LaneGate)
	}
	return max(reads, schedule.LaneRoutine)
}

// measure reads the metrics of the window's environments, by environment ID.
func (a *actor) measure(ctx context.Context, cloud Cloud, ep rollout.Endpoint, w *rollout.Window, v view) (map[string]rollout.Metrics, error) {
	var targets []string
	envOf := map[string]string{}
	for _, id := range w.Environments {
		if target, ok := v.targets[id]; ok {
			targets = append(targets, target)
			envOf[target] = id
		}
	}
	byTarget, err := cloud.Metrics.Measure(ctx, ep.Traffic.ListenerARN, targets, w.Start, w.End)
	if err != nil {
		return nil, fmt.Errorf("measure %v: %w", w.Environments, err)
	}
	out := make(map[string]rollout.Metrics, len(byTarget))
	for target, m := range byTarget {
		out[envOf[target]] = m
	}
	return out, nil
}

// execute runs the decision's actions in order. A failing action does not
// stop the others; it is recorded as an event once per distinct error.
func (a *actor) execute(ctx context.Context, cloud Cloud, ep rollout.Endpoint, d rollout.Decision, v view, reads schedule.Lane) error {
	var errs []error
	var events []rollout.Event
	for _, act := range d.Actions {
		if err := a.mayAct(); err != nil {
			return err
		}
		err := a.do(schedule.WithLane(ctx, laneOfAction(d, act, reads, v.observed.Routes[act.Track].Weights)), cloud, ep, d.State, act, v)
		key := failureKey(act)
		if err == nil {
			if act.Kind == rollout.ActionSetWeights || act.Kind == rollout.ActionDeleteRoute {
				a.routeWritten = a.r.cfg.Now()
			} else {
				a.envWritten[act.Environment] = a.r.cfg.Now()
			}
			delete(a.failures, key)
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		errs = append(errs, err)
		if a.failures[key] == err.Error() {
			continue
		}
		a.failures[key] = err.Error()
		events = append(events, rollout.Event{
			Endpoint: a.endpoint,
			Actor:    rollout.ActorShifter,
			Type:     rollout.EventActionFailed,
			Track:    act.Track,
			Message:  fmt.Sprintf("%s failed, will retry: %v", describe(act), err),
			Details:  map[string]string{"action": string(act.Kind), "environment": act.Environment, "error": err.Error()},
		})
	}
	if len(events) > 0 {
		if err := a.mayAct(); err != nil {
			return err
		}
		if _, err := a.r.cfg.Store.AppendEvents(ctx, a.endpoint, events...); err != nil {
			errs = append(errs, err)
		} else {
			a.r.cfg.Published(a.endpoint)
		}
	}
	return errors.Join(errs...)
}

// failureKey names an action in actor.failures: its tries are one action
// as long as its kind, environment and track stay the same.
func failureKey(act rollout.Action) string {
	return string(act.Kind) + "/" + act.Environment + "/" + string(act.Track)
}

// forgetAbandoned drops the failures of actions decision d no longer takes
// (a reverted release, an expired environment): they are not retried, so
// they are not failing.
func (a *actor) forgetAbandoned(d rollout.Decision) {
	taken := make(map[string]bool, len(d.Actions))
	for _, act := range d.Actions {
		taken[failureKey(act)] = true
	}
	maps.DeleteFunc(a.failures, func(key, _ string) bool { return !taken[key] })
}

// do runs one action.
func (a *actor) do(ctx context.Context, cloud Cloud, ep rollout.Endpoint, st rollout.State, act rollout.Action, v view) error {
	switch act.Kind {
	case rollout.ActionCreateEnvironment, rollout.ActionScaleEnvironment, rollout.ActionDeleteEnvironment:
		env := st.Environment(act.Environment)
		if env == nil {
			return fmt.Errorf("environment %s is not in the state", act.Environment)
		}
		switch act.Kind {
		case rollout.ActionCreateEnvironment:
			return cloud.Backend.Create(ctx, a.endpoint, *env)
		case rollout.ActionScaleEnvironment:
			return cloud.Backend.Scale(ctx, a.endpoint, *env, act.Capacity)
		default:
			_, err := cloud.Backend.Delete(ctx, a.endpoint, *env)
			return err
		}
	case rollout.ActionSetWeights:
		weights := make(map[string]int, len(act.Weights))
		for id, w := range act.Weights {
			target, ok := v.targets[id]
			if !ok {
				return fmt.Errorf("environment %s has no target group yet", id)
			}
			weights[target] = w
		}
		return cloud.Router.SetWeights(ctx, ep, act.Track, weights)
	case rollout.ActionDeleteRoute:
		if !routed(ep, act.Track) {
			return nil
		}
		return cloud.Router.Delete(ctx, ep, act.Track)
	}
	return fmt.Errorf("unknown action %q", act.Kind)
}

func describe(a rollout.Action) string {
	switch {
	case a.Environment != "":
		return fmt.Sprintf("%s of environment %s", a.Kind, a.Environment)
	case len(a.Weights) > 0:
		return fmt.Sprintf("%s %v on the %s route", a.Kind, a.Weights, a.Track)
	}
	return fmt.Sprintf("%s on the %s route", a.Kind, a.Track)
}

// equalState reports whether two states would be stored alike, whatever
// their revision and update time.
func equalState(a, b rollout.State) bool {
	a.Revision, b.Revision = 0, 0
	a.UpdatedAt, b.UpdatedAt = time.Time{}, time.Time{}
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}
