package ecsenv

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"golang.org/x/sync/errgroup"

	shifteraws "github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/targetgroup"
	"github.com/ionroller/terraform-provider-ionroller/shifter/reconcile"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// Observe reports the live state of envs of endpoint, by environment ID: the
// services of those q names as changing read by name (a call per ten
// services), the others from a listing of the shifter's services in their
// cluster shared by every endpoint there; their target groups from a listing
// of the account shared by every endpoint; each as fresh as q asks; and the
// target health of the environments q.Health names.
func (b *Backend) Observe(ctx context.Context, endpoint string, envs []rollout.Environment, q reconcile.Query) (map[string]reconcile.Env, error) {
	refs := make([]Ref, len(envs))
	changing := map[string][]string{} // by cluster
	settled := map[string]bool{}      // clusters
	for i, env := range envs {
		ref, err := b.ref(endpoint, env)
		if err != nil {
			return nil, err
		}
		refs[i] = ref
		if slices.Contains(q.Changing, env.ID) {
			changing[ref.Cluster] = append(changing[ref.Cluster], ref.Service)
		} else {
			settled[ref.Cluster] = true
		}
	}
	since := q.Listed
	if len(q.Changing) > 0 && q.Since.After(since) {
		since = q.Since
	}
	listed, err := b.listing.Get(ctx, since, b.tgs.List)
	if err != nil {
		return nil, err
	}
	services := map[string]map[string]ecstypes.Service{} // by cluster, then name
	for cluster := range settled {
		if services[cluster], err = b.clusterListing(cluster).Get(ctx, q.Listed, func(ctx context.Context) (map[string]ecstypes.Service, error) {
			return b.listServices(ctx, cluster)
		}); err != nil {
			return nil, err
		}
	}
	// A settled environment the listing does not show may be newer than
	// the listing (another replica built it, or a shifter before this
	// one): it is read by name before anyone takes it for deleted.
	for i, env := range envs {
		ref := refs[i]
		if _, listed := services[ref.Cluster][ref.Service]; settled[ref.Cluster] && !listed && !slices.Contains(q.Changing, env.ID) {
			changing[ref.Cluster] = append(changing[ref.Cluster], ref.Service)
		}
	}
	for cluster, names := range changing {
		found, err := b.services(ctx, cluster, names)
		if err != nil {
			return nil, err
		}
		if services[cluster] == nil {
			services[cluster] = found
			continue
		}
		merged := maps.Clone(services[cluster]) // the listing is shared: never written
		for _, name := range names {
			if s, ok := found[name]; ok {
				merged[name] = s
			} else {
				delete(merged, name)
			}
		}
		services[cluster] = merged
	}

	var mu sync.Mutex
	out := make(map[string]reconcile.Env, len(envs))
	g, gctx := errgroup.WithContext(ctx)
	for i, env := range envs {
		ref := refs[i]
		g.Go(func() error {
			o, err := b.observe(gctx, ref, services[ref.Cluster][ref.Service], listed, slices.Contains(q.Health, env.ID))
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

// clusterListing returns the shared listing of the shifter's services in
// cluster.
func (b *Backend) clusterListing(cluster string) *shifteraws.Snapshot[map[string]ecstypes.Service] {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.clusters == nil {
		b.clusters = map[string]*shifteraws.Snapshot[map[string]ecstypes.Service]{}
	}
	s := b.clusters[cluster]
	if s == nil {
		s = &shifteraws.Snapshot[map[string]ecstypes.Service]{}
		b.clusters[cluster] = s
	}
	return s
}

// listServices lists the shifter's services in cluster (named
// "ionroller-<shifter>-"), 100 a page, and describes them ten a call. ECS
// lists active and draining services: an inactive one is as good as gone.
func (b *Backend) listServices(ctx context.Context, cluster string) (map[string]ecstypes.Service, error) {
	prefix := "ionroller-" + b.shifterID + "-"
	var names []string
	p := ecs.NewListServicesPaginator(b.api.ECS, &ecs.ListServicesInput{Cluster: aws.String(cluster), MaxResults: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if targetgroup.IsCode(err, "ClusterNotFoundException") {
			return map[string]ecstypes.Service{}, nil
		}
		if err != nil {
			return nil, fmt.Errorf("list services of %s: %w", cluster, err)
		}
		for _, arn := range page.ServiceArns {
			if name := arn[strings.LastIndexByte(arn, '/')+1:]; strings.HasPrefix(name, prefix) {
				names = append(names, name)
			}
		}
	}
	return b.services(ctx, cluster, names)
}
