package crashtest_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/hashicorp/go-hclog"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/ec2env"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/nlb"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store/bolt"
)

// sampler reads the endpoints' routes all through a trial and checks every
// reading against invariants 1 and 2, the way a load balancer (or Route 53)
// would see them: the weights of a route sum to 100, only target groups of
// the route's endpoint (and of this shifter) carry weight, and a target
// group gets weight only once it has healthy targets.
type sampler struct {
	elb     *elb.Client
	shifter string
	// read reads the routes of the endpoints by name, as AWS has them; a
	// route that carries no traffic yet is left out.
	read      func(context.Context) (map[string]awstest.Route, error)
	endpoints []string

	mu         sync.Mutex
	violations []string
	splits     map[string][]map[string]int // by endpoint: distinct splits by version, in order
	tgs        map[string]tgTags
	healthy    map[string]bool // target groups seen healthy when they first carried weight
	samples    int
}

type tgTags struct{ endpoint, version, shifter string }

// run samples every interval until ctx ends.
func (s *sampler) run(ctx context.Context, interval time.Duration) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
		if err := s.sample(ctx); err != nil && ctx.Err() == nil {
			s.violate("sample: %v", err)
		}
	}
}

func (s *sampler) sample(ctx context.Context) error {
	routes, err := s.read(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.samples++
	s.mu.Unlock()
	for _, name := range slices.Sorted(maps.Keys(routes)) {
		if err := s.check(ctx, name, routes[name].Weights); err != nil {
			return err
		}
	}
	return nil
}

// check checks one reading of the route of endpoint name: its weights by
// target group.
func (s *sampler) check(ctx context.Context, name string, weights map[string]int) error {
	sum, split := 0, map[string]int{}
	for arn, w := range weights {
		sum += w
		if w == 0 {
			continue
		}
		tags, err := s.tags(ctx, arn)
		if err != nil {
			return err
		}
		if tags.endpoint != name || tags.shifter != s.shifter {
			s.violate("invariant 1: the route of %s sends %d%% to %s, a target group of %q (shifter %q)", name, w, arn, tags.endpoint, tags.shifter)
		}
		if err := s.checkHealthy(ctx, name, arn); err != nil {
			return err
		}
		split[tags.version] += w
	}
	if sum != 100 {
		s.violate("invariant 1: the route of %s has weights summing to %d", name, sum)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if seen := s.splits[name]; len(seen) == 0 || !maps.Equal(seen[len(seen)-1], split) {
		s.splits[name] = append(seen, split)
	}
	return nil
}

// checkHealthy checks, the first time a target group carries weight, that
// it has a healthy target. Environments never fall ill in these trials, so
// a later reading would tell nothing new.
func (s *sampler) checkHealthy(ctx context.Context, name, arn string) error {
	s.mu.Lock()
	_, seen := s.healthy[arn]
	s.mu.Unlock()
	if seen {
		return nil
	}
	out, err := s.elb.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: &arn})
	if err != nil {
		return err
	}
	healthy := 0
	for _, d := range out.TargetHealthDescriptions {
		if d.TargetHealth != nil && d.TargetHealth.State == elbtypes.TargetHealthStateEnumHealthy {
			healthy++
		}
	}
	if healthy == 0 {
		s.violate("invariant 2: the route of %s sends traffic to %s, which has no healthy target", name, arn)
	}
	s.mu.Lock()
	s.healthy[arn] = healthy > 0
	s.mu.Unlock()
	return nil
}

func (s *sampler) tags(ctx context.Context, arn string) (tgTags, error) {
	s.mu.Lock()
	t, ok := s.tgs[arn]
	s.mu.Unlock()
	if ok {
		return t, nil
	}
	out, err := s.elb.DescribeTags(ctx, &elb.DescribeTagsInput{ResourceArns: []string{arn}})
	if err != nil || len(out.TagDescriptions) == 0 {
		return t, fmt.Errorf("tags of %s: %v", arn, err)
	}
	m := map[string]string{}
	for _, tag := range out.TagDescriptions[0].Tags {
		m[awssdk.ToString(tag.Key)] = awssdk.ToString(tag.Value)
	}
	t = tgTags{endpoint: m[aws.TagEndpoint], version: m[aws.TagVersion], shifter: m[aws.TagShifter]}
	s.mu.Lock()
	s.tgs[arn] = t
	s.mu.Unlock()
	return t, nil
}

func (s *sampler) violate(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.violations = append(s.violations, fmt.Sprintf(format, args...))
}

// checkSplits expects each endpoint's route to have gone through want, in
// order, from the first to the last, and through nothing else: no split
// outside the steps, none again after a later one. A split can be shorter
// than a sampling interval on a loaded machine, so one may go unseen: the
// trail's step.applied events are what shows that none was lost.
func (s *sampler) checkSplits(want []map[string]int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, name := range s.endpoints {
		got, last := s.splits[name], -1
		for _, split := range got {
			i := slices.IndexFunc(want, func(w map[string]int) bool { return maps.Equal(w, split) })
			if i <= last {
				out = append(out, fmt.Sprintf("%s: the route went through %v, want %v in order (%v out of place)", name, got, want, split))
				break
			}
			last = i
		}
		if len(got) == 0 || !maps.Equal(got[0], want[0]) || !maps.Equal(got[len(got)-1], want[len(want)-1]) {
			out = append(out, fmt.Sprintf("%s: the route went through %v, want %v from first to last", name, got, want))
		}
	}
	return out
}

// orphans lists the AWS resources tagged as shifter's that the store at
// path does not record: what a crash would have left behind for nobody to
// clean up (invariant 5). The shifter must be stopped: bolt locks its file.
func orphans(ctx context.Context, cfg awssdk.Config, shifter, path string) ([]string, error) {
	s, err := bolt.Open(path)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	eps, err := s.ListEndpoints(ctx)
	if err != nil {
		return nil, err
	}
	known := map[string]map[string]bool{} // endpoint → environment IDs
	for _, ep := range eps {
		st, err := s.GetState(ctx, ep.Name)
		if err != nil {
			return nil, err
		}
		known[ep.Name] = map[string]bool{}
		for _, env := range st.Environments {
			known[ep.Name][env.ID] = true
		}
	}
	cfg = awstest.Exempt(cfg)
	elbc := elb.NewFromConfig(cfg)
	backend := ec2env.New(ec2env.API{EC2: ec2.NewFromConfig(cfg), AutoScaling: autoscaling.NewFromConfig(cfg), TargetGroups: elbc, Tags: elbc}, shifter, hclog.NewNullLogger())
	resources, err := backend.List(ctx)
	if err != nil {
		return nil, err
	}
	services, err := ecsResources(ctx, ecs.NewFromConfig(cfg), shifter)
	if err != nil {
		return nil, err
	}
	resources = append(resources, services...)
	routes, err := routeResources(ctx, elbc, shifter)
	if err != nil {
		return nil, err
	}
	var out []string
	// What an endpoint's route creates (an NLB listener and its idle
	// target group) is no environment's: one of each per endpoint, and
	// only of an endpoint the store has.
	perEndpoint := map[string]int{}
	for _, r := range routes {
		key := fmt.Sprintf("%s of %s", r.Kind, r.Endpoint)
		if perEndpoint[key]++; perEndpoint[key] > 1 {
			out = append(out, "duplicate "+key+" "+r.Name)
		}
		if known[r.Endpoint] == nil {
			out = append(out, fmt.Sprintf("%s %s of %s, an endpoint the store does not have", r.Kind, r.Name, r.Endpoint))
		}
	}
	for _, ep := range eps {
		// The scan sees what it looks for: an NLB endpoint serving a
		// release has its listener.
		if n := perEndpoint["nlb_listener of "+ep.Name]; ep.Traffic.NLB != nil && n != 1 {
			out = append(out, fmt.Sprintf("endpoint %s routes on an NLB port, and the scan found %d listeners of the shifter's for it", ep.Name, n))
		}
	}
	count := map[string]int{}
	for _, r := range resources {
		key := fmt.Sprintf("%s %s/%s", r.Kind, r.Endpoint, r.Environment)
		if count[key]++; count[key] > 1 {
			out = append(out, "duplicate "+key+" "+r.Name)
		}
		if !known[r.Endpoint][r.Environment] {
			out = append(out, fmt.Sprintf("%s %s of %s/%s", r.Kind, r.Name, r.Endpoint, r.Environment))
		}
	}
	return out, nil
}

// routeResources finds what the shifter's routers create besides rules, by
// their tags: the NLB listeners on every load balancer of the account and
// the NLB routes' idle target groups.
func routeResources(ctx context.Context, client *elb.Client, shifter string) ([]ec2env.Resource, error) {
	var arns []string
	names := map[string]string{}
	kinds := map[string]ec2env.Kind{}
	lbs, err := client.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{})
	if err != nil {
		return nil, err
	}
	for _, lb := range lbs.LoadBalancers {
		ls, err := client.DescribeListeners(ctx, &elb.DescribeListenersInput{LoadBalancerArn: lb.LoadBalancerArn})
		if err != nil {
			return nil, err
		}
		for _, li := range ls.Listeners {
			arn := awssdk.ToString(li.ListenerArn)
			arns, names[arn], kinds[arn] = append(arns, arn), fmt.Sprintf("%s:%d", awssdk.ToString(lb.LoadBalancerName), awssdk.ToInt32(li.Port)), "nlb_listener"
		}
	}
	tgs, err := client.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{})
	if err != nil {
		return nil, err
	}
	for _, tg := range tgs.TargetGroups {
		if name := awssdk.ToString(tg.TargetGroupName); strings.HasPrefix(name, nlb.IdlePrefix) {
			arn := awssdk.ToString(tg.TargetGroupArn)
			arns, names[arn], kinds[arn] = append(arns, arn), name, "idle_target_group"
		}
	}
	var out []ec2env.Resource
	for batch := range slices.Chunk(arns, 20) {
		desc, err := client.DescribeTags(ctx, &elb.DescribeTagsInput{ResourceArns: batch})
		if err != nil {
			return nil, err
		}
		for _, d := range desc.TagDescriptions {
			m := map[string]string{}
			for _, t := range d.Tags {
				m[awssdk.ToString(t.Key)] = awssdk.ToString(t.Value)
			}
			if arn := awssdk.ToString(d.ResourceArn); m[aws.TagShifter] == shifter {
				out = append(out, ec2env.Resource{Kind: kinds[arn], Name: names[arn], Endpoint: m[aws.TagEndpoint]})
			}
		}
	}
	return out, nil
}

// trail returns the events of an endpoint through the API.
func trail(ctx context.Context, url, endpoint string) ([]rollout.Event, error) {
	var all []rollout.Event
	for after := int64(0); ; {
		var page struct {
			Events []rollout.Event `json:"events"`
			Next   int64           `json:"next"`
		}
		code, err := api(ctx, "GET", fmt.Sprintf("%s/v1/endpoints/%s/events?after=%d", url, endpoint, after), nil, &page)
		if err != nil || code != 200 {
			return nil, fmt.Errorf("events of %s: %d %v", endpoint, code, err)
		}
		if len(page.Events) == 0 {
			return all, nil
		}
		all = append(all, page.Events...)
		after = page.Events[len(page.Events)-1].Seq
	}
}

// ecsResources finds the shifter's ECS resources in the trials' cluster:
// services not yet inactive and active task definition revisions, by their
// tags.
func ecsResources(ctx context.Context, client *ecs.Client, shifter string) ([]ec2env.Resource, error) {
	var out []ec2env.Resource
	add := func(kind ec2env.Kind, name string, tags []ecstypes.Tag) {
		m := map[string]string{}
		for _, t := range tags {
			m[awssdk.ToString(t.Key)] = awssdk.ToString(t.Value)
		}
		if m[aws.TagShifter] == shifter {
			out = append(out, ec2env.Resource{Kind: kind, Name: name, Endpoint: m[aws.TagEndpoint], Environment: m[aws.TagEnvironment]})
		}
	}
	list, err := client.ListServices(ctx, &ecs.ListServicesInput{Cluster: awssdk.String(awstest.Cluster)})
	if err != nil {
		return nil, err
	}
	for batch := range slices.Chunk(list.ServiceArns, 10) {
		desc, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: awssdk.String(awstest.Cluster), Services: batch})
		if err != nil {
			return nil, err
		}
		for _, s := range desc.Services {
			if awssdk.ToString(s.Status) == "INACTIVE" {
				continue
			}
			tags, err := client.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: s.ServiceArn})
			if err != nil {
				return nil, err
			}
			add("ecs_service", awssdk.ToString(s.ServiceName), tags.Tags)
		}
	}
	defs, err := client.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{Status: ecstypes.TaskDefinitionStatusActive})
	if err != nil {
		return nil, err
	}
	for _, arn := range defs.TaskDefinitionArns {
		td, err := client.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: &arn, Include: []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags}})
		if err != nil {
			return nil, err
		}
		add("ecs_task_definition", arn, td.Tags)
	}
	return out, nil
}
