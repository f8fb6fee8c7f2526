package reconcile

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/alb"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/ec2env"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// Cloud is the AWS of one placement, as the reconciler uses it. Alarms and
// Metrics may be nil, and then nothing is watched.
type Cloud struct {
	Environments Environments
	Router       Router
	Alarms       Alarms
	Metrics      Metrics
}

// Environments runs environments (the ec2 backend). ObserveIdle reads no
// target health, from listings shared by all endpoints at most maxAge old.
type Environments interface {
	Create(ctx context.Context, endpoint string, env rollout.Environment) (ec2env.Ref, error)
	Observe(ctx context.Context, endpoint string, envs []rollout.Environment) (map[string]ec2env.Observation, error)
	ObserveIdle(ctx context.Context, endpoint string, envs []rollout.Environment, maxAge time.Duration) (map[string]ec2env.Observation, error)
	Scale(ctx context.Context, endpoint string, env rollout.Environment, capacity int) error
	Delete(ctx context.Context, endpoint string, env rollout.Environment) (gone bool, err error)
}

// Router writes and reads the listener rules that carry the weights.
// WeightsIdle reads a whole listener at most maxAge old, shared by its
// endpoints.
type Router interface {
	SetWeights(ctx context.Context, route alb.Route, weights map[string]int) (alb.Result, error)
	Weights(ctx context.Context, route alb.Route) (exists bool, weights map[string]int, err error)
	WeightsIdle(ctx context.Context, route alb.Route, maxAge time.Duration) (exists bool, weights map[string]int, err error)
	Delete(ctx context.Context, route alb.Route) error
}

// Alarms reads CloudWatch alarm states by name.
type Alarms interface {
	States(ctx context.Context, names []string) (map[string]string, error)
}

// Metrics reads the ALB metrics of target groups behind a listener over a
// window.
type Metrics interface {
	Measure(ctx context.Context, listenerARN string, targetGroupARNs []string, start, end time.Time) (map[string]rollout.Metrics, error)
}

// observe reads the live state of the endpoint's environments and rules, and
// the alarms of a rollout that is or may be starting. The reads are
// independent and run at once: a revert's latency is one round trip of
// reads, then the write.
func (a *actor) observe(ctx context.Context, cloud Cloud, in rollout.Input, idle bool) (rollout.Observed, error) {
	// Shared listings are at most half a resync old, so drift is still
	// found within one and a half resync intervals.
	maxAge := a.r.cfg.Resync / 2
	type rule struct {
		read    bool
		exists  bool
		weights map[string]int // by target group ARN
	}
	var (
		envs   map[string]ec2env.Observation
		rules  = make([]rule, len(rollout.Tracks))
		alarms map[string]string
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		if idle {
			envs, err = cloud.Environments.ObserveIdle(gctx, a.endpoint, in.State.Environments, maxAge)
		} else {
			envs, err = cloud.Environments.Observe(gctx, a.endpoint, in.State.Environments)
		}
		if err != nil {
			return fmt.Errorf("observe environments: %w", err)
		}
		return nil
	})
	for i, track := range rollout.Tracks {
		route, ok := routeOf(in.Endpoint, track)
		if !ok || (len(in.State.Track(track).Route.Weights) == 0 && !in.Endpoint.Deleting) {
			continue // no rule, or none of ours yet: nothing to compare
		}
		g.Go(func() (err error) {
			r := &rules[i]
			r.read = true
			if idle {
				r.exists, r.weights, err = cloud.Router.WeightsIdle(gctx, route, maxAge)
			} else {
				r.exists, r.weights, err = cloud.Router.Weights(gctx, route)
			}
			if err != nil {
				return fmt.Errorf("observe %s rule: %w", track, err)
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
		return rollout.Observed{}, err
	}

	obs := rollout.Observed{
		Environments: make(map[string]rollout.EnvObservation, len(envs)),
		Routes:       map[rollout.Track]rollout.RouteObservation{},
		Alarms:       alarms,
	}
	a.targetGroups = make(map[string]string, len(envs))
	envByTG := make(map[string]string, len(envs))
	for id, o := range envs {
		obs.Environments[id] = o.EnvObservation
		if o.TargetGroupARN != "" {
			a.targetGroups[id] = o.TargetGroupARN
			envByTG[o.TargetGroupARN] = id
		}
	}
	for i, track := range rollout.Tracks {
		if _, ok := routeOf(in.Endpoint, track); !ok {
			obs.Routes[track] = rollout.RouteObservation{}
			continue
		}
		r := rules[i]
		if !r.read {
			continue
		}
		o := rollout.RouteObservation{Exists: r.exists, Weights: make(map[string]int, len(r.weights))}
		for arn, w := range r.weights {
			if id, ok := envByTG[arn]; ok {
				o.Weights[id] = w
			} else {
				o.Weights[arn] = w // not one of the endpoint's environments: drift
			}
		}
		obs.Routes[track] = o
	}
	return obs, nil
}

// atRest reports whether nothing of the endpoint is moving: no rollout in
// flight, every environment ready, every route verified.
func atRest(st rollout.State) bool {
	for _, t := range []rollout.TrackState{st.Production, st.Preview} {
		if t.Rollout.Active() || (len(t.Route.Weights) > 0 && !t.Route.Verified) {
			return false
		}
	}
	for _, e := range st.Environments {
		if e.Status != rollout.EnvReady {
			return false
		}
	}
	return true
}

// agrees reports whether an idle observation shows what the shifter set:
// every environment whole and every rule with its weights. Anything else is
// looked at again in full before the planner acts on it.
func agrees(st rollout.State, obs rollout.Observed) bool {
	for _, e := range st.Environments {
		if !obs.Environments[e.ID].Exists {
			return false
		}
	}
	for _, track := range rollout.Tracks {
		w := st.Track(track).Route.Weights
		if len(w) == 0 {
			continue
		}
		if o, seen := obs.Routes[track]; !seen || !o.Exists || !rollout.SameWeights(o.Weights, w) {
			return false
		}
	}
	return true
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

// measure reads the metrics the planner asked for, by environment ID.
func (a *actor) measure(ctx context.Context, cloud Cloud, ep rollout.Endpoint, w *rollout.Window) (map[string]rollout.Metrics, error) {
	var arns []string
	envByTG := map[string]string{}
	for _, id := range w.Environments {
		if arn, ok := a.targetGroups[id]; ok {
			arns = append(arns, arn)
			envByTG[arn] = id
		}
	}
	byARN, err := cloud.Metrics.Measure(ctx, ep.Traffic.ListenerARN, arns, w.Start, w.End)
	if err != nil {
		return nil, fmt.Errorf("measure %v: %w", w.Environments, err)
	}
	out := make(map[string]rollout.Metrics, len(byARN))
	for arn, m := range byARN {
		out[envByTG[arn]] = m
	}
	return out, nil
}

// execute runs the decision's actions in order. A failing action does not
// stop the others; it is recorded as an event once per distinct error.
func (a *actor) execute(ctx context.Context, cloud Cloud, ep rollout.Endpoint, d rollout.Decision) error {
	var errs []error
	var events []rollout.Event
	for _, act := range d.Actions {
		if err := a.mayAct(); err != nil {
			return err
		}
		err := a.do(ctx, cloud, ep, d.State, act)
		key := string(act.Kind) + "/" + act.Environment + "/" + string(act.Track)
		if err == nil {
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

// do runs one action.
func (a *actor) do(ctx context.Context, cloud Cloud, ep rollout.Endpoint, st rollout.State, act rollout.Action) error {
	switch act.Kind {
	case rollout.ActionCreateEnvironment, rollout.ActionScaleEnvironment, rollout.ActionDeleteEnvironment:
		env := st.Environment(act.Environment)
		if env == nil {
			return fmt.Errorf("environment %s is not in the state", act.Environment)
		}
		switch act.Kind {
		case rollout.ActionCreateEnvironment:
			ref, err := cloud.Environments.Create(ctx, a.endpoint, *env)
			if err == nil {
				a.targetGroups[env.ID] = ref.TargetGroupARN
			}
			return err
		case rollout.ActionScaleEnvironment:
			return cloud.Environments.Scale(ctx, a.endpoint, *env, act.Capacity)
		default:
			_, err := cloud.Environments.Delete(ctx, a.endpoint, *env)
			return err
		}
	case rollout.ActionSetWeights:
		route, _ := routeOf(ep, act.Track)
		weights := make(map[string]int, len(act.Weights))
		for id, w := range act.Weights {
			arn, ok := a.targetGroups[id]
			if !ok {
				return fmt.Errorf("environment %s has no target group yet", id)
			}
			weights[arn] = w
		}
		_, err := cloud.Router.SetWeights(ctx, route, weights)
		return err
	case rollout.ActionDeleteRoute:
		route, ok := routeOf(ep, act.Track)
		if !ok {
			return nil
		}
		return cloud.Router.Delete(ctx, route)
	}
	return fmt.Errorf("unknown action %q", act.Kind)
}

// routeOf returns the rule of a track; the preview track has one only when
// the endpoint has a preview route: its host on the same listener, or the
// same conditions on a preview listener.
func routeOf(ep rollout.Endpoint, track rollout.Track) (alb.Route, bool) {
	t := ep.Traffic
	r := alb.Route{Endpoint: ep.Name, Track: track, ListenerARN: t.ListenerARN, Priority: t.Priority, Hosts: t.Hosts, Paths: t.Paths}
	if track != rollout.Preview {
		return r, true
	}
	if !t.HasPreview() {
		return r, false
	}
	r.Priority = t.PreviewPriority
	if t.PreviewListenerARN != "" {
		r.ListenerARN = t.PreviewListenerARN
	}
	if t.PreviewHost != "" {
		r.Hosts = []string{t.PreviewHost}
	}
	return r, true
}

func describe(a rollout.Action) string {
	switch {
	case a.Environment != "":
		return fmt.Sprintf("%s of environment %s", a.Kind, a.Environment)
	case len(a.Weights) > 0:
		return fmt.Sprintf("%s %v on the %s rule", a.Kind, a.Weights, a.Track)
	}
	return fmt.Sprintf("%s on the %s rule", a.Kind, a.Track)
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
