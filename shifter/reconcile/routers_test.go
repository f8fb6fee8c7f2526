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
	// edit makes the route forward by weights, as a person would by hand.
	edit func(h *harness, weights map[string]int)
	// write is the one operation of service that moves the route's
	// traffic.
	service, write string
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
		service: "elasticloadbalancingv2",
		write:   "ModifyRule",
	}
	nlbRouter = routing{
		name:    "nlb",
		network: awstest.NetworkWithNLB,
		route: func(n awstest.Net) rollout.Traffic {
			return rollout.Traffic{NLB: &rollout.NLBTraffic{ListenerARN: n.NLBListenerARN, IdleTargetGroupARN: n.IdleTargetGroupARN}}
		},
		protocol: "TCP",
		forward: func(h *harness) (bool, map[string]int) {
			h.t.Helper()
			out, err := h.elb.DescribeListeners(h.ctx, &elb.DescribeListenersInput{ListenerArns: []string{h.net.NLBListenerARN}})
			if err != nil {
				h.t.Fatal(err)
			}
			w := shifteraws.ForwardWeights(out.Listeners[0].DefaultActions)
			idle := w[h.net.IdleTargetGroupARN]
			delete(w, h.net.IdleTargetGroupARN)
			return idle == 0, w
		},
		edit: func(h *harness, weights map[string]int) {
			if _, err := h.elb.ModifyListener(h.ctx, &elb.ModifyListenerInput{ListenerArn: &h.net.NLBListenerARN, DefaultActions: shifteraws.Forward(weights)}); err != nil {
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
	routers = []routing{albRouter, nlbRouter, route53Router}
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

// route53Slots reads what each slot listener forwards to, by load balancer
// name, and the endpoint's records by set identifier.
func route53Slots(h *harness) (slots map[string]elbtypes.LoadBalancer, targets map[string]string, records map[string]r53types.ResourceRecordSet) {
	h.t.Helper()
	out, err := h.elb.DescribeListeners(h.ctx, &elb.DescribeListenersInput{ListenerArns: h.net.SlotListenerARNs})
	if err != nil {
		h.t.Fatal(err)
	}
	slots, targets = map[string]elbtypes.LoadBalancer{}, map[string]string{}
	for _, l := range out.Listeners {
		lbs, err := h.elb.DescribeLoadBalancers(h.ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{awssdk.ToString(l.LoadBalancerArn)}})
		if err != nil {
			h.t.Fatal(err)
		}
		name := awssdk.ToString(lbs.LoadBalancers[0].LoadBalancerName)
		slots[name] = lbs.LoadBalancers[0]
		for tg := range shifteraws.ForwardWeights(l.DefaultActions) {
			targets[name] = tg
		}
	}
	recs, err := route53.NewFromConfig(awstest.Exempt(h.cfg)).ListResourceRecordSets(h.ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: &h.net.HostedZoneID})
	if err != nil {
		h.t.Fatal(err)
	}
	records = map[string]r53types.ResourceRecordSet{}
	for _, r := range recs.ResourceRecordSets {
		if r.SetIdentifier != nil {
			records[awssdk.ToString(r.SetIdentifier)] = r
		}
	}
	return slots, targets, records
}

// route53SetID is the set identifier the shifter gives the record of a
// slot: it is the shifter's ("test"), of endpoint web.
func route53SetID(slot string) string { return "ionroller-test-web-" + slot }

// route53Forward reads the records' weights by the target group of their
// slot, the target groups on slots without a record at 0.
func route53Forward(h *harness) (bool, map[string]int) {
	_, targets, records := route53Slots(h)
	w, carries := map[string]int{}, false
	for slot, tg := range targets {
		w[tg] = 0
		if r, ok := records[route53SetID(slot)]; ok {
			w[tg] = int(awssdk.ToInt64(r.Weight))
			carries = carries || w[tg] > 0
		}
	}
	return carries, w
}

// route53Edit writes the records by hand: a target group on a slot gets its
// slot's record, any other a record of its own on the first slot.
func route53Edit(h *harness, weights map[string]int) {
	slots, targets, _ := route53Slots(h)
	slotOf := map[string]string{}
	for slot, tg := range targets {
		slotOf[tg] = slot
	}
	var changes []r53types.Change
	for tg, w := range weights {
		setID, lb := "ionroller-test-web-by-hand", slots[slices.Sorted(maps.Keys(slots))[0]]
		if slot, ok := slotOf[tg]; ok {
			setID, lb = route53SetID(slot), slots[slot]
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
