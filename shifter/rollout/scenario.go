package rollout

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Scenario is what happens around an endpoint over time, for a dry run of
// its policy (`shifter simulate`): releases, people's commands, alarms,
// metrics and environments that never become healthy, each at a time from
// the start. It is written by hand, or taken from a recorded trail
// (ScenarioOf) to see what another policy would have done.
type Scenario struct {
	// Live is the version live when the scenario starts; "" for none.
	Live string `json:"live,omitempty"`
	// HealthyAfter is how long a new environment takes to pass its load
	// balancer's health checks (default 30s; a trail's scenario says when
	// each version's did, with happenings, and 0s).
	HealthyAfter *Duration `json:"healthy_after,omitempty"`
	// RunFor is how long the simulation goes on after the last happening
	// (default: until the planner has nothing left to wait for, at most
	// MaxSimulated).
	RunFor Duration `json:"run_for,omitempty"`
	// Happenings in the order they happen.
	Happenings []Happening `json:"happenings"`
}

// Happening is one thing that happens at At, from the scenario's start.
// Exactly one of its kinds is set.
type Happening struct {
	At Duration `json:"at"`
	// Release declares a version on production.
	Release string `json:"release,omitempty"`
	// Command is a person's command, as the API takes it.
	Command *Command `json:"command,omitempty"`
	// Alarm sets an alarm's state.
	Alarm *AlarmState `json:"alarm,omitempty"`
	// Metrics sets what metric checks read of a version from now on.
	Metrics *VersionMetrics `json:"metrics,omitempty"`
	// Unhealthy makes a version's environments fail their health checks
	// from now on (a version released later included); Healthy lets them
	// pass again.
	Unhealthy string `json:"unhealthy,omitempty"`
	Healthy   string `json:"healthy,omitempty"`
}

// AlarmState is an alarm's state: OK, ALARM or INSUFFICIENT_DATA.
type AlarmState struct {
	Name  string `json:"name"`
	State string `json:"state"`
}

// VersionMetrics is what metric checks read of a version.
type VersionMetrics struct {
	Version   string   `json:"version"`
	Requests  float64  `json:"requests"`
	Errors5xx float64  `json:"errors_5xx"`
	Latency   Duration `json:"latency"`
}

// MaxSimulated bounds a simulation's time: a rollout waiting for a promote
// waits that long at most.
const MaxSimulated = 7 * 24 * time.Hour

// Validate reports the first invalid field of the scenario, or nil.
func (s *Scenario) Validate() error {
	if s.Live != "" && !VersionPattern.MatchString(s.Live) {
		return Invalid("live", "%q is not a version", s.Live)
	}
	if s.HealthyAfter != nil {
		if err := validateDuration("healthy_after", *s.HealthyAfter, 0, MaxWait); err != nil {
			return err
		}
	}
	if err := validateDuration("run_for", s.RunFor, 0, MaxSimulated); err != nil {
		return err
	}
	for i, h := range s.Happenings {
		field := fmt.Sprintf("happenings[%d]", i)
		if err := h.validate(field); err != nil {
			return err
		}
		if i > 0 && h.At < s.Happenings[i-1].At {
			return Invalid(field+".at", "%s is before the happening above it (%s): list them in order", h.At, s.Happenings[i-1].At)
		}
	}
	return nil
}

func (h Happening) validate(field string) error {
	kinds := 0
	for _, set := range []bool{h.Release != "", h.Command != nil, h.Alarm != nil, h.Metrics != nil, h.Unhealthy != "", h.Healthy != ""} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		return Invalid(field, "must set exactly one of release, command, alarm, metrics, unhealthy, healthy; %d are set", kinds)
	}
	if err := validateDuration(field+".at", h.At, 0, MaxSimulated); err != nil {
		return err
	}
	version := func(name, v string) error {
		if !VersionPattern.MatchString(v) {
			return Invalid(field+"."+name, "%q is not a version", v)
		}
		return nil
	}
	switch {
	case h.Release != "":
		return version("release", h.Release)
	case h.Unhealthy != "":
		return version("unhealthy", h.Unhealthy)
	case h.Healthy != "":
		return version("healthy", h.Healthy)
	case h.Command != nil:
		var e *Error
		if err := h.Command.Validate(); errors.As(err, &e) {
			return Invalid(field+".command."+e.Field, "%s", e.Message)
		}
	case h.Alarm != nil:
		if h.Alarm.Name == "" {
			return Invalid(field+".alarm.name", "must name the alarm")
		}
		if !slices.Contains([]string{"OK", AlarmStateAlarm, "INSUFFICIENT_DATA"}, h.Alarm.State) {
			return Invalid(field+".alarm.state", "must be OK, ALARM or INSUFFICIENT_DATA; got %q", h.Alarm.State)
		}
	case h.Metrics != nil:
		m := h.Metrics
		switch {
		case !VersionPattern.MatchString(m.Version):
			return Invalid(field+".metrics.version", "%q is not a version", m.Version)
		case m.Requests < 0:
			return Invalid(field+".metrics.requests", "must not be negative")
		case m.Errors5xx < 0 || m.Errors5xx > m.Requests:
			return Invalid(field+".metrics.errors_5xx", "must be between 0 and requests (%g)", m.Requests)
		}
	}
	return nil
}

// Replay is what Scenario.Run reports as it goes, each at its time from
// the scenario's start; either may be nil.
type Replay struct {
	// Happened sees each happening as it happens.
	Happened func(at time.Duration, h Happening)
	// Decided sees every planner pass, before its actions are carried
	// out.
	Decided func(at time.Duration, in Input, d Decision)
}

// Run plays the scenario against ep's policy, starting at start, and
// returns the simulation once the last happening is over and the planner
// has nothing left to wait for (or RunFor has passed). The scenario must be
// valid.
func (s *Scenario) Run(ep Endpoint, start time.Time, replay Replay) (*Simulation, error) {
	sim := NewSimulation(ep, start)
	sim.RequestsFollow = true // what it counts of a step's traffic follows the weights
	sim.HealthyAfter = 30 * time.Second
	if s.HealthyAfter != nil {
		sim.HealthyAfter = s.HealthyAfter.D()
	}
	if s.Live != "" {
		// The live version was rolled out before the scenario: no trail.
		if err := sim.Release(Production, s.Live); err != nil {
			return sim, err
		}
		if err := sim.Wait(MaxSimulated); err != nil {
			return sim, err
		}
		if r := sim.State.Production.Rollout; r == nil || r.Phase != PhaseComplete {
			return sim, fmt.Errorf("live version %s did not go live under this policy", s.Live)
		}
		sim.Events, sim.Writes, sim.History, sim.Creates = nil, map[Track]int{}, map[Track][]map[string]int{}, 0
		start = sim.Now
	}
	if replay.Decided != nil {
		sim.Decided = func(in Input, d Decision) { replay.Decided(in.Now.Sub(start), in, d) }
	}
	for _, h := range s.Happenings {
		if err := sim.Wait(start.Add(h.At.D()).Sub(sim.Now)); err != nil {
			return sim, err
		}
		if replay.Happened != nil {
			replay.Happened(h.At.D(), h)
		}
		if err := sim.happen(h); err != nil {
			return sim, err
		}
	}
	if s.RunFor > 0 {
		return sim, sim.Wait(s.RunFor.D())
	}
	// Until the planner has nothing left to wait for, but a hot version's
	// window: its end changes no traffic.
	for deadline := sim.Now.Add(MaxSimulated); ; {
		next, err := sim.Settle()
		if err != nil || next.IsZero() || next.After(deadline) || !sim.inFlight() {
			return sim, err
		}
		sim.Now = next
	}
}

// inFlight reports whether a production rollout or an override is under
// way.
func (s *Simulation) inFlight() bool {
	return s.State.Production.Rollout.Active() || s.State.Production.Override != nil
}

// happen makes h happen now and lets the planner act on it.
func (s *Simulation) happen(h Happening) error {
	switch {
	case h.Release != "":
		return s.Release(Production, h.Release)
	case h.Command != nil:
		return s.Command(*h.Command)
	case h.Alarm != nil:
		s.Alarms[h.Alarm.Name] = h.Alarm.State
	case h.Metrics != nil:
		s.Metrics[h.Metrics.Version] = Metrics{Requests: h.Metrics.Requests, Errors5xx: h.Metrics.Errors5xx, AverageLatency: h.Metrics.Latency.D()}
	case h.Unhealthy != "" || h.Healthy != "":
		s.setVersionSick(h.Unhealthy+h.Healthy, h.Unhealthy != "")
	}
	_, err := s.Settle()
	return err
}

// setVersionSick makes the environments of version, and those it gets
// later, unhealthy (or healthy again).
func (s *Simulation) setVersionSick(version string, sick bool) {
	s.SickVersions[version] = sick
	for _, e := range s.State.Environments {
		if e.Version == version {
			s.SetSick(e.ID, sick)
		}
	}
}

// ScenarioOf turns an endpoint's recorded trail into the scenario that
// played out: the releases declared on production, the commands people
// gave (with what they asked), the alarms that rolled back or were reported
// (in ALARM until the next release), the metrics each judgement saw, and
// when each version's environment passed its health checks (unhealthy from
// its release until then, or for good). Run against another policy, it shows what that
// policy would have done.
func ScenarioOf(trail []Event) Scenario {
	s := Scenario{HealthyAfter: new(Duration)}
	if len(trail) == 0 {
		return s
	}
	start := trail[0].Time
	at := func(e Event) Duration { return Duration(max(0, e.Time.Sub(start))) }
	var alarming []string
	var from string // the stable version of the rollout in flight
	started := false
	for _, e := range trail {
		h := Happening{At: at(e)}
		switch {
		case e.Type == EventRolloutStarted:
			from = e.Details["from"]
			if !started {
				s.Live, started = from, true // what was live before the trail
			}
			continue
		case e.Type == EventReleaseDeclared && e.Track != Preview:
			for _, name := range alarming {
				s.Happenings = append(s.Happenings, Happening{At: h.At, Alarm: &AlarmState{Name: name, State: "OK"}})
			}
			alarming = nil
			h.Release = e.Version
		case e.Type == EventCommand && e.Details["command"] != "" && e.Details["ignored"] == "" && e.Actor != ActorShifter:
			c := &Command{Kind: CommandKind(e.Details["command"]), To: e.Details["to"], Reason: e.Details["reason"], Actor: e.Actor}
			if d, err := ParseDuration(e.Details["for"]); err == nil {
				c.For = d
			}
			h.Command = c
		case e.Details["alarm"] != "" && (e.Type == EventAlarmReported || e.Type == EventRolloutRolledBack):
			alarming = append(alarming, e.Details["alarm"])
			h.Alarm = &AlarmState{Name: e.Details["alarm"], State: AlarmStateAlarm}
		case e.Details["requests"] != "" && (e.Type == EventMetricsJudged || e.Type == EventRolloutRolledBack):
			if e.Details["stable_requests"] != "" && from != "" {
				s.Happenings = append(s.Happenings, Happening{At: h.At, Metrics: measured(from, e.Details, "stable_")})
			}
			h.Metrics = measured(e.Version, e.Details, "")
		case e.Type == EventEnvironmentCreating:
			s.unhealthyFromItsRelease(e.Version, h.At)
			continue
		case e.Type == EventEnvironmentHealthy:
			h.Healthy = e.Version
		default:
			continue
		}
		s.Happenings = append(s.Happenings, h)
	}
	return s
}

// unhealthyFromItsRelease makes version's environments fail their health
// checks from the last release of version on (or from at, for a version
// declared before the trail): the happening goes just before the release,
// so that the environment it brings is not healthy at once.
func (s *Scenario) unhealthyFromItsRelease(version string, at Duration) {
	i := len(s.Happenings)
	for j, h := range s.Happenings {
		if h.Release == version {
			i, at = j, h.At
		}
	}
	s.Happenings = slices.Insert(s.Happenings, i, Happening{At: at, Unhealthy: version})
}

// measured is the metrics a judgement's details recorded (metricDetails),
// those of the new version or, with prefix "stable_", of the stable one.
func measured(version string, details map[string]string, prefix string) *VersionMetrics {
	number := func(key string) float64 {
		f, _ := strconv.ParseFloat(details[prefix+key], 64)
		return f
	}
	return &VersionMetrics{Version: version, Requests: number("requests"), Errors5xx: number("errors_5xx"),
		Latency: Duration(number("latency_ms") * float64(time.Millisecond))}
}
