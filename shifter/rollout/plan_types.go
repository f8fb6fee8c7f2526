package rollout

import "time"

// Input is everything the planner decides from.
type Input struct {
	Now      time.Time
	Endpoint Endpoint
	// Production and Preview are the desired releases; nil when none is
	// declared.
	Production *Desired
	Preview    *Desired
	State      State
	Observed   Observed
	// Commands are operator commands after State.CommandSeq, in order.
	Commands []Command
	// Poll is how soon to look again while waiting on AWS (health,
	// teardown, a weight write to verify).
	Poll time.Duration
	// PinImages says environments run their image by digest: no
	// environment is created before its image's digest is recorded.
	PinImages bool
}

// Desired returns the declared release of a track, nil when none is.
func (in Input) Desired(t Track) *Desired {
	if t == Preview {
		if in.Preview != nil && in.Preview.Release.Retired {
			return nil
		}
		return in.Preview
	}
	return in.Production
}

// Desired is a declared release with its key computed once, outside the
// planner's hot path.
type Desired struct {
	Release Release
	Key     Key
}

// NewDesired returns the desired release r of endpoint ep.
func NewDesired(ep Endpoint, r Release) *Desired {
	return &Desired{Release: r, Key: KeyOf(ep, r)}
}

// Decision is what the planner decided: the next state (to be stored before
// any action runs), the actions, the events, and when to plan again.
type Decision struct {
	State   State
	Actions []Action
	Events  []Event
	// WakeAt is when the planner needs to run again even if nothing
	// changes; zero means not before the next resync.
	WakeAt time.Time
	// Measure asks for the metrics of these environments over a window
	// before the planner can judge a step; plan again with them observed.
	Measure *Window
	// Traffic asks for the metrics of each environment on the production
	// route over a window (ALB's RequestCount above all), to show and hold
	// a step by; plan again with them observed (Observed.Traffic).
	Traffic *Window
	// Health asks for the target health of these environments before
	// traffic can move to them; plan again with it observed. Target health
	// is the one read that cannot be shared between target groups, so it
	// is read only when it gates a decision.
	Health []string
	// Resolve asks for the digests of these images before environments
	// that run them can be created; plan again with them observed
	// (Observed.Digests). An image that cannot be resolved is left out,
	// and its environments wait.
	Resolve []string
	// Gone is true when a deleted endpoint has nothing left in AWS and can
	// be removed from the store.
	Gone bool
}

// Window is a metric query: environments over [Start, End).
type Window struct {
	Environments []string
	Start, End   time.Time
}

// Observed is what the reconciler saw in AWS. A missing entry means "not
// looked at this time", never "gone": the planner acts on absence only when an
// observation says so.
type Observed struct {
	Environments map[string]EnvObservation  `json:"environments,omitempty"`
	Routes       map[Track]RouteObservation `json:"routes,omitempty"`
	// Alarms by name: "OK", "ALARM" or "INSUFFICIENT_DATA".
	Alarms map[string]string `json:"alarms,omitempty"`
	// Metrics of environments over the current step's window, by ID.
	Metrics map[string]Metrics `json:"metrics,omitempty"`
	// Traffic is the metrics of each environment over the window of
	// Decision.Traffic, by ID: the requests it took, its 5xx answers and
	// latency (which the rollout's series keeps for its pictures); nil
	// when not read in this pass.
	Traffic map[string]Metrics `json:"traffic,omitempty"`
	// Digests by image: what the images the planner asked to resolve
	// (Decision.Resolve) name now.
	Digests map[string]string `json:"digests,omitempty"`
}

// EnvObservation is the live state of an environment's resources.
type EnvObservation struct {
	// Exists is true when all of the environment's resources exist;
	// Gone when none of them do.
	Exists    bool `json:"exists"`
	Gone      bool `json:"gone"`
	Capacity  int  `json:"capacity"`
	InService int  `json:"in_service"`
	// HealthRead says the targets' health was read in this pass, which
	// happens only when the planner asked for it (Decision.Health): no
	// traffic moves on an observation without it.
	HealthRead bool `json:"health_read"`
	TargetHealth
}

// TargetHealth counts the targets of an environment's in-service capacity by
// the state the load balancer gives them. Only healthy targets count towards
// taking traffic; the others say why an environment is not healthy.
type TargetHealth struct {
	Targets int `json:"targets"`
	Healthy int `json:"healthy"`
	// Initial targets are in their first health checks (after registration,
	// or after the load balancer started using their target group).
	Initial int `json:"initial,omitempty"`
	// Unused targets belong to a target group no rule of a load balancer
	// forwards to: the load balancer does not health-check them.
	Unused    int `json:"unused,omitempty"`
	Unhealthy int `json:"unhealthy,omitempty"`
	Draining  int `json:"draining,omitempty"`
}

// RouteObservation is a route as read back.
type RouteObservation struct {
	// Exists says the route carries traffic: its rule is there.
	Exists bool `json:"exists"`
	// Weights by environment ID, weight 0 for the environments attached
	// without traffic; a target group that belongs to no environment of
	// the endpoint appears under its ARN.
	Weights map[string]int `json:"weights,omitempty"`
	// Unlike says how the route's own settings (an NLB listener's
	// certificate and security policy) differ from the endpoint's spec;
	// "" when they match. The planner rewrites such a route (rule 13).
	Unlike string `json:"unlike,omitempty"`
}

// Metrics are ALB metrics of one target group over a window.
type Metrics struct {
	Requests       float64       `json:"requests"`
	Errors5xx      float64       `json:"errors_5xx"`
	AverageLatency time.Duration `json:"average_latency"`
}

// Action is a change to make in AWS. Every action is idempotent: the
// reconciler may run it again after a crash.
type Action struct {
	Kind        ActionKind     `json:"kind"`
	Environment string         `json:"environment,omitempty"`
	Capacity    int            `json:"capacity,omitempty"`
	Track       Track          `json:"track,omitempty"`
	Weights     map[string]int `json:"weights,omitempty"`
}

// ActionKind names an action.
type ActionKind string

const (
	// ActionCreateEnvironment creates (or finds) the environment's launch
	// template, target group and Auto Scaling group.
	ActionCreateEnvironment ActionKind = "create_environment"
	// ActionScaleEnvironment sets the environment's desired capacity.
	ActionScaleEnvironment ActionKind = "scale_environment"
	// ActionSetWeights writes the track's rule (creating it if needed)
	// and reads it back.
	ActionSetWeights ActionKind = "set_weights"
	// ActionDeleteEnvironment tears the environment's resources down.
	ActionDeleteEnvironment ActionKind = "delete_environment"
	// ActionDeleteRoute removes the track's rule.
	ActionDeleteRoute ActionKind = "delete_route"
)
