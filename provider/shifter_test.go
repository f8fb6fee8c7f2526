package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/path"
)

func TestFieldPath(t *testing.T) {
	for _, tc := range []struct {
		field string
		want  path.Path
	}{
		{"name", path.Root("name")},
		{"traffic.listener_arn", path.Root("traffic").AtName("listener_arn")},
		{"policy.steps[1].weight", path.Root("policy").AtName("steps").AtListIndex(1).AtName("weight")},
		{"traffic.hosts[0]", path.Root("traffic").AtName("hosts").AtListIndex(0)},
		{`template.env["PORT"]`, path.Root("template").AtName("env").AtMapKey("PORT")},
		{`env["A.B[0]"]`, path.Root("env").AtMapKey("A.B[0]")},
	} {
		got, ok := fieldPath(tc.field)
		if !ok || !got.Equal(tc.want) {
			t.Errorf("fieldPath(%q) = %s, %t; want %s", tc.field, got, ok, tc.want)
		}
		// The shifter's fields are the framework's path strings.
		if tc.want.String() != tc.field {
			t.Errorf("path %s prints as %q, the shifter's field is %q", tc.want, tc.want.String(), tc.field)
		}
	}
	for _, bad := range []string{"", ".name", "name.", "a..b", "a[", "a[x]", "a[-1]", `a["x`, `a["x"`} {
		if p, ok := fieldPath(bad); ok {
			t.Errorf("fieldPath(%q) = %s, want no path", bad, p)
		}
	}
}
