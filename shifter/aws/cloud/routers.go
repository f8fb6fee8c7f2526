package cloud

import (
	"context"
	"fmt"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/reconcile"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

var _ reconcile.Router = routers(nil)

// routers is the router of a placement: each endpoint's route goes through
// the router of its kind of traffic, so the reconciler sees one Router
// whatever an endpoint routes on.
type routers map[rollout.TrafficKind]reconcile.Router

func (rs routers) of(ep rollout.Endpoint) (reconcile.Router, error) {
	r, ok := rs[ep.Traffic.Kind()]
	if !ok {
		return nil, fmt.Errorf("endpoint %s: no router of %s traffic", ep.Name, ep.Traffic.Kind())
	}
	return r, nil
}

func (rs routers) SetWeights(ctx context.Context, ep rollout.Endpoint, track rollout.Track, weights map[string]int) error {
	r, err := rs.of(ep)
	if err != nil {
		return err
	}
	return r.SetWeights(ctx, ep, track, weights)
}

func (rs routers) Weights(ctx context.Context, ep rollout.Endpoint, track rollout.Track, since time.Time) (reconcile.Route, error) {
	r, err := rs.of(ep)
	if err != nil {
		return reconcile.Route{}, err
	}
	return r.Weights(ctx, ep, track, since)
}

func (rs routers) Delete(ctx context.Context, ep rollout.Endpoint, track rollout.Track) error {
	r, err := rs.of(ep)
	if err != nil {
		return err
	}
	return r.Delete(ctx, ep, track)
}
