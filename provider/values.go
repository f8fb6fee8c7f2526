package provider

import (
	"context"
	"fmt"
	"reflect"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
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

// Models are structs of framework values with tfsdk tags (endpointModel,
// templateModel, ...). The framework converts them to and from objects by
// reflection, slowly: for every field of every model it compiles a regular
// expression to check the tag, and it turns every value into terraform's
// wire type and back. In a plan of 200 endpoints and releases that was half
// of what the provider's own code cost (BenchmarkTerraform, profiled).
// objectValue and setModel convert models field by field instead: every
// field already holds a value of the attribute's type.

// objectValue returns the object of type t holding model, a struct (or a
// pointer to one) of framework values with tfsdk tags.
func objectValue(_ context.Context, t types.ObjectType, model any, diags *diag.Diagnostics) types.Object {
	attrs := make(map[string]attr.Value, len(t.AttrTypes))
	eachField(reflect.Indirect(reflect.ValueOf(model)), func(name string, field reflect.Value) {
		v, ok := field.Interface().(attr.Value)
		if !ok {
			diags.AddError("Unexpected Model Field", fmt.Sprintf("Field %s of %T is a %s, not a framework value. This is a bug in the provider.",
				name, model, field.Type()))
			return
		}
		attrs[name] = v
	})
	o, d := types.ObjectValue(t.AttrTypes, attrs)
	diags.Append(d...)
	return o
}

// listValue returns the list of objects of type t holding models.
func listValue[T any](ctx context.Context, t types.ObjectType, models []T, diags *diag.Diagnostics) types.List {
	elems := make([]attr.Value, 0, len(models))
	for _, m := range models {
		elems = append(elems, objectValue(ctx, t, m, diags))
	}
	v, d := types.ListValue(t, elems)
	diags.Append(d...)
	return v
}

// setModel sets the fields of model, a pointer to a struct of framework
// values with tfsdk tags, to the attributes of o, a known object.
func setModel(o types.Object, model any, diags *diag.Diagnostics) {
	attrs := o.Attributes()
	eachField(reflect.ValueOf(model).Elem(), func(name string, field reflect.Value) {
		v := reflect.ValueOf(attrs[name])
		if !v.IsValid() || !v.Type().AssignableTo(field.Type()) {
			diags.AddError("Unexpected Model Field", fmt.Sprintf("Field %s of %T is a %s; the object's attribute is %v. This is a bug in the provider.",
				name, model, field.Type(), attrs[name]))
			return
		}
		field.Set(v)
	})
}

// eachField calls fn with the tfsdk name and the value of each field of
// struct v, and of the structs it embeds.
func eachField(v reflect.Value, fn func(name string, field reflect.Value)) {
	for i := range v.NumField() {
		f := v.Type().Field(i)
		switch name, ok := f.Tag.Lookup("tfsdk"); {
		case ok && name != "-":
			fn(name, v.Field(i))
		case f.Anonymous:
			eachField(v.Field(i), fn)
		}
	}
}

// getModel reads the whole of data, a plan, state or config, into model, a
// pointer to a struct of framework values with tfsdk tags: what data.Get
// does, without the framework's reflection.
func getModel(ctx context.Context, data interface {
	GetAttribute(context.Context, path.Path, any) diag.Diagnostics
}, model any) diag.Diagnostics {
	var v attr.Value
	diags := data.GetAttribute(ctx, path.Empty(), &v)
	if diags.HasError() {
		return diags
	}
	o, ok := v.(types.Object)
	if !ok || o.IsNull() || o.IsUnknown() {
		diags.AddError("Unexpected Value", fmt.Sprintf("Expected a known object, got %v. This is a bug in the provider.", v))
		return diags
	}
	setModel(o, model, &diags)
	return diags
}

// setState writes model as the whole of state s: what s.Set does, without
// the framework's reflection.
func setState(ctx context.Context, s *tfsdk.State, model any) diag.Diagnostics {
	return setWhole(ctx, s.Set, s.Schema.Type(), model)
}

// setPlan writes model as the whole of plan p.
func setPlan(ctx context.Context, p *tfsdk.Plan, model any) diag.Diagnostics {
	return setWhole(ctx, p.Set, p.Schema.Type(), model)
}

func setWhole(ctx context.Context, set func(context.Context, any) diag.Diagnostics, t attr.Type, model any) diag.Diagnostics {
	var diags diag.Diagnostics
	o := objectValue(ctx, objectType(t, &diags), model, &diags)
	if diags.HasError() {
		return diags
	}
	return append(diags, set(ctx, o)...)
}
