package benchtest

import (
	"testing"
	"time"
)

func TestSizes(t *testing.T) {
	t.Setenv("BENCHTEST_SIZES", "")
	if got := Sizes(t, "BENCHTEST_SIZES", 100, 1000); len(got) != 2 || got[0] != 100 || got[1] != 1000 {
		t.Errorf("defaults = %v", got)
	}
	t.Setenv("BENCHTEST_SIZES", "2000, 3000")
	if got := Sizes(t, "BENCHTEST_SIZES", 100); len(got) != 2 || got[0] != 2000 || got[1] != 3000 {
		t.Errorf("from the environment = %v", got)
	}
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	for _, tc := range []struct {
		p    int
		want time.Duration
	}{{0, time.Millisecond}, {50, 51 * time.Millisecond}, {99, 100 * time.Millisecond}, {100, 100 * time.Millisecond}} {
		if got := Percentile(ds, tc.p); got != tc.want {
			t.Errorf("p%d = %s, want %s", tc.p, got, tc.want)
		}
	}
	if got := Ms(1500 * time.Microsecond); got != 1.5 {
		t.Errorf("Ms = %v", got)
	}
}
