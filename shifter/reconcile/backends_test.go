package reconcile_test

import (
	"slices"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// running is a backend as the scenario tests see it: how an endpoint's
// template runs on it in the harness' account, and how a test reads what
// runs. A routing names one (ec2 unless it says), so a scenario that runs
// for every routing runs on every backend too.
type running struct {
	name string
	// template makes h.ep's template run on the backend.
	template func(h *harness)
	// units reads the units that run each version (an Auto Scaling group,
	// an active ECS service), by version.
	units func(h *harness) map[string][]string
	// created checks the resources of the one environment of version v1
	// of a harness' endpoint: there, of its capacity (2), tagged with want.
	created func(h *harness, want map[string]string)
	// definitions counts what the backend keeps besides units and target
	// groups: launch templates, active task definition revisions.
	definitions func(h *harness) int
	// capacity reads the desired capacity of a unit.
	capacity func(h *harness, unit string) int
	// fail makes a unit's targets fail their health checks.
	fail func(h *harness, unit string)
	// service and create name the operation that creates a unit, scale
	// the one that scales it.
	service, create, scale string
}

var (
	ec2Backend = running{
		name: rollout.BackendEC2,
		template: func(h *harness) {
			h.ep.Template.AMI = h.net.AMI
		},
		units:   asgGroups,
		created: ec2Created,
		capacity: func(h *harness, group string) int {
			out, err := h.asg.DescribeAutoScalingGroups(h.ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{group}})
			if err != nil || len(out.AutoScalingGroups) != 1 {
				h.t.Fatalf("group %s: %v", group, err)
			}
			return int(awssdk.ToInt32(out.AutoScalingGroups[0].DesiredCapacity))
		},
		definitions: func(h *harness) int {
			out, err := h.ec2.DescribeLaunchTemplates(h.ctx, &ec2.DescribeLaunchTemplatesInput{})
			if err != nil {
				h.t.Fatal(err)
			}
			return len(out.LaunchTemplates)
		},
		fail:    (*harness).stopInstances,
		service: "autoscaling",
		create:  "CreateAutoScalingGroup",
		scale:   "UpdateAutoScalingGroup",
	}
	ecsBackend = running{
		name: rollout.BackendECS,
		template: func(h *harness) {
			def := rollout.NewEndpointFor(rollout.BackendECS).Template
			t := &h.ep.Template
			t.Backend, t.InstanceType, t.MinSize, t.MaxSize, t.ECS = def.Backend, def.InstanceType, def.MinSize, def.MaxSize, def.ECS
			t.ECS.Cluster = awstest.Cluster
		},
		units:   ecsServices,
		created: ecsCreated,
		capacity: func(h *harness, service string) int {
			return int(h.ecsService(service).DesiredCount)
		},
		definitions: func(h *harness) int {
			out, err := h.ecs.ListTaskDefinitions(h.ctx, &ecs.ListTaskDefinitionsInput{Status: ecstypes.TaskDefinitionStatusActive})
			if err != nil {
				h.t.Fatal(err)
			}
			return len(out.TaskDefinitionArns)
		},
		// moto runs no task: the AWS layer, which plays ECS's part, fails
		// the checks of the service's target group.
		fail: func(h *harness, service string) {
			for _, lb := range h.ecsService(service).LoadBalancers {
				awstest.Layer().SetUnhealthy(awssdk.ToString(lb.TargetGroupArn))
			}
		},
		service: "ecs",
		create:  "CreateService",
		scale:   "UpdateService",
	}
)

// onECS is r running its versions on ECS.
func onECS(r routing) routing {
	r.name += "-ecs"
	r.backend = ecsBackend
	return r
}

// asgGroups returns the shifter's Auto Scaling groups by version.
func asgGroups(h *harness) map[string][]string {
	out, err := h.asg.DescribeAutoScalingGroups(h.ctx, &autoscaling.DescribeAutoScalingGroupsInput{})
	if err != nil {
		h.t.Fatal(err)
	}
	byVersion := map[string][]string{}
	for _, g := range out.AutoScalingGroups {
		for _, t := range g.Tags {
			if awssdk.ToString(t.Key) == "ionroller:version" {
				byVersion[awssdk.ToString(t.Value)] = append(byVersion[awssdk.ToString(t.Value)], awssdk.ToString(g.AutoScalingGroupName))
			}
		}
	}
	return byVersion
}

// ecsServices returns the shifter's active services by version, read by
// their tags (moto's DescribeServices leaves tags out).
func ecsServices(h *harness) map[string][]string {
	h.t.Helper()
	byVersion := map[string][]string{}
	list, err := h.ecs.ListServices(h.ctx, &ecs.ListServicesInput{Cluster: awssdk.String(awstest.Cluster)})
	if err != nil {
		h.t.Fatal(err)
	}
	for batch := range slices.Chunk(list.ServiceArns, 10) {
		out, err := h.ecs.DescribeServices(h.ctx, &ecs.DescribeServicesInput{Cluster: awssdk.String(awstest.Cluster), Services: batch})
		if err != nil {
			h.t.Fatal(err)
		}
		for _, s := range out.Services {
			if awssdk.ToString(s.Status) != "ACTIVE" {
				continue
			}
			tags, err := h.ecs.ListTagsForResource(h.ctx, &ecs.ListTagsForResourceInput{ResourceArn: s.ServiceArn})
			if err != nil {
				h.t.Fatal(err)
			}
			for _, t := range tags.Tags {
				if awssdk.ToString(t.Key) == "ionroller:version" {
					byVersion[awssdk.ToString(t.Value)] = append(byVersion[awssdk.ToString(t.Value)], awssdk.ToString(s.ServiceName))
				}
			}
		}
	}
	return byVersion
}

func ec2Created(h *harness, want map[string]string) {
	t := h.t
	lts, err := h.ec2.DescribeLaunchTemplates(h.ctx, &ec2.DescribeLaunchTemplatesInput{})
	if err != nil || len(lts.LaunchTemplates) != 1 {
		t.Fatalf("launch templates = %v, %v; want 1", lts, err)
	}
	checkTags(t, "launch template", ec2Tags(lts.LaunchTemplates[0].Tags), want)

	groups, err := h.asg.DescribeAutoScalingGroups(h.ctx, &autoscaling.DescribeAutoScalingGroupsInput{})
	if err != nil || len(groups.AutoScalingGroups) != 1 {
		t.Fatalf("groups = %v, %v; want 1", groups, err)
	}
	g := groups.AutoScalingGroups[0]
	if awssdk.ToInt32(g.DesiredCapacity) != 2 || len(g.Instances) != 2 {
		t.Errorf("group desired %d with %d instances, want 2", awssdk.ToInt32(g.DesiredCapacity), len(g.Instances))
	}
	gt := map[string]string{}
	for _, tag := range g.Tags {
		gt[awssdk.ToString(tag.Key)] = awssdk.ToString(tag.Value)
	}
	checkTags(t, "group", gt, want)
}

func ecsCreated(h *harness, want map[string]string) {
	t := h.t
	names := ecsServices(h)["v1"]
	if len(names) != 1 {
		t.Fatalf("services of v1 = %v, want 1", names)
	}
	out, err := h.ecs.DescribeServices(h.ctx, &ecs.DescribeServicesInput{Cluster: awssdk.String(awstest.Cluster), Services: names})
	if err != nil {
		t.Fatal(err)
	}
	s := out.Services[0]
	if s.DesiredCount != 2 || s.RunningCount != 2 || len(s.LoadBalancers) != 1 {
		t.Errorf("service desired %d running %d with %d load balancers, want 2, 2 and its target group", s.DesiredCount, s.RunningCount, len(s.LoadBalancers))
	}
	tags, err := h.ecs.ListTagsForResource(h.ctx, &ecs.ListTagsForResourceInput{ResourceArn: s.ServiceArn})
	if err != nil {
		t.Fatal(err)
	}
	checkTags(t, "service", ecsTags(tags.Tags), want)
	td, err := h.ecs.DescribeTaskDefinition(h.ctx, &ecs.DescribeTaskDefinitionInput{
		TaskDefinition: s.TaskDefinition, Include: []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags},
	})
	if err != nil {
		t.Fatal(err)
	}
	checkTags(t, "task definition", ecsTags(td.Tags), want)
	if c := td.TaskDefinition.ContainerDefinitions; len(c) != 1 || awssdk.ToString(c[0].Image) != "registry.example.com/web:v1" {
		t.Errorf("task definition runs %v, want registry.example.com/web:v1", c)
	}
}

func ecsTags(tags []ecstypes.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[awssdk.ToString(t.Key)] = awssdk.ToString(t.Value)
	}
	return m
}

// ecsService describes a service of the harness' cluster.
func (h *harness) ecsService(name string) ecstypes.Service {
	h.t.Helper()
	out, err := h.ecs.DescribeServices(h.ctx, &ecs.DescribeServicesInput{Cluster: awssdk.String(awstest.Cluster), Services: []string{name}})
	if err != nil || len(out.Services) != 1 {
		h.t.Fatalf("service %s: %v", name, err)
	}
	return out.Services[0]
}
