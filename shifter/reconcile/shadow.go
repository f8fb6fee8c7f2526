package reconcile

import (
	"context"
	"maps"
	"sync"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// A shadow stands in for AWS for an endpoint in observe-only mode
// (rollout.Endpoint.ObserveOnly), so that a team can run ionroller next to
// the deploy it has and compare: the planner decides and the trail records
// what the shifter would do, while nothing is written to AWS. Its
// environments and routes live in the actor's memory, in service and
// healthy as soon as they are created; it starts from what the endpoint's
// state says, so a restart or another replica carries on where the last
// left off. The endpoint's alarms are read from its account as any other's;
// its load balancer counts requests that follow the weights exactly, with no
// errors, so steps that wait for their traffic or judge metrics go on.
type shadow struct {
	mu     sync.Mutex
	envs   map[string]int                   // capacity by environment ID
	routes map[rollout.Track]map[string]int // weights by target
}

// newShadow returns the shadow of an endpoint whose state is st.
func newShadow(st rollout.State) *shadow {
	s := &shadow{envs: map[string]int{}, routes: map[rollout.Track]map[string]int{}}
	for _, e := range st.Environments {
		if e.Status == rollout.EnvReady {
			s.envs[e.ID] = e.Capacity
		}
	}
	for _, track := range rollout.Tracks {
		if w := st.Track(track).Route.Weights; len(w) > 0 {
			s.routes[track] = map[string]int{}
			for id, weight := range w {
				s.routes[track][shadowTarget(id)] = weight
			}
		}
	}
	return s
}

// in returns c with the shadow in place of what writes to AWS.
func (s *shadow) in(c Cloud) Cloud {
	c.Backend, c.Router, c.Metrics = shadowBackend{s}, shadowRouter{s}, shadowMetrics{s}
	return c
}

// shadowTarget is what the shadow's routes send environment id's traffic
// to.
func shadowTarget(id string) string { return "shadow:" + id }

type shadowBackend struct{ *shadow }

func (b shadowBackend) Create(_ context.Context, _ string, env rollout.Environment) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.envs[env.ID]; !ok {
		b.envs[env.ID] = env.Capacity
	}
	return nil
}

func (b shadowBackend) Observe(_ context.Context, _ string, envs []rollout.Environment, q Query) (map[string]Env, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[string]Env, len(envs))
	for _, e := range envs {
		capacity, ok := b.envs[e.ID]
		if !ok {
			out[e.ID] = Env{EnvObservation: rollout.EnvObservation{Gone: true}}
			continue
		}
		o := rollout.EnvObservation{Exists: true, Capacity: capacity, InService: capacity}
		for _, id := range q.Health {
			if id == e.ID {
				o.HealthRead, o.TargetHealth = true, rollout.TargetHealth{Targets: capacity, Healthy: capacity}
			}
		}
		out[e.ID] = Env{EnvObservation: o, Target: shadowTarget(e.ID)}
	}
	return out, nil
}

func (b shadowBackend) Scale(_ context.Context, _ string, env rollout.Environment, capacity int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.envs[env.ID] = capacity
	return nil
}

func (b shadowBackend) Delete(_ context.Context, _ string, env rollout.Environment) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.envs, env.ID)
	return true, nil
}

type shadowRouter struct{ *shadow }

func (r shadowRouter) SetWeights(_ context.Context, _ rollout.Endpoint, track rollout.Track, weights map[string]int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.routes[track] = maps.Clone(weights)
	return nil
}

func (r shadowRouter) Weights(_ context.Context, _ rollout.Endpoint, track rollout.Track, _ time.Time) (Route, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	route := Route{Weights: maps.Clone(r.routes[track])}
	for _, w := range route.Weights {
		route.Exists = route.Exists || w > 0
	}
	return route, nil
}

func (r shadowRouter) Delete(_ context.Context, _ rollout.Endpoint, track rollout.Track) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.routes, track)
	return nil
}

// shadowMetrics counts 10 requests a point of production weight and no
// errors: imagined traffic follows the weights it was given.
type shadowMetrics struct{ *shadow }

func (m shadowMetrics) Measure(_ context.Context, _ string, targets []string, _, _ time.Time) (map[string]rollout.Metrics, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]rollout.Metrics, len(targets))
	for _, t := range targets {
		out[t] = rollout.Metrics{Requests: float64(10 * m.routes[rollout.Production][t])}
	}
	return out, nil
}
