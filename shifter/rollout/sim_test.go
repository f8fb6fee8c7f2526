package rollout

import (
	"testing"
	"time"
)

// world is a Simulation that fails its test when the planner misbehaves
// (it spins or never settles), with the test's helpers around it.
type world struct {
	*Simulation
	t testing.TB
	// check runs after every pass (the property test's invariants).
	check func(w *world, in Input, d Decision)
}

var t0 = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

func newWorld(t testing.TB, ep Endpoint) *world {
	w := &world{Simulation: NewSimulation(ep, t0), t: t}
	w.Decided = func(in Input, d Decision) {
		if w.check != nil {
			w.check(w, in, d)
		}
	}
	return w
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

func (w *world) must(err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

// release declares version on a track.
func (w *world) release(track Track, version string) { w.must(w.Release(track, version)) }

// retry raises the production release's retry counter.
func (w *world) retry() {
	r := w.Production.Release
	r.Retry++
	w.Production = NewDesired(w.Endpoint, r)
	w.settle()
}

func (w *world) command(kind CommandKind, mod ...func(*Command)) {
	c := Command{Kind: kind, Actor: "alice"}
	for _, m := range mod {
		m(&c)
	}
	w.must(w.Command(c))
}

// wait moves the clock by d, as the reconciler would.
func (w *world) wait(d time.Duration) { w.must(w.Wait(d)) }

// settle plans until the planner has nothing more to do right now and
// returns when it wants to be woken.
func (w *world) settle() time.Time {
	next, err := w.Settle()
	w.must(err)
	return next
}

func (w *world) last() []Event { return w.Events[max(0, len(w.Events)-5):] }

func (w *world) rollout() *Rollout { return w.State.Production.Rollout }

// env returns the newest environment of version, or nil.
func (w *world) env(version string) *Environment { return w.EnvironmentOf(version) }

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
