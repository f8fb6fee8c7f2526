package provider

import (
	"fmt"

	dschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	rschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
)

// computedAttributes returns resource attributes as read-only data source
// attributes with the same types, descriptions and sensitivity, so a data
// source shows what a resource manages without a second copy of its schema.
func computedAttributes(in map[string]rschema.Attribute, diags *diag.Diagnostics) map[string]dschema.Attribute {
	out := make(map[string]dschema.Attribute, len(in))
	for name, a := range in {
		out[name] = computedAttribute(name, a, diags)
	}
	return out
}

func computedAttribute(name string, a rschema.Attribute, diags *diag.Diagnostics) dschema.Attribute {
	desc, sensitive := a.GetMarkdownDescription(), a.IsSensitive()
	switch a := a.(type) {
	case rschema.StringAttribute:
		return dschema.StringAttribute{MarkdownDescription: desc, Sensitive: sensitive, Computed: true, CustomType: a.CustomType}
	case rschema.Int64Attribute:
		return dschema.Int64Attribute{MarkdownDescription: desc, Sensitive: sensitive, Computed: true}
	case rschema.Float64Attribute:
		return dschema.Float64Attribute{MarkdownDescription: desc, Sensitive: sensitive, Computed: true}
	case rschema.BoolAttribute:
		return dschema.BoolAttribute{MarkdownDescription: desc, Sensitive: sensitive, Computed: true}
	case rschema.ListAttribute:
		return dschema.ListAttribute{MarkdownDescription: desc, Sensitive: sensitive, Computed: true, ElementType: a.ElementType}
	case rschema.MapAttribute:
		return dschema.MapAttribute{MarkdownDescription: desc, Sensitive: sensitive, Computed: true, ElementType: a.ElementType}
	case rschema.SingleNestedAttribute:
		return dschema.SingleNestedAttribute{MarkdownDescription: desc, Sensitive: sensitive, Computed: true,
			Attributes: computedAttributes(a.Attributes, diags)}
	case rschema.ListNestedAttribute:
		return dschema.ListNestedAttribute{MarkdownDescription: desc, Sensitive: sensitive, Computed: true,
			NestedObject: dschema.NestedAttributeObject{Attributes: computedAttributes(a.NestedObject.Attributes, diags)}}
	}
	diags.AddError("Unsupported Schema Attribute",
		fmt.Sprintf("Attribute %s is a %T, which the data source schema conversion does not handle. This is a bug in the provider.", name, a))
	return dschema.StringAttribute{Computed: true}
}
