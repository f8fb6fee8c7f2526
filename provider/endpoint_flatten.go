package provider

import (
	"cmp"
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// flattenEndpoint sets m from the shifter's view of an endpoint. schemaType
// is the type of the schema m is stored under (the resource's or the data
// source's): values are built with its attributes' types.
func flattenEndpoint(ctx context.Context, schemaType attr.Type, v rollout.EndpointView, m *endpointModel) diag.Diagnostics {
	var diags diag.Diagnostics
	t := objectType(schemaType, &diags)
	diags.Append(flattenEndpointSpec(ctx, t, v.Endpoint, m)...)
	m.Status = flattenStatus(ctx, objectType(t.AttrTypes["status"], &diags), v.Status, &diags)
	return diags
}

// flattenEndpointSpec sets the spec attributes of m from the shifter's copy
// of the endpoint.
func flattenEndpointSpec(ctx context.Context, t types.ObjectType, ep rollout.Endpoint, m *endpointModel) diag.Diagnostics {
	var diags diag.Diagnostics
	ep = withKnownSecrets(ctx, ep, m)
	typeOf := func(name string) types.ObjectType { return objectType(t.AttrTypes[name], &diags) }
	m.ID = types.StringValue(ep.Name)
	m.Name = types.StringValue(ep.Name)
	m.Team = stringOrNull(ep.Team)
	m.DeletionProtection = types.BoolValue(ep.DeletionProtection)
	m.ObserveOnly = types.BoolValue(ep.ObserveOnly)
	m.Placement = objectValue(ctx, typeOf("placement"), flattenPlacement(ep.Placement), &diags)
	m.Traffic = flattenTraffic(ctx, typeOf("traffic"), ep.Traffic, &diags)
	tt, tpl := typeOf("template"), ep.Template
	m.Template = objectValue(ctx, tt, templateModel{
		Backend:             types.StringValue(tpl.Backend),
		Repository:          types.StringValue(tpl.Repository),
		ContainerPort:       types.Int64Value(int64(tpl.ContainerPort)),
		Command:             stringList(tpl.Command),
		Args:                stringList(tpl.Args),
		Env:                 stringMap(tpl.Env),
		Secrets:             stringMap(tpl.Secrets),
		InstanceType:        stringOrNull(tpl.InstanceType),
		AMI:                 stringOrNull(tpl.AMI),
		MinSize:             groupSize(tpl, tpl.MinSize),
		MaxSize:             groupSize(tpl, tpl.MaxSize),
		DesiredCapacity:     types.Int64Value(int64(tpl.DesiredCapacity)),
		Subnets:             stringList(tpl.Subnets),
		SecurityGroups:      stringList(tpl.SecurityGroups),
		InstanceProfile:     stringOrNull(tpl.InstanceProfile),
		HealthCheck:         objectValue(ctx, objectType(tt.AttrTypes["health_check"], &diags), flattenHealthCheck(tpl.HealthCheck), &diags),
		DeregistrationDelay: newDuration(tpl.DeregistrationDelay),
		ECS:                 flattenECS(ctx, objectType(tt.AttrTypes["ecs"], &diags), tpl.ECS, &diags),
	}, &diags)
	pt := typeOf("policy")
	m.Policy = objectValue(ctx, pt, flattenPolicy(ctx, pt, ep.Policy, &diags), &diags)
	m.Notifications = objectValue(ctx, typeOf("notifications"), flattenNotifications(ep.Notifications), &diags)
	return diags
}

// withKnownSecrets fills in the secrets the shifter answers only as "set"
// (the webhook URL, the external ID) with the values m, the plan or the prior
// state, holds: Terraform keeps them while the shifter has one, and a secret
// removed behind Terraform's back shows as drift. An imported endpoint has
// none in its state, so its next apply sends them again.
func withKnownSecrets(ctx context.Context, ep rollout.Endpoint, m *endpointModel) rollout.Endpoint {
	var p placementModel
	if ep.Placement.ExternalIDSet && asModel(m.Placement, &p) {
		ep.Placement.ExternalID = p.ExternalID.ValueString()
	}
	var n notificationsModel
	if ep.Notifications.WebhookURLSet && asModel(m.Notifications, &n) {
		ep.Notifications.WebhookURL = n.WebhookURL.ValueString()
	}
	return ep
}

// asModel decodes a known object into model and reports whether it could.
func asModel(o types.Object, model any) bool {
	if o.IsNull() || o.IsUnknown() {
		return false
	}
	var diags diag.Diagnostics
	setModel(o, model, &diags)
	return !diags.HasError()
}

func flattenNotifications(n rollout.Notifications) notificationsModel {
	return notificationsModel{WebhookURL: stringOrNull(n.WebhookURL), WebhookFormat: stringOrNull(n.WebhookFormat), SNSTopicARN: stringOrNull(n.SNSTopicARN)}
}

func flattenPlacement(p rollout.Placement) placementModel {
	return placementModel{
		Region:     stringOrNull(p.Region),
		RoleARN:    stringOrNull(p.RoleARN),
		ExternalID: stringOrNull(p.ExternalID),
	}
}

// flattenTraffic returns the model of t, of whichever kind; tt is its
// object type.
func flattenTraffic(ctx context.Context, tt types.ObjectType, t rollout.Traffic, diags *diag.Diagnostics) types.Object {
	nlb := types.ObjectNull(objectType(tt.AttrTypes["nlb"], diags).AttrTypes)
	if t.NLB != nil {
		nlb = objectValue(ctx, objectType(tt.AttrTypes["nlb"], diags), nlbTrafficModel{
			LoadBalancerARN: types.StringValue(t.NLB.LoadBalancerARN),
			Port:            types.Int64Value(int64(t.NLB.Port)),
			Protocol:        types.StringValue(t.NLB.ListenerProtocol()),
			CertificateARN:  stringOrNull(t.NLB.CertificateARN),
			SSLPolicy:       stringOrNull(t.NLB.SSLPolicy),
		}, diags)
	}
	r53 := types.ObjectNull(objectType(tt.AttrTypes["route53"], diags).AttrTypes)
	if r := t.Route53; r != nil {
		rt := objectType(tt.AttrTypes["route53"], diags)
		hc := types.ObjectNull(objectType(rt.AttrTypes["health_check"], diags).AttrTypes)
		if h := r.HealthCheck; h != nil {
			hc = objectValue(ctx, objectType(rt.AttrTypes["health_check"], diags), route53HealthCheckModel{
				Path: types.StringValue(h.Path), Interval: newDuration(h.Interval), FailureThreshold: types.Int64Value(int64(h.FailureThreshold)),
			}, diags)
		}
		r53 = objectValue(ctx, rt, route53TrafficModel{
			HostedZoneID:         types.StringValue(r.HostedZoneID),
			Name:                 types.StringValue(r.Name),
			Listeners:            stringList(r.Listeners),
			EvaluateTargetHealth: types.BoolValue(r.EvaluateTargetHealth),
			HealthCheck:          hc,
		}, diags)
	}
	return objectValue(ctx, tt, trafficModel{
		NLB:                nlb,
		Route53:            r53,
		ListenerARN:        stringOrNull(t.ListenerARN),
		Priority:           int64OrNull(t.Priority),
		Hosts:              stringList(t.Hosts),
		Paths:              stringList(t.Paths),
		PreviewHost:        stringOrNull(t.PreviewHost),
		PreviewListenerARN: stringOrNull(t.PreviewListenerARN),
		PreviewPriority:    int64OrNull(t.PreviewPriority),
	}, diags)
}

func flattenHealthCheck(h rollout.HealthCheck) healthCheckModel {
	return healthCheckModel{
		Protocol:           types.StringValue(cmp.Or(h.Protocol, rollout.DefaultTargetProtocol)),
		Path:               types.StringValue(h.Path),
		Interval:           newDuration(h.Interval),
		Timeout:            newDuration(h.Timeout),
		HealthyThreshold:   types.Int64Value(int64(h.HealthyThreshold)),
		UnhealthyThreshold: types.Int64Value(int64(h.UnhealthyThreshold)),
	}
}

// groupSize is a size of an Auto Scaling group, which backend ecs does not
// have: 0 is a size of backend ec2's, and not set with ecs.
func groupSize(t rollout.Template, size int) types.Int64 {
	if t.Backend == rollout.BackendECS {
		return int64OrNull(size)
	}
	return types.Int64Value(int64(size))
}

// flattenECS returns the model of e, null when it is nil; t is its object
// type.
func flattenECS(ctx context.Context, t types.ObjectType, e *rollout.ECS, diags *diag.Diagnostics) types.Object {
	if e == nil {
		return types.ObjectNull(t.AttrTypes)
	}
	logsType, hcType := objectType(t.AttrTypes["logs"], diags), objectType(t.AttrTypes["health_check"], diags)
	logs, hc := types.ObjectNull(logsType.AttrTypes), types.ObjectNull(hcType.AttrTypes)
	if l := e.Logs; l != nil {
		logs = objectValue(ctx, logsType, ecsLogsModel{Group: types.StringValue(l.Group), StreamPrefix: types.StringValue(l.StreamPrefix)}, diags)
	}
	if h := e.HealthCheck; h != nil {
		hc = objectValue(ctx, hcType, containerHealthCheckModel{
			Command:     stringList(h.Command),
			Interval:    newDuration(h.Interval),
			Timeout:     newDuration(h.Timeout),
			Retries:     types.Int64Value(int64(h.Retries)),
			StartPeriod: newDuration(h.StartPeriod),
		}, diags)
	}
	providers := make([]capacityProviderModel, 0, len(e.CapacityProviders))
	for _, p := range e.CapacityProviders {
		providers = append(providers, capacityProviderModel{Name: types.StringValue(p.Name), Weight: types.Int64Value(int64(p.Weight)), Base: types.Int64Value(int64(p.Base))})
	}
	return objectValue(ctx, t, ecsModel{
		Cluster:           types.StringValue(e.Cluster),
		LaunchType:        stringOrNull(e.LaunchType),
		CapacityProviders: listValue(ctx, objectType(t.AttrTypes["capacity_providers"], diags), providers, diags),
		CPU:               types.Int64Value(int64(e.CPU)),
		Memory:            types.Int64Value(int64(e.Memory)),
		TaskRoleARN:       stringOrNull(e.TaskRoleARN),
		ExecutionRoleARN:  stringOrNull(e.ExecutionRoleARN),
		AssignPublicIP:    types.BoolValue(e.AssignPublicIP),
		PlatformVersion:   stringOrNull(e.PlatformVersion),
		Logs:              logs,
		HealthCheck:       hc,
	}, diags)
}

// flattenPolicy returns the model of p; t is the policy's object type.
func flattenPolicy(ctx context.Context, t types.ObjectType, p rollout.Policy, diags *diag.Diagnostics) policyModel {
	mcType := objectType(t.AttrTypes["metric_checks"], diags)
	metricChecks := types.ObjectNull(mcType.AttrTypes)
	if mc := p.MetricChecks; mc != nil {
		metricChecks = objectValue(ctx, mcType, metricChecksModel{
			Max5xxPercent:    types.Float64Value(mc.Max5xxPercent),
			MaxLatency:       newDuration(mc.MaxLatency),
			MaxRatioToStable: types.Float64Value(mc.MaxRatioToStable),
			MinRequests:      types.Int64Value(int64(mc.MinRequests)),
			Interval:         newDuration(mc.Interval),
		}, diags)
	}
	otType := objectType(t.AttrTypes["observed_traffic"], diags)
	observedTraffic := types.ObjectNull(otType.AttrTypes)
	if ot := p.ObservedTraffic; ot != nil {
		onTimeout := ot.OnTimeout
		if onTimeout == "" {
			onTimeout = rollout.OnTimeoutProceed
		}
		observedTraffic = objectValue(ctx, otType, observedTrafficModel{
			TolerancePercent: types.Float64Value(ot.TolerancePercent),
			MaxWait:          newDuration(ot.MaxWait),
			Interval:         newDuration(rollout.Duration(ot.ReadEvery())),
			MinRequests:      types.Int64Value(int64(ot.MinRequests)),
			OnTimeout:        types.StringValue(onTimeout),
		}, diags)
	}
	return policyModel{
		Steps:                 listValue(ctx, objectType(t.AttrTypes["steps"], diags), flattenSteps(p.Steps), diags),
		HealthyTimeout:        newDuration(p.HealthyTimeout),
		MinHealthyPercent:     types.Int64Value(int64(p.MinHealthyPercent)),
		Alarms:                stringList(p.Alarms),
		BlockOnAlarm:          types.BoolValue(p.BlockOnAlarm),
		ProceedWithoutAlarms:  types.BoolValue(p.ProceedWithoutAlarms),
		MetricChecks:          metricChecks,
		ObservedTraffic:       observedTraffic,
		BakeTime:              newDuration(p.BakeTime),
		RetainPrevious:        newDuration(p.RetainPrevious),
		RetainCapacityPercent: types.Int64Value(int64(p.RetainCapacityPercent)),
		MaxHotVersions:        types.Int64Value(int64(p.HotVersions())),
		AutoRollback:          types.BoolValue(p.AutoRollback),
	}
}

func flattenSteps(steps []rollout.Step) []stepModel {
	out := make([]stepModel, 0, len(steps))
	for _, s := range steps {
		m := stepModel{Weight: types.Int64Value(int64(s.Weight)), Pause: durationValue{StringValue: types.StringNull()}}
		if s.Pause != nil {
			m.Pause = newDuration(*s.Pause)
		}
		out = append(out, m)
	}
	return out
}
