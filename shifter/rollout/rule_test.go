package rollout

import (
	"strings"
	"testing"
)

func TestGlobs(t *testing.T) {
	for _, tc := range []struct {
		a, b       string
		match      bool // GlobMatch(a, b)
		mayMeet    bool // GlobsMayMeet(a, b)
		reasonable string
	}{
		{"web.example.com", "web.example.com", true, true, "the same host"},
		{"web.example.com", "api.example.com", false, false, "two hosts"},
		{"*.example.com", "web.example.com", true, true, "a wildcard over a host"},
		{"*.example.com", "example.com", false, false, "* stands for at least the dot before"},
		{"*", "", true, true, "* matches nothing too"},
		{"w?b.example.com", "web.example.com", true, true, "? is one character"},
		{"w?b.example.com", "wb.example.com", false, false, "? is exactly one"},
		{"/api/*", "/api/v1/users", true, true, "* crosses slashes, as in ALB"},
		{"*.payments.example.com", "*.example.com", false, true, "two wildcards that meet at x.payments.example.com"},
		{"/search/new/*", "/search/find/*", false, false, "fixed beginnings that disagree"},
		{"*.a.com", "*.b.com", false, false, "fixed ends that disagree"},
		{"a*", "*b", false, true, "ab"},
	} {
		if got := GlobMatch(tc.a, tc.b); got != tc.match {
			t.Errorf("GlobMatch(%q, %q) = %v, want %v (%s)", tc.a, tc.b, got, tc.match, tc.reasonable)
		}
		if got := GlobsMayMeet(tc.a, tc.b); got != tc.mayMeet {
			t.Errorf("GlobsMayMeet(%q, %q) = %v, want %v (%s)", tc.a, tc.b, got, tc.mayMeet, tc.reasonable)
		}
	}
}

// FuzzGlobs: GlobsMayMeet never misses a string two patterns both match
// (it may only err on the side of yes), is symmetric, and agrees with
// GlobMatch when one side has no wildcard.
func FuzzGlobs(f *testing.F) {
	f.Add("*.payments.example.com", "*.example.com", "x.payments.example.com")
	f.Add("/api/*", "/api/v?/*", "/api/v1/users")
	f.Add("a*b*c", "*c", "abc")
	f.Add("web.example.com", "WEB.example.com", "web.example.com")
	f.Fuzz(func(t *testing.T, a, b, s string) {
		if GlobsMayMeet(a, b) != GlobsMayMeet(b, a) {
			t.Fatalf("GlobsMayMeet(%q, %q) is not symmetric", a, b)
		}
		if GlobMatch(a, s) && GlobMatch(b, s) && !GlobsMayMeet(a, b) {
			t.Fatalf("%q and %q both match %q, but GlobsMayMeet says they never meet", a, b, s)
		}
		if !strings.ContainsAny(s, "*?") && GlobsMayMeet(a, s) != GlobMatch(a, s) {
			t.Fatalf("GlobsMayMeet(%q, %q) = %v but GlobMatch = %v", a, s, GlobsMayMeet(a, s), GlobMatch(a, s))
		}
	})
}
