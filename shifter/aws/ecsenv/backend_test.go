package ecsenv_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/hashicorp/go-hclog"

	shifteraws "github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/ecsenv"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/schedule"
	"github.com/ionroller/terraform-provider-ionroller/shifter/reconcile"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// fixture is a backend in a fresh moto account with a network (and its ECS
// cluster), and the counter of the backend's calls.
type fixture struct {
	cfg   aws.Config
	net   awstest.Net
	api   ecsenv.API
	calls *awstest.Counter
	own   *ecs.Client // the test's, outside the backend's budgets
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	cfg := awstest.Config(t)
	n := awstest.Network(t, cfg)
	calls := awstest.NewCounter()
	calls.Add(&cfg) // after the network: count only the backend's calls
	set, err := shifteraws.NewClients(cfg, hclog.NewNullLogger(), schedule.Options{}).For(rollout.Placement{})
	if err != nil {
		t.Fatal(err)
	}
	return fixture{
		cfg:   cfg,
		net:   n,
		api:   ecsenv.API{ECS: set.ECS, TargetGroups: set.ELBv2, EC2: set.EC2, Region: awstest.Region},
		calls: calls,
		own:   ecs.NewFromConfig(awstest.Exempt(cfg)),
	}
}

func (f fixture) env(id string) rollout.Environment {
	tmpl := rollout.NewEndpointFor(rollout.BackendECS).Template
	tmpl.Repository, tmpl.ContainerPort = "example.com/team/app", 8080
	tmpl.Subnets, tmpl.SecurityGroups = f.net.Subnets, []string{f.net.SecurityGroup}
	tmpl.ECS.Cluster = f.net.Cluster
	return rollout.Environment{ID: id, Version: "1.2.3", Image: "example.com/team/app:1.2.3", Template: &tmpl, Capacity: 2}
}

// failingCreate fails CreateService once, as a shifter killed between
// registering the task definition and creating the service would.
type failingCreate struct {
	ecsenv.ECS
	failed bool
}

func (f *failingCreate) CreateService(ctx context.Context, in *ecs.CreateServiceInput, opts ...func(*ecs.Options)) (*ecs.CreateServiceOutput, error) {
	if !f.failed {
		f.failed = true
		return nil, errors.New("killed")
	}
	return f.ECS.CreateService(ctx, in, opts...)
}

// TestACreateInterruptedAfterTheRevisionReusesIt: invariant 5 and 6 for
// ECS: a task definition revision registered by a Create that did not get
// to create the service is found by its tag and reused, not registered
// again.
func TestACreateInterruptedAfterTheRevisionReusesIt(t *testing.T) {
	f := newFixture(t)
	api := f.api
	api.ECS = &failingCreate{ECS: f.api.ECS}
	b := ecsenv.New(api, "test", hclog.NewNullLogger())
	env := f.env("e1")
	if err := b.Create(t.Context(), "web", env); err == nil {
		t.Fatal("the first Create succeeded, though its CreateService failed")
	}
	if err := b.Create(t.Context(), "web", env); err != nil {
		t.Fatal(err)
	}
	if n := f.calls.Count("ecs", "RegisterTaskDefinition"); n != 1 {
		t.Errorf("RegisterTaskDefinition calls = %d, want 1 (the revision reused)", n)
	}
	ref := b.Names(f.net.Cluster, "web", "e1")
	out, err := f.own.DescribeServices(t.Context(), &ecs.DescribeServicesInput{Cluster: aws.String(ref.Cluster), Services: []string{ref.Service}})
	if err != nil || len(out.Services) != 1 {
		t.Fatalf("the service: %v", err)
	}
	if td := aws.ToString(out.Services[0].TaskDefinition); td == "" || out.Services[0].DesiredCount != 2 {
		t.Errorf("service runs %q at %d, want the environment's revision at 2", td, out.Services[0].DesiredCount)
	}
	// The failed call never reached AWS: one CreateService did, and a
	// Create of what exists makes none.
	if err := b.Create(t.Context(), "web", env); err != nil || f.calls.Count("ecs", "CreateService") != 1 {
		t.Errorf("a Create of what exists: %v, CreateService calls %d, want 1 in all", err, f.calls.Count("ecs", "CreateService"))
	}
}

// TestSettledEnvironmentsShareTheClusterListing: the settled environments
// of every endpoint in a cluster are observed from one listing of it.
func TestSettledEnvironmentsShareTheClusterListing(t *testing.T) {
	f := newFixture(t)
	b := ecsenv.New(f.api, "test", hclog.NewNullLogger())
	endpoints := []string{"web", "api", "shop"}
	for _, ep := range endpoints {
		if err := b.Create(t.Context(), ep, f.env("e1")); err != nil {
			t.Fatal(err)
		}
	}
	f.calls.Reset()
	listed := time.Now()
	for _, ep := range endpoints {
		envs, err := b.Observe(t.Context(), ep, []rollout.Environment{f.env("e1")}, reconcile.Query{Listed: listed})
		if err != nil {
			t.Fatal(err)
		}
		if o := envs["e1"]; !o.Exists || o.Capacity != 2 || o.InService != 2 || o.Target == "" {
			t.Errorf("%s's environment observed as %+v, want it whole at capacity 2", ep, o)
		}
	}
	if list, describe := f.calls.Count("ecs", "ListServices"), f.calls.Count("ecs", "DescribeServices"); list != 1 || describe != 1 {
		t.Errorf("observing 3 endpoints at rest took %d ListServices and %d DescribeServices, want 1 each\n%s", list, describe, f.calls)
	}
}

// TestAServiceWhoseTargetGroupWasDeletedIsCreatedAgainBehindANewOne: a
// service's target group cannot be swapped, so the service goes and comes
// back with a new group; until then Create says why it cannot finish.
func TestAServiceWhoseTargetGroupWasDeletedIsCreatedAgainBehindANewOne(t *testing.T) {
	f := newFixture(t)
	b := ecsenv.New(f.api, "test", hclog.NewNullLogger())
	env := f.env("e1")
	ctx := t.Context()
	if err := b.Create(ctx, "web", env); err != nil {
		t.Fatal(err)
	}
	ref := b.Names(f.net.Cluster, "web", "e1")
	tgs := elb.NewFromConfig(awstest.Exempt(f.cfg))
	old, err := tgs.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{Names: []string{ref.TargetGroup}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tgs.DeleteTargetGroup(ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: old.TargetGroups[0].TargetGroupArn}); err != nil {
		t.Fatal(err)
	}
	if err := b.Create(ctx, "web", env); err == nil || !strings.Contains(err.Error(), "is gone") {
		t.Fatalf("Create with the target group gone = %v, want it to say so", err)
	}
	var svc ecstypes.Service
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		err := b.Create(ctx, "web", env)
		out, derr := f.own.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(ref.Cluster), Services: []string{ref.Service}})
		if derr != nil {
			t.Fatal(derr)
		}
		if err == nil && len(out.Services) == 1 && aws.ToString(out.Services[0].Status) == "ACTIVE" {
			svc = out.Services[0]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the service never came back: %v", err)
		}
	}
	if lb := svc.LoadBalancers; len(lb) != 1 || aws.ToString(lb[0].TargetGroupArn) == aws.ToString(old.TargetGroups[0].TargetGroupArn) {
		t.Errorf("the service registers in %v, want the new target group", lb)
	}
}
