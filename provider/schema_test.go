package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// TestSpecTypesMatchTheSchema: the object types flatten builds values with
// are the schema's, attribute for attribute.
func TestSpecTypesMatchTheSchema(t *testing.T) {
	var resp resource.SchemaResponse
	NewEndpointResource().Schema(t.Context(), resource.SchemaRequest{}, &resp)
	failOn(t, resp.Diagnostics)
	attrs := resp.Schema.Attributes
	nested := func(names ...string) attr.Type {
		typ := attrs[names[0]].GetType()
		for _, n := range names[1:] {
			typ = typ.(types.ObjectType).AttrTypes[n]
		}
		return typ
	}
	for _, tc := range []struct {
		name string
		got  attr.Type
		want attr.Type
	}{
		{"placement", placementType(), nested("placement")},
		{"notifications", notificationsType(), nested("notifications")},
		{"traffic", trafficType(), nested("traffic")},
		{"template", templateType(), nested("template")},
		{"template.health_check", healthCheckType(), nested("template", "health_check")},
		{"policy", policyType(), nested("policy")},
		{"policy.steps", types.ListType{ElemType: stepType()}, nested("policy", "steps")},
		{"policy.metric_checks", metricChecksType(), nested("policy", "metric_checks")},
		{"status", statusType(), nested("status")},
	} {
		if !tc.got.Equal(tc.want) {
			t.Errorf("%s: flatten uses\n%s\nbut the schema has\n%s", tc.name, tc.got, tc.want)
		}
	}
}

func failOn(t *testing.T, diags diag.Diagnostics) {
	t.Helper()
	for _, d := range diags {
		t.Errorf("%s: %s: %s", d.Severity(), d.Summary(), d.Detail())
	}
	if diags.HasError() {
		t.FailNow()
	}
}
