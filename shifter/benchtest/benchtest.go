// Package benchtest holds what the benchmarks share: the sizes they run at
// and the latency figures they report.
package benchtest

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Sizes returns the sizes a benchmark runs at: the comma-separated list in
// the environment variable env (SCALE_ENDPOINTS=2000), or defaults.
func Sizes(tb testing.TB, env string, defaults ...int) []int {
	tb.Helper()
	s := os.Getenv(env)
	if s == "" {
		return defaults
	}
	var sizes []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			tb.Fatalf("%s: %q is not a size", env, f)
		}
		sizes = append(sizes, n)
	}
	return sizes
}

// Percentile returns the p-th percentile (0 to 100) of ds, which it sorts.
func Percentile(ds []time.Duration, p int) time.Duration {
	slices.Sort(ds)
	return ds[min(len(ds)*p/100, len(ds)-1)]
}

// Ms is d in milliseconds, the unit the benchmarks report latencies in.
func Ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
