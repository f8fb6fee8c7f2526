package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Conversions between Go values and framework values shared by every
// flatten. Empty strings and zero numbers the API omits become null; lists
// and maps stay known and empty, matching their schema defaults.

func stringOrNull(s string) types.String {
	if s == "" {
		return types.StringNull()
	}
	return types.StringValue(s)
}

func int64OrNull(i int) types.Int64 {
	if i == 0 {
		return types.Int64Null()
	}
	return types.Int64Value(int64(i))
}

func emptyList() types.List { return types.ListValueMust(types.StringType, []attr.Value{}) }

func emptyMap() types.Map { return types.MapValueMust(types.StringType, map[string]attr.Value{}) }

func stringList(values []string) types.List {
	elems := make([]attr.Value, 0, len(values))
	for _, v := range values {
		elems = append(elems, types.StringValue(v))
	}
	return types.ListValueMust(types.StringType, elems)
}

func stringMap(values map[string]string) types.Map {
	elems := make(map[string]attr.Value, len(values))
	for k, v := range values {
		elems[k] = types.StringValue(v)
	}
	return types.MapValueMust(types.StringType, elems)
}

func int64Map(values map[string]int) types.Map {
	elems := make(map[string]attr.Value, len(values))
	for k, v := range values {
		elems[k] = types.Int64Value(int64(v))
	}
	return types.MapValueMust(types.Int64Type, elems)
}

// objectValue returns the object of type t holding model (a struct with
// tfsdk tags).
func objectValue(ctx context.Context, t types.ObjectType, model any, diags *diag.Diagnostics) types.Object {
	v, d := types.ObjectValueFrom(ctx, t.AttrTypes, model)
	diags.Append(d...)
	return v
}

// listValue returns the list of objects of type t holding models.
func listValue[T any](ctx context.Context, t types.ObjectType, models []T, diags *diag.Diagnostics) types.List {
	v, d := types.ListValueFrom(ctx, t, models)
	diags.Append(d...)
	return v
}
