package rollout

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

func overrideTo(version string, lasts time.Duration) func(*Command) {
	return func(c *Command) { c.To, c.For, c.Reason = version, Duration(lasts), "v2 corrupts carts" }
}

// TestAnOverridePinsAHotVersionAndReleasesWaitForItsEnd: traffic returns to
// hot v1 in one write, a release declared meanwhile builds nothing and is
// noted once, and it rolls out, step by step, when the override ends.
func TestAnOverridePinsAHotVersionAndReleasesWaitForItsEnd(t *testing.T) {
	w := live(t, testEndpoint(), "v1")
	w.release(Production, "v2")
	w.wait(10 * time.Minute)
	wantPhase(t, w, PhaseComplete)

	writes := w.Writes[Production]
	w.command(CommandOverride, overrideTo("v1", 30*time.Minute))
	wantWeights(t, w, Production, map[string]int{"v1": 100})
	if n := w.Writes[Production] - writes; n != 1 {
		t.Errorf("weight writes for the override = %d, want 1", n)
	}
	o := w.State.Production.Override
	if o == nil || o.Version != "v1" || o.Actor != "alice" || !o.Until.Equal(o.Since.Add(30*time.Minute)) {
		t.Fatalf("override = %+v, want v1 by alice for 30m", o)
	}

	created := w.Creates
	w.release(Production, "v3")
	w.wait(10 * time.Minute)
	w.release(Production, "v3") // an apply again: noted once
	wantWeights(t, w, Production, map[string]int{"v1": 100})
	if w.Creates != created {
		t.Errorf("%d environments built during the override, want 0", w.Creates-created)
	}
	if d := w.EventsOf(EventReleaseDeferred); len(d) != 1 || d[0].Version != "v3" {
		t.Errorf("release.deferred events = %+v, want one for v3", d)
	}

	w.wait(20 * time.Minute)
	ended := w.EventsOf(EventOverrideEnded)
	if len(ended) != 1 || ended[0].Details["ended"] != "its time ran out" {
		t.Fatalf("override.ended events = %+v, want one: its time ran out", ended)
	}
	if w.State.Production.Override != nil {
		t.Error("override still in force after its time")
	}
	wantWeights(t, w, Production, map[string]int{"v1": 90, "v3": 10})
}

// TestAnOverrideHoldsTheReleaseItOverrode: the override ends and the
// release it took traffic from (v2, still declared) does not come back by
// itself; it is held as an operator's rollback holds it.
func TestAnOverrideHoldsTheReleaseItOverrode(t *testing.T) {
	w := live(t, testEndpoint(), "v1")
	w.release(Production, "v2")
	w.wait(10 * time.Minute)
	w.command(CommandOverride, overrideTo("v1", 5*time.Minute))
	w.wait(time.Hour)
	wantWeights(t, w, Production, map[string]int{"v1": 100})
	if h := w.State.Production.Held; h == nil || h.Key.Version != "v2" {
		t.Fatalf("held = %+v, want v2 held", h)
	}
	w.release(Production, "v3")
	wantWeights(t, w, Production, map[string]int{"v1": 90, "v3": 10})
}

// TestAnOverrideToTheLiveVersionEndsTheCanaryAndLiftEndsIt: pinning the
// stable version during a canary rolls the canary back; a lift ends the
// override at once, and the overridden release stays held.
func TestAnOverrideToTheLiveVersionEndsTheCanaryAndLiftEndsIt(t *testing.T) {
	ep := testEndpoint()
	ep.Policy.Steps = []Step{{Weight: 5}, {Weight: 100}}
	w := live(t, ep, "v1")
	w.release(Production, "v2")
	wantWeights(t, w, Production, map[string]int{"v1": 95, "v2": 5})

	w.command(CommandOverride, overrideTo("v1", time.Hour))
	wantWeights(t, w, Production, map[string]int{"v1": 100})
	wantPhase(t, w, PhaseRolledBack)
	w.command(CommandLift)
	if w.State.Production.Override != nil {
		t.Fatal("override still in force after a lift")
	}
	ended := w.EventsOf(EventOverrideEnded)
	if len(ended) != 1 || ended[0].Details["ended"] != "lifted by alice" {
		t.Errorf("override.ended events = %+v, want one lifted by alice", ended)
	}
	w.wait(time.Hour)
	wantWeights(t, w, Production, map[string]int{"v1": 100})
}

// TestAnOverrideThatCannotApplyIsIgnored: a version neither live nor hot,
// and a lift with no override, are ignored with why, changing nothing.
func TestAnOverrideThatCannotApplyIsIgnored(t *testing.T) {
	w := live(t, testEndpoint(), "v1")
	before := maps.Clone(w.Weights(Production))
	w.command(CommandOverride, overrideTo("v9", time.Hour))
	w.command(CommandLift)
	if w.State.Production.Override != nil {
		t.Fatalf("override = %+v, want none", w.State.Production.Override)
	}
	wantWeights(t, w, Production, before)
	var ignored []string
	for _, e := range w.EventsOf(EventCommand) {
		ignored = append(ignored, e.Details["ignored"])
	}
	if want := []string{ignoredNotHot("v9"), ignoredNoOverride}; !slices.Equal(ignored, want) {
		t.Errorf("ignored = %q, want %q", ignored, want)
	}
}

// TestAnOverrideWhoseVersionCannotTakeTrafficEnds: the hot version is
// unhealthy, its rollback fails, and the override ends saying so instead of
// claiming a traffic it does not hold.
func TestAnOverrideWhoseVersionCannotTakeTrafficEnds(t *testing.T) {
	w := live(t, testEndpoint(), "v1")
	w.release(Production, "v2")
	w.wait(10 * time.Minute)
	w.Envs[w.env("v1").ID].Healthy = 0
	w.Envs[w.env("v1").ID].InService = 0
	w.command(CommandOverride, overrideTo("v1", time.Hour))
	w.wait(30 * time.Minute)
	wantWeights(t, w, Production, map[string]int{"v2": 100})
	if w.State.Production.Override != nil {
		t.Fatalf("override = %+v, want ended", w.State.Production.Override)
	}
	ended := w.EventsOf(EventOverrideEnded)
	if len(ended) != 1 || !strings.HasPrefix(ended[0].Details["ended"], "version v1 did not take the traffic") {
		t.Errorf("override.ended events = %+v, want one saying v1 did not take the traffic", ended)
	}
}

func TestAnOverrideCommandNamesWhatItLacks(t *testing.T) {
	for _, tc := range []struct {
		c     Command
		field string
	}{
		{Command{Kind: CommandOverride, For: Duration(time.Hour), Reason: "x"}, "to"},
		{Command{Kind: CommandOverride, To: "v1", Reason: "x"}, "for"},
		{Command{Kind: CommandOverride, To: "v1", For: Duration(25 * time.Hour), Reason: "x"}, "for"},
		{Command{Kind: CommandOverride, To: "v1", For: Duration(time.Hour), Reason: "  "}, "reason"},
		{Command{Kind: CommandLift, To: "v1"}, "to"},
		{Command{Kind: CommandPromote, For: Duration(time.Hour)}, "for"},
	} {
		err := tc.c.Validate()
		if ErrorField(err) != tc.field {
			t.Errorf("%+v: error %v names %q, want %q", tc.c, err, ErrorField(err), tc.field)
		}
	}
	ok := Command{Kind: CommandOverride, To: "v1", For: Duration(time.Hour), Reason: "x"}
	if err := ok.Validate(); err != nil {
		t.Errorf("%+v: %v", ok, err)
	}
}
