package awstest

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	shifteraws "github.com/ionroller/terraform-provider-ionroller/shifter/aws"
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

// ReadNLB reads an NLB listener's default action, the user's idle target
// group left out.
func ReadNLB(ctx context.Context, cfg aws.Config, listener, idle string) (Route, error) {
	out, err := elb.NewFromConfig(Exempt(cfg)).DescribeListeners(ctx, &elb.DescribeListenersInput{ListenerArns: []string{listener}})
	if err != nil {
		return Route{}, err
	}
	w := shifteraws.ForwardWeights(out.Listeners[0].DefaultActions)
	delete(w, idle)
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
