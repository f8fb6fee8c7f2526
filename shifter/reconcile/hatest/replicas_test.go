package hatest_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/faults"
	"github.com/ionroller/terraform-provider-ionroller/shifter/benchtest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/reconcile"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// The tests of this file show invariant 7 against moto: replicas sharing a
// DynamoDB table divide the endpoints with leases, one acts on an endpoint
// at a time, and a dead or cut-off replica's endpoints move to the others.

// replicaSteps are short canary steps, so that a rollout is under way long
// enough to be interrupted.
var replicaSteps = []rollout.Step{
	{Weight: 10, Pause: rollout.DurationPtr(time.Second)},
	{Weight: 50, Pause: rollout.DurationPtr(time.Second)},
	{Weight: 100},
}

const replicaTTL = 2 * time.Second

// takeoverWithin bounds how long a dead or cut-off replica's endpoints take
// to move: a liveness bound, well past the lease's expiry (a TTL after the
// last renewal) and the survivors' next look, so that only endpoints that
// never move, or wait for something else, fail it. How soon they move is
// logged, not asserted: under the race detector on a loaded 2-core machine,
// as in CI, one took 4.09 s with a 2 s TTL.
const takeoverWithin = 5 * replicaTTL

// v2Splits are the splits a rule goes through from v1 to v2 with
// replicaSteps.
var v2Splits = []map[string]int{{"v1": 100}, {"v1": 90, "v2": 10}, {"v1": 50, "v2": 50}, {"v2": 100}}

func TestReplicasShareEndpointsAndTakeOverFromADeadOne(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 30, replicaTTL, replicaSteps...)
	a, b, c := f.start("replica-a"), f.start("replica-b"), f.start("replica-c")
	f.waitSpread(a, b, c)
	stop := f.sample(100 * time.Millisecond)
	f.release("v1")
	f.waitComplete("v1", 2*time.Minute)

	f.release("v2")
	// Mid-rollout: the dead replica's endpoints have started shifting.
	// (A replica slowed down enough to lose its leases holds none for a
	// while: its victims are those it holds by then.)
	var victims []string
	f.eventually(time.Minute, "a canary step of replica-a", func() bool {
		victims = a.held()
		return len(victims) > 0 && f.stepped(victims[0], "v2")
	})
	killed := time.Now()
	a.kill()
	moved := f.waitTakeover(a, victims, killed, takeoverWithin)
	f.waitComplete("v2", 2*time.Minute)
	splits := stop()

	// A lease can only move once it expired, at most a TTL after the
	// kill (less the time since its last renewal); the survivors look
	// right then, and take it in a few store round trips.
	t.Logf("failover of %d endpoints from a killed replica: longest %s, mean %s (TTL %s)",
		len(victims), maxDuration(moved).Round(time.Millisecond), meanDuration(moved).Round(time.Millisecond), replicaTTL)
	f.checkSteps("v2", 2)
	f.checkSplits(splits, v2Splits...)
	writes := f.checkOneWriterAtATime()
	for _, name := range victims {
		for _, w := range writes[name] {
			if w.replica == a.name && w.at.After(killed) {
				t.Errorf("%s: ModifyRule by the killed replica after it died", name)
			}
		}
	}
	f.waitSpread(b, c)
}

func TestReplicaCutOffFromDynamoDBStopsBeforeItsLeaseExpires(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 6, replicaTTL, replicaSteps...)
	a, b := f.start("replica-a"), f.start("replica-b")
	f.waitSpread(a, b)
	stop := f.sample(100 * time.Millisecond)
	f.release("v1")
	f.waitComplete("v1", time.Minute)

	f.release("v2")
	// (A replica slowed down enough to lose its leases holds none for a
	// while: its victims are those it holds by then.)
	var victims []string
	f.eventually(time.Minute, "a canary step of replica-a", func() bool {
		victims = a.held()
		return len(victims) > 0 && f.stepped(victims[0], "v2")
	})
	cut := time.Now()
	a.cut() // it keeps running: only DynamoDB is out of its reach
	moved := f.waitTakeover(a, victims, cut, takeoverWithin)
	f.waitComplete("v2", time.Minute)
	f.checkSplits(stop(), v2Splits...)

	// A replica stops LeaseMargin (TTL/5) before its lease could expire,
	// counted from the start of its last renewal, which came before the
	// cut.
	deadline := cut.Add(replicaTTL - replicaTTL/5)
	writes := f.checkOneWriterAtATime()
	last := time.Time{}
	for _, name := range victims {
		for _, w := range writes[name] {
			if w.replica != a.name {
				continue
			}
			if w.at.After(last) {
				last = w.at
			}
			if w.at.After(deadline) {
				t.Errorf("%s: ModifyRule by the cut-off replica %s after the cut, later than TTL - margin", name, w.at.Sub(cut))
			}
		}
	}
	if len(a.held()) != 0 {
		t.Errorf("the cut-off replica still holds %v", a.held())
	}
	t.Logf("cut-off replica: last weight write %s after the cut (deadline %s); endpoints moved within %s",
		max(last.Sub(cut), 0).Round(time.Millisecond), (replicaTTL - replicaTTL/5), maxDuration(moved).Round(time.Millisecond))
	f.checkSteps("v2", 2)
}

func TestRolloutsHoldSafelyUnderAWSFaults(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 5, replicaTTL, replicaSteps...)
	kinds := []faults.Kind{faults.Throttle, faults.ServerError, faults.Timeout, faults.LostResponse}
	rules := []faults.Rule{
		{Service: "ELBv2", Rate: 0.2, Kinds: kinds},
		{Service: "Auto Scaling", Rate: 0.2, Kinds: kinds},
		{Service: "CloudWatch", Rate: 0.2, Kinds: kinds},
	}
	r := f.start("replica-a", rules...)
	f.waitSpread(r)
	stop := f.sample(100 * time.Millisecond)
	f.release("v1")
	f.waitComplete("v1", time.Minute)

	f.release("v2")
	f.eventually(time.Minute, "a canary step", func() bool { return f.stepped(f.names[0], "v2") })
	// ModifyRule failing until it is reported: the rollouts hold where they are and
	// say so. (A throttle alone is the scheduler's to wait out.)
	r.aws.Set(append([]faults.Rule{{Service: "ELBv2", Operations: []string{"ModifyRule"}, Rate: 1, Kinds: []faults.Kind{faults.ServerError}}}, rules...)...)
	f.eventually(time.Minute, "an action.failed event naming ModifyRule", func() bool {
		for _, name := range f.names {
			for _, e := range f.events(name, rollout.EventActionFailed, "") {
				if strings.Contains(e.Details["error"], "ModifyRule") {
					return true
				}
			}
		}
		return false
	})
	r.aws.Set(rules...)
	f.waitComplete("v2", 2*time.Minute)
	f.checkSplits(stop(), v2Splits...)

	f.checkSteps("v2", 2)
	f.checkOneWriterAtATime()
	failures := 0
	for _, name := range f.names {
		for _, e := range f.events(name, rollout.EventActionFailed, "") {
			failures++
			if !strings.Contains(e.Message, "failed, will retry") || e.Details["action"] == "" || e.Details["error"] == "" {
				t.Errorf("%s: action.failed %q does not say what failed and why: %v", name, e.Message, e.Details)
			}
		}
	}
	injected := 0
	for _, n := range r.aws.Injected() {
		injected += n
	}
	t.Logf("%d faults injected (%s); %d action.failed events", injected, r.aws, failures)
}

// TestAWriteToTheReplicaThatDoesNotHoldTheEndpointIsActedOnAtOnce: a
// release, and then the revert that rolls it back, each told only to the
// replica that does not hold the endpoint (as a load balancer in front of
// the API would half of the time), is acted on by the holder at once, not at
// its next resync (a minute here).
func TestAWriteToTheReplicaThatDoesNotHoldTheEndpointIsActedOnAtOnce(t *testing.T) {
	t.Parallel()
	starts, reverts := throughTheOtherReplica(newFleet(t, 6, replicaTTL, nonHolderSteps...))
	// Without the poke it would take up to a resync (a minute). How fast it
	// is (a second is the target) is the benchmark's to say on a quiet
	// machine; under the race detector on a busy one it is slower.
	for what, took := range map[string][]time.Duration{"release": starts, "revert": reverts} {
		if worst := slices.Max(took); worst > nonHolderResync/6 {
			t.Errorf("a %s told to the other replica took up to %s to be acted on, as if it waited for a resync: %v", what, worst.Round(time.Millisecond), took)
		}
	}
	t.Logf("through the replica that does not hold the endpoint: releases started within %s, reverts within %s (polling pokes every %s)",
		slices.Max(starts).Round(time.Millisecond), slices.Max(reverts).Round(time.Millisecond), reconcile.PokeInterval)
}

// BenchmarkWritesThroughTheOtherReplica measures how long a release and a
// revert told to the replica that does not hold the endpoint take to be
// acted on by the one that does (issue 22's target: p99 within 1 s).
func BenchmarkWritesThroughTheOtherReplica(b *testing.B) {
	var starts, reverts []time.Duration
	for range b.N {
		s, r := throughTheOtherReplica(newFleet(b, 10, replicaTTL, nonHolderSteps...))
		starts, reverts = append(starts, s...), append(reverts, r...)
	}
	b.ReportMetric(benchtest.Ms(benchtest.Percentile(starts, 50)), "release-p50-ms")
	b.ReportMetric(benchtest.Ms(benchtest.Percentile(starts, 99)), "release-p99-ms")
	b.ReportMetric(benchtest.Ms(benchtest.Percentile(reverts, 50)), "revert-p50-ms")
	b.ReportMetric(benchtest.Ms(benchtest.Percentile(reverts, 99)), "revert-p99-ms")
}

// nonHolderResync is the replicas' resync when writes go through the other
// replica: long, so that a write acted on at a resync cannot pass for one
// acted on at a poke.
const nonHolderResync = time.Minute

// nonHolderSteps hold the canary long enough to revert it.
var nonHolderSteps = []rollout.Step{{Weight: 10, Pause: rollout.DurationPtr(time.Minute)}, {Weight: 100}}

// throughTheOtherReplica runs two replicas over f's endpoints, releases v1,
// then, telling only the replica that does not hold each endpoint, releases
// v2 and reverts to v1 at its canary. It returns how long each release took
// to start and each revert to abort the rollout.
func throughTheOtherReplica(f *fleet) (starts, reverts []time.Duration) {
	f.resync = nonHolderResync
	a, b := f.start("replica-a"), f.start("replica-b")
	f.waitSpread(a, b)
	f.release("v1")
	f.waitComplete("v1", time.Minute)

	holders := f.holders()
	other := func(name string) *replica {
		if holders[name] == a.name {
			return b
		}
		return a
	}
	declare := func(name, version string) time.Time {
		if _, err := f.store.PutRelease(f.ctx, rollout.Release{Endpoint: name, Track: rollout.Production, Version: version}, rollout.RevisionAny); err != nil {
			f.t.Fatal(err)
		}
		other(name).rec.Notify(name)
		return time.Now()
	}
	for _, name := range f.names {
		at := declare(name, "v2")
		f.eventually(time.Minute, name+": the rollout of v2 to start", func() bool { return len(f.events(name, rollout.EventRolloutStarted, "v2")) > 0 })
		starts = append(starts, time.Since(at))
	}
	for _, name := range f.names {
		f.eventually(time.Minute, name+": the canary of v2", func() bool { return f.stepped(name, "v2") })
		at := declare(name, "v1")
		f.eventually(time.Minute, name+": the revert", func() bool { return len(f.events(name, rollout.EventRolloutAborted, "v2")) > 0 })
		reverts = append(reverts, time.Since(at))
	}
	return starts, reverts
}
