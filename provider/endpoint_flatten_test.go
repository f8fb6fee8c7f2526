package provider

import (
	"reflect"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// validSpec returns an endpoint the shifter accepts: the defaults and the
// fields that have none.
func validSpec() rollout.Endpoint {
	ep := rollout.NewEndpoint()
	ep.Name = "web"
	ep.Traffic = rollout.Traffic{
		ListenerARN: "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/0123456789abcdef/0123456789abcdef",
		Priority:    10,
	}
	ep.Template.Repository = "registry.example.com/web"
	ep.Template.ContainerPort = 8080
	ep.Template.AMI = "ami-0123456789abcdef0"
	ep.Template.Subnets = []string{"subnet-0123456789abcdef0"}
	return ep
}

// TestEndpointRoundTrip: flattening an endpoint and expanding it again
// gives it back, every field set or left empty.
func TestEndpointRoundTrip(t *testing.T) {
	full := validSpec()
	full.Team = "web"
	full.Placement = rollout.Placement{Region: "eu-west-1", RoleARN: "arn:aws:iam::123456789012:role/deploy", ExternalID: "x"}
	full.Traffic.Hosts, full.Traffic.Paths = []string{"web.example.com"}, []string{"/api/*"}
	full.Traffic.PreviewHost, full.Traffic.PreviewPriority = "preview.example.com", 11
	full.Template.Command, full.Template.Args = []string{"/app"}, []string{"serve", "-v"}
	full.Template.Env = map[string]string{"PORT": "8080"}
	full.Template.Secrets = map[string]string{"DB": "arn:aws:ssm:us-east-1:123456789012:parameter/db"}
	full.Template.SecurityGroups = []string{"sg-0123456789abcdef0"}
	full.Template.InstanceProfile = "web"
	full.Policy.Steps = []rollout.Step{{Weight: 5, Pause: rollout.DurationPtr(90 * time.Second)}, {Weight: 100}}
	full.Policy.Alarms = []string{"web-5xx"}
	full.Policy.BlockOnAlarm, full.Policy.AutoRollback, full.DeletionProtection = true, false, false
	full.Policy.MetricChecks = &rollout.MetricChecks{Max5xxPercent: 1.5, MaxLatency: rollout.Duration(time.Second), MaxRatioToStable: 2, MinRequests: 100}
	full.Policy.ObservedTraffic = &rollout.ObservedTraffic{TolerancePercent: 2.5, MaxWait: rollout.Duration(3 * time.Minute), Interval: rollout.Duration(20 * time.Second), MinRequests: 50, OnTimeout: rollout.OnTimeoutPause}
	full.Notifications = rollout.Notifications{WebhookURL: "https://hooks.example.com/T0/B0/x", SNSTopicARN: "arn:aws:sns:eu-west-1:123456789012:rollouts"}

	onECS := validSpec()
	def := rollout.NewEndpointFor(rollout.BackendECS).Template
	onECS.Template.Backend, onECS.Template.InstanceType, onECS.Template.AMI, onECS.Template.MinSize, onECS.Template.MaxSize, onECS.Template.ECS =
		def.Backend, def.InstanceType, "", def.MinSize, def.MaxSize, def.ECS
	onECS.Template.ECS.Cluster = "apps"
	fullECS := onECS
	fullECS.Template.ECS = &rollout.ECS{
		Cluster: "arn:aws:ecs:us-east-1:123456789012:cluster/apps", CPU: 1024, Memory: 4096,
		CapacityProviders: []rollout.CapacityProvider{{Name: "FARGATE_SPOT", Weight: 3}, {Name: "FARGATE", Weight: 1, Base: 2}},
		TaskRoleARN:       "arn:aws:iam::123456789012:role/web", ExecutionRoleARN: "arn:aws:iam::123456789012:role/exec",
		AssignPublicIP: true, PlatformVersion: "1.4.0",
		Logs: &rollout.ECSLogs{Group: "/ecs/web", StreamPrefix: "web"},
		HealthCheck: &rollout.ContainerHealthCheck{Command: []string{"CMD", "true"}, Interval: rollout.Duration(30 * time.Second),
			Timeout: rollout.Duration(5 * time.Second), Retries: 3, StartPeriod: rollout.Duration(time.Minute)},
	}

	schemaType := endpointResourceSchema(t).Type()
	for name, ep := range map[string]rollout.Endpoint{"defaults": validSpec(), "every field": full, "ecs defaults": onECS, "every ecs field": fullECS} {
		t.Run(name, func(t *testing.T) {
			var m endpointModel
			failOn(t, flattenEndpoint(t.Context(), schemaType, rollout.EndpointView{Endpoint: ep}, &m))
			got, diags := expandEndpoint(t.Context(), m)
			failOn(t, diags)
			if !reflect.DeepEqual(normalized(got), normalized(ep)) {
				t.Errorf("round trip changed the endpoint:\n got %+v\nwant %+v", got, ep)
			}
		})
	}
}

// normalized makes empty and nil collections alike, as the API's JSON does.
func normalized(ep rollout.Endpoint) rollout.Endpoint {
	for _, s := range []*[]string{&ep.Traffic.Hosts, &ep.Traffic.Paths, &ep.Template.Command, &ep.Template.Args, &ep.Template.SecurityGroups, &ep.Policy.Alarms} {
		if len(*s) == 0 {
			*s = nil
		}
	}
	for _, m := range []*map[string]string{&ep.Template.Env, &ep.Template.Secrets} {
		if len(*m) == 0 {
			*m = nil
		}
	}
	return ep
}

func endpointResourceSchema(t *testing.T) schema.Schema {
	t.Helper()
	var resp resource.SchemaResponse
	NewEndpointResource().Schema(t.Context(), resource.SchemaRequest{}, &resp)
	failOn(t, resp.Diagnostics)
	return resp.Schema
}

func failOn(t *testing.T, diags diag.Diagnostics) {
	t.Helper()
	for _, d := range diags {
		t.Errorf("%s: %s: %s", d.Severity(), d.Summary(), d.Detail())
	}
	if diags.HasError() {
		t.FailNow()
	}
}
