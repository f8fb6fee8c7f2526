package rollout

import (
	"testing"
	"time"
)

// BenchmarkPlan measures planner decisions over realistic states: a steady
// endpoint with a hot previous version, and one in the middle of a rollout.
func BenchmarkPlan(b *testing.B) {
	steady := live(b, testEndpoint(), "v1")
	steady.release(Production, "v2")
	steady.wait(10 * time.Minute)

	shifting := live(b, testEndpoint(), "v1")
	shifting.Endpoint.Policy.Alarms = []string{"web-5xx", "web-latency", "web-saturation"}
	shifting.release(Production, "v2")
	shifting.wait(30 * time.Second)

	for name, w := range map[string]*world{"steady": steady, "shifting": shifting} {
		in := w.Input()
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Plan(in)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
		})
	}
}
