package rollout

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// Simulation runs the planner against a model of what its actions do in AWS,
// with no I/O: environments come up, in service and healthy HealthyAfter
// their creation unless Sick, routes carry what was last written, and alarms
// and metrics are what the caller sets. `shifter simulate` replays a policy
// with it, and the planner's tests drive the planner's rules through it; the
// reconciler's tests run the same actions against moto.
type Simulation struct {
	Now      time.Time
	Endpoint Endpoint
	// Production and Preview are the desired releases.
	Production, Preview *Desired
	State               State
	Envs                map[string]*SimEnv
	Routes              map[Track]map[string]int
	// Unlike says how a route's own settings differ from the spec (a
	// router's Route.Unlike); the next write of the route clears it,
	// unless KeepUnlike says such writes do not take (AWS refuses them).
	Unlike     map[Track]string
	KeepUnlike bool
	// Alarms are alarm states by name; Metrics what a metric check reads
	// of each version's environments, by version.
	Alarms  map[string]string
	Metrics map[string]Metrics
	// Requests are what the load balancer counts per environment ID over
	// any window the planner asks for (Decision.Traffic), unless
	// RequestsFollow counts 10 requests per point of weight on the
	// production route; TrafficReads counts those reads.
	Requests       map[string]float64
	RequestsFollow bool
	TrafficReads   int
	Commands       []Command
	Events         []Event
	// Writes counts weight writes per track, Creates the environment
	// creations that made something new, and History is every route
	// written, in order.
	Writes  map[Track]int
	Creates int
	History map[Track][]map[string]int
	// Sick environments are never healthy, nor those of SickVersions.
	Sick         map[string]bool
	SickVersions map[string]bool
	// HealthyAfter is how long a new environment takes to pass its load
	// balancer's health checks; 0 is at once.
	HealthyAfter time.Duration
	// Poll is the reconciler's poll interval, as the planner is told.
	Poll time.Duration
	// HealthOnAsk reads target health only when the planner asks for it,
	// as the reconciler does; otherwise every observation carries it.
	HealthOnAsk bool
	// HealthReads counts the environments whose health was read.
	HealthReads int
	// Decided, when set, sees every pass: its input and its decision,
	// before the decision's actions are carried out.
	Decided func(in Input, d Decision)
}

// SimEnv is a simulated environment: its capacity, the units in service
// and the healthy targets, and when it passes its health checks.
type SimEnv struct {
	Capacity, InService, Healthy int
	HealthyAt                    time.Time
}

// NewSimulation returns a simulation of ep at now with nothing in it.
func NewSimulation(ep Endpoint, now time.Time) *Simulation {
	return &Simulation{
		Now:          now,
		Endpoint:     ep,
		Envs:         map[string]*SimEnv{},
		Routes:       map[Track]map[string]int{},
		Unlike:       map[Track]string{},
		Alarms:       map[string]string{},
		Metrics:      map[string]Metrics{},
		Requests:     map[string]float64{},
		Writes:       map[Track]int{},
		History:      map[Track][]map[string]int{},
		Sick:         map[string]bool{},
		SickVersions: map[string]bool{},
		Poll:         5 * time.Second,
	}
}

// Release declares version on a track and lets the planner act on it.
func (s *Simulation) Release(track Track, version string) error {
	d := NewDesired(s.Endpoint, Release{Endpoint: s.Endpoint.Name, Track: track, Version: version})
	if track == Preview {
		s.Preview = d
	} else {
		s.Production = d
	}
	_, err := s.Settle()
	return err
}

// Command queues c, numbered after the last, and lets the planner act on
// it.
func (s *Simulation) Command(c Command) error {
	c.Endpoint, c.Seq, c.Time = s.Endpoint.Name, int64(len(s.Commands)+1), s.Now
	s.Commands = append(s.Commands, c)
	_, err := s.Settle()
	return err
}

// Wait moves the clock by d, waking the planner whenever it asked to be
// woken on the way, as the reconciler does.
func (s *Simulation) Wait(d time.Duration) error {
	end := s.Now.Add(d)
	for {
		next, err := s.Settle()
		if err != nil {
			return err
		}
		if next.IsZero() || next.After(end) {
			break
		}
		s.Now = next
	}
	s.Now = end
	_, err := s.Settle()
	return err
}

// maxPasses bounds the passes that settle one moment, as the reconciler's.
const maxPasses = 20

// Settle plans until the planner has nothing more to do now, as the
// reconciler does, and returns when the planner wants to be woken.
func (s *Simulation) Settle() (time.Time, error) {
	for range maxPasses {
		d := s.plan()
		if len(d.Actions) > 0 {
			continue
		}
		if !d.WakeAt.IsZero() && !d.WakeAt.After(s.Now) {
			return time.Time{}, fmt.Errorf("the planner asked to be woken at %v, not after now %v: it would spin", d.WakeAt, s.Now)
		}
		if next := s.nextHealthy(); !next.IsZero() && (d.WakeAt.IsZero() || next.Before(d.WakeAt)) {
			return next, nil // the reconciler's poll would see it then
		}
		return d.WakeAt, nil
	}
	return time.Time{}, fmt.Errorf("the planner did not settle in %d passes: %+v", maxPasses, s.Events[max(0, len(s.Events)-5):])
}

// Input is the planner's input now.
func (s *Simulation) Input() Input {
	var cmds []Command
	for _, c := range s.Commands {
		if c.Seq > s.State.CommandSeq {
			cmds = append(cmds, c)
		}
	}
	return Input{
		Now:        s.Now,
		Endpoint:   s.Endpoint,
		Production: s.Production,
		Preview:    s.Preview,
		State:      s.State,
		Observed:   s.observe(),
		Commands:   cmds,
		Poll:       s.Poll,
	}
}

// plan runs the planner once, as the reconciler does, and carries out its
// actions.
func (s *Simulation) plan() Decision {
	in := s.Input()
	if s.HealthOnAsk {
		for id, o := range in.Observed.Environments {
			o.HealthRead, o.TargetHealth = false, TargetHealth{}
			in.Observed.Environments[id] = o
		}
	}
	d := Plan(in)
	if len(d.Health) > 0 {
		full := s.observe()
		for _, id := range d.Health {
			in.Observed.Environments[id] = full.Environments[id]
			s.HealthReads++
		}
		d = Plan(in)
	}
	for range 2 {
		// The reconciler fetches the metrics and the request counts asked
		// for, and plans again. As CloudWatch does, no data is no requests.
		switch {
		case d.Measure != nil && in.Observed.Metrics == nil:
			in.Observed.Metrics = map[string]Metrics{}
			for _, id := range d.Measure.Environments {
				in.Observed.Metrics[id] = s.metricsOf(id)
			}
		case d.Traffic != nil && in.Observed.Traffic == nil:
			in.Observed.Traffic = map[string]Metrics{}
			for _, id := range d.Traffic.Environments {
				m := s.metricsOf(id)
				m.Requests = s.Requests[id]
				if s.RequestsFollow {
					m.Requests = float64(10 * s.Routes[Production][id])
				}
				in.Observed.Traffic[id] = m
			}
			s.TrafficReads++
		default:
			continue
		}
		d = Plan(in)
	}
	if s.Decided != nil {
		s.Decided(in, d)
	}
	s.State = d.State
	s.Events = append(s.Events, d.Events...)
	for _, a := range d.Actions {
		s.apply(a)
	}
	return d
}

// metricsOf is what a metric check reads of environment id: its
// version's metrics.
func (s *Simulation) metricsOf(id string) Metrics {
	if e := s.State.Environment(id); e != nil {
		return s.Metrics[e.Version]
	}
	return Metrics{}
}

func (s *Simulation) observe() Observed {
	o := Observed{
		Environments: map[string]EnvObservation{},
		Routes:       map[Track]RouteObservation{},
		Alarms:       maps.Clone(s.Alarms),
	}
	for _, e := range s.State.Environments {
		env, ok := s.Envs[e.ID]
		if !ok {
			o.Environments[e.ID] = EnvObservation{Gone: true}
			continue
		}
		healthy := env.Healthy
		if s.Now.Before(env.HealthyAt) {
			healthy = 0
		}
		o.Environments[e.ID] = EnvObservation{Exists: true, Capacity: env.Capacity, InService: env.InService, HealthRead: true,
			TargetHealth: TargetHealth{Healthy: healthy, Targets: env.InService, Unhealthy: env.InService - healthy}}
	}
	for _, track := range Tracks {
		r := s.Routes[track]
		// A route of zeros only is a standby rule: the route's own rule
		// exists once it carries traffic.
		exists := false
		for _, wt := range r {
			exists = exists || wt > 0
		}
		o.Routes[track] = RouteObservation{Exists: exists, Weights: maps.Clone(r), Unlike: s.Unlike[track]}
	}
	return o
}

// nextHealthy is when the next environment still coming up passes its
// health checks, or zero.
func (s *Simulation) nextHealthy() time.Time {
	var next time.Time
	for _, env := range s.Envs {
		if env.HealthyAt.After(s.Now) && (next.IsZero() || env.HealthyAt.Before(next)) {
			next = env.HealthyAt
		}
	}
	return next
}

func (s *Simulation) apply(a Action) {
	switch a.Kind {
	case ActionCreateEnvironment:
		if _, ok := s.Envs[a.Environment]; ok {
			return
		}
		s.Envs[a.Environment] = &SimEnv{HealthyAt: s.Now.Add(s.HealthyAfter)}
		s.Creates++
		if s.SickVersions[s.State.Environment(a.Environment).Version] {
			s.Sick[a.Environment] = true
		}
		s.setCapacity(a.Environment, s.State.Environment(a.Environment).Capacity)
	case ActionScaleEnvironment:
		s.setCapacity(a.Environment, a.Capacity)
	case ActionSetWeights:
		s.Routes[a.Track] = maps.Clone(a.Weights)
		if !s.KeepUnlike {
			delete(s.Unlike, a.Track)
		}
		s.Writes[a.Track]++
		s.History[a.Track] = append(s.History[a.Track], maps.Clone(a.Weights))
	case ActionDeleteEnvironment:
		delete(s.Envs, a.Environment)
	case ActionDeleteRoute:
		delete(s.Routes, a.Track)
	}
}

// SetSick makes environment id unhealthy, or healthy again.
func (s *Simulation) SetSick(id string, sick bool) {
	s.Sick[id] = sick
	if env := s.Envs[id]; env != nil {
		s.setCapacity(id, env.Capacity)
	}
}

func (s *Simulation) setCapacity(id string, n int) {
	env := s.Envs[id]
	env.Capacity, env.InService, env.Healthy = n, n, n
	if s.Sick[id] {
		env.Healthy = 0
	}
}

// Weights returns the live traffic of a track by version: the versions
// with a weight above 0.
func (s *Simulation) Weights(track Track) map[string]int {
	out := map[string]int{}
	for id, wt := range s.Routes[track] {
		if wt == 0 {
			continue
		}
		if e := s.State.Environment(id); e != nil {
			out[e.Version] += wt
		} else {
			out[id] += wt
		}
	}
	return out
}

// Attached returns the versions on a track's live route, at any weight.
func (s *Simulation) Attached(track Track) []string {
	var out []string
	for id := range s.Routes[track] {
		if e := s.State.Environment(id); e != nil {
			out = append(out, e.Version)
		} else {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// EnvironmentOf returns the newest environment of version, or nil.
func (s *Simulation) EnvironmentOf(version string) *Environment {
	for i := len(s.State.Environments) - 1; i >= 0; i-- {
		if s.State.Environments[i].Version == version {
			return &s.State.Environments[i]
		}
	}
	return nil
}

// EventsOf returns the events of type typ, in order.
func (s *Simulation) EventsOf(typ string) []Event {
	var out []Event
	for _, e := range s.Events {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}
