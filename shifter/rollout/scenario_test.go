package rollout

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestAScenarioPlaysAPolicy: an alarm in ALARM 90s into a rollout rolls it
// back at once; without auto_rollback the same scenario completes.
func TestAScenarioPlaysAPolicy(t *testing.T) {
	ep := testEndpoint()
	ep.Policy.Alarms = []string{"web-5xx"}
	s := Scenario{Live: "v1", HealthyAfter: new(Duration(20 * time.Second)), Happenings: []Happening{
		{At: 0, Release: "v2"},
		{At: Duration(90 * time.Second), Alarm: &AlarmState{Name: "web-5xx", State: AlarmStateAlarm}},
	}}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	var passes int
	var happened []time.Duration
	sim, err := s.Run(ep, t0, Replay{
		Happened: func(at time.Duration, _ Happening) { happened = append(happened, at) },
		Decided:  func(time.Duration, Input, Decision) { passes++ },
	})
	if err != nil {
		t.Fatal(err)
	}
	start := sim.EventsOf(EventRolloutStarted)[0].Time
	rolledBack := sim.EventsOf(EventRolloutRolledBack)
	if len(rolledBack) != 1 || rolledBack[0].Time.Sub(start) != 90*time.Second || rolledBack[0].Details["alarm"] != "web-5xx" {
		t.Fatalf("rolled back = %+v, want once, 90s in, by web-5xx", rolledBack)
	}
	healthy := sim.EventsOf(EventEnvironmentHealthy)
	if len(healthy) != 1 || healthy[0].Time.Sub(start) != 20*time.Second {
		t.Errorf("healthy = %+v, want 20s in (healthy_after)", healthy)
	}
	if w := sim.Weights(Production); !maps.Equal(w, map[string]int{"v1": 100}) || passes == 0 {
		t.Errorf("weights = %v after %d passes, want v1=100", w, passes)
	}
	if !slices.Equal(happened, []time.Duration{0, 90 * time.Second}) {
		t.Errorf("happened at %v, want 0s and 1m30s", happened)
	}

	ep.Policy.AutoRollback = false
	sim, err = s.Run(ep, t0, Replay{})
	if err != nil {
		t.Fatal(err)
	}
	if r := sim.State.Production.Rollout; r.Phase != PhaseComplete || r.Key.Version != "v2" {
		t.Errorf("without auto_rollback: rollout %s %s, want v2 complete", r.Key.Version, r.Phase)
	}
}

// TestATrailBecomesItsScenario: the trail of a rollout that a metric check
// rolled back gives the scenario that played out; replayed against a
// looser threshold, the rollout completes.
func TestATrailBecomesItsScenario(t *testing.T) {
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	trail := []Event{
		{Time: at(0), Type: EventReleaseDeclared, Track: Production, Version: "v2"},
		{Time: at(1), Type: EventRolloutStarted, Track: Production, Version: "v2", Details: map[string]string{"from": "v1"}},
		{Time: at(1), Type: EventEnvironmentCreating, Version: "v2", Details: map[string]string{"environment": "e2"}},
		{Time: at(46), Type: EventEnvironmentHealthy, Version: "v2", Details: map[string]string{"environment": "e2"}},
		{Time: at(60), Type: EventCommand, Actor: "alice", Details: map[string]string{"command": "pause", "for": "10s", "reason": "lunch"}},
		{Time: at(61), Type: EventCommand, Actor: ActorShifter, Details: map[string]string{"command": "resume", "ignored": "no rollout is paused"}},
		{Time: at(120), Type: EventRolloutRolledBack, Version: "v2", Details: map[string]string{"cause": CauseMetric,
			"requests": "1000", "errors_5xx": "70", "latency_ms": "40", "stable_requests": "9000", "stable_errors_5xx": "9", "stable_latency_ms": "35.5"}},
		{Time: at(300), Type: EventReleaseDeclared, Track: Production, Version: "v3"},
	}
	s := ScenarioOf(trail)
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(s)
	want := `{"live":"v1","healthy_after":"0s","happenings":[` +
		`{"at":"0s","unhealthy":"v2"},` +
		`{"at":"0s","release":"v2"},` +
		`{"at":"46s","healthy":"v2"},` +
		`{"at":"1m0s","command":{"endpoint":"","seq":0,"kind":"pause","for":"10s","reason":"lunch","actor":"alice","time":"0001-01-01T00:00:00Z"}},` +
		`{"at":"2m0s","metrics":{"version":"v1","requests":9000,"errors_5xx":9,"latency":"35.5ms"}},` +
		`{"at":"2m0s","metrics":{"version":"v2","requests":1000,"errors_5xx":70,"latency":"40ms"}},` +
		`{"at":"5m0s","release":"v3"}]}`
	if string(got) != want {
		t.Fatalf("scenario =\n%s\nwant\n%s", got, want)
	}

	ep := testEndpoint()
	ep.Policy.MetricChecks = &MetricChecks{Max5xxPercent: 5, MinRequests: 10}
	sim, err := s.Run(ep, t0, Replay{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(sim.EventsOf(EventRolloutRolledBack)); n != 1 {
		t.Errorf("as recorded: %d rollbacks, want v2's", n)
	}
	ep.Policy.MetricChecks.Max5xxPercent = 10
	sim, err = s.Run(ep, t0, Replay{})
	if err != nil {
		t.Fatal(err)
	}
	var completed []string
	for _, e := range sim.EventsOf(EventRolloutComplete) {
		completed = append(completed, e.Version)
	}
	if strings.Join(completed, ",") != "v2,v3" {
		t.Errorf("with 10%% allowed: completed %v, want v2 then v3", completed)
	}
}

func TestAnInvalidScenarioNamesItsField(t *testing.T) {
	for _, tc := range []struct {
		s     Scenario
		field string
	}{
		{Scenario{Live: "not a version"}, "live"},
		{Scenario{Happenings: []Happening{{At: 0}}}, "happenings[0]"},
		{Scenario{Happenings: []Happening{{Release: "v2", Healthy: "v1"}}}, "happenings[0]"},
		{Scenario{Happenings: []Happening{{At: Duration(time.Minute), Release: "v2"}, {At: 0, Release: "v3"}}}, "happenings[1].at"},
		{Scenario{Happenings: []Happening{{Alarm: &AlarmState{Name: "x", State: "RED"}}}}, "happenings[0].alarm.state"},
		{Scenario{Happenings: []Happening{{Command: &Command{Kind: "deploy"}}}}, "happenings[0].command.kind"},
		{Scenario{Happenings: []Happening{{Metrics: &VersionMetrics{Version: "v2", Requests: 10, Errors5xx: 11}}}}, "happenings[0].metrics.errors_5xx"},
		{Scenario{RunFor: Duration(8 * 24 * time.Hour)}, "run_for"},
	} {
		if err := tc.s.Validate(); ErrorField(err) != tc.field {
			t.Errorf("%+v: %v names %q, want %q", tc.s, err, ErrorField(err), tc.field)
		}
	}
}
