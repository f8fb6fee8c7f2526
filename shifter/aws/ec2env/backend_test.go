package ec2env_test

import (
	"context"
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/hashicorp/go-hclog"

	shifteraws "github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/ec2env"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/schedule"
	"github.com/ionroller/terraform-provider-ionroller/shifter/reconcile"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// fixture is a backend in a fresh moto account with a network, and the
// clients and call counter to look behind its back.
type fixture struct {
	cfg     aws.Config // the account's, for the test's own calls through awstest.Exempt
	backend *ec2env.Backend
	api     ec2env.API
	// own are the test's clients, outside the budgets of the backend's
	// and unrecorded: what the test does is no call of the shifter's.
	own   *shifteraws.Set
	net   awstest.Net
	calls *awstest.Counter
}

func newFixture(t *testing.T, shifterID string) fixture {
	t.Helper()
	cfg := awstest.Config(t)
	n := awstest.Network(t, cfg)
	calls := awstest.NewCounter()
	calls.Add(&cfg) // after the network: count only the backend's calls
	set, err := shifteraws.NewClients(cfg, hclog.NewNullLogger(), schedule.Options{}).For(rollout.Placement{})
	if err != nil {
		t.Fatal(err)
	}
	api := ec2env.API{EC2: set.EC2, AutoScaling: set.AutoScaling, TargetGroups: set.ELBv2, Tags: set.ELBv2}
	return fixture{
		cfg:     cfg,
		backend: ec2env.New(api, shifterID, hclog.NewNullLogger()),
		api:     api,
		own:     ownClients(cfg),
		net:     n,
		calls:   calls,
	}
}

func ownClients(cfg aws.Config) *shifteraws.Set {
	exempt := awstest.Exempt(cfg)
	return &shifteraws.Set{EC2: ec2.NewFromConfig(exempt), AutoScaling: autoscaling.NewFromConfig(exempt), ELBv2: elb.NewFromConfig(exempt)}
}

func (f fixture) env(id string, capacity int) rollout.Environment {
	tmpl := rollout.NewEndpoint().Template
	tmpl.Repository = "example.com/team/app"
	tmpl.ContainerPort = 8080
	tmpl.AMI = f.net.AMI
	tmpl.Subnets = f.net.Subnets
	tmpl.SecurityGroups = []string{f.net.SecurityGroup}
	tmpl.MinSize, tmpl.MaxSize = 1, 3
	tmpl.Env = map[string]string{"GREETING": "hello world"}
	tmpl.Secrets = map[string]string{"DB_PASSWORD": "arn:aws:ssm:us-east-1:111122223333:parameter/app/db"}
	tmpl.HealthCheck.Path = "/healthz"
	return rollout.Environment{
		ID:       id,
		Version:  "1.2.3",
		Image:    "example.com/team/app:1.2.3",
		Template: &tmpl,
		Capacity: capacity,
	}
}

// observe reads env from a fresh listing, with its target health.
func (f fixture) observe(t *testing.T, endpoint string, env rollout.Environment) reconcile.Env {
	t.Helper()
	obs, err := f.backend.Observe(t.Context(), endpoint, []rollout.Environment{env}, reconcile.Query{Since: time.Now(), Listed: time.Now(), Health: []string{env.ID}})
	if err != nil {
		t.Fatalf("observe %s: %v", env.ID, err)
	}
	return obs[env.ID]
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	f := newFixture(t, "test")
	env := f.env("e1", 2)

	if err := f.backend.Create(ctx, "api", env); err != nil {
		t.Fatal(err)
	}
	t.Logf("create: %s", f.calls)
	if got := f.calls.Total("EC2") + f.calls.Total("Auto Scaling") + f.calls.Total("ELBv2"); got != 5 {
		t.Errorf("create made %d calls, want 5 (the subnet's VPC and 4 writes)", got)
	}

	f.calls.Reset()
	obs := f.observe(t, "api", env)
	t.Logf("observe: %s", f.calls)
	if !obs.Exists || obs.Gone || obs.Capacity != 2 || obs.InService != 2 || !obs.HealthRead || obs.Targets != 2 || obs.Target == "" {
		t.Errorf("observe after create = %+v, want 2 of 2 in service with their targets and health read", obs)
	}
	target := obs.Target

	// Create again, as after a crash: nothing written, nothing duplicated.
	f.calls.Reset()
	if err := f.backend.Create(ctx, "api", env); err != nil {
		t.Fatal(err)
	}
	if again := f.observe(t, "api", env); again.Target != target {
		t.Errorf("second create: target %q, want %q", again.Target, target)
	}
	for _, svc := range []string{"EC2", "Auto Scaling", "ELBv2"} {
		if n := f.calls.Writes(svc); n != 0 {
			t.Errorf("second create wrote %d times to %s: %s", n, svc, f.calls)
		}
	}
	f.assertResourceCounts(t, 1, 1, 1)

	for _, capacity := range []int{0, 2} {
		if err := f.backend.Scale(ctx, "api", env, capacity); err != nil {
			t.Fatal(err)
		}
		// moto keeps terminated instances registered as healthy targets:
		// only the group's instances in service may count.
		obs := f.observe(t, "api", env)
		if !obs.Exists || obs.Capacity != capacity || obs.InService != capacity || obs.Targets != capacity {
			t.Errorf("after scaling to %d: %+v", capacity, obs)
		}
	}

	f.calls.Reset()
	gone, err := f.backend.Delete(ctx, "api", env)
	if err != nil || !gone {
		t.Fatalf("delete = %v, %v; want gone", gone, err)
	}
	t.Logf("delete: %s", f.calls)
	// moto leaves terminated instances registered as healthy targets, so
	// only the resources themselves are checked.
	if obs := f.observe(t, "api", env); !obs.Gone || obs.Exists {
		t.Errorf("observe after delete = %+v, want gone", obs)
	}
	f.assertResourceCounts(t, 0, 0, 0)

	gone, err = f.backend.Delete(ctx, "api", env)
	if err != nil || !gone {
		t.Errorf("second delete = %v, %v; want gone", gone, err)
	}
}

// assertResourceCounts checks how many launch templates, groups and target
// groups exist in the account.
func (f fixture) assertResourceCounts(t *testing.T, lts, groups, tgs int) {
	t.Helper()
	ctx := t.Context()
	l, err := f.own.EC2.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{})
	if err != nil {
		t.Fatal(err)
	}
	g, err := f.own.AutoScaling.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	tg, err := f.own.ELBv2.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.LaunchTemplates) != lts || len(g.AutoScalingGroups) != groups || len(tg.TargetGroups) != tgs {
		t.Errorf("%d launch templates, %d groups, %d target groups; want %d, %d, %d",
			len(l.LaunchTemplates), len(g.AutoScalingGroups), len(tg.TargetGroups), lts, groups, tgs)
	}
}

func TestCreateConfiguresResources(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	f := newFixture(t, "test")
	env := f.env("e1", 2)
	if err := f.backend.Create(ctx, "api", env); err != nil {
		t.Fatal(err)
	}
	ref := f.backend.Names("api", env.ID)

	tgs, err := f.own.ELBv2.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{TargetGroupArns: []string{f.observe(t, "api", env).Target}})
	if err != nil {
		t.Fatal(err)
	}
	tg := tgs.TargetGroups[0]
	hc := env.Template.HealthCheck
	if aws.ToString(tg.VpcId) != f.net.VPC || aws.ToInt32(tg.Port) != 8080 || tg.Protocol != elbtypes.ProtocolEnumHttp ||
		aws.ToString(tg.HealthCheckPath) != "/healthz" ||
		aws.ToInt32(tg.HealthCheckIntervalSeconds) != int32(hc.Interval.D().Seconds()) ||
		aws.ToInt32(tg.HealthCheckTimeoutSeconds) != int32(hc.Timeout.D().Seconds()) ||
		aws.ToInt32(tg.HealthyThresholdCount) != int32(hc.HealthyThreshold) ||
		aws.ToInt32(tg.UnhealthyThresholdCount) != int32(hc.UnhealthyThreshold) {
		t.Errorf("target group = %+v", tg)
	}
	attrs, err := f.own.ELBv2.DescribeTargetGroupAttributes(ctx, &elb.DescribeTargetGroupAttributesInput{TargetGroupArn: tg.TargetGroupArn})
	if err != nil {
		t.Fatal(err)
	}
	if got := attr(attrs.Attributes, "deregistration_delay.timeout_seconds"); got != "30" {
		t.Errorf("deregistration delay = %q, want 30", got)
	}

	versions, err := f.own.EC2.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{
		LaunchTemplateName: aws.String(ref.LaunchTemplate),
		Versions:           []string{"1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	data := versions.LaunchTemplateVersions[0].LaunchTemplateData
	userData, err := base64.StdEncoding.DecodeString(aws.ToString(data.UserData))
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(data.ImageId) != f.net.AMI || string(data.InstanceType) != "t3.micro" ||
		len(data.SecurityGroupIds) != 1 || data.SecurityGroupIds[0] != f.net.SecurityGroup {
		t.Errorf("launch template data = %+v", data)
	}
	for _, want := range []string{"--publish 8080:8080", "--env 'GREETING=hello world'", "example.com/team/app:1.2.3", "--name arn:aws:ssm:"} {
		if !strings.Contains(string(userData), want) {
			t.Errorf("user data lacks %q:\n%s", want, userData)
		}
	}

	groups, err := f.own.AutoScaling.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{
		AutoScalingGroupNames: []string{ref.AutoScalingGroup},
	})
	if err != nil {
		t.Fatal(err)
	}
	g := groups.AutoScalingGroups[0]
	if aws.ToInt32(g.MinSize) != 1 || aws.ToInt32(g.MaxSize) != 3 || aws.ToInt32(g.DesiredCapacity) != 2 ||
		aws.ToString(g.VPCZoneIdentifier) != strings.Join(f.net.Subnets, ",") ||
		len(g.TargetGroupARNs) != 1 || g.TargetGroupARNs[0] != aws.ToString(tg.TargetGroupArn) ||
		aws.ToString(g.HealthCheckType) != "ELB" ||
		aws.ToString(g.LaunchTemplate.LaunchTemplateName) != ref.LaunchTemplate {
		t.Errorf("group = %+v", g)
	}

	// Every resource carries the four ionroller tags.
	resources, err := f.backend.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(resources) != 3 {
		t.Fatalf("List = %+v, want 3 resources", resources)
	}
	for _, r := range resources {
		if r.Endpoint != "api" || r.Environment != "e1" || r.Version != "1.2.3" || r.ID == "" {
			t.Errorf("resource %+v: want tags of api/e1/1.2.3", r)
		}
	}
}

func TestScaleBelowMinimumAndAboveMaximum(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	f := newFixture(t, "test")
	env := f.env("e1", 1)
	if err := f.backend.Create(ctx, "api", env); err != nil {
		t.Fatal(err)
	}
	ref := f.backend.Names("api", env.ID)
	for _, tc := range []struct{ capacity, min, max int32 }{{0, 0, 3}, {5, 1, 5}, {2, 1, 3}} {
		if err := f.backend.Scale(ctx, "api", env, int(tc.capacity)); err != nil {
			t.Fatal(err)
		}
		out, err := f.own.AutoScaling.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{
			AutoScalingGroupNames: []string{ref.AutoScalingGroup},
		})
		if err != nil {
			t.Fatal(err)
		}
		g := out.AutoScalingGroups[0]
		if aws.ToInt32(g.DesiredCapacity) != tc.capacity || aws.ToInt32(g.MinSize) != tc.min || aws.ToInt32(g.MaxSize) != tc.max {
			t.Errorf("scale to %d: desired %d, min %d, max %d; want min %d, max %d", tc.capacity,
				aws.ToInt32(g.DesiredCapacity), aws.ToInt32(g.MinSize), aws.ToInt32(g.MaxSize), tc.min, tc.max)
		}
	}
	if err := f.backend.Scale(ctx, "api", env, -1); err == nil {
		t.Error("scale to -1: want an error")
	}
	if err := f.backend.Scale(ctx, "api", f.env("missing", 1), 1); err == nil {
		t.Error("scale of an environment that does not exist: want an error")
	}
}

// crashingGroups fails CreateAutoScalingGroup, as if the shifter died right
// before creating the group: moto cannot be made to fail a call on demand.
type crashingGroups struct{ ec2env.AutoScaling }

func (crashingGroups) CreateAutoScalingGroup(context.Context, *autoscaling.CreateAutoScalingGroupInput, ...func(*autoscaling.Options)) (*autoscaling.CreateAutoScalingGroupOutput, error) {
	return nil, errors.New("crash")
}

func TestCreateCompletesAHalfBuiltEnvironment(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	f := newFixture(t, "test")
	env := f.env("e1", 1)

	api := f.api
	api.AutoScaling = crashingGroups{api.AutoScaling}
	if err := ec2env.New(api, "test", hclog.NewNullLogger()).Create(ctx, "api", env); err == nil {
		t.Fatal("create with a failing group: want an error")
	}
	if obs := f.observe(t, "api", env); obs.Exists || obs.Gone {
		t.Fatalf("half-built environment observed as %+v, want neither existing nor gone", obs)
	}

	f.calls.Reset()
	if err := f.backend.Create(ctx, "api", env); err != nil {
		t.Fatal(err)
	}
	if n := f.calls.Count("ELBv2", "CreateTargetGroup") + f.calls.Count("EC2", "CreateLaunchTemplate"); n != 0 {
		t.Errorf("completing the environment recreated %d resources: %s", n, f.calls)
	}
	if n := f.calls.Count("Auto Scaling", "CreateAutoScalingGroup"); n != 1 {
		t.Errorf("completing the environment created %d groups, want 1", n)
	}
	if obs := f.observe(t, "api", env); !obs.Exists || obs.InService != 1 {
		t.Errorf("completed environment observed as %+v", obs)
	}
	f.assertResourceCounts(t, 1, 1, 1)
}

func TestCreateAfterOnlyTheLaunchTemplateSurvived(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	f := newFixture(t, "test")
	env := f.env("e1", 1)
	if err := f.backend.Create(ctx, "api", env); err != nil {
		t.Fatal(err)
	}
	ref, target := f.backend.Names("api", env.ID), f.observe(t, "api", env).Target
	// Someone deletes the group and target group by hand.
	if _, err := f.own.AutoScaling.DeleteAutoScalingGroup(ctx, &autoscaling.DeleteAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(ref.AutoScalingGroup), ForceDelete: aws.Bool(true),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.own.ELBv2.DeleteTargetGroup(ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: aws.String(target)}); err != nil {
		t.Fatal(err)
	}

	// The reconciler asks for a Create once a read shows what is missing.
	if obs := f.observe(t, "api", env); obs.Exists || obs.Gone {
		t.Fatalf("after the group and target group were deleted: %+v", obs)
	}
	if err := f.backend.Create(ctx, "api", env); err != nil {
		t.Fatal(err)
	}
	if obs := f.observe(t, "api", env); !obs.Exists || obs.Targets != 1 || obs.Target == target || obs.Target == "" {
		t.Errorf("observe = %+v, want a new target group (was %s) with its target", obs, target)
	}
	f.assertResourceCounts(t, 1, 1, 1)
}

func TestDeleteWaitsForATargetGroupInUse(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	f := newFixture(t, "test")
	env := f.env("e1", 1)
	if err := f.backend.Create(ctx, "api", env); err != nil {
		t.Fatal(err)
	}
	target := f.observe(t, "api", env).Target
	rule, err := f.own.ELBv2.CreateRule(ctx, &elb.CreateRuleInput{
		ListenerArn: aws.String(f.net.ListenerARN),
		Priority:    aws.Int32(10),
		Conditions: []elbtypes.RuleCondition{{
			Field:             aws.String("path-pattern"),
			PathPatternConfig: &elbtypes.PathPatternConditionConfig{Values: []string{"/*"}},
		}},
		Actions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(target)}},
	})
	if err != nil {
		t.Fatal(err)
	}

	gone, err := f.backend.Delete(ctx, "api", env)
	if err != nil || gone {
		t.Fatalf("delete of an environment a rule forwards to = %v, %v; want not gone, no error", gone, err)
	}
	if obs := f.observe(t, "api", env); obs.Exists || obs.Gone || obs.Target != target {
		t.Errorf("after the first delete: %+v, want only the target group left", obs)
	}

	if _, err := f.own.ELBv2.DeleteRule(ctx, &elb.DeleteRuleInput{RuleArn: rule.Rules[0].RuleArn}); err != nil {
		t.Fatal(err)
	}
	gone, err = f.backend.Delete(ctx, "api", env)
	if err != nil || !gone {
		t.Fatalf("delete once the rule is gone = %v, %v; want gone", gone, err)
	}
}

// backgroundDeletes holds group deletions back, the way AWS deletes a group
// in the background while it terminates instances ("Delete in progress");
// moto deletes at once.
type backgroundDeletes struct {
	ec2env.AutoScaling
	deleting map[string]bool
}

func (b *backgroundDeletes) DeleteAutoScalingGroup(_ context.Context, in *autoscaling.DeleteAutoScalingGroupInput, _ ...func(*autoscaling.Options)) (*autoscaling.DeleteAutoScalingGroupOutput, error) {
	b.deleting[aws.ToString(in.AutoScalingGroupName)] = true
	return &autoscaling.DeleteAutoScalingGroupOutput{}, nil
}

func (b *backgroundDeletes) DescribeAutoScalingGroups(ctx context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, opts ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
	out, err := b.AutoScaling.DescribeAutoScalingGroups(ctx, in, opts...)
	if err != nil {
		return nil, err
	}
	for i, g := range out.AutoScalingGroups {
		if b.deleting[aws.ToString(g.AutoScalingGroupName)] {
			out.AutoScalingGroups[i].Status = aws.String("Delete in progress")
		}
	}
	return out, nil
}

func TestDeleteWaitsForTheGroup(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	f := newFixture(t, "test")
	env := f.env("e1", 1)
	if err := f.backend.Create(ctx, "api", env); err != nil {
		t.Fatal(err)
	}
	ref := f.backend.Names("api", env.ID)
	slow := &backgroundDeletes{AutoScaling: f.api.AutoScaling, deleting: map[string]bool{}}
	api := f.api
	api.AutoScaling = slow
	backend := ec2env.New(api, "test", hclog.NewNullLogger())

	for i := range 2 {
		gone, err := backend.Delete(ctx, "api", env)
		if err != nil || gone {
			t.Fatalf("delete #%d while the group is being deleted = %v, %v; want not gone", i+1, gone, err)
		}
	}
	if !slow.deleting[ref.AutoScalingGroup] {
		t.Fatal("the group was not deleted")
	}
	if obs := f.observe(t, "api", env); !obs.Exists {
		t.Errorf("target group or launch template deleted before the group is gone: %+v", obs)
	}

	// AWS finishes deleting the group.
	if _, err := f.own.AutoScaling.DeleteAutoScalingGroup(ctx, &autoscaling.DeleteAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(ref.AutoScalingGroup), ForceDelete: aws.Bool(true),
	}); err != nil {
		t.Fatal(err)
	}
	if gone, err := backend.Delete(ctx, "api", env); err != nil || !gone {
		t.Fatalf("delete once the group is gone = %v, %v; want gone", gone, err)
	}
	f.assertResourceCounts(t, 0, 0, 0)
}

func TestListSeesOnlyItsShifter(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	f := newFixture(t, "blue")
	if err := f.backend.Create(ctx, "api", f.env("e1", 0)); err != nil {
		t.Fatal(err)
	}
	if err := f.backend.Create(ctx, "web", f.env("e7", 0)); err != nil {
		t.Fatal(err)
	}
	other := ec2env.New(f.api, "green", hclog.NewNullLogger())
	if err := other.Create(ctx, "api", f.env("e1", 0)); err != nil {
		t.Fatal(err)
	}

	resources, err := f.backend.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, r := range resources {
		got[r.Endpoint+"/"+r.Environment+"/"+string(r.Kind)]++
	}
	want := map[string]int{
		"api/e1/launch_template": 1, "api/e1/auto_scaling_group": 1, "api/e1/target_group": 1,
		"web/e7/launch_template": 1, "web/e7/auto_scaling_group": 1, "web/e7/target_group": 1,
	}
	if len(got) != len(want) {
		t.Fatalf("List = %v, want %v", got, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("List has %d of %s, want %d", got[k], k, n)
		}
	}
}

func TestNames(t *testing.T) {
	t.Parallel()
	b := ec2env.New(ec2env.API{}, "shifter-1", hclog.NewNullLogger())
	ref := b.Names("api", "e12")
	if ref.LaunchTemplate != "ionroller-shifter-1-api-e12" || ref.AutoScalingGroup != ref.LaunchTemplate {
		t.Errorf("names = %+v", ref)
	}
	tgName := regexp.MustCompile(`^ir-[0-9a-f]{29}$`)
	if !tgName.MatchString(ref.TargetGroup) {
		t.Errorf("target group name %q: want ir- and 29 hex digits", ref.TargetGroup)
	}
	if other := b.Names("api", "e13"); other.TargetGroup == ref.TargetGroup {
		t.Error("two environments share a target group name")
	}
	if other := ec2env.New(ec2env.API{}, "shifter-2", hclog.NewNullLogger()).Names("api", "e12"); other.LaunchTemplate == ref.LaunchTemplate || other.TargetGroup == ref.TargetGroup {
		t.Error("two shifters share names")
	}

	odd := ec2env.New(ec2env.API{}, "host name:1", hclog.NewNullLogger()).Names("api", "e1")
	if !regexp.MustCompile(`^ionroller-host-name-1-api-e1-[0-9a-f]{16}$`).MatchString(odd.LaunchTemplate) {
		t.Errorf("launch template name of an odd shifter ID = %q", odd.LaunchTemplate)
	}
	long := b.Names(strings.Repeat("a", 40), strings.Repeat("e", 100))
	if len(long.LaunchTemplate) != 128 {
		t.Errorf("long launch template name has %d characters, want 128", len(long.LaunchTemplate))
	}
}

func attr(attrs []elbtypes.TargetGroupAttribute, key string) string {
	for _, a := range attrs {
		if aws.ToString(a.Key) == key {
			return aws.ToString(a.Value)
		}
	}
	return ""
}
