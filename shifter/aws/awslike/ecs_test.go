package awslike_test

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
)

// TestECSServiceTasksAreRegisteredAndDrainAsOnAWS checks the layer's part of
// ECS: a service's tasks are registered by IP in its target group, drain
// when it scales in, and a deleted service drains before it is inactive.
func TestECSServiceTasksAreRegisteredAndDrainAsOnAWS(t *testing.T) {
	f := newFixture(t, 1)
	ctx := t.Context()
	out, err := f.elb.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{
		Name: aws.String("tasks"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(8080), VpcId: aws.String(f.net.VPC),
		TargetType: elbtypes.TargetTypeEnumIp, HealthCheckIntervalSeconds: aws.Int32(interval), HealthyThresholdCount: aws.Int32(threshold),
	})
	if err != nil {
		t.Fatal(err)
	}
	group := aws.ToString(out.TargetGroups[0].TargetGroupArn)
	if _, err := f.elb.ModifyTargetGroupAttributes(ctx, &elb.ModifyTargetGroupAttributesInput{
		TargetGroupArn: &group,
		Attributes:     []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("20")}},
	}); err != nil {
		t.Fatal(err)
	}
	f.forward(t, group)
	f.clock.Add(time.Millisecond) // the tasks start after the group came into use

	// The code under test's calls, not exempt: the layer follows those.
	client := ecs.NewFromConfig(f.cfg)
	createService(t, client, f.net, group, 3)
	service := func() ecstypes.Service {
		t.Helper()
		out, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("apps"), Services: []string{"web-v1"}})
		if err != nil || len(out.Services) != 1 {
			t.Fatalf("describe the service: %v (%d services)", err, len(out.Services))
		}
		return out.Services[0]
	}
	if s := service(); s.RunningCount != 3 || aws.ToString(s.Status) != "ACTIVE" {
		t.Fatalf("service is %s running %d, want ACTIVE running 3", aws.ToString(s.Status), s.RunningCount)
	}
	tasks := slices.Sorted(maps.Keys(f.health(t, group)))
	if len(tasks) != 3 {
		t.Fatalf("the target group has %v, want a target per task", f.health(t, group))
	}
	f.wantHealth(t, group, registering, tasks...)
	f.clock.Add(initial)
	f.wantHealth(t, group, healthy, tasks...)

	if _, err := client.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("apps"), Service: aws.String("web-v1"), DesiredCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	h := f.health(t, group)
	var stopped int
	for _, s := range h {
		if s == draining {
			stopped++
		}
	}
	if stopped != 2 || len(h) != 3 || service().RunningCount != 1 {
		t.Errorf("scaled to 1: targets %v, running %d; want 2 draining and 1 running", h, service().RunningCount)
	}

	if _, err := client.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String("apps"), Service: aws.String("web-v1"), Force: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if s := service(); aws.ToString(s.Status) != "DRAINING" || s.RunningCount != 0 {
		t.Errorf("deleted: service is %s running %d, want DRAINING running 0", aws.ToString(s.Status), s.RunningCount)
	}
	f.clock.Add(20 * time.Second / 100)
	if s := service(); aws.ToString(s.Status) != "INACTIVE" {
		t.Errorf("drained: service is %s, want INACTIVE", aws.ToString(s.Status))
	}
	if h := f.health(t, group); len(h) != 0 {
		t.Errorf("drained: the target group still has %v", h)
	}
}

// createService creates, through client, a cluster "apps" and a service
// "web-v1" of desired tasks in it behind group.
func createService(t *testing.T, client *ecs.Client, net awstest.Net, group string, desired int32) {
	t.Helper()
	ctx := t.Context()
	if _, err := client.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("apps")}); err != nil {
		t.Fatal(err)
	}
	td, err := client.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("web"), NetworkMode: ecstypes.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("web:v1"),
			PortMappings: []ecstypes.PortMapping{{ContainerPort: aws.Int32(8080)}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String("apps"), ServiceName: aws.String("web-v1"), TaskDefinition: td.TaskDefinition.TaskDefinitionArn,
		DesiredCount: aws.Int32(desired), LaunchType: ecstypes.LaunchTypeFargate,
		LoadBalancers: []ecstypes.LoadBalancer{{TargetGroupArn: &group, ContainerName: aws.String("app"), ContainerPort: aws.Int32(8080)}},
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
			Subnets: net.Subnets, SecurityGroups: []string{net.SecurityGroup}}},
	}); err != nil {
		t.Fatal(err)
	}
}

// TestAnECSServiceWhoseCreationTheLayerMissedRunsItsTasks: a create whose
// answer the layer never saw (its caller killed mid-call; here, a create
// that went to moto another way) still runs its tasks, as ECS's scheduler
// would, once the service is described.
func TestAnECSServiceWhoseCreationTheLayerMissedRunsItsTasks(t *testing.T) {
	f := newFixture(t, 1)
	out, err := f.elb.CreateTargetGroup(t.Context(), &elb.CreateTargetGroupInput{
		Name: aws.String("tasks"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(8080), VpcId: aws.String(f.net.VPC),
		TargetType: elbtypes.TargetTypeEnumIp,
	})
	if err != nil {
		t.Fatal(err)
	}
	group := aws.ToString(out.TargetGroups[0].TargetGroupArn)
	moto := f.acct.Config.Copy()
	moto.BaseEndpoint = aws.String(awstest.MotoEndpoint()) // past every layer
	createService(t, ecs.NewFromConfig(moto), f.net, group, 2)
	if h := f.health(t, group); len(h) != 0 {
		t.Fatalf("tasks registered before the layer saw the service: %v", h)
	}
	desc, err := ecs.NewFromConfig(f.cfg).DescribeServices(t.Context(), &ecs.DescribeServicesInput{Cluster: aws.String("apps"), Services: []string{"web-v1"}})
	if err != nil || len(desc.Services) != 1 {
		t.Fatalf("describe: %v", err)
	}
	if desc.Services[0].RunningCount != 2 || len(f.health(t, group)) != 2 {
		t.Errorf("described, the service runs %d tasks and its group has %v; want 2 of each", desc.Services[0].RunningCount, f.health(t, group))
	}
}
