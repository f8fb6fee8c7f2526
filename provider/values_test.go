package provider

import (
	"reflect"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// TestModelsConvertAsTheFrameworkDoes: objectValue builds the object the
// framework's reflection builds from a model, and setModel reads back the
// model the framework's reflection reads, for a whole endpoint resource: an
// embedded struct, nested objects, lists of objects, maps and custom types.
func TestModelsConvertAsTheFrameworkDoes(t *testing.T) {
	ctx := t.Context()
	schemaType := endpointResourceSchema(t).Type()
	var diags diag.Diagnostics
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	status := rollout.EndpointStatus{
		State: "shifting", StableVersion: "v1", Weights: map[string]int{"v1": 90, "v2": 10}, ObservedAt: t0,
		Conditions:  rollout.Conditions{{Type: rollout.ActionFailing, Since: t0, Message: "retried"}},
		Rollout:     &rollout.RolloutStatus{Version: "v2", Phase: rollout.PhasePaused, Step: 1, Steps: 3, Weight: 10},
		HotVersions: []rollout.HotVersion{{Version: "v0", SpecRevision: 3, Until: t0}},
	}
	m := endpointResourceModel{Timeouts: nullTimeouts(schemaType, &diags)}
	diags.Append(flattenEndpoint(ctx, schemaType, rollout.EndpointView{Endpoint: validSpec(), Status: status}, &m.endpointModel)...)
	failOn(t, diags)
	objectType := objectType(schemaType, &diags)

	got := objectValue(ctx, objectType, m, &diags)
	failOn(t, diags)
	want, d := types.ObjectValueFrom(ctx, objectType.AttrTypes, m)
	failOn(t, d)
	if !got.Equal(want) {
		t.Fatalf("objectValue:\n got %v\nwant %v", got, want)
	}

	var back, viaFramework endpointResourceModel
	setModel(got, &back, &diags)
	failOn(t, diags)
	failOn(t, got.As(ctx, &viaFramework, basetypes.ObjectAsOptions{}))
	if !reflect.DeepEqual(back, viaFramework) {
		t.Errorf("setModel:\n got %+v\nwant %+v", back, viaFramework)
	}

	// A model that does not fit the object is an error, not a zero value.
	var wrong struct {
		Name types.Int64 `tfsdk:"name"`
	}
	setModel(got, &wrong, &diags)
	if !diags.HasError() {
		t.Error("setModel of a string into an Int64 field: no error")
	}
}

// TestLogsAsked: any TF_LOG variable asks for logs unless it is OFF, as
// QuietSDKLogs sets TF_LOG_SDK.
func TestLogsAsked(t *testing.T) {
	for _, name := range []string{"TF_LOG", "TF_LOG_SDK", "TF_LOG_PROVIDER", "TF_LOG_PATH", "TF_LOG_PROVIDER_IONROLLER_SHIFTER_CLIENT"} {
		t.Setenv(name, "")
	}
	for _, tc := range []struct {
		env  map[string]string
		want bool
	}{
		{nil, false},
		{map[string]string{"TF_LOG_SDK": "OFF"}, false},
		{map[string]string{"TF_LOG_SDK": "off", "TF_LOG_PROVIDER": "OFF"}, false},
		{map[string]string{"TF_LOG": "DEBUG"}, true},
		{map[string]string{"TF_LOG_SDK": "OFF", "TF_LOG_PROVIDER_IONROLLER_SHIFTER_CLIENT": "TRACE"}, true},
	} {
		for name, value := range tc.env {
			t.Setenv(name, value)
		}
		if got := LogsAsked(); got != tc.want {
			t.Errorf("LogsAsked() with %v = %t, want %t", tc.env, got, tc.want)
		}
		for name := range tc.env {
			t.Setenv(name, "")
		}
	}
}
