package provider

import (
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/types"
)

func TestDurationSemanticEquality(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"5m", "5m0s", true},
		{"300s", "5m0s", true},
		{"1h30m", "90m", true},
		{"0s", "0s", true},
		{"5m", "6m", false},
		{"soon", "soon", false}, // not a duration: never equal to anything
	} {
		a := durationValue{StringValue: types.StringValue(tc.a)}
		b := durationValue{StringValue: types.StringValue(tc.b)}
		got, diags := a.StringSemanticEquals(t.Context(), b)
		if diags.HasError() || got != tc.want {
			t.Errorf("%q ≡ %q = %t (%v), want %t", tc.a, tc.b, got, diags, tc.want)
		}
	}
}

func TestShort(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 15 * time.Second: "15s", 90 * time.Second: "1m30s", 5 * time.Minute: "5m",
		time.Hour: "1h", 90 * time.Minute: "1h30m", 7 * 24 * time.Hour: "168h", time.Hour + time.Second: "1h0m1s",
	} {
		if got := short(d); got != want {
			t.Errorf("short(%s) = %q, want %q", d, got, want)
		}
	}
}
