package ecsenv

import (
	"context"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"golang.org/x/sync/errgroup"

	"github.com/ionroller/terraform-provider-ionroller/shifter/reconcile"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// Observe reports the live state of envs of endpoint, by environment ID: their
// services described by name (a call per ten services of a cluster), their
// target groups from a listing of the account shared by every endpoint, as
// fresh as q asks, and the target health of the environments q.Health names.
func (b *Backend) Observe(ctx context.Context, endpoint string, envs []rollout.Environment, q reconcile.Query) (map[string]reconcile.Env, error) {
	refs := make([]Ref, len(envs))
	byCluster := map[string][]string{}
	for i, env := range envs {
		ref, err := b.ref(endpoint, env)
		if err != nil {
			return nil, err
		}
		refs[i] = ref
		byCluster[ref.Cluster] = append(byCluster[ref.Cluster], ref.Service)
	}
	since := q.Listed
	if len(q.Changing) > 0 && q.Since.After(since) {
		since = q.Since
	}
	listed, err := b.listing.Get(ctx, since, b.tgs.List)
	if err != nil {
		return nil, err
	}
	services := map[Ref]ecstypes.Service{}
	for cluster, names := range byCluster {
		found, err := b.services(ctx, cluster, names)
		if err != nil {
			return nil, err
		}
		for _, ref := range refs {
			if s, ok := found[ref.Service]; ok && ref.Cluster == cluster {
				services[ref] = s
			}
		}
	}

	var mu sync.Mutex
	out := make(map[string]reconcile.Env, len(envs))
	g, gctx := errgroup.WithContext(ctx)
	for i, env := range envs {
		ref := refs[i]
		g.Go(func() error {
			o, err := b.observe(gctx, ref, services[ref], listed, slices.Contains(q.Health, env.ID))
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			out[env.ID] = o
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// observe shapes one environment: svc is its service as described (zero if
// ECS does not know it), listed the account's target groups.
func (b *Backend) observe(ctx context.Context, ref Ref, svc ecstypes.Service, listed map[string]elbtypes.TargetGroup, readHealth bool) (reconcile.Env, error) {
	var o reconcile.Env
	status := aws.ToString(svc.Status)
	active := status == statusActive
	if active {
		o.Capacity, o.InService = int(svc.DesiredCount), int(svc.RunningCount)
	}
	tg, listedTG := listed[ref.TargetGroup]
	if !listedTG && status != "" {
		// A service newer than the listing may have a target group the
		// listing does not show: read it before calling it missing.
		found, err := b.tgs.Get(ctx, ref.TargetGroup)
		if err != nil {
			return o, err
		}
		if found != nil {
			tg, listedTG = *found, true
		}
	}
	if listedTG {
		o.Target = aws.ToString(tg.TargetGroupArn)
	}
	// A draining service still stops its tasks: neither there nor gone.
	o.Exists = active && listedTG
	o.Gone = (status == "" || status == "INACTIVE") && !listedTG
	if !readHealth || o.Target == "" {
		return o, nil
	}
	health, err := b.tgs.Health(ctx, ref.TargetGroup, o.Target, nil)
	if err != nil {
		return o, err
	}
	o.HealthRead = health != nil
	if health == nil { // deleted since it was listed
		o.Target, o.Exists = "", false
		return o, nil
	}
	o.TargetHealth = *health
	return o, nil
}
