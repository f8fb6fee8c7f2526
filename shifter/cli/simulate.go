package cli

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// simulateCommand is `shifter simulate ENDPOINT`: a dry run of the
// endpoint's policy, or of another, against a scripted scenario or the
// endpoint's recorded trail. It runs the planner against a model of AWS
// (rollout.Scenario) and prints the decisions it would take and when;
// nothing is written to the shifter or to AWS.
type simulateCommand struct {
	command
	conn       connection
	endpoint   string
	scenario   string
	trail      bool
	policy     string
	outputJSON bool
}

func (c *simulateCommand) parseFlags(args []string) error {
	fs := c.flags("shifter simulate [flags] ENDPOINT",
		"Dry-runs the endpoint's policy against a scenario and prints the decisions the\n"+
			"shifter would take, and when: against -scenario FILE (releases, commands,\n"+
			"alarms, metrics and unhealthy versions over time, as JSON), or against the\n"+
			"endpoint's recorded trail (-trail), to see what -policy FILE would have done.\n"+
			"Nothing is written to the shifter or to AWS.")
	c.conn.register(fs.FlagSet)
	fs.StringVar(&c.scenario, "scenario", "", "the scenario to play, a JSON `file` (see the dry runs guide)")
	fs.BoolVar(&c.trail, "trail", false, "play the endpoint's recorded trail instead")
	fs.StringVar(&c.policy, "policy", "", "a JSON `file` of policy fields that replace the endpoint's for the run")
	output := fs.String("output", "text", "text, or json: the scenario played, the decisions and the status at the end")
	args, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case (c.scenario == "") == !c.trail:
		return usagef("give one of -scenario FILE and -trail")
	case *output != "text" && *output != "json":
		return usagef("-output must be text or json; got %q", *output)
	}
	c.outputJSON = *output == "json"
	c.endpoint, err = endpointArg(args)
	return err
}

func (c *simulateCommand) run(ctx context.Context) error {
	cl, err := c.conn.connect(c.getenv)
	if err != nil {
		return err
	}
	view, err := cl.GetEndpoint(ctx, c.endpoint)
	if err != nil {
		return err
	}
	ep := view.Endpoint
	if c.policy != "" {
		if ep.Policy, err = readPolicy(c.policy, ep.Policy); err != nil {
			return err
		}
		if err := ep.Validate(); err != nil {
			return fmt.Errorf("%s: %w", c.policy, err)
		}
	}
	var s rollout.Scenario
	start := c.now()
	if c.trail {
		var trail []rollout.Event
		if _, err := readTrail(ctx, cl, c.endpoint, 0, 0, func(ev rollout.Event) error {
			trail = append(trail, ev)
			return nil
		}); err != nil {
			return err
		}
		if len(trail) == 0 {
			return fmt.Errorf("endpoint %q has no trail to play", c.endpoint)
		}
		s, start = rollout.ScenarioOf(trail), trail[0].Time
	} else if s, err = readScenario(c.scenario); err != nil {
		return err
	}
	if err := s.Validate(); err != nil {
		return fmt.Errorf("scenario: %w", err)
	}

	out := &simulation{Scenario: s}
	replay := rollout.Replay{
		Happened: func(at time.Duration, h rollout.Happening) {
			out.lines = append(out.lines, fmt.Sprintf("%9s  » %s", "+"+human(at), happening(h)))
		},
		Decided: func(at time.Duration, in rollout.Input, d rollout.Decision) {
			for _, ev := range d.Events {
				out.Events = append(out.Events, simulatedEvent{At: rollout.Duration(at), Event: ev})
				out.lines = append(out.lines, fmt.Sprintf("%9s  %-21s %-8s %s", "+"+human(at), ev.Type, orDash(ev.Version), eventMessage(ev)))
			}
			for _, a := range d.Actions {
				if a.Kind == rollout.ActionSetWeights && a.Track == rollout.Production {
					traffic := split(shares(rollout.DescribeEndpoint(in.Now, in.Endpoint, d.State)))
					out.lines = append(out.lines, fmt.Sprintf("%9s  %-21s %-8s %s", "+"+human(at), "traffic", "-", traffic))
				}
			}
		},
	}
	sim, err := s.Run(ep, start, replay)
	if err != nil {
		return fmt.Errorf("the simulation stopped: %w", err)
	}
	out.Status = rollout.DescribeEndpoint(sim.Now, ep, sim.State)
	if c.outputJSON {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	return out.print(c, ep, sim)
}

// simulation is what a run found: the JSON output, and the text's lines.
type simulation struct {
	Scenario rollout.Scenario       `json:"scenario"`
	Events   []simulatedEvent       `json:"events"`
	Status   rollout.EndpointStatus `json:"status"`
	lines    []string
}

// simulatedEvent is an event the planner would record, at its time from
// the scenario's start.
type simulatedEvent struct {
	At rollout.Duration `json:"at"`
	rollout.Event
}

func (s *simulation) print(c *simulateCommand, ep rollout.Endpoint, sim *rollout.Simulation) error {
	var b strings.Builder
	live := "no version live"
	if s.Scenario.Live != "" {
		live = s.Scenario.Live + " live"
	}
	source := "the scenario in " + c.scenario
	if c.trail {
		source = "its trail"
	}
	policy := "its policy"
	if c.policy != "" {
		policy = "the policy of " + c.policy
	}
	fmt.Fprintf(&b, "%s: %s under %s (%d happenings, %s at the start)\n\n", ep.Name, source, policy, len(s.Scenario.Happenings), live)
	for _, line := range s.lines {
		b.WriteString(line + "\n")
	}
	outcome := "no version live"
	if s.Status.StableVersion != "" {
		outcome = s.Status.StableVersion + " live with " + split(shares(s.Status))
	}
	if r := s.Status.Rollout; inFlight(r) {
		outcome += fmt.Sprintf("; rollout of %s still %s", r.Version, r.Phase)
	}
	fmt.Fprintf(&b, "\nAt the end: %s. Traffic writes: %d; environments created: %d.\n", outcome, sim.Writes[rollout.Production], sim.Creates)
	_, err := fmt.Fprint(c.stdout, b.String())
	return err
}

// happening is a scenario's happening in words.
func happening(h rollout.Happening) string {
	switch {
	case h.Release != "":
		return "release " + h.Release + " declared"
	case h.Command != nil:
		c := *h.Command
		what := cmp.Or(c.Actor, "someone") + ": " + string(c.Kind)
		if c.To != "" {
			what += " to " + c.To
		}
		if c.For > 0 {
			what += " for " + c.For.String()
		}
		if c.Reason != "" {
			what += fmt.Sprintf(" (%q)", c.Reason)
		}
		return what
	case h.Alarm != nil:
		return "alarm " + h.Alarm.Name + " " + h.Alarm.State
	case h.Metrics != nil:
		m := h.Metrics
		return fmt.Sprintf("metrics of %s: %g requests, %g 5xx, %s average", m.Version, m.Requests, m.Errors5xx, m.Latency)
	case h.Unhealthy != "":
		return h.Unhealthy + " fails its health checks"
	}
	return h.Healthy + " passes its health checks"
}

// readPolicy returns policy with the fields of the JSON file path in place
// of its own.
func readPolicy(path string, policy rollout.Policy) (rollout.Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return policy, err
	}
	// A list decodes into the elements already there: steps sent replace
	// the endpoint's whole.
	steps := policy.Steps
	policy.Steps = nil
	if err := decodeStrict(b, &policy); err != nil {
		return policy, fmt.Errorf("%s: %w", path, err)
	}
	if policy.Steps == nil {
		policy.Steps = steps
	}
	return policy, nil
}

func readScenario(path string) (rollout.Scenario, error) {
	var s rollout.Scenario
	b, err := os.ReadFile(path)
	if err != nil {
		return s, err
	}
	if err := decodeStrict(b, &s); err != nil {
		return s, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// decodeStrict decodes one JSON value into v, refusing fields v does not
// have: a misspelt field must not be dropped silently.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON value")
	}
	return nil
}
