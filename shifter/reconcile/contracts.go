package reconcile

import (
	"context"
	"errors"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// The reconciler's contracts with AWS. It declares them in its own terms
// (rollout's types and the few below); each backend and router is a package
// that implements them, so a new one plugs in without a change here or in
// the planner.

// Cloud is the AWS of one placement (account and region), as the reconciler
// uses it. Alarms and Metrics may be nil, and then nothing is watched.
// Images may be nil only on a shifter configured to run images as tagged.
type Cloud struct {
	Backend Backend
	Router  Router
	Alarms  Alarms
	Metrics Metrics
	Images  Images
}

// Backend runs environments: the ec2 backend (a launch template, an Auto
// Scaling group and a target group each). Every method is idempotent: the
// reconciler repeats them after a crash.
type Backend interface {
	// Create makes whatever of the environment's resources is missing.
	Create(ctx context.Context, endpoint string, env rollout.Environment) error
	// Observe reports the environments by ID as q asks.
	Observe(ctx context.Context, endpoint string, envs []rollout.Environment, q Query) (map[string]Env, error)
	// Scale sets the environment's capacity.
	Scale(ctx context.Context, endpoint string, env rollout.Environment, capacity int) error
	// Delete removes the environment's resources, a step at a time; gone
	// reports that nothing of it is left.
	Delete(ctx context.Context, endpoint string, env rollout.Environment) (gone bool, err error)
}

// Query is what an observation reads: the resources of the environments
// named in Changing (coming up, going, or just written) as a read by name
// that began at or after Since shows them, shared by the account's changing
// environments; those of the others as a listing of the whole account that
// began at or after Listed shows them, shared by all its endpoints; and the
// target health of the environments named in Health, read now. Target health
// is the one read that cannot be shared, so it is read only when it gates
// traffic (rollout.Decision.Health).
type Query struct {
	Changing []string
	Since    time.Time
	Listed   time.Time
	Health   []string
}

// Env is an environment as observed.
type Env struct {
	rollout.EnvObservation
	// Target is what a router sends the environment's traffic to (the ARN
	// of its target group); empty until it exists.
	Target string
}

// Router moves traffic between the targets of an endpoint's environments on
// a track's route. Weights are by target: shares of traffic that sum to 100,
// and 0 for targets attached to the route without traffic, which the load
// balancer must go on health-checking. A router only writes: the reconciler
// verifies a write by reading the route in a later pass (Weights with a
// since after the write), which is how the planner records a step.
//
// A route may have settings of its own that the endpoint's spec fixes (an
// NLB listener's certificate and security policy). SetWeights writes them
// with the weights, in the same call; Weights reports in Route.Unlike how
// the route differs from the spec, and the planner then rewrites the route
// as it repairs drift, with its weights unchanged. A changed spec (a
// certificate rotated) is applied that way too: no other method, no second
// kind of write.
type Router interface {
	SetWeights(ctx context.Context, ep rollout.Endpoint, track rollout.Track, weights map[string]int) error
	// Weights reads the track's route as a read that began at or after
	// since shows it.
	Weights(ctx context.Context, ep rollout.Endpoint, track rollout.Track, since time.Time) (Route, error)
	// Delete removes the track's route.
	Delete(ctx context.Context, ep rollout.Endpoint, track rollout.Track) error
}

// ErrTrafficMissing is what a router's Weights returns when what the route
// lives on and the user owns (a listener, its load balancer) does not exist.
// The reconciler then touches no traffic: the endpoint is blocked until it is
// back or the endpoint names another; a deleted endpoint's route is gone.
var ErrTrafficMissing = errors.New("the traffic the endpoint routes on does not exist")

// Route is a track's route as read.
type Route struct {
	// Exists says the route's rule is there: it carries traffic.
	Exists bool
	// Weights by target, 0 for the targets attached without traffic.
	Weights map[string]int
	// Unlike says, for people, how the route's own settings differ from
	// the endpoint's spec ("certificate A, want B"); "" when they match.
	Unlike string
}

// Images pins images: Digest returns the digest (sha256:…) an image reference
// names now, from ECR's API in the placement's account for an ECR image and
// from the registry's HTTP API otherwise. Its error says why not, for people
// (no such tag, the registry unreachable, credentials refused).
type Images interface {
	Digest(ctx context.Context, image string) (string, error)
}

// Alarms reads CloudWatch alarm states by name.
type Alarms interface {
	States(ctx context.Context, names []string) (map[string]string, error)
}

// Metrics reads the load balancer metrics of targets behind a listener over
// a window, in one read for all the targets: what judges a step, and where
// its traffic goes.
type Metrics interface {
	Measure(ctx context.Context, listenerARN string, targets []string, start, end time.Time) (map[string]rollout.Metrics, error)
}
