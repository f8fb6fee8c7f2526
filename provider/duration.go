package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// Durations travel as Go duration strings, as the shifter's API writes them.
// People write "5m" where the shifter answers "5m0s": durationType makes the
// two the same value (semantic equality), so a plan after apply stays empty
// and the configuration keeps the spelling its author chose.

var (
	_ basetypes.StringTypable                    = durationType{}
	_ basetypes.StringValuableWithSemanticEquals = durationValue{}
	_ validator.String                           = durationValidator{}
)

// durationType is the type of a duration attribute.
type durationType struct {
	basetypes.StringType
}

func (t durationType) Equal(o attr.Type) bool {
	_, ok := o.(durationType)
	return ok
}

func (t durationType) String() string { return "provider.durationType" }

func (t durationType) ValueFromString(_ context.Context, in basetypes.StringValue) (basetypes.StringValuable, diag.Diagnostics) {
	return durationValue{StringValue: in}, nil
}

func (t durationType) ValueFromTerraform(ctx context.Context, in tftypes.Value) (attr.Value, error) {
	v, err := t.StringType.ValueFromTerraform(ctx, in)
	if err != nil {
		return nil, err
	}
	s, ok := v.(basetypes.StringValue)
	if !ok {
		return nil, fmt.Errorf("unexpected value type %T for a duration", v)
	}
	return durationValue{StringValue: s}, nil
}

func (t durationType) ValueType(context.Context) attr.Value { return durationValue{} }

// durationValue is a duration attribute's value.
type durationValue struct {
	basetypes.StringValue
}

// newDuration returns the value of d as the shifter writes it.
func newDuration(d rollout.Duration) durationValue {
	return durationValue{StringValue: basetypes.NewStringValue(d.String())}
}

func (v durationValue) Equal(o attr.Value) bool {
	other, ok := o.(durationValue)
	return ok && v.StringValue.Equal(other.StringValue)
}

func (v durationValue) Type(context.Context) attr.Type { return durationType{} }

// StringSemanticEquals reports whether two spellings are the same duration.
func (v durationValue) StringSemanticEquals(_ context.Context, newValuable basetypes.StringValuable) (bool, diag.Diagnostics) {
	var diags diag.Diagnostics
	other, ok := newValuable.(durationValue)
	if !ok {
		diags.AddError("Semantic Equality Check Error",
			fmt.Sprintf("Expected a duration value, got %T. This is a bug in the provider.", newValuable))
		return false, diags
	}
	a, errA := rollout.ParseDuration(v.ValueString())
	b, errB := rollout.ParseDuration(other.ValueString())
	return errA == nil && errB == nil && a == b, diags
}

// duration returns the value as a rollout.Duration. Validators have checked
// every configured value, so an error here means a value from elsewhere.
func (v durationValue) duration() (rollout.Duration, error) {
	return rollout.ParseDuration(v.ValueString())
}

// durationBetween validates a duration string and its bounds; the bounds are
// the shifter's (rollout/validate.go), so a plan fails where the API would.
func durationBetween(lo, hi time.Duration) validator.String {
	return durationValidator{lo: lo, hi: hi}
}

type durationValidator struct {
	lo, hi time.Duration
}

func (v durationValidator) Description(context.Context) string {
	return fmt.Sprintf("a duration such as \"30s\" or \"5m\", between %s and %s", v.lo, v.hi)
}

func (v durationValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (v durationValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	d, err := rollout.ParseDuration(req.ConfigValue.ValueString())
	if err != nil {
		addAttributeError(&resp.Diagnostics, req.Path, "Invalid Duration", "value %s", err)
		return
	}
	if d.D() < v.lo || d.D() > v.hi {
		addAttributeError(&resp.Diagnostics, req.Path, "Duration Out of Range",
			"must be between %s and %s; got %s", v.lo, v.hi, req.ConfigValue.ValueString())
	}
}
