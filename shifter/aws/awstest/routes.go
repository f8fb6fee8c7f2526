package awstest

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	shifteraws "github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/nlb"
	shifterroute53 "github.com/ionroller/terraform-provider-ionroller/shifter/aws/route53"
)

// Routes as AWS has them, read behind the shifter's back (through Exempt),
// the way the load balancer or Route 53 would act on them: what tests check
// the shifter's routers against.

// Route is a route as read: the target groups it forwards to by ARN, 0 for
// those attached without traffic, and whether it carries traffic.
type Route struct {
	Carries bool
	Weights map[string]int
}

// NLBListener reads the listener on a port of a Network Load Balancer, nil
// if there is none.
func NLBListener(ctx context.Context, cfg aws.Config, lb string, port int) (*elbtypes.Listener, error) {
	out, err := elb.NewFromConfig(Exempt(cfg)).DescribeListeners(ctx, &elb.DescribeListenersInput{LoadBalancerArn: aws.String(lb)})
	if err != nil {
		return nil, err
	}
	for _, li := range out.Listeners {
		if int(aws.ToInt32(li.Port)) == port {
			return &li, nil
		}
	}
	return nil, nil
}

// ReadNLB reads the default action of the listener on a port of a Network
// Load Balancer (the shifter's), its idle target group left out; no
// listener is a route that carries nothing.
func ReadNLB(ctx context.Context, cfg aws.Config, lb string, port int) (Route, error) {
	li, err := NLBListener(ctx, cfg, lb, port)
	if err != nil || li == nil {
		return Route{Weights: map[string]int{}}, err
	}
	w := shifteraws.ForwardWeights(li.DefaultActions)
	maps.DeleteFunc(w, func(arn string, _ int) bool { return strings.Contains(arn, ":targetgroup/"+nlb.IdlePrefix) })
	return Route{Carries: shifteraws.Carries(w), Weights: w}, nil
}

// Slot is a Route 53 slot listener as read: its load balancer and the
// target group the shifter's rule on it forwards to alone ("" for none).
type Slot struct {
	LoadBalancer elbtypes.LoadBalancer
	Target       string
}

// Slots reads slot listeners, by their load balancers' names.
func Slots(ctx context.Context, cfg aws.Config, listeners []string) (map[string]Slot, error) {
	client := elb.NewFromConfig(Exempt(cfg))
	out, err := client.DescribeListeners(ctx, &elb.DescribeListenersInput{ListenerArns: listeners})
	if err != nil {
		return nil, err
	}
	slots := map[string]Slot{}
	for _, l := range out.Listeners {
		lbs, err := client.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{aws.ToString(l.LoadBalancerArn)}})
		if err != nil || len(lbs.LoadBalancers) != 1 {
			return nil, fmt.Errorf("load balancer of %s: %v", aws.ToString(l.ListenerArn), err)
		}
		s := Slot{LoadBalancer: lbs.LoadBalancers[0]}
		rules, err := client.DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: l.ListenerArn})
		if err != nil {
			return nil, fmt.Errorf("rules of %s: %w", aws.ToString(l.ListenerArn), err)
		}
		for _, r := range rules.Rules {
			// The shifter's rule on a slot.
			if f := shifteraws.ForwardWeights(r.Actions); aws.ToString(r.Priority) == strconv.Itoa(shifterroute53.SlotPriority) && len(f) == 1 {
				for tg := range f {
					s.Target = tg
				}
			}
		}
		slots[aws.ToString(s.LoadBalancer.LoadBalancerName)] = s
	}
	return slots, nil
}

// ReadRoute53 reads the weighted records of a Route 53 route: the weight of
// each record whose set identifier is owner and a slot's load balancer name,
// by the target group that slot forwards to, and the target groups on slots
// without a record at 0.
func ReadRoute53(ctx context.Context, cfg aws.Config, zone, owner string, slots []string) (Route, error) {
	held, err := Slots(ctx, cfg, slots)
	if err != nil {
		return Route{}, err
	}
	out, err := route53.NewFromConfig(Exempt(cfg)).ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zone)})
	if err != nil {
		return Route{}, err
	}
	records := map[string]r53types.ResourceRecordSet{}
	for _, r := range out.ResourceRecordSets {
		records[aws.ToString(r.SetIdentifier)] = r
	}
	route := Route{Weights: map[string]int{}}
	for name, s := range held {
		if s.Target == "" {
			continue
		}
		route.Weights[s.Target] = 0
		if r, ok := records[owner+name]; ok {
			route.Weights[s.Target] = int(aws.ToInt64(r.Weight))
			route.Carries = route.Carries || route.Weights[s.Target] > 0
		}
	}
	return route, nil
}
