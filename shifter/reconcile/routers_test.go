package reconcile_test

import (
	"maps"
	"slices"
	"strconv"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	shifteraws "github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// routing is a kind of traffic as the scenario tests see it: how an endpoint
// routes on it, and how a test reads and edits its route in AWS, behind the
// shifter's back. The scenarios every router must pass run once per router
// (eachRouter), so that a new router is one more entry here.
type routing struct {
	name string
	// network makes the VPC and load balancers the endpoint lives on.
	network func(testing.TB, awssdk.Config) awstest.Net
	// route is the endpoint's production traffic on the harness' network;
	// protocol its target groups' (template.health_check.protocol).
	route    func(awstest.Net) rollout.Traffic
	protocol string
	// forward reads the route: the target groups it forwards to by ARN,
	// 0 for those attached without traffic, and whether it carries traffic.
	forward func(*harness) (carries bool, weights map[string]int)
	// edit makes the route forward by weights, as a person would by hand;
	// remove deletes what carries the route's traffic (nil: a route of
	// records, whose deletion no scenario covers yet).
	edit   func(h *harness, weights map[string]int)
	remove func(h *harness)
	// write is the one operation of service that moves the route's
	// traffic.
	service, write string
	// backend runs the endpoint's versions (ec2 if unset).
	backend running
}

var (
	albRouter = routing{
		name:    "alb",
		network: awstest.Network,
		route: func(n awstest.Net) rollout.Traffic {
			return rollout.Traffic{ListenerARN: n.ListenerARN, Priority: 10, Hosts: []string{"web.example.com"}}
		},
		forward: albForward,
		edit: func(h *harness, weights map[string]int) {
			main, _ := albRules(h)
			if _, err := h.elb.ModifyRule(h.ctx, &elb.ModifyRuleInput{RuleArn: main.RuleArn, Actions: shifteraws.Forward(weights)}); err != nil {
				h.t.Fatal(err)
			}
		},
		remove: func(h *harness) {
			main, _ := albRules(h)
			if _, err := h.elb.DeleteRule(h.ctx, &elb.DeleteRuleInput{RuleArn: main.RuleArn}); err != nil {
				h.t.Fatal(err)
			}
		},
		service: "elasticloadbalancingv2",
		write:   "ModifyRule",
	}
	nlbRouter = routing{
		name:    "nlb",
		network: awstest.NetworkWithNLB,
		route: func(n awstest.Net) rollout.Traffic {
			return rollout.Traffic{NLB: &rollout.NLBTraffic{LoadBalancerARN: n.NLBARN, Port: n.NLBPort}}
		},
		protocol: "TCP",
		forward: func(h *harness) (bool, map[string]int) {
			r, err := awstest.ReadNLB(h.ctx, h.cfg, h.net.NLBARN, h.net.NLBPort)
			if err != nil {
				h.t.Fatal(err)
			}
			return r.Carries, r.Weights
		},
		edit: func(h *harness, weights map[string]int) {
			li := nlbListener(h)
			if _, err := h.elb.ModifyListener(h.ctx, &elb.ModifyListenerInput{ListenerArn: li.ListenerArn, DefaultActions: shifteraws.Forward(weights)}); err != nil {
				h.t.Fatal(err)
			}
		},
		remove: func(h *harness) {
			li := nlbListener(h)
			if _, err := h.elb.DeleteListener(h.ctx, &elb.DeleteListenerInput{ListenerArn: li.ListenerArn}); err != nil {
				h.t.Fatal(err)
			}
		},
		service: "elasticloadbalancingv2",
		write:   "ModifyListener",
	}
	route53Router = routing{
		name:    "route53",
		network: awstest.NetworkWithSlots,
		route: func(n awstest.Net) rollout.Traffic {
			return rollout.Traffic{Route53: &rollout.Route53Traffic{HostedZoneID: n.HostedZoneID, Name: "web.example.test", Listeners: n.SlotListenerARNs}}
		},
		forward: route53Forward,
		edit:    route53Edit,
		service: "route53",
		write:   "ChangeResourceRecordSets",
	}
	// routers are the routings every scenario runs on: each router, on ec2,
	// and the ALB router on ecs.
	routers = []routing{albRouter, nlbRouter, route53Router, onECS(albRouter)}
)

// eachRouter runs a scenario for every router, in parallel.
func eachRouter(t *testing.T, scenario func(t *testing.T, r routing)) {
	t.Parallel()
	for _, r := range routers {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			scenario(t, r)
		})
	}
}

// nlbListener reads the shifter's listener on the endpoint's port, and
// fails the test if there is none.
func nlbListener(h *harness) *elbtypes.Listener {
	h.t.Helper()
	li, err := awstest.NLBListener(h.ctx, h.cfg, h.net.NLBARN, h.net.NLBPort)
	if err != nil || li == nil {
		h.t.Fatalf("the shifter's listener on port %d: %v, %v", h.net.NLBPort, li, err)
	}
	return li
}

// albRules reads the listener's rules, the default one left out, and
// finds the route's own rule among them (nil if there is none).
func albRules(h *harness) (main *elbtypes.Rule, rules []elbtypes.Rule) {
	h.t.Helper()
	out, err := h.elb.DescribeRules(h.ctx, &elb.DescribeRulesInput{ListenerArn: &h.net.ListenerARN})
	if err != nil {
		h.t.Fatal(err)
	}
	for i, r := range out.Rules {
		if !awssdk.ToBool(r.IsDefault) {
			rules = append(rules, out.Rules[i])
		}
	}
	for i, r := range rules {
		if awssdk.ToString(r.Priority) == strconv.Itoa(h.ep.Traffic.Priority) {
			main = &rules[i]
		}
	}
	return main, rules
}

// albForward reads the route's own rule, and the target groups the
// listener's other rules keep attached at 0 (a standby rule's weights carry
// nothing).
func albForward(h *harness) (bool, map[string]int) {
	main, rules := albRules(h)
	w := map[string]int{}
	if main != nil {
		w = shifteraws.ForwardWeights(main.Actions)
	}
	for _, r := range rules {
		for arn := range shifteraws.ForwardWeights(r.Actions) {
			if _, ok := w[arn]; !ok {
				w[arn] = 0
			}
		}
	}
	return main != nil, w
}

// route53Owner begins the set identifiers of the shifter's records: it is
// the shifter's ("test"), of endpoint web.
const route53Owner = "ionroller-test-web-"

// route53Forward reads the records' weights by the target group of their
// slot, the target groups on slots without a record at 0.
func route53Forward(h *harness) (bool, map[string]int) {
	r, err := awstest.ReadRoute53(h.ctx, h.cfg, h.net.HostedZoneID, route53Owner, h.net.SlotListenerARNs)
	if err != nil {
		h.t.Fatal(err)
	}
	return r.Carries, r.Weights
}

// route53Edit writes the records by hand: a target group on a slot gets its
// slot's record, any other a record of its own on the first slot.
func route53Edit(h *harness, weights map[string]int) {
	slots, err := awstest.Slots(h.ctx, h.cfg, h.net.SlotListenerARNs)
	if err != nil {
		h.t.Fatal(err)
	}
	slotOf := map[string]string{}
	for name, s := range slots {
		slotOf[s.Target] = name
	}
	var changes []r53types.Change
	for tg, w := range weights {
		first := slices.Sorted(maps.Keys(slots))[0]
		setID, lb := route53Owner+"by-hand", slots[first].LoadBalancer
		if name, ok := slotOf[tg]; ok {
			setID, lb = route53Owner+name, slots[name].LoadBalancer
		}
		changes = append(changes, r53types.Change{Action: r53types.ChangeActionUpsert, ResourceRecordSet: &r53types.ResourceRecordSet{
			Name: awssdk.String("web.example.test."), Type: r53types.RRTypeA, SetIdentifier: awssdk.String(setID), Weight: awssdk.Int64(int64(w)),
			AliasTarget: &r53types.AliasTarget{DNSName: lb.DNSName, HostedZoneId: lb.CanonicalHostedZoneId},
		}})
	}
	if _, err := route53.NewFromConfig(awstest.Exempt(h.cfg)).ChangeResourceRecordSets(h.ctx, &route53.ChangeResourceRecordSetsInput{
		HostedZoneId: &h.net.HostedZoneID, ChangeBatch: &r53types.ChangeBatch{Changes: changes},
	}); err != nil {
		h.t.Fatal(err)
	}
}
