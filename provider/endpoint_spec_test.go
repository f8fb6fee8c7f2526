package provider

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

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
	full.Notifications = rollout.Notifications{WebhookURL: "https://hooks.example.com/T0/B0/x", SNSTopicARN: "arn:aws:sns:eu-west-1:123456789012:rollouts"}

	for name, ep := range map[string]rollout.Endpoint{"defaults": validSpec(), "every field": full} {
		t.Run(name, func(t *testing.T) {
			var m endpointModel
			failOn(t, flattenEndpointSpec(t.Context(), ep, &m))
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

// TestValidatorsMatchTheShifter: at the edges of every bound the provider
// copies from rollout/validate.go, the attribute's validators refuse a
// value exactly when the shifter refuses it, naming the same field.
func TestValidatorsMatchTheShifter(t *testing.T) {
	s := endpointResourceSchema(t)
	type edit func(*rollout.Endpoint)
	durations := []struct {
		field   string
		lo, hi  time.Duration
		set     func(*rollout.Endpoint, rollout.Duration)
		prepare edit
	}{
		{"template.deregistration_delay", 0, time.Hour, func(ep *rollout.Endpoint, d rollout.Duration) { ep.Template.DeregistrationDelay = d }, nil},
		{"template.health_check.interval", 5 * time.Second, 300 * time.Second, func(ep *rollout.Endpoint, d rollout.Duration) { ep.Template.HealthCheck.Interval = d },
			func(ep *rollout.Endpoint) { ep.Template.HealthCheck.Timeout = rollout.Duration(2 * time.Second) }},
		{"template.health_check.timeout", 2 * time.Second, 120 * time.Second, func(ep *rollout.Endpoint, d rollout.Duration) { ep.Template.HealthCheck.Timeout = d },
			func(ep *rollout.Endpoint) { ep.Template.HealthCheck.Interval = rollout.Duration(300 * time.Second) }},
		{"policy.healthy_timeout", time.Second, 24 * time.Hour, func(ep *rollout.Endpoint, d rollout.Duration) { ep.Policy.HealthyTimeout = d }, nil},
		{"policy.bake_time", 0, 7 * 24 * time.Hour, func(ep *rollout.Endpoint, d rollout.Duration) { ep.Policy.BakeTime = d }, nil},
		{"policy.retain_previous", 0, 30 * 24 * time.Hour, func(ep *rollout.Endpoint, d rollout.Duration) { ep.Policy.RetainPrevious = d }, nil},
		{"policy.metric_checks.max_latency", 0, time.Minute, func(ep *rollout.Endpoint, d rollout.Duration) {
			ep.Policy.MetricChecks = &rollout.MetricChecks{MaxLatency: d}
		}, nil},
		{"policy.steps[0].pause", 0, 7 * 24 * time.Hour, func(ep *rollout.Endpoint, d rollout.Duration) { ep.Policy.Steps[0].Pause = &d }, nil},
	}
	for _, tc := range durations {
		for _, d := range []time.Duration{tc.lo - time.Nanosecond, tc.lo, tc.hi, tc.hi + time.Nanosecond} {
			if d < 0 {
				continue // not a duration the API can carry
			}
			ep := validSpec()
			if tc.prepare != nil {
				tc.prepare(&ep)
			}
			tc.set(&ep, rollout.Duration(d))
			checkSameVerdict(t, s, tc.field, rollout.Duration(d).String(), ep)
		}
	}

	ints := []struct {
		field  string
		values []int64
		set    func(*rollout.Endpoint, int)
	}{
		{"traffic.priority", []int64{0, 1, 50000, 50001}, func(ep *rollout.Endpoint, v int) { ep.Traffic.Priority = v }},
		{"template.container_port", []int64{0, 1, 65535, 65536}, func(ep *rollout.Endpoint, v int) { ep.Template.ContainerPort = v }},
		{"template.min_size", []int64{-1, 0, 1}, func(ep *rollout.Endpoint, v int) { ep.Template.MinSize = v }},
		{"template.max_size", []int64{0, 1000, 1001}, func(ep *rollout.Endpoint, v int) { ep.Template.MinSize, ep.Template.MaxSize = 0, v }},
		{"template.health_check.healthy_threshold", []int64{1, 2, 10, 11}, func(ep *rollout.Endpoint, v int) { ep.Template.HealthCheck.HealthyThreshold = v }},
		{"template.health_check.unhealthy_threshold", []int64{1, 2, 10, 11}, func(ep *rollout.Endpoint, v int) { ep.Template.HealthCheck.UnhealthyThreshold = v }},
		{"policy.min_healthy_percent", []int64{0, 1, 100, 101}, func(ep *rollout.Endpoint, v int) { ep.Policy.MinHealthyPercent = v }},
		{"policy.retain_capacity_percent", []int64{-1, 0, 100, 101}, func(ep *rollout.Endpoint, v int) { ep.Policy.RetainCapacityPercent = v }},
		{"policy.metric_checks.min_requests", []int64{-1, 0}, func(ep *rollout.Endpoint, v int) { ep.Policy.MetricChecks = &rollout.MetricChecks{MinRequests: v} }},
	}
	for _, tc := range ints {
		for _, v := range tc.values {
			ep := validSpec()
			tc.set(&ep, int(v))
			checkSameVerdict(t, s, tc.field, v, ep)
		}
	}

	floats := []struct {
		field  string
		values []float64
		set    func(*rollout.Endpoint, float64)
	}{
		{"policy.metric_checks.max_5xx_percent", []float64{-0.1, 0, 100, 100.1}, func(ep *rollout.Endpoint, v float64) {
			ep.Policy.MetricChecks = &rollout.MetricChecks{Max5xxPercent: v}
		}},
		{"policy.metric_checks.max_ratio_to_stable", []float64{0, 0.5, 1}, func(ep *rollout.Endpoint, v float64) {
			ep.Policy.MetricChecks = &rollout.MetricChecks{MaxRatioToStable: v}
		}},
	}
	for _, tc := range floats {
		for _, v := range tc.values {
			ep := validSpec()
			tc.set(&ep, v)
			checkSameVerdict(t, s, tc.field, v, ep)
		}
	}

	strs := []struct {
		field  string
		values []string
		set    func(*rollout.Endpoint, string)
	}{
		{"name", []string{"w", "web", "Web", "web-", "w" + strings.Repeat("e", 39), "w" + strings.Repeat("e", 40)}, func(ep *rollout.Endpoint, v string) { ep.Name = v }},
		{"placement.region", []string{"us-east-1", "us-gov-west-1", "Europe"}, func(ep *rollout.Endpoint, v string) { ep.Placement.Region = v }},
		{"template.repository", []string{"web", "registry.example.com:5000/team/web", "Web", "web:1"}, func(ep *rollout.Endpoint, v string) { ep.Template.Repository = v }},
		{"template.instance_type", []string{"t3.micro", "m7g.2xlarge", "t3"}, func(ep *rollout.Endpoint, v string) { ep.Template.InstanceType = v }},
		{"template.instance_profile", []string{"web", "arn:aws:iam::123456789012:instance-profile/web", "arn:aws:iam::1:role/web"}, func(ep *rollout.Endpoint, v string) { ep.Template.InstanceProfile = v }},
		{"template.health_check.path", []string{"/", "/healthz", "healthz"}, func(ep *rollout.Endpoint, v string) { ep.Template.HealthCheck.Path = v }},
	}
	for _, tc := range strs {
		for _, v := range tc.values {
			ep := validSpec()
			tc.set(&ep, v)
			checkSameVerdict(t, s, tc.field, v, ep)
		}
	}
}

// checkSameVerdict checks that the validators of the attribute at field
// refuse value exactly when the shifter refuses ep at that field.
func checkSameVerdict(t *testing.T, s schema.Schema, field string, value any, ep rollout.Endpoint) {
	t.Helper()
	p, ok := fieldPath(field)
	if !ok {
		t.Fatalf("%s is not a path", field)
	}
	err := ep.Validate()
	shifter := err != nil && rollout.ErrorField(err) == field
	provider := refuses(t, s, p, value)
	if provider != shifter {
		t.Errorf("%s = %v: the provider refuses it: %t; the shifter: %t (%v)", field, value, provider, shifter, err)
	}
}

// refuses runs the validators of the attribute at p on value.
func refuses(t *testing.T, s schema.Schema, p path.Path, value any) bool {
	t.Helper()
	ctx := context.Background()
	a, diags := s.AttributeAtPath(ctx, p)
	failOn(t, diags)
	switch a := a.(type) {
	case schema.StringAttribute:
		for _, v := range a.Validators {
			resp := &validator.StringResponse{}
			v.ValidateString(ctx, validator.StringRequest{Path: p, ConfigValue: types.StringValue(fmt.Sprint(value))}, resp)
			diags.Append(resp.Diagnostics...)
		}
	case schema.Int64Attribute:
		for _, v := range a.Validators {
			resp := &validator.Int64Response{}
			v.ValidateInt64(ctx, validator.Int64Request{Path: p, ConfigValue: types.Int64Value(value.(int64))}, resp)
			diags.Append(resp.Diagnostics...)
		}
	case schema.Float64Attribute:
		for _, v := range a.Validators {
			resp := &validator.Float64Response{}
			v.ValidateFloat64(ctx, validator.Float64Request{Path: p, ConfigValue: types.Float64Value(value.(float64))}, resp)
			diags.Append(resp.Diagnostics...)
		}
	default:
		t.Fatalf("no validators to run on %s (%T)", p, a)
	}
	return diags.HasError()
}
