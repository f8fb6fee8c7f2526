package awslike_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awslike"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
)

// Every group here checks every 10 s and wants 3 passes: its targets are
// initial for 30 AWS seconds, 300 ms at TestTimeScale.
const (
	interval  = 10
	threshold = 3
	initial   = interval * threshold * time.Second / 100
)

// fixture is a network with a target group of registered instances, seen
// through a layer on a hand-turned clock.
type fixture struct {
	*env
	clock   *clock
	net     awstest.Net
	elb     *elb.Client // exempt: the test's own calls
	group   string
	targets []string
}

func newFixture(t *testing.T, instances int, opts ...awslike.Option) *fixture {
	t.Helper()
	f := &fixture{clock: newClock()}
	f.env = newEnv(t, append([]awslike.Option{awslike.WithClock(f.clock.Now)}, opts...)...)
	f.net = awstest.Network(t, f.setup)
	f.elb = elb.NewFromConfig(f.setup)
	f.group = f.createGroup(t, "blue")
	f.targets = f.runInstances(t, instances)
	f.register(t, f.group, f.targets...)
	return f
}

func (f *fixture) createGroup(t *testing.T, name string) string {
	t.Helper()
	out, err := f.elb.CreateTargetGroup(t.Context(), &elb.CreateTargetGroupInput{
		Name: aws.String(name), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(8080), VpcId: aws.String(f.net.VPC),
		HealthCheckIntervalSeconds: aws.Int32(interval), HealthyThresholdCount: aws.Int32(threshold),
	})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.TargetGroups[0].TargetGroupArn)
}

func (f *fixture) runInstances(t *testing.T, n int) []string {
	t.Helper()
	out, err := ec2.NewFromConfig(f.setup).RunInstances(t.Context(), &ec2.RunInstancesInput{
		ImageId: aws.String(f.net.AMI), MinCount: aws.Int32(int32(n)), MaxCount: aws.Int32(int32(n)), SubnetId: aws.String(f.net.Subnets[0]),
	})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, i := range out.Instances {
		ids = append(ids, aws.ToString(i.InstanceId))
	}
	return ids
}

// autoScalingGroup creates a group of one instance, which moto registers
// in targetGroup itself, with no API call.
func (f *fixture) autoScalingGroup(t *testing.T, name, targetGroup string) {
	t.Helper()
	lt, err := ec2.NewFromConfig(f.setup).CreateLaunchTemplate(t.Context(), &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String(name),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(f.net.AMI), InstanceType: ec2types.InstanceTypeT3Micro},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := autoscaling.NewFromConfig(f.setup).CreateAutoScalingGroup(t.Context(), &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(name), MinSize: aws.Int32(1), MaxSize: aws.Int32(1), DesiredCapacity: aws.Int32(1),
		LaunchTemplate:    &astypes.LaunchTemplateSpecification{LaunchTemplateId: lt.LaunchTemplate.LaunchTemplateId, Version: aws.String("$Latest")},
		VPCZoneIdentifier: aws.String(f.net.Subnets[0]),
		TargetGroupARNs:   []string{targetGroup},
	}); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) register(t *testing.T, group string, ids ...string) {
	t.Helper()
	if _, err := f.elb.RegisterTargets(t.Context(), &elb.RegisterTargetsInput{TargetGroupArn: &group, Targets: targets(ids)}); err != nil {
		t.Fatal(err)
	}
}

func targets(ids []string) []elbtypes.TargetDescription {
	var out []elbtypes.TargetDescription
	for _, id := range ids {
		out = append(out, elbtypes.TargetDescription{Id: aws.String(id)})
	}
	return out
}

// forward creates a rule forwarding to groups, each at weight 0.
func (f *fixture) forward(t *testing.T, groups ...string) string {
	t.Helper()
	out, err := f.elb.CreateRule(t.Context(), &elb.CreateRuleInput{
		ListenerArn: aws.String(f.net.ListenerARN), Priority: aws.Int32(10),
		Conditions: []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/x"}}},
		Actions:    []elbtypes.Action{forwardAction(groups...)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Rules[0].RuleArn)
}

func forwardAction(groups ...string) elbtypes.Action {
	var tgs []elbtypes.TargetGroupTuple
	for _, g := range groups {
		tgs = append(tgs, elbtypes.TargetGroupTuple{TargetGroupArn: aws.String(g), Weight: aws.Int32(0)})
	}
	return elbtypes.Action{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: tgs}}
}

// health returns "state reason" of each target of group, by target ID.
func (f *fixture) health(t *testing.T, group string, only ...string) map[string]string {
	t.Helper()
	out, err := f.elb.DescribeTargetHealth(t.Context(), &elb.DescribeTargetHealthInput{TargetGroupArn: &group, Targets: targets(only)})
	if err != nil {
		t.Fatal(err)
	}
	got := make(map[string]string)
	for _, d := range out.TargetHealthDescriptions {
		got[aws.ToString(d.Target.Id)] = fmt.Sprintf("%s %s", d.TargetHealth.State, d.TargetHealth.Reason)
	}
	return got
}

// wantHealth fails t unless every target of ids is in the state and reason
// want ("healthy " for healthy).
func (f *fixture) wantHealth(t *testing.T, group string, want string, ids ...string) {
	t.Helper()
	got := f.health(t, group)
	for _, id := range ids {
		if got[id] != want {
			t.Errorf("target %s of %s: %q, want %q (all: %v)", id, group, got[id], want, got)
		}
	}
}

func (f *fixture) loadBalancers(t *testing.T, group string) []string {
	t.Helper()
	out, err := f.elb.DescribeTargetGroups(t.Context(), &elb.DescribeTargetGroupsInput{TargetGroupArns: []string{group}})
	if err != nil {
		t.Fatal(err)
	}
	return out.TargetGroups[0].LoadBalancerArns
}

const (
	unused       = "unused Target.NotInUse"
	initialCheck = "initial Elb.InitialHealthChecking"
	registering  = "initial Elb.RegistrationInProgress"
	healthy      = "healthy "
	unhealthy    = "unhealthy Target.FailedHealthChecks"
	draining     = "draining Target.DeregistrationInProgress"
)

// TestAnNLBListenerDecidesHealthAndIsNamedAsAWSNamesIt: an NLB listener's
// default action uses a group as a rule does (weight 0 counts), and its ARNs
// are a Network Load Balancer's (.../net/...), which moto does not give.
func TestAnNLBListenerDecidesHealthAndIsNamedAsAWSNamesIt(t *testing.T) {
	f := newFixture(t, 2)
	awstest.AddNLB(t, f.setup, &f.net)
	listener := f.net.UserNLBListenerARN
	if !strings.Contains(listener, ":listener/net/") {
		t.Fatalf("NLB listener ARN %s, want AWS's naming (listener/net/...)", listener)
	}
	out, err := f.elb.DescribeListeners(t.Context(), &elb.DescribeListenersInput{ListenerArns: []string{listener}})
	if err != nil {
		t.Fatal(err)
	}
	if lb := aws.ToString(out.Listeners[0].LoadBalancerArn); !strings.Contains(lb, ":loadbalancer/net/") || aws.ToString(out.Listeners[0].ListenerArn) != listener {
		t.Errorf("listener %s of load balancer %s, want both named as AWS names a Network Load Balancer's", aws.ToString(out.Listeners[0].ListenerArn), lb)
	}
	setDefault := func(weights ...elbtypes.TargetGroupTuple) {
		t.Helper()
		action := elbtypes.Action{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: weights}}
		if _, err := f.elb.ModifyListener(t.Context(), &elb.ModifyListenerInput{ListenerArn: &listener, DefaultActions: []elbtypes.Action{action}}); err != nil {
			t.Fatal(err)
		}
	}
	idle := elbtypes.TargetGroupTuple{TargetGroupArn: aws.String(f.net.UserTargetGroupARN), Weight: aws.Int32(100)}
	f.wantHealth(t, f.group, unused, f.targets...)
	setDefault(idle, elbtypes.TargetGroupTuple{TargetGroupArn: aws.String(f.group), Weight: aws.Int32(0)})
	f.wantHealth(t, f.group, initialCheck, f.targets...)
	f.clock.Add(initial)
	f.wantHealth(t, f.group, healthy, f.targets...)
	setDefault(idle)
	f.wantHealth(t, f.group, unused, f.targets...)
}

// TestUseDecidesHealth walks a group from unused (nothing forwards to it)
// through initial (a rule forwards to it at weight 0) to healthy, and back
// to unused when the rule goes.
func TestUseDecidesHealth(t *testing.T) {
	f := newFixture(t, 2)
	f.wantHealth(t, f.group, unused, f.targets...)
	if lbs := f.loadBalancers(t, f.group); len(lbs) != 0 {
		t.Errorf("unused group lists load balancers %v", lbs)
	}

	rule := f.forward(t, f.group)
	f.wantHealth(t, f.group, initialCheck, f.targets...)
	if lbs := f.loadBalancers(t, f.group); !slices.Equal(lbs, []string{f.net.LoadBalancerARN}) {
		t.Errorf("used group lists load balancers %v, want %s", lbs, f.net.LoadBalancerARN)
	}
	f.clock.Add(initial - time.Nanosecond)
	f.wantHealth(t, f.group, initialCheck, f.targets...)
	f.clock.Add(time.Nanosecond)
	f.wantHealth(t, f.group, healthy, f.targets...)

	// Changing the rule while it still forwards to the group does not
	// start the group's checks over.
	green := f.createGroup(t, "green")
	if _, err := f.elb.ModifyRule(t.Context(), &elb.ModifyRuleInput{RuleArn: &rule, Actions: []elbtypes.Action{forwardAction(f.group, green)}}); err != nil {
		t.Fatal(err)
	}
	f.wantHealth(t, f.group, healthy, f.targets...)

	if _, err := f.elb.DeleteRule(t.Context(), &elb.DeleteRuleInput{RuleArn: &rule}); err != nil {
		t.Fatal(err)
	}
	f.wantHealth(t, f.group, unused, f.targets...)
	if lbs := f.loadBalancers(t, f.group); len(lbs) != 0 {
		t.Errorf("after the rule is deleted the group lists load balancers %v; AWS lists none", lbs)
	}
}

// TestListenerDefaultActionUses: a listener's default action uses a group
// as a rule does, until the listener goes.
func TestListenerDefaultActionUses(t *testing.T) {
	f := newFixture(t, 1)
	out, err := f.elb.CreateListener(t.Context(), &elb.CreateListenerInput{
		LoadBalancerArn: aws.String(f.net.LoadBalancerARN), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(8080),
		DefaultActions: []elbtypes.Action{forwardAction(f.group)},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.wantHealth(t, f.group, initialCheck, f.targets...)
	if _, err := f.elb.DeleteListener(t.Context(), &elb.DeleteListenerInput{ListenerArn: out.Listeners[0].ListenerArn}); err != nil {
		t.Fatal(err)
	}
	f.wantHealth(t, f.group, unused, f.targets...)
}

// TestRegisteredTargetIsInitial: a target registered in a group in use is
// initial for its own checks while the others stay healthy.
func TestRegisteredTargetIsInitial(t *testing.T) {
	f := newFixture(t, 1)
	f.forward(t, f.group)
	f.clock.Add(initial)
	f.wantHealth(t, f.group, healthy, f.targets...)

	added := f.runInstances(t, 1)
	f.register(t, f.group, added...)
	f.wantHealth(t, f.group, registering, added...)
	f.wantHealth(t, f.group, healthy, f.targets...)
	f.clock.Add(initial)
	f.wantHealth(t, f.group, healthy, added...)
}

// TestAutoScalingTargetIsInitialFromFirstSight: moto registers an Auto
// Scaling group's instances where the layer cannot see; their checks start
// when the layer first sees them.
func TestAutoScalingTargetIsInitialFromFirstSight(t *testing.T) {
	f := newFixture(t, 1)
	f.forward(t, f.group)
	f.clock.Add(initial)
	f.autoScalingGroup(t, "blue", f.group)
	var added string
	for id, h := range f.health(t, f.group) {
		if id != f.targets[0] {
			added = id
			if h != registering {
				t.Errorf("instance %s of the auto scaling group: %q, want %q", id, h, registering)
			}
		}
	}
	if added == "" {
		t.Fatal("the auto scaling group's instance is not registered")
	}
	f.clock.Add(initial)
	f.wantHealth(t, f.group, healthy, added, f.targets[0])
}

// TestDeregisteredTargetDrains: moto forgets a deregistered target at
// once; AWS lists it as draining for the deregistration delay.
func TestDeregisteredTargetDrains(t *testing.T) {
	f := newFixture(t, 2)
	f.forward(t, f.group)
	f.clock.Add(initial)
	if _, err := f.elb.ModifyTargetGroupAttributes(t.Context(), &elb.ModifyTargetGroupAttributesInput{
		TargetGroupArn: &f.group,
		Attributes:     []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("20")}},
	}); err != nil {
		t.Fatal(err)
	}
	gone, stays := f.targets[0], f.targets[1]
	if _, err := f.elb.DeregisterTargets(t.Context(), &elb.DeregisterTargetsInput{TargetGroupArn: &f.group, Targets: targets([]string{gone})}); err != nil {
		t.Fatal(err)
	}
	f.wantHealth(t, f.group, draining, gone)
	f.wantHealth(t, f.group, healthy, stays)
	if got := f.health(t, f.group, gone); got[gone] != draining {
		t.Errorf("asked for alone, the deregistered target is %q, want %q", got[gone], draining)
	}

	f.clock.Add(20*time.Second/100 - time.Nanosecond)
	f.wantHealth(t, f.group, draining, gone)
	f.clock.Add(time.Nanosecond)
	if got := f.health(t, f.group); len(got) != 1 || got[stays] != healthy {
		t.Errorf("after the delay the group lists %v, want only %s healthy", got, stays)
	}
}

// TestUnhealthyKnob fails the checks of chosen targets, or of a whole
// group, once past their initial checks.
func TestUnhealthyKnob(t *testing.T) {
	f := newFixture(t, 2)
	sick, well := f.targets[0], f.targets[1]
	f.forward(t, f.group)
	f.layer.SetUnhealthy(f.group, sick)
	f.wantHealth(t, f.group, initialCheck, sick, well)
	f.clock.Add(initial)
	f.wantHealth(t, f.group, unhealthy, sick)
	f.wantHealth(t, f.group, healthy, well)

	f.layer.SetUnhealthy(f.group)
	f.wantHealth(t, f.group, unhealthy, sick, well)
	f.layer.SetHealthy(f.group)
	f.wantHealth(t, f.group, healthy, sick, well)
}

// TestFollowsExistingResources: a layer put in front of resources it never
// saw created reads what forwards to what the first time it needs to.
func TestFollowsExistingResources(t *testing.T) {
	f := newFixture(t, 1)
	// Straight to moto, past the layer.
	past := f.acct.Config.Copy()
	past.BaseEndpoint = aws.String(awstest.MotoEndpoint())
	direct := elb.NewFromConfig(past)
	if _, err := direct.CreateRule(t.Context(), &elb.CreateRuleInput{
		ListenerArn: aws.String(f.net.ListenerARN), Priority: aws.Int32(10),
		Conditions: []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/x"}}},
		Actions:    []elbtypes.Action{forwardAction(f.group)},
	}); err != nil {
		t.Fatal(err)
	}
	fresh := *f
	fresh.clock = newClock()
	fresh.env = newEnvFor(t, f.acct, awslike.WithClock(fresh.clock.Now))
	fresh.elb = elb.NewFromConfig(fresh.setup)
	fresh.wantHealth(t, f.group, initialCheck, f.targets...)
	fresh.clock.Add(initial)
	fresh.wantHealth(t, f.group, healthy, f.targets...)
}

// TestHealthOnTheTimeScale: on the real clock, initial checks end by
// themselves after interval × threshold on the time scale.
func TestHealthOnTheTimeScale(t *testing.T) {
	e := newEnv(t)
	f := &fixture{env: e, net: awstest.Network(t, e.setup), elb: elb.NewFromConfig(e.setup)}
	f.group = f.createGroup(t, "blue")
	f.targets = f.runInstances(t, 1)
	f.register(t, f.group, f.targets...)
	start := time.Now()
	f.forward(t, f.group)
	eventually(t, "healthy targets", func() bool { return f.health(t, f.group)[f.targets[0]] == healthy })
	if took := time.Since(start); took < initial {
		t.Errorf("healthy after %v, before the initial checks' %v", took, initial)
	}
}
