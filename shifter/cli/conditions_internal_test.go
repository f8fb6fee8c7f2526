package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

func TestStatusAndWatchShowConditionsAndWhyARolloutHolds(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	s := rollout.EndpointStatus{
		State:         string(rollout.PhaseShifting),
		StableVersion: "v1",
		Weights:       map[string]int{"v1": 90, "v2": 10},
		ObservedAt:    now.Add(-50 * time.Second),
		Conditions: rollout.Conditions{
			{Type: rollout.AWSUnreachable, Since: now.Add(-45 * time.Second), Blocking: true, Message: "AWS did not answer within 10s"},
			{Type: rollout.AlarmMissing, Since: now.Add(-time.Hour), Message: "alarm x does not exist"},
		},
		Rollout: &rollout.RolloutStatus{ID: 2, Kind: rollout.KindDeploy, Version: "v2", FromVersion: "v1", Phase: rollout.PhaseShifting,
			Step: 1, Steps: 2, Weight: 10, Holding: "holding at 10%: AWS did not answer within 10s for 45s", NextAt: now.Add(-30 * time.Second),
			Judged: "0.50% 5xx of 200 requests, 41ms average: passing", JudgedAt: now.Add(-20 * time.Second)},
	}
	var b strings.Builder
	if err := printEndpoint(&b, rollout.EndpointView{Endpoint: rollout.Endpoint{Name: "web"}, Status: s}, now); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"holding at 10%: AWS did not answer within 10s for 45s",
		"Conditions:   aws_unreachable (for 45s, blocking): AWS did not answer within 10s",
		"alarm_missing (for 1h",
		"Observed:     50s ago",
		"metrics 20s ago: 0.50% 5xx of 200 requests, 41ms average: passing",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, b.String())
		}
	}
	lines := strings.Join(frame(snapshot{view: rollout.EndpointView{Endpoint: rollout.Endpoint{Name: "web"}, Status: s}}, nil, now), "\n")
	for _, want := range []string{"holding at 10%", "! aws_unreachable (for 45s, blocking)"} {
		if !strings.Contains(lines, want) {
			t.Errorf("watch lacks %q:\n%s", want, lines)
		}
	}
}
