package reconcile_test

import (
	"strconv"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

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
	// write is the one ELBv2 operation that moves the route's traffic.
	write string
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
		write: "ModifyRule",
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
		write: "ModifyListener",
	}
	routers = []routing{albRouter, nlbRouter}
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
