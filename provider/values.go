package provider

import (
	"context"
	"fmt"

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

func int64OrNull[N int | int64](i N) types.Int64 {
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

func int64Map[N int | int64](values map[string]N) types.Map {
	elems := make(map[string]attr.Value, len(values))
	for k, v := range values {
		elems[k] = types.Int64Value(int64(v))
	}
	return types.MapValueMust(types.Int64Type, elems)
}

// objectType returns the object type of values of type t, or of their
// elements when t is a list of objects. Flatten takes its types from the
// schema this way, attribute by attribute, so no type is written beside it.
func objectType(t attr.Type, diags *diag.Diagnostics) types.ObjectType {
	if l, ok := t.(types.ListType); ok {
		t = l.ElemType
	}
	o, ok := t.(types.ObjectType)
	if !ok {
		diags.AddError("Unexpected Schema Type", fmt.Sprintf("Expected an object type, got %v. This is a bug in the provider.", t))
	}
	return o
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
