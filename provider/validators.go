package provider

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// Plan-time checks that span several attributes. Each reports the attribute
// the shifter would name, with the shifter's wording, so `terraform plan`
// fails where the API would. Values the configuration leaves out take the
// shifter's defaults; unknown values are skipped (the API checks them).

var (
	_ validator.List    = stepsValidator{}
	_ validator.List    = uniqueStrings{}
	_ validator.Float64 = disabledOrAtLeast{}
)

// stepsValidator checks a rollout's steps with rollout.ValidateSteps itself.
type stepsValidator struct{}

func (stepsValidator) Description(context.Context) string {
	return fmt.Sprintf("between 1 and %d steps with weights rising to exactly 100", rollout.MaxSteps)
}

func (v stepsValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (stepsValidator) ValidateList(ctx context.Context, req validator.ListRequest, resp *validator.ListResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	for _, e := range req.ConfigValue.Elements() {
		if e.IsUnknown() {
			return
		}
	}
	var models []stepModel
	resp.Diagnostics.Append(req.ConfigValue.ElementsAs(ctx, &models, false)...)
	if resp.Diagnostics.HasError() {
		return
	}
	steps := make([]rollout.Step, 0, len(models))
	for _, m := range models {
		// A weight or pause that is unknown or out of range is for the
		// step's own validators to report, once.
		if m.Weight.IsUnknown() || m.Weight.IsNull() || m.Pause.IsUnknown() {
			return
		}
		step := rollout.Step{Weight: int(m.Weight.ValueInt64())}
		if step.Weight < 1 || step.Weight > 100 {
			return
		}
		if !m.Pause.IsNull() {
			d, err := m.Pause.duration()
			if err != nil || d.D() > rollout.MaxWait {
				return
			}
			step.Pause = &d
		}
		steps = append(steps, step)
	}
	err := rollout.ValidateSteps(steps)
	if err == nil {
		return
	}
	p, ok := appendField(req.Path, strings.TrimPrefix(rollout.ErrorField(err), "policy.steps"))
	if !ok {
		p = req.Path
	}
	addAttributeError(&resp.Diagnostics, p, "Invalid Rollout Steps", "%s", apiMessage(err))
}

// uniqueStrings reports the first repeat of a value in a list of strings,
// at its index, as the shifter does.
type uniqueStrings struct{}

func (uniqueStrings) Description(context.Context) string { return "each value at most once" }

func (v uniqueStrings) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (uniqueStrings) ValidateList(_ context.Context, req validator.ListRequest, resp *validator.ListResponse) {
	seen := map[string]bool{}
	for i, e := range req.ConfigValue.Elements() {
		s, ok := e.(types.String)
		if !ok || s.IsNull() || s.IsUnknown() {
			continue
		}
		if seen[s.ValueString()] {
			addAttributeError(&resp.Diagnostics, req.Path.AtListIndex(i), "Duplicate Value", "%q is listed twice", s.ValueString())
			return
		}
		seen[s.ValueString()] = true
	}
}

// disabledOrAtLeast accepts 0 (a disabled check) or a value from min up.
type disabledOrAtLeast struct{ min float64 }

func (v disabledOrAtLeast) Description(context.Context) string {
	return fmt.Sprintf("at least %g, or 0 to disable", v.min)
}

func (v disabledOrAtLeast) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v disabledOrAtLeast) ValidateFloat64(_ context.Context, req validator.Float64Request, resp *validator.Float64Response) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if f := req.ConfigValue.ValueFloat64(); f != 0 && f < v.min {
		addAttributeError(&resp.Diagnostics, req.Path, "Value Out of Range", "must be at least %g (or 0 to disable); got %g", v.min, f)
	}
}

// validateEndpointConfig checks the rules between attributes of an
// endpoint's configuration: of its traffic and of its template.
func validateEndpointConfig(ctx context.Context, trafficObject, templateObject types.Object) diag.Diagnostics {
	def := rollout.NewEndpoint()
	x := &expander{ctx: ctx}
	var traffic trafficModel
	if x.object(trafficObject, &traffic) {
		validateTraffic(traffic, &x.diags)
	}
	var template templateModel
	if x.object(templateObject, &template) {
		validateTemplate(x, template, def.Template)
	}
	return x.diags
}

func validateTraffic(t trafficModel, diags *diag.Diagnostics) {
	root := path.Root("traffic")
	if !t.Hosts.IsUnknown() && !t.Paths.IsUnknown() && len(t.Hosts.Elements())+len(t.Paths.Elements()) > rollout.MaxConditionValues {
		addAttributeError(diags, root.AtName("hosts"), "Too Many Rule Conditions",
			"and traffic.paths together may have at most %d values", rollout.MaxConditionValues)
	}
	pp := t.PreviewPriority
	if pp.IsNull() || pp.IsUnknown() {
		return
	}
	if t.PreviewHost.IsNull() && t.PreviewListenerARN.IsNull() {
		addAttributeError(diags, root.AtName("preview_priority"), "Preview Priority Without a Preview Route",
			"is set but neither preview_host nor preview_listener_arn is")
		return
	}
	sameListener := t.PreviewListenerARN.IsNull() ||
		(!t.PreviewListenerARN.IsUnknown() && !t.ListenerARN.IsUnknown() && t.PreviewListenerARN.Equal(t.ListenerARN))
	if sameListener && !t.Priority.IsUnknown() && pp.Equal(t.Priority) {
		addAttributeError(diags, root.AtName("preview_priority"), "Conflicting Rule Priorities",
			"must differ from traffic.priority on the same listener")
	}
}

func validateTemplate(x *expander, t templateModel, def rollout.Template) {
	root := path.Root("template")
	backend, okBackend := knownBackend(t, def.Backend)
	if okBackend {
		addRuleError(&x.diags, "Invalid Endpoint", backendFields(t, backend).ValidateBackend())
	}
	minSize, okMin := int64Or(t.MinSize, def.MinSize)
	maxSize, okMax := int64Or(t.MaxSize, def.MaxSize)
	desired, okDesired := int64Or(t.DesiredCapacity, def.DesiredCapacity)
	switch {
	case backend != rollout.BackendEC2:
		// Only backend ec2 has a group, whose sizes are the defaults
		// when the configuration leaves them out.
	case okMin && okMax && minSize > maxSize:
		addAttributeError(&x.diags, root.AtName("min_size"), "Invalid Group Sizes",
			"must not exceed template.max_size (%d); got %d", maxSize, minSize)
	case okMin && okMax && okDesired && (desired < minSize || desired > maxSize):
		addAttributeError(&x.diags, root.AtName("desired_capacity"), "Invalid Group Sizes",
			"must be at least 1 and between min_size (%d) and max_size (%d); got %d", minSize, maxSize, desired)
	}

	if !t.Env.IsUnknown() && !t.Secrets.IsUnknown() {
		env := t.Env.Elements()
		for _, name := range slices.Sorted(maps.Keys(t.Secrets.Elements())) {
			if _, dup := env[name]; dup {
				addAttributeError(&x.diags, root.AtName("secrets").AtMapKey(name), "Variable Set Twice",
					"%q is also set in template.env", name)
			}
		}
	}

	hc := flattenHealthCheck(def.HealthCheck)
	if !t.HealthCheck.IsNull() && !x.object(t.HealthCheck, &hc) {
		return
	}
	interval, okInterval := durationOr(hc.Interval, def.HealthCheck.Interval)
	timeout, okTimeout := durationOr(hc.Timeout, def.HealthCheck.Timeout)
	if okInterval && okTimeout && timeout >= interval {
		addAttributeError(&x.diags, root.AtName("health_check").AtName("timeout"), "Health Check Timeout Too Long",
			"must be shorter than the interval (%s); got %s", interval, timeout)
	}
}

// int64Or returns v, def when v is null, and whether the value is known.
func int64Or(v types.Int64, def int) (int64, bool) {
	switch {
	case v.IsUnknown():
		return 0, false
	case v.IsNull():
		return int64(def), true
	}
	return v.ValueInt64(), true
}

// durationOr returns v, def when v is null, and whether the value is known
// and valid (an invalid one is reported by its own validator).
func durationOr(v durationValue, def rollout.Duration) (rollout.Duration, bool) {
	switch {
	case v.IsUnknown():
		return 0, false
	case v.IsNull():
		return def, true
	}
	d, err := v.duration()
	return d, err == nil
}

// allKnown reports whether every value is known, down to its elements and
// attributes.
func allKnown(ctx context.Context, values ...attr.Value) bool {
	for _, v := range values {
		tv, err := v.ToTerraformValue(ctx)
		if err != nil || !tv.IsFullyKnown() {
			return false
		}
	}
	return true
}

// addRuleError reports err, a rollout validation error, at the attribute
// its field names, in the words the shifter's API uses.
func addRuleError(diags *diag.Diagnostics, summary string, err error) {
	if err == nil {
		return
	}
	if p, ok := fieldPath(rollout.ErrorField(err)); ok {
		addAttributeError(diags, p, summary, "%s", apiMessage(err))
		return
	}
	diags.AddError(summary, err.Error())
}

// addAttributeError reports an invalid value the way the framework's
// validators do: the detail starts with the attribute's path.
func addAttributeError(diags *diag.Diagnostics, p path.Path, summary, format string, args ...any) {
	diags.AddAttributeError(p, summary, fmt.Sprintf("Attribute %s %s", p, fmt.Sprintf(format, args...)))
}
