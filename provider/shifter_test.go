package provider

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"

	"github.com/ionroller/terraform-provider-ionroller/shifter/client"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
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

// TestAddShifterError: the shifter's refusals become diagnostics at the
// attribute they name, and a stale revision says to plan again.
func TestAddShifterError(t *testing.T) {
	state := tfsdk.State{Schema: endpointResourceSchema(t)}
	for _, tc := range []struct {
		err    error
		path   path.Path // nil: no attribute
		detail string
	}{
		{rollout.Invalid("policy.steps[1].weight", "must be greater than the previous step's weight (50); got 10"),
			path.Root("policy").AtName("steps").AtListIndex(1).AtName("weight"),
			"The shifter refused policy.steps[1].weight: must be greater than the previous step's weight (50); got 10"},
		{rollout.Invalid("body", "is not JSON"), path.Empty(), "The shifter refused the request: body: is not JSON"},
		{rollout.Errorf(rollout.ECONFLICT, `endpoint "web": expected revision 3, current revision 4`), path.Empty(),
			"Another run changed endpoint \"web\" since Terraform last read it; re-run plan to see the change, then apply again.\n\n" +
				`The shifter said: endpoint "web": expected revision 3, current revision 4`},
		{rollout.Errorf(rollout.EFORBIDDEN, `ci may only act on endpoints of team "web"`), path.Empty(), `ci may only act on endpoints of team "web"`},
	} {
		var diags diag.Diagnostics
		addShifterError(t.Context(), &diags, state, "updating", `endpoint "web"`, tc.err)
		if len(diags) != 1 || diags[0].Summary() != `Error updating endpoint "web"` || diags[0].Detail() != tc.detail {
			t.Errorf("%v: diagnostics %v, want %q", tc.err, diags, tc.detail)
			continue
		}
		got := path.Empty()
		if d, ok := diags[0].(diag.DiagnosticWithPath); ok {
			got = d.Path()
		}
		if !got.Equal(tc.path) {
			t.Errorf("%v: at %q, want %q", tc.err, got, tc.path)
		}
	}
}

// TestPollWaitsForAShifterThatDoesNotAnswer: a wait outlives a shifter that
// refuses connections, and when its time is up says what it last heard.
func TestPollWaitsForAShifterThatDoesNotAnswer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "http://" + l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	c, err := client.New(addr, client.WithRetryFor(0))
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	checks := 0
	err = poll(ctx, func() (bool, error) {
		checks++
		_, err := c.GetEndpoint(ctx, "web")
		return false, err
	})
	if !errors.Is(err, context.DeadlineExceeded) || !client.Unavailable(err) || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("poll ended with %v, want its deadline and the refused connection", err)
	}
	if checks < 2 {
		t.Fatalf("checked %d times: the wait ended at the first refusal", checks)
	}
}
