package provider

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// The fuzz targets feed arbitrary values to the provider's own validators
// and to the parser that turns the shifter's field names into attribute
// paths. Whatever the input: no panic, every error at the attribute
// validated, and the validators agree with the shifter's own checks. `make
// fuzz` runs each for a bounded time.

// FuzzFieldPath: a field name the shifter reports maps to an attribute
// path or to none, and the path, printed as a field name, maps back to
// itself.
func FuzzFieldPath(f *testing.F) {
	for _, seed := range []string{"name", "policy.steps[1].weight", `template.env["A.B[0]"]`, "a[", `a["x`, "a..b", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, field string) {
		p, ok := fieldPath(field)
		if !ok {
			return
		}
		if again, ok := fieldPath(p.String()); !ok || !again.Equal(p) {
			t.Fatalf("fieldPath(%q) = %s, but fieldPath(%q) = %s, %t", field, p, p.String(), again, ok)
		}
	})
}

// FuzzDurationValidator: a duration attribute accepts exactly the strings
// the shifter parses within the bounds, and reports the rest at its path.
func FuzzDurationValidator(f *testing.F) {
	for _, seed := range []string{"30s", "5m", "1h30m", "0s", "-1s", "8d", "1.5h", "5", "", "9999999999h"} {
		f.Add(seed)
	}
	at := path.Root("policy").AtName("bake_time")
	f.Fuzz(func(t *testing.T, s string) {
		var resp validator.StringResponse
		durationBetween(0, rollout.MaxWait).ValidateString(context.Background(),
			validator.StringRequest{Path: at, ConfigValue: types.StringValue(s)}, &resp)
		d, err := rollout.ParseDuration(s)
		valid := err == nil && d.D() >= 0 && d.D() <= rollout.MaxWait
		checkDiagnostics(t, resp.Diagnostics, at, valid, s)
	})
}

// FuzzStepsValidator: rollout steps, as JSON [[weight, "pause"], ...],
// pass the plan-time check exactly when the shifter would accept them.
func FuzzStepsValidator(f *testing.F) {
	for _, seed := range []string{`[[10,"5m"],[100,""]]`, `[[100,""]]`, `[[50,""],[50,""]]`, `[[10,"1s"],[5,""],[100,""]]`, `[]`, `[[0,""]]`} {
		f.Add([]byte(seed))
	}
	at := path.Root("policy").AtName("steps")
	var diags diag.Diagnostics
	stepType := objectType(stepsAttribute(context.Background(), nil, &diags).GetType(), &diags)
	if diags.HasError() {
		f.Fatal(diags)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var raw [][2]any
		if json.Unmarshal(data, &raw) != nil {
			return
		}
		models := []stepModel{} // not nil: `steps = []` is an empty list, not a null one
		var steps []rollout.Step
		for _, r := range raw {
			weight, ok1 := r[0].(float64)
			pause, ok2 := r[1].(string)
			if !ok1 || !ok2 || weight != float64(int64(weight)) {
				return
			}
			m := stepModel{Weight: types.Int64Value(int64(weight)), Pause: durationValue{basetypes.NewStringNull()}}
			step := rollout.Step{Weight: int(weight)}
			if pause != "" {
				d, err := rollout.ParseDuration(pause)
				if err != nil || d.D() < 0 || d.D() > rollout.MaxWait {
					return // the pause attribute's own validator reports it
				}
				m.Pause, step.Pause = newDuration(d), &d
			}
			if step.Weight < 1 || step.Weight > 100 {
				return // the weight attribute's own validator reports it
			}
			models = append(models, m)
			steps = append(steps, step)
		}
		list, diags := types.ListValueFrom(context.Background(), stepType, models)
		if diags.HasError() {
			t.Fatalf("building the list: %v", diags)
		}
		var resp validator.ListResponse
		stepsValidator{}.ValidateList(context.Background(), validator.ListRequest{Path: at, ConfigValue: list}, &resp)
		checkDiagnostics(t, resp.Diagnostics, at, rollout.ValidateSteps(steps) == nil, string(data))
	})
}

// checkDiagnostics fails unless diags are empty for a valid input, and
// otherwise errors at or under the attribute validated.
func checkDiagnostics(t *testing.T, diags diag.Diagnostics, at path.Path, valid bool, input string) {
	t.Helper()
	if valid != !diags.HasError() {
		t.Fatalf("input %q: the shifter says valid=%t, the validator says %v", input, valid, diags)
	}
	for _, d := range diags {
		p, ok := d.(diag.DiagnosticWithPath)
		if !ok || !isUnder(p.Path(), at) {
			t.Fatalf("input %q: diagnostic %q is not at %s", input, d.Summary(), at)
		}
	}
}

// isUnder reports whether p is parent or a path within it.
func isUnder(p, parent path.Path) bool {
	for ; !p.Equal(path.Empty()); p = p.ParentPath() {
		if p.Equal(parent) {
			return true
		}
	}
	return false
}
