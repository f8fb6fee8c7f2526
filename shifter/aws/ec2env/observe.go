package ec2env

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"golang.org/x/sync/errgroup"

	shifteraws "github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/targetgroup"
	"github.com/ionroller/terraform-provider-ionroller/shifter/reconcile"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// Batch sizes the APIs accept per call.
const (
	maxGroupNames   = 50  // DescribeAutoScalingGroups
	maxFilterValues = 200 // EC2 filters
)

var _ reconcile.Backend = (*Backend)(nil)

// Observe reports the live state of envs of endpoint, by environment ID, from
// reads shared with the other endpoints of the account as fresh as q asks
// (see read), and reads the target health of the environments q.Health names.
func (b *Backend) Observe(ctx context.Context, endpoint string, envs []rollout.Environment, q reconcile.Query) (map[string]reconcile.Env, error) {
	refs := make([]Ref, len(envs))
	var changing []Ref
	for i, env := range envs {
		refs[i] = b.Names(endpoint, env.ID)
		if slices.Contains(q.Changing, env.ID) {
			changing = append(changing, refs[i])
		}
	}
	inv, err := b.read(ctx, refs, changing, q)
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	out := make(map[string]reconcile.Env, len(envs))
	g, gctx := errgroup.WithContext(ctx)
	for i, env := range envs {
		ref := refs[i]
		o, inService := shape(ref, inv)
		mu.Lock()
		out[env.ID] = o
		mu.Unlock()
		if o.Target == "" || !slices.Contains(q.Health, env.ID) {
			continue
		}
		g.Go(func() error {
			health, err := b.health(gctx, ref, o.Target, inService)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			o.HealthRead, o.TargetHealth = health != nil, deref(health)
			if health == nil { // deleted since it was listed
				o.Target, o.Exists = "", false
			}
			out[env.ID] = o
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// health counts the targets of an environment's in-service instances by the
// state the load balancer gives them; nil if the target group is gone. Only
// in-service instances count, so a terminated instance still registered, as
// moto keeps them, or a target registered by hand never makes an environment
// look healthy.
func (b *Backend) health(ctx context.Context, ref Ref, arn string, inService map[string]bool) (*rollout.TargetHealth, error) {
	return b.tgs.Health(ctx, ref.TargetGroup, arn, func(id string) bool { return inService[id] })
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// shape is what the listing says of an environment: which of its resources
// exist, its capacity and instances in service, by ID.
func shape(ref Ref, inv inventory) (reconcile.Env, map[string]bool) {
	var o reconcile.Env
	g, hasGroup := inv.groups[ref.AutoScalingGroup]
	tg, hasTG := inv.tgs[ref.TargetGroup]
	_, hasLT := inv.lts[ref.LaunchTemplate]
	o.Exists = hasGroup && hasTG && hasLT
	o.Gone = !hasGroup && !hasTG && !hasLT
	inService := map[string]bool{}
	if hasGroup {
		o.Capacity = int(aws.ToInt32(g.DesiredCapacity))
		for _, inst := range g.Instances {
			if inst.LifecycleState == asgtypes.LifecycleStateInService {
				inService[aws.ToString(inst.InstanceId)] = true
			}
		}
		o.InService = len(inService)
	}
	if hasTG {
		o.Target = aws.ToString(tg.TargetGroupArn)
	}
	return o, inService
}

// hasAny reports whether the group or the launch template of ref exists.
func hasAny(ref Ref, groups map[string]asgtypes.AutoScalingGroup, lts map[string]ec2types.LaunchTemplate) bool {
	_, hasGroup := groups[ref.AutoScalingGroup]
	_, hasLT := lts[ref.LaunchTemplate]
	return hasGroup || hasLT
}

// groups returns the groups called names that exist, by name.
func (b *Backend) groups(ctx context.Context, names []string) (map[string]asgtypes.AutoScalingGroup, error) {
	found := make(map[string]asgtypes.AutoScalingGroup, len(names))
	for batch := range slices.Chunk(names, maxGroupNames) {
		p := autoscaling.NewDescribeAutoScalingGroupsPaginator(b.api.AutoScaling, &autoscaling.DescribeAutoScalingGroupsInput{
			AutoScalingGroupNames: batch,
		})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("describe auto scaling groups %s: %w", strings.Join(batch, ", "), err)
			}
			for _, g := range page.AutoScalingGroups {
				found[aws.ToString(g.AutoScalingGroupName)] = g
			}
		}
	}
	return found, nil
}

// launchTemplates returns the launch templates called names that exist, by
// name. A name filter, unlike LaunchTemplateNames, does not fail on a
// missing name.
func (b *Backend) launchTemplates(ctx context.Context, names []string) (map[string]ec2types.LaunchTemplate, error) {
	found := make(map[string]ec2types.LaunchTemplate, len(names))
	for batch := range slices.Chunk(names, maxFilterValues) {
		err := b.eachLaunchTemplate(ctx, []ec2types.Filter{{Name: aws.String("launch-template-name"), Values: batch}},
			func(lt ec2types.LaunchTemplate) { found[aws.ToString(lt.LaunchTemplateName)] = lt })
		if err != nil {
			return nil, fmt.Errorf("describe launch templates %s: %w", strings.Join(batch, ", "), err)
		}
	}
	return found, nil
}

func (b *Backend) eachLaunchTemplate(ctx context.Context, filters []ec2types.Filter, fn func(ec2types.LaunchTemplate)) error {
	p := ec2.NewDescribeLaunchTemplatesPaginator(b.api.EC2, &ec2.DescribeLaunchTemplatesInput{Filters: filters, MaxResults: aws.Int32(maxFilterValues)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, lt := range page.LaunchTemplates {
			fn(lt)
		}
	}
	return nil
}

// Kind is the kind of an AWS resource of an environment.
type Kind string

const (
	KindLaunchTemplate   Kind = "launch_template"
	KindAutoScalingGroup Kind = "auto_scaling_group"
	KindTargetGroup      Kind = "target_group"
)

// Resource is an AWS resource of an environment, found by its tags.
type Resource struct {
	Kind Kind
	Name string
	// ID is the launch template ID or the group's or target group's ARN.
	ID          string
	Endpoint    string
	Environment string
	Version     string
}

// List returns every resource tagged as this shifter's, for an orphan scan:
// what no stored environment claims was left by a crash or by hand.
func (b *Backend) List(ctx context.Context) ([]Resource, error) {
	var out []Resource

	err := b.eachLaunchTemplate(ctx, []ec2types.Filter{{Name: aws.String("tag:" + shifteraws.TagShifter), Values: []string{b.shifterID}}},
		func(lt ec2types.LaunchTemplate) {
			tags := tagMap(lt.Tags, func(t ec2types.Tag) (*string, *string) { return t.Key, t.Value })
			out = append(out, resource(KindLaunchTemplate, aws.ToString(lt.LaunchTemplateName), aws.ToString(lt.LaunchTemplateId), tags))
		})
	if err != nil {
		return nil, fmt.Errorf("list launch templates of shifter %s: %w", b.shifterID, err)
	}

	p := autoscaling.NewDescribeAutoScalingGroupsPaginator(b.api.AutoScaling, &autoscaling.DescribeAutoScalingGroupsInput{
		Filters: []asgtypes.Filter{{Name: aws.String("tag:" + shifteraws.TagShifter), Values: []string{b.shifterID}}},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list auto scaling groups of shifter %s: %w", b.shifterID, err)
		}
		for _, g := range page.AutoScalingGroups {
			tags := tagMap(g.Tags, func(t asgtypes.TagDescription) (*string, *string) { return t.Key, t.Value })
			out = append(out, resource(KindAutoScalingGroup, aws.ToString(g.AutoScalingGroupName), aws.ToString(g.AutoScalingGroupARN), tags))
		}
	}

	tgs, err := b.listTargetGroups(ctx)
	if err != nil {
		return nil, err
	}
	return append(out, tgs...), nil
}

// listTargetGroups finds this shifter's target groups: those named like an
// environment's whose tags say so. Tags take a call per 20 target groups.
func (b *Backend) listTargetGroups(ctx context.Context) ([]Resource, error) {
	byName, err := b.tgs.List(ctx)
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(byName)) // ARN → name
	for name, tg := range byName {
		names[aws.ToString(tg.TargetGroupArn)] = name
	}

	var out []Resource
	for batch := range slices.Chunk(slices.Sorted(maps.Keys(names)), targetgroup.MaxNames) {
		desc, err := b.api.Tags.DescribeTags(ctx, &elb.DescribeTagsInput{ResourceArns: batch})
		if err != nil {
			return nil, fmt.Errorf("describe tags of target groups: %w", err)
		}
		for _, d := range desc.TagDescriptions {
			tags := tagMap(d.Tags, func(t elbtypes.Tag) (*string, *string) { return t.Key, t.Value })
			if tags[shifteraws.TagShifter] != b.shifterID {
				continue
			}
			arn := aws.ToString(d.ResourceArn)
			out = append(out, resource(KindTargetGroup, names[arn], arn, tags))
		}
	}
	return out, nil
}

func resource(kind Kind, name, id string, tags map[string]string) Resource {
	return Resource{
		Kind:        kind,
		Name:        name,
		ID:          id,
		Endpoint:    tags[shifteraws.TagEndpoint],
		Environment: tags[shifteraws.TagEnvironment],
		Version:     tags[shifteraws.TagVersion],
	}
}

// tagMap turns any SDK's tag list into a map.
func tagMap[T any](tags []T, kv func(T) (key, value *string)) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		k, v := kv(t)
		m[aws.ToString(k)] = aws.ToString(v)
	}
	return m
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }
