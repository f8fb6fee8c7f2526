package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// expandEndpoint returns the spec of m (a plan or a state) for the API.
func expandEndpoint(ctx context.Context, m endpointModel) (rollout.Endpoint, diag.Diagnostics) {
	x := &expander{ctx: ctx}
	ep := rollout.Endpoint{
		Name:               m.Name.ValueString(),
		Team:               m.Team.ValueString(),
		DeletionProtection: m.DeletionProtection.ValueBool(),
		ObserveOnly:        m.ObserveOnly.ValueBool(),
	}
	var placement placementModel
	if x.object(m.Placement, &placement) {
		ep.Placement = rollout.Placement{
			Region:     placement.Region.ValueString(),
			RoleARN:    placement.RoleARN.ValueString(),
			ExternalID: placement.ExternalID.ValueString(),
		}
	}
	var traffic trafficModel
	if x.object(m.Traffic, &traffic) {
		ep.Traffic = rollout.Traffic{
			ListenerARN:        traffic.ListenerARN.ValueString(),
			Priority:           int(traffic.Priority.ValueInt64()),
			Hosts:              x.strings(traffic.Hosts),
			Paths:              x.strings(traffic.Paths),
			PreviewHost:        traffic.PreviewHost.ValueString(),
			PreviewListenerARN: traffic.PreviewListenerARN.ValueString(),
			PreviewPriority:    int(traffic.PreviewPriority.ValueInt64()),
		}
		var r53 route53TrafficModel
		if x.object(traffic.Route53, &r53) {
			ep.Traffic.Route53 = &rollout.Route53Traffic{
				HostedZoneID:         r53.HostedZoneID.ValueString(),
				Name:                 r53.Name.ValueString(),
				Listeners:            x.strings(r53.Listeners),
				EvaluateTargetHealth: r53.EvaluateTargetHealth.ValueBool(),
			}
			var hc route53HealthCheckModel
			if x.object(r53.HealthCheck, &hc) {
				ep.Traffic.Route53.HealthCheck = &rollout.Route53HealthCheck{
					Path: hc.Path.ValueString(), Interval: x.duration(hc.Interval), FailureThreshold: int(hc.FailureThreshold.ValueInt64()),
				}
			}
		}
		var nlb nlbTrafficModel
		if x.object(traffic.NLB, &nlb) {
			ep.Traffic.NLB = &rollout.NLBTraffic{
				LoadBalancerARN: nlb.LoadBalancerARN.ValueString(),
				Port:            int(nlb.Port.ValueInt64()),
				Protocol:        nlb.Protocol.ValueString(),
				CertificateARN:  nlb.CertificateARN.ValueString(),
				SSLPolicy:       nlb.SSLPolicy.ValueString(),
			}
		}
	}
	var template templateModel
	if x.object(m.Template, &template) {
		ep.Template = x.template(template)
	}
	var policy policyModel
	if x.object(m.Policy, &policy) {
		ep.Policy = x.policy(policy)
	}
	var notifications notificationsModel
	if x.object(m.Notifications, &notifications) {
		ep.Notifications = rollout.Notifications{
			WebhookURL:    notifications.WebhookURL.ValueString(),
			WebhookFormat: notifications.WebhookFormat.ValueString(),
			SNSTopicARN:   notifications.SNSTopicARN.ValueString(),
		}
	}
	return ep, x.diags
}

// expander converts framework values to the API's, collecting diagnostics.
type expander struct {
	ctx   context.Context
	diags diag.Diagnostics
}

// object decodes o into target and reports whether it had a value.
func (x *expander) object(o types.Object, target any) bool {
	if o.IsNull() || o.IsUnknown() {
		return false
	}
	var d diag.Diagnostics
	setModel(o, target, &d)
	x.diags.Append(d...)
	return !d.HasError()
}

func (x *expander) strings(l types.List) []string {
	var out []string
	x.diags.Append(l.ElementsAs(x.ctx, &out, false)...)
	return out
}

func (x *expander) stringMap(m types.Map) map[string]string {
	var out map[string]string
	x.diags.Append(m.ElementsAs(x.ctx, &out, false)...)
	return out
}

func (x *expander) duration(v durationValue) rollout.Duration {
	if v.IsNull() || v.IsUnknown() {
		return 0
	}
	d, err := v.duration()
	if err != nil {
		x.diags.AddError("Invalid Duration", err.Error())
	}
	return d
}

func (x *expander) template(t templateModel) rollout.Template {
	out := x.container(t)
	out.InstanceType = t.InstanceType.ValueString()
	out.AMI = t.AMI.ValueString()
	out.MinSize = int(t.MinSize.ValueInt64())
	out.MaxSize = int(t.MaxSize.ValueInt64())
	out.DesiredCapacity = int(t.DesiredCapacity.ValueInt64())
	out.Subnets = x.strings(t.Subnets)
	out.SecurityGroups = x.strings(t.SecurityGroups)
	out.InstanceProfile = t.InstanceProfile.ValueString()
	out.DeregistrationDelay = x.duration(t.DeregistrationDelay)
	var hc healthCheckModel
	if x.object(t.HealthCheck, &hc) {
		out.HealthCheck = rollout.HealthCheck{
			Protocol:           targetProtocol(hc.Protocol.ValueString()),
			Path:               hc.Path.ValueString(),
			Interval:           x.duration(hc.Interval),
			Timeout:            x.duration(hc.Timeout),
			HealthyThreshold:   int(hc.HealthyThreshold.ValueInt64()),
			UnhealthyThreshold: int(hc.UnhealthyThreshold.ValueInt64()),
		}
	}
	out.ECS = x.ecs(t.ECS)
	return out
}

// ecs returns template.ecs, nil when it is not set.
func (x *expander) ecs(o types.Object) *rollout.ECS {
	var m ecsModel
	if !x.object(o, &m) {
		return nil
	}
	out := &rollout.ECS{
		Cluster:           m.Cluster.ValueString(),
		LaunchType:        m.LaunchType.ValueString(),
		CapacityProviders: x.capacityProviders(m.CapacityProviders),
		CPU:               int(m.CPU.ValueInt64()),
		Memory:            int(m.Memory.ValueInt64()),
		TaskRoleARN:       m.TaskRoleARN.ValueString(),
		ExecutionRoleARN:  m.ExecutionRoleARN.ValueString(),
		AssignPublicIP:    m.AssignPublicIP.ValueBool(),
		PlatformVersion:   m.PlatformVersion.ValueString(),
	}
	var logs ecsLogsModel
	if x.object(m.Logs, &logs) {
		out.Logs = &rollout.ECSLogs{Group: logs.Group.ValueString(), StreamPrefix: logs.StreamPrefix.ValueString()}
	}
	var hc containerHealthCheckModel
	if x.object(m.HealthCheck, &hc) {
		out.HealthCheck = &rollout.ContainerHealthCheck{
			Command:     x.strings(hc.Command),
			Interval:    x.duration(hc.Interval),
			Timeout:     x.duration(hc.Timeout),
			Retries:     int(hc.Retries.ValueInt64()),
			StartPeriod: x.duration(hc.StartPeriod),
		}
	}
	return out
}

// capacityProviders returns a strategy, nil when it is empty (as the API
// answers it).
func (x *expander) capacityProviders(l types.List) []rollout.CapacityProvider {
	var models []capacityProviderModel
	x.diags.Append(l.ElementsAs(x.ctx, &models, false)...)
	var out []rollout.CapacityProvider
	for _, p := range models {
		out = append(out, rollout.CapacityProvider{Name: p.Name.ValueString(), Weight: int(p.Weight.ValueInt64()), Base: int(p.Base.ValueInt64())})
	}
	return out
}

// targetProtocol is the protocol as the shifter stores it: "" for the
// default, so that the template's hash stays what it was before the
// attribute existed.
func targetProtocol(p string) string {
	if p == rollout.DefaultTargetProtocol {
		return ""
	}
	return p
}

// container returns the part of t that says what the instances run: the
// whole of their boot script, with the backend, which says whether there is
// one.
func (x *expander) container(t templateModel) rollout.Template {
	return rollout.Template{
		Backend:       t.Backend.ValueString(),
		Repository:    t.Repository.ValueString(),
		ContainerPort: int(t.ContainerPort.ValueInt64()),
		Command:       x.strings(t.Command),
		Args:          x.strings(t.Args),
		Env:           x.stringMap(t.Env),
		Secrets:       x.stringMap(t.Secrets),
	}
}

func (x *expander) policy(p policyModel) rollout.Policy {
	out := rollout.Policy{
		Steps:                 x.steps(p.Steps),
		HealthyTimeout:        x.duration(p.HealthyTimeout),
		MinHealthyPercent:     int(p.MinHealthyPercent.ValueInt64()),
		Alarms:                x.strings(p.Alarms),
		BlockOnAlarm:          p.BlockOnAlarm.ValueBool(),
		ProceedWithoutAlarms:  p.ProceedWithoutAlarms.ValueBool(),
		BakeTime:              x.duration(p.BakeTime),
		RetainPrevious:        x.duration(p.RetainPrevious),
		RetainCapacityPercent: int(p.RetainCapacityPercent.ValueInt64()),
		MaxHotVersions:        new(int(p.MaxHotVersions.ValueInt64())),
		AutoRollback:          p.AutoRollback.ValueBool(),
	}
	var mc metricChecksModel
	if x.object(p.MetricChecks, &mc) {
		out.MetricChecks = &rollout.MetricChecks{
			Max5xxPercent:    mc.Max5xxPercent.ValueFloat64(),
			MaxLatency:       x.duration(mc.MaxLatency),
			MaxRatioToStable: mc.MaxRatioToStable.ValueFloat64(),
			MinRequests:      int(mc.MinRequests.ValueInt64()),
			Interval:         x.duration(mc.Interval),
		}
	}
	var ot observedTrafficModel
	if x.object(p.ObservedTraffic, &ot) {
		out.ObservedTraffic = &rollout.ObservedTraffic{
			TolerancePercent: ot.TolerancePercent.ValueFloat64(),
			MaxWait:          x.duration(ot.MaxWait),
			Interval:         x.duration(ot.Interval),
			MinRequests:      int(ot.MinRequests.ValueInt64()),
			OnTimeout:        ot.OnTimeout.ValueString(),
		}
	}
	return out
}

func (x *expander) steps(l types.List) []rollout.Step {
	var models []stepModel
	x.diags.Append(l.ElementsAs(x.ctx, &models, false)...)
	steps := make([]rollout.Step, 0, len(models))
	for _, s := range models {
		step := rollout.Step{Weight: int(s.Weight.ValueInt64())}
		if !s.Pause.IsNull() && !s.Pause.IsUnknown() {
			d := x.duration(s.Pause)
			step.Pause = &d
		}
		steps = append(steps, step)
	}
	return steps
}
