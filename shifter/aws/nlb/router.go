// Package nlb is the router of Network Load Balancer listeners: per
// endpoint, one listener whose default action the shifter owns, a weighted
// forward to the target groups of the endpoint's versions.
//
// An NLB, like an ALB, health-checks a target group only while a listener
// forwards to it (weight 0 counts), so every environment that may get
// traffic stays in the forward at weight 0 while it carries none (DESIGN
// invariant 8). A listener always forwards somewhere and has no rule that
// matches nothing to park target groups on, so while no version carries
// traffic (a first release being gated, an endpoint deleted) the listener
// forwards 100% to the user's idle target group, the versions beside it at 0.
// The forward takes at most 5 target groups: the API keeps max_hot_versions
// within what fits (rollout.MaxNLBHotVersions).
//
// The router only writes; reads of the listener show what was written (the
// reconciler verifies a step that way).
package nlb

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/hashicorp/go-hclog"

	shifteraws "github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/reconcile"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// ELB is the part of ELBv2 the router uses.
type ELB interface {
	DescribeListeners(context.Context, *elb.DescribeListenersInput, ...func(*elb.Options)) (*elb.DescribeListenersOutput, error)
	ModifyListener(context.Context, *elb.ModifyListenerInput, ...func(*elb.Options)) (*elb.ModifyListenerOutput, error)
}

var _ reconcile.Router = (*Router)(nil)

// maxTargetGroups is how many target groups a forward action takes.
const maxTargetGroups = rollout.MaxTargetGroupsPerRule

// Router writes and reads the default actions of NLB listeners. It is safe
// for concurrent use.
type Router struct {
	elb    ELB
	logger hclog.Logger

	mu sync.Mutex
	// listeners are reads of listeners; written is when the router last
	// wrote each, so that it reads it back from a read that began after.
	listeners map[string]*shifteraws.Snapshot[elbtypes.Listener]
	written   map[string]time.Time
}

// New returns a router of the NLB listeners in the account elb reaches.
func New(elb ELB, logger hclog.Logger) *Router {
	return &Router{
		elb:       elb,
		logger:    logger,
		listeners: map[string]*shifteraws.Snapshot[elbtypes.Listener]{},
		written:   map[string]time.Time{},
	}
}

// route is where an endpoint's connections arrive: a listener, and the
// target group it forwards to while no version has traffic.
type route struct {
	endpoint string
	listener string
	idle     string
}

func (r route) String() string { return r.endpoint + " (listener " + r.listener + ")" }

// routeOf returns the route of a track. An NLB endpoint has no preview
// route (rollout refuses one), so every track is production's.
func routeOf(ep rollout.Endpoint) route {
	return route{endpoint: ep.Name, listener: ep.Traffic.NLB.ListenerARN, idle: ep.Traffic.NLB.IdleTargetGroupARN}
}

// SetWeights makes the listener forward by weights (target group ARN →
// share; 0 keeps a target group attached without traffic), in one
// ModifyListener, which is why a rollback is one write. Weights that are all
// 0 forward everything to the idle target group.
func (r *Router) SetWeights(ctx context.Context, ep rollout.Endpoint, track rollout.Track, weights map[string]int) error {
	rt := routeOf(ep)
	if err := validate(rt, weights); err != nil {
		return fmt.Errorf("route %s: %w", rt, err)
	}
	want := maps.Clone(weights)
	if !shifteraws.Carries(want) {
		want[rt.idle] = 100
	}
	cur, err := r.read(ctx, rt, time.Time{})
	if err != nil {
		return err
	}
	if maps.Equal(shifteraws.ForwardWeights(cur.DefaultActions), want) {
		return nil
	}
	_, err = r.elb.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: aws.String(rt.listener), DefaultActions: shifteraws.Forward(want)})
	r.wrote(rt)
	if err != nil {
		return fmt.Errorf("route %s: modify listener: %w", rt, missing(rt, err))
	}
	r.logger.Info("weights set", "endpoint", rt.endpoint, "track", track, "listener", rt.listener, "weights", weights)
	return nil
}

// Weights reads the listener as a read that began at or after since shows
// it: the weights of its forward by target group ARN, the idle target group
// left out, and whether a version carries traffic.
func (r *Router) Weights(ctx context.Context, ep rollout.Endpoint, _ rollout.Track, since time.Time) (reconcile.Route, error) {
	rt := routeOf(ep)
	li, err := r.read(ctx, rt, since)
	if err != nil {
		return reconcile.Route{}, err
	}
	w := shifteraws.ForwardWeights(li.DefaultActions)
	delete(w, rt.idle)
	return reconcile.Route{Exists: shifteraws.Carries(w), Weights: w}, nil
}

// Delete gives the listener back to its idle target group: the listener is
// the user's and stays.
func (r *Router) Delete(ctx context.Context, ep rollout.Endpoint, track rollout.Track) error {
	err := r.SetWeights(ctx, ep, track, map[string]int{})
	if errors.Is(err, reconcile.ErrTrafficMissing) {
		return nil // its route went with the listener
	}
	return err
}

// read returns the listener as a read that began at or after since, and
// after the router's own last write of it.
func (r *Router) read(ctx context.Context, rt route, since time.Time) (elbtypes.Listener, error) {
	r.mu.Lock()
	if w := r.written[rt.listener]; w.After(since) {
		since = w
	}
	snap := r.listeners[rt.listener]
	if snap == nil {
		snap = &shifteraws.Snapshot[elbtypes.Listener]{}
		r.listeners[rt.listener] = snap
	}
	r.mu.Unlock()
	li, err := snap.Get(ctx, since, func(ctx context.Context) (elbtypes.Listener, error) {
		out, err := r.elb.DescribeListeners(ctx, &elb.DescribeListenersInput{ListenerArns: []string{rt.listener}})
		if err != nil {
			return elbtypes.Listener{}, fmt.Errorf("describe listener: %w", err)
		}
		if len(out.Listeners) != 1 {
			return elbtypes.Listener{}, fmt.Errorf("describe listener: %d listeners answered", len(out.Listeners))
		}
		return out.Listeners[0], nil
	})
	if err != nil {
		return elbtypes.Listener{}, fmt.Errorf("route %s: %w", rt, missing(rt, err))
	}
	return li, nil
}

// missing turns AWS's answer that the listener or its load balancer does
// not exist into reconcile.ErrTrafficMissing.
func missing(rt route, err error) error {
	if shifteraws.IsCode(err, "ListenerNotFound", "LoadBalancerNotFound") {
		return fmt.Errorf("listener %s does not exist: %w", rt.listener, reconcile.ErrTrafficMissing)
	}
	return err
}

// wrote records a write to a listener, whether or not it answered success:
// a write whose answer was lost may have happened, so the next read must
// begin after it.
func (r *Router) wrote(rt route) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.written[rt.listener] = time.Now()
}

// validate checks that weights split 100% (or are all 0) over target
// groups one forward holds, the idle one included when it takes the
// traffic; moto would store anything.
func validate(rt route, weights map[string]int) error {
	positive, err := shifteraws.CheckSplit(weights)
	switch {
	case err != nil:
		return err
	case hasKey(weights, rt.idle):
		return fmt.Errorf("%w: %s is the idle target group, no version's", shifteraws.ErrInvalidWeights, rt.idle)
	case positive == 0 && len(weights)+1 > maxTargetGroups:
		return fmt.Errorf("%w: %d target groups and the idle one; a listener forwards to at most %d", shifteraws.ErrInvalidWeights, len(weights), maxTargetGroups)
	case len(weights) > maxTargetGroups:
		return fmt.Errorf("%w: %d target groups; a listener forwards to at most %d", shifteraws.ErrInvalidWeights, len(weights), maxTargetGroups)
	}
	return nil
}

func hasKey(m map[string]int, k string) bool {
	_, ok := m[k]
	return ok
}
