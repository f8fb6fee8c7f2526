package rollout

import (
	"slices"
	"testing"
	"time"
)

func TestConditionsUpdateKeepsSinceAndRecordsStartsAndEnds(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	var cs Conditions
	cs, events := cs.Update(t0, "web", Conditions{{Type: AWSUnreachable, Blocking: true, Message: "AWS did not answer"}})
	if len(events) != 1 || events[0].Type != EventConditionStarted || events[0].Details["condition"] != "aws_unreachable" || events[0].Details["blocking"] != "true" {
		t.Fatalf("start: events %+v", events)
	}
	cs, events = cs.Update(t0.Add(time.Minute), "web", Conditions{
		{Type: AWSUnreachable, Blocking: true, Message: "AWS calls fail"},
		{Type: AlarmMissing, Message: "alarm x does not exist"},
	})
	if len(events) != 1 || events[0].Details["condition"] != "alarm_missing" {
		t.Fatalf("a condition that goes on is no new event: %+v", events)
	}
	if c := cs.Get(AWSUnreachable); !c.Since.Equal(t0) || c.Message != "AWS calls fail" {
		t.Errorf("a condition that goes on keeps its since and takes the new message: %+v", c)
	}
	if got := []ConditionType{cs[0].Type, cs[1].Type}; !slices.Equal(got, []ConditionType{AlarmMissing, AWSUnreachable}) {
		t.Errorf("conditions not sorted by type: %v", got)
	}
	cs, events = cs.Update(t0.Add(90*time.Second), "web", Conditions{{Type: AlarmMissing, Message: "alarm x does not exist"}})
	if len(events) != 1 || events[0].Type != EventConditionEnded || events[0].Message != "aws_unreachable ended after 1m30s" {
		t.Fatalf("end: events %+v", events)
	}
	if cs.Blocking() != nil || len(cs) != 1 {
		t.Errorf("after the end: %+v", cs)
	}
}

func TestAStaleObservationVerifiesNothing(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	ep := NewEndpoint()
	e := Environment{ID: "e1", Version: "v1", Status: EnvReady, Capacity: 1, Health: Health{InService: 1, TargetHealth: TargetHealth{Targets: 1, Unused: 1}, ReadAt: t0}}
	st := State{
		Environments: []Environment{e},
		Production:   TrackState{Stable: "e1", Route: Route{Weights: map[string]int{"e1": 100}, Verified: true}},
		ObservedAt:   t0,
		StaleAt:      t0.Add(time.Minute),
	}
	fresh := DescribeEndpoint(t0.Add(time.Minute), ep, st)
	if !fresh.Verified || fresh.Conditions.Get(ObservationStale) != nil {
		t.Errorf("fresh: verified %v, conditions %+v", fresh.Verified, fresh.Conditions)
	}
	if c := fresh.Conditions.Get(NotHealthChecked); c == nil || !slices.Equal(c.Names, []string{"v1"}) {
		t.Errorf("an unused target group on a route is not a not_health_checked condition: %+v", fresh.Conditions)
	}
	stale := DescribeEndpoint(t0.Add(time.Minute+time.Second), ep, st)
	if stale.Verified {
		t.Error("verified from a stale observation")
	}
	if c := stale.Conditions.Get(ObservationStale); c == nil || c.Message != "AWS last observed 1m1s ago" || !c.Blocking {
		t.Errorf("stale: %+v", stale.Conditions)
	}
	d := NewDesired(ep, Release{Endpoint: "web", Track: Production, Version: "v1"})
	if r := DescribeRelease(t0.Add(2*time.Minute), ep, st, d); r.Verified || r.Conditions.Get(ObservationStale) == nil {
		t.Errorf("release status from a stale observation: %+v", r)
	}
}
