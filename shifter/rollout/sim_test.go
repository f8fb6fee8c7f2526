package rollout

import (
	"maps"
	"slices"
	"testing"
	"time"
)

// world simulates what the planner's actions do in AWS, so the planner's
// rules can be tested as a state machine without I/O. The reconciler's tests
// run the same actions against moto.
type world struct {
	t       testing.TB
	now     time.Time
	ep      Endpoint
	prod    *Desired
	preview *Desired
	st      State
	envs    map[string]*simEnv
	routes  map[Track]map[string]int
	alarms  map[string]string
	metrics map[string]Metrics
	// requests are what the load balancer counts per environment over
	// any window the planner asks for (Decision.Traffic); trafficReads
	// counts those reads.
	requests     map[string]float64
	trafficReads int
	// requestsFollow makes the load balancer count 10 requests per
	// point of weight on the production route, instead of requests.
	requestsFollow bool
	commands       []Command
	events         []Event
	// writes counts weight writes per track; creates counts environment
	// creations that made something new.
	writes  map[Track]int
	creates int
	// history is every route written, in order.
	history map[Track][]map[string]int
	// sick environments never become healthy.
	sick map[string]bool
	// check runs after every pass (the property test's invariants).
	check func(w *world, in Input, d Decision)
	poll  time.Duration
	// healthOnAsk reads target health only when the planner asks for it,
	// as the reconciler does; otherwise every observation carries it.
	healthOnAsk bool
	// healthReads counts the environments whose health was read.
	healthReads int
}

type simEnv struct {
	capacity, inService, healthy int
}

var t0 = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

func newWorld(t testing.TB, ep Endpoint) *world {
	return &world{
		t:       t,
		now:     t0,
		ep:      ep,
		envs:    map[string]*simEnv{},
		routes:  map[Track]map[string]int{},
		alarms:  map[string]string{},
		metrics: map[string]Metrics{},
		writes:  map[Track]int{},
		sick:    map[string]bool{},
		poll:    5 * time.Second,
	}
}

// testEndpoint is an endpoint with short, distinct durations.
func testEndpoint() Endpoint {
	ep := NewEndpoint()
	ep.Name = "web"
	ep.Traffic = Traffic{
		ListenerARN:     "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/demo/0123456789abcdef/0123456789abcdef",
		Priority:        10,
		Hosts:           []string{"web.example.com"},
		PreviewHost:     "preview.web.example.com",
		PreviewPriority: 11,
	}
	ep.Template.Repository = "registry.example.com/web"
	ep.Template.ContainerPort = 8080
	ep.Template.AMI = "ami-03cf127a"
	ep.Template.Subnets = []string{"subnet-0123456789abcdef0"}
	ep.Template.DesiredCapacity = 2
	ep.Policy.Steps = []Step{
		{Weight: 10, Pause: DurationPtr(time.Minute)},
		{Weight: 50, Pause: DurationPtr(time.Minute)},
		{Weight: 100},
	}
	ep.Policy.HealthyTimeout = Duration(5 * time.Minute)
	ep.Policy.BakeTime = Duration(2 * time.Minute)
	ep.Policy.RetainPrevious = Duration(time.Hour)
	return ep
}

// release declares version on a track.
func (w *world) release(track Track, version string) {
	d := NewDesired(w.ep, Release{Endpoint: w.ep.Name, Track: track, Version: version})
	if track == Preview {
		w.preview = d
	} else {
		w.prod = d
	}
	w.settle()
}

// retry raises the production release's retry counter.
func (w *world) retry() {
	r := w.prod.Release
	r.Retry++
	w.prod = NewDesired(w.ep, r)
	w.settle()
}

func (w *world) command(kind CommandKind, mod ...func(*Command)) {
	c := Command{Endpoint: w.ep.Name, Seq: int64(len(w.commands) + 1), Kind: kind, Actor: "alice", Time: w.now}
	for _, m := range mod {
		m(&c)
	}
	w.commands = append(w.commands, c)
	w.settle()
}

// wait moves the clock by d, waking the planner whenever it asked to be
// woken on the way, as the reconciler does.
func (w *world) wait(d time.Duration) {
	end := w.now.Add(d)
	for {
		next := w.settle()
		if next.IsZero() || next.After(end) {
			break
		}
		w.now = next
	}
	w.now = end
	w.settle()
}

// settle plans until the planner has nothing more to do right now, as the
// reconciler does, and returns when the planner wants to be woken.
func (w *world) settle() time.Time {
	for range 20 {
		d := w.plan()
		if len(d.Actions) > 0 {
			continue
		}
		if !d.WakeAt.IsZero() && !d.WakeAt.After(w.now) {
			w.t.Fatalf("planner asked to be woken at %v, not after now %v: it would spin", d.WakeAt, w.now)
		}
		return d.WakeAt
	}
	w.t.Fatalf("planner did not settle: %+v", w.last())
	return time.Time{}
}

func (w *world) last() []Event {
	if len(w.events) > 5 {
		return w.events[len(w.events)-5:]
	}
	return w.events
}

func (w *world) input() Input {
	var cmds []Command
	for _, c := range w.commands {
		if c.Seq > w.st.CommandSeq {
			cmds = append(cmds, c)
		}
	}
	return Input{
		Now:        w.now,
		Endpoint:   w.ep,
		Production: w.prod,
		Preview:    w.preview,
		State:      w.st,
		Observed:   w.observe(),
		Commands:   cmds,
		Poll:       w.poll,
	}
}

// plan runs the planner once and carries out its actions.
func (w *world) plan() Decision {
	in := w.input()
	if w.healthOnAsk {
		for id, o := range in.Observed.Environments {
			o.HealthRead, o.TargetHealth = false, TargetHealth{}
			in.Observed.Environments[id] = o
		}
	}
	d := Plan(in)
	if len(d.Health) > 0 {
		// The reconciler reads the health asked for and plans again.
		full := w.observe()
		for _, id := range d.Health {
			in.Observed.Environments[id] = full.Environments[id]
			w.healthReads++
		}
		d = Plan(in)
	}
	for range 2 {
		// The reconciler fetches the metrics and the request counts
		// asked for, and plans again.
		switch {
		case d.Measure != nil && in.Observed.Metrics == nil:
			in.Observed.Metrics = maps.Clone(w.metrics)
		case d.Traffic != nil && in.Observed.Traffic == nil:
			in.Observed.Traffic = map[string]Metrics{}
			for _, id := range d.Traffic.Environments {
				m := w.metrics[id]
				m.Requests = w.requests[id]
				if w.requestsFollow {
					m.Requests = float64(10 * w.routes[Production][id])
				}
				in.Observed.Traffic[id] = m
			}
			w.trafficReads++
		default:
			continue
		}
		d = Plan(in)
	}
	if w.check != nil {
		w.check(w, in, d)
	}
	w.st = d.State
	w.events = append(w.events, d.Events...)
	for _, a := range d.Actions {
		w.apply(a)
	}
	return d
}

func (w *world) observe() Observed {
	o := Observed{
		Environments: map[string]EnvObservation{},
		Routes:       map[Track]RouteObservation{},
		Alarms:       maps.Clone(w.alarms),
	}
	for _, e := range w.st.Environments {
		s, ok := w.envs[e.ID]
		if !ok {
			o.Environments[e.ID] = EnvObservation{Gone: true}
			continue
		}
		o.Environments[e.ID] = EnvObservation{Exists: true, Capacity: s.capacity, InService: s.inService, HealthRead: true,
			TargetHealth: TargetHealth{Healthy: s.healthy, Targets: s.inService, Unhealthy: s.inService - s.healthy}}
	}
	for _, track := range Tracks {
		r := w.routes[track]
		// A route of zeros only is a standby rule: the route's own rule
		// exists once it carries traffic.
		exists := false
		for _, wt := range r {
			exists = exists || wt > 0
		}
		o.Routes[track] = RouteObservation{Exists: exists, Weights: maps.Clone(r)}
	}
	return o
}

func (w *world) apply(a Action) {
	switch a.Kind {
	case ActionCreateEnvironment:
		if _, ok := w.envs[a.Environment]; ok {
			return
		}
		e := w.st.Environment(a.Environment)
		w.envs[a.Environment] = &simEnv{}
		w.creates++
		w.setCapacity(a.Environment, e.Capacity)
	case ActionScaleEnvironment:
		w.setCapacity(a.Environment, a.Capacity)
	case ActionSetWeights:
		w.routes[a.Track] = maps.Clone(a.Weights)
		w.writes[a.Track]++
		if w.history == nil {
			w.history = map[Track][]map[string]int{}
		}
		w.history[a.Track] = append(w.history[a.Track], maps.Clone(a.Weights))
	case ActionDeleteEnvironment:
		delete(w.envs, a.Environment)
	case ActionDeleteRoute:
		delete(w.routes, a.Track)
	}
}

func (w *world) setCapacity(id string, n int) {
	s := w.envs[id]
	s.capacity, s.inService, s.healthy = n, n, n
	if w.sick[id] {
		s.healthy = 0
	}
}

// weights returns the live traffic of a track by version: the versions
// with a weight above 0.
func (w *world) weights(track Track) map[string]int {
	out := map[string]int{}
	for id, wt := range w.routes[track] {
		if wt == 0 {
			continue
		}
		if e := w.st.Environment(id); e != nil {
			out[e.Version] += wt
		} else {
			out[id] += wt
		}
	}
	return out
}

// attached returns the versions on a track's live route, at any weight.
func (w *world) attached(track Track) []string {
	var out []string
	for id := range w.routes[track] {
		if e := w.st.Environment(id); e != nil {
			out = append(out, e.Version)
		} else {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func (w *world) rollout() *Rollout { return w.st.Production.Rollout }

// env returns the environment of version, or nil.
func (w *world) env(version string) *Environment {
	for i := range w.st.Environments {
		if w.st.Environments[i].Version == version {
			return &w.st.Environments[i]
		}
	}
	return nil
}

func (w *world) eventsOf(typ string) []Event {
	var out []Event
	for _, e := range w.events {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// live completes a first release of version and returns the world.
func live(t testing.TB, ep Endpoint, version string) *world {
	w := newWorld(t, ep)
	w.release(Production, version)
	w.wait(ep.Policy.BakeTime.D())
	if p := w.rollout().Phase; p != PhaseComplete {
		t.Fatalf("first release of %s: phase %s, want complete", version, p)
	}
	return w
}
