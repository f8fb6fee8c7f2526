package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store"
)

// The lease section: how replicas share endpoints (store.Leases) and how
// fencing keeps a replica that lost an endpoint from writing to it.
//
// Leases that must stay live during a check get a long ttl; short ones are
// only ever checked after they expired, so a slow store (or a busy machine)
// cannot make the suite flaky.
const (
	long  = time.Minute
	short = 200 * time.Millisecond
)

var leaseTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store, l store.Leases)
}{
	{"Acquire", testLeaseAcquire},
	{"Held", testLeaseHeld},
	{"Renew", testLeaseRenew},
	{"Expiry", testLeaseExpiry},
	{"Release", testLeaseRelease},
	{"List", testLeaseList},
	{"Invalid", testLeaseInvalid},
	{"ConcurrentAcquire", testLeaseConcurrentAcquire},
	{"Fencing", testLeaseFencing},
	{"FencingExpired", testLeaseFencingExpired},
	{"FencingOtherEndpoint", testLeaseFencingOtherEndpoint},
	{"Heartbeats", testLeaseHeartbeats},
	{"Pokes", testPokes},
}

// implementsLeases opens a store to learn whether it implements
// store.Leases.
func implementsLeases(t *testing.T, open func(t *testing.T) store.Store) bool {
	t.Helper()
	s := open(t)
	_, ok := s.(store.Leases)
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	return ok
}

// withLeases adapts a test of the lease section to the suite's table.
func withLeases(fn func(t *testing.T, s store.Store, l store.Leases)) func(t *testing.T, s store.Store) {
	return func(t *testing.T, s store.Store) {
		l, ok := s.(store.Leases)
		if !ok {
			t.Fatal("the store does not implement store.Leases")
		}
		fn(t, s, l)
	}
}

func mustAcquire(t *testing.T, l store.Leases, endpoint, holder string, ttl time.Duration) store.Lease {
	t.Helper()
	lease, err := l.AcquireLease(t.Context(), endpoint, holder, ttl)
	if err != nil {
		t.Fatalf("%s acquires the lease of %q: %v", holder, endpoint, err)
	}
	return lease
}

func mustListLeases(t *testing.T, l store.Leases) []store.Lease {
	t.Helper()
	leases, err := l.ListLeases(t.Context())
	if err != nil {
		t.Fatalf("list leases: %v", err)
	}
	return leases
}

// expiresIn checks that a lease taken between before and after for ttl
// expires ttl after a moment in between (to the millisecond a store may
// round to).
func expiresIn(t *testing.T, lease store.Lease, before, after time.Time, ttl time.Duration) {
	t.Helper()
	lo, hi := before.Add(ttl).Add(-time.Millisecond), after.Add(ttl).Add(time.Millisecond)
	if lease.Expires.Before(lo) || lease.Expires.After(hi) {
		t.Errorf("lease expires %v, want between %v and %v (taken for %s)", lease.Expires, lo, hi, ttl)
	}
}

func testLeaseAcquire(t *testing.T, _ store.Store, l store.Leases) {
	if leases := mustListLeases(t, l); len(leases) != 0 {
		t.Fatalf("a new store lists leases %+v", leases)
	}
	before := time.Now()
	lease := mustAcquire(t, l, "web", "replica-a", long)
	expiresIn(t, lease, before, time.Now(), long)
	if lease.Endpoint != "web" || lease.Holder != "replica-a" || lease.Generation != 1 {
		t.Errorf("lease = %+v, want web held by replica-a at generation 1", lease)
	}
	equal(t, "list", mustListLeases(t, l), []store.Lease{lease})
}

func testLeaseHeld(t *testing.T, _ store.Store, l store.Leases) {
	first := mustAcquire(t, l, "web", "replica-a", long)
	_, err := l.AcquireLease(t.Context(), "web", "replica-b", long)
	wantCode(t, err, rollout.ECONFLICT)
	equal(t, "after a refused acquire", mustListLeases(t, l), []store.Lease{first})

	// Taking one's own lease again is a new generation, which fences off
	// whatever acted under the first.
	again := mustAcquire(t, l, "web", "replica-a", long)
	if again.Generation != first.Generation+1 {
		t.Errorf("generation after the holder acquired again = %d, want %d", again.Generation, first.Generation+1)
	}
	_, err = l.RenewLease(t.Context(), first, long)
	wantCode(t, err, rollout.ECONFLICT)
}

func testLeaseRenew(t *testing.T, _ store.Store, l store.Leases) {
	ctx := t.Context()
	lease := mustAcquire(t, l, "web", "replica-a", time.Second)
	tick()
	before := time.Now()
	renewed, err := l.RenewLease(ctx, lease, long)
	if err != nil {
		t.Fatalf("renew: %v", err)
	}
	expiresIn(t, renewed, before, time.Now(), long)
	if renewed.Generation != lease.Generation || renewed.Holder != lease.Holder {
		t.Errorf("renewed lease = %+v, want the holder and generation of %+v", renewed, lease)
	}
	equal(t, "list", mustListLeases(t, l), []store.Lease{renewed})

	for _, stale := range []store.Lease{
		{Endpoint: "web", Holder: "replica-b", Generation: lease.Generation},
		{Endpoint: "web", Holder: "replica-a", Generation: lease.Generation + 1},
		{Endpoint: "api", Holder: "replica-a", Generation: 1},
	} {
		_, err := l.RenewLease(ctx, stale, long)
		wantCode(t, err, rollout.ECONFLICT)
	}
	equal(t, "after refused renewals", mustListLeases(t, l), []store.Lease{renewed})
}

func testLeaseExpiry(t *testing.T, _ store.Store, l store.Leases) {
	ctx := t.Context()
	first := mustAcquire(t, l, "web", "replica-a", short)
	time.Sleep(short + 100*time.Millisecond)

	// Expired but not taken: the holder may renew it, as nobody else
	// could have acted meanwhile.
	renewed, err := l.RenewLease(ctx, first, short)
	if err != nil || renewed.Generation != first.Generation {
		t.Fatalf("renew of an expired lease nobody took = %+v, %v; want generation %d", renewed, err, first.Generation)
	}
	time.Sleep(short + 100*time.Millisecond)

	taken := mustAcquire(t, l, "web", "replica-b", long)
	if taken.Generation != first.Generation+1 {
		t.Errorf("generation after another holder took an expired lease = %d, want %d", taken.Generation, first.Generation+1)
	}
	_, err = l.RenewLease(ctx, renewed, long)
	wantCode(t, err, rollout.ECONFLICT)
	err = l.ReleaseLease(ctx, renewed)
	wantCode(t, err, rollout.ECONFLICT)
	equal(t, "after the old holder was refused", mustListLeases(t, l), []store.Lease{taken})
}

func testLeaseRelease(t *testing.T, _ store.Store, l store.Leases) {
	ctx := t.Context()
	first := mustAcquire(t, l, "web", "replica-a", long)
	if err := l.ReleaseLease(ctx, first); err != nil {
		t.Fatalf("release: %v", err)
	}
	leases := mustListLeases(t, l)
	if len(leases) != 1 || leases[0].Expires.After(time.Now()) || leases[0].Generation != first.Generation {
		t.Errorf("leases after release = %+v, want web expired at generation %d", leases, first.Generation)
	}

	// Released means free at once, not after the ttl.
	next := mustAcquire(t, l, "web", "replica-b", long)
	if next.Generation != first.Generation+1 {
		t.Errorf("generation after a release = %d, want %d", next.Generation, first.Generation+1)
	}
	err := l.ReleaseLease(ctx, first)
	wantCode(t, err, rollout.ECONFLICT)
	equal(t, "after a refused release", mustListLeases(t, l), []store.Lease{next})
}

func testLeaseList(t *testing.T, _ store.Store, l store.Leases) {
	var want []store.Lease
	for _, name := range []string{"web", "api", "zeta", "billing"} {
		mustAcquire(t, l, name, "replica-"+name, long)
	}
	for _, name := range []string{"api", "billing", "web", "zeta"} {
		want = append(want, mustAcquire(t, l, name, "replica-"+name, long))
	}
	equal(t, "list", mustListLeases(t, l), want)
}

func testLeaseInvalid(t *testing.T, _ store.Store, l store.Leases) {
	ctx := t.Context()
	_, err := l.AcquireLease(ctx, "", "replica-a", long)
	wantCode(t, err, rollout.EINVALID)
	_, err = l.AcquireLease(ctx, "web", "", long)
	wantCode(t, err, rollout.EINVALID)
	_, err = l.AcquireLease(ctx, "web", "replica-a", 0)
	wantCode(t, err, rollout.EINVALID)
	err = l.Heartbeat(ctx, "", long)
	wantCode(t, err, rollout.EINVALID)
	if leases := mustListLeases(t, l); len(leases) != 0 {
		t.Errorf("invalid requests left leases %+v", leases)
	}
}

// testLeaseConcurrentAcquire races holders for one free lease: exactly one
// may win.
func testLeaseConcurrentAcquire(t *testing.T, _ store.Store, l store.Leases) {
	const holders = 8
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners []store.Lease
		errs    []error
	)
	for i := range holders {
		wg.Go(func() {
			lease, err := l.AcquireLease(t.Context(), "web", fmt.Sprint("replica-", i), long)
			mu.Lock()
			defer mu.Unlock()
			switch rollout.ErrorCode(err) {
			case "":
				winners = append(winners, lease)
			case rollout.ECONFLICT:
			default:
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	if len(winners) != 1 {
		t.Fatalf("%d holders won the lease: %+v", len(winners), winners)
	}
	equal(t, "list", mustListLeases(t, l), winners)
}

// testLeaseFencing writes under a lease, lets another holder take it, and
// expects every write under the old lease to be refused without a trace.
func testLeaseFencing(t *testing.T, s store.Store, l store.Leases) {
	mustPutEndpoint(t, s, rollout.Endpoint{Name: "web"}, rollout.RevisionNew)
	mustPutEndpoint(t, s, rollout.Endpoint{Name: "web"}, 1) // revision 1 is history now
	mustPutRelease(t, s, rollout.Release{Endpoint: "web", Track: rollout.Production, Version: "1"}, rollout.RevisionNew)
	old := mustAcquire(t, l, "web", "replica-a", long)
	ctxA := store.WithLease(t.Context(), old)
	ev := rollout.Event{Type: rollout.EventStepApplied, Message: "under the lease"}
	st, err := s.PutState(ctxA, rollout.State{Endpoint: "web", NextRollout: 1}, rollout.RevisionNew, ev)
	if err != nil {
		t.Fatalf("put state under a held lease: %v", err)
	}
	if _, err := s.AppendEvents(ctxA, "web", ev); err != nil {
		t.Fatalf("append events under a held lease: %v", err)
	}

	if err := l.ReleaseLease(t.Context(), old); err != nil {
		t.Fatal(err)
	}
	next := mustAcquire(t, l, "web", "replica-b", long)

	ep := mustGetEndpoint(t, s, "web")
	r := mustGetRelease(t, s, "web", rollout.Production)
	events := mustListEvents(t, s, "web", 0, 0)
	revisions := mustListSpecRevisions(t, s, "web", 0, 0, 0)
	writes := map[string]func() error{
		"PutState": func() error {
			_, err := s.PutState(ctxA, rollout.State{Endpoint: "web", NextRollout: 9}, st.Revision, ev)
			return err
		},
		"AppendEvents": func() error { _, err := s.AppendEvents(ctxA, "web", ev); return err },
		"PutEndpoint":  func() error { _, err := s.PutEndpoint(ctxA, ep, ep.Revision, ev); return err },
		"DeleteEndpoint": func() error {
			return s.DeleteEndpoint(ctxA, "web", ep.Revision, ev)
		},
		"PutRelease": func() error { _, err := s.PutRelease(ctxA, r, r.Revision, ev); return err },
		"DeleteRelease": func() error {
			return s.DeleteRelease(ctxA, "web", rollout.Production, r.Revision, ev)
		},
		"AppendCommand": func() error {
			_, err := s.AppendCommand(ctxA, rollout.Command{Endpoint: "web", Kind: rollout.CommandPromote})
			return err
		},
		// The endpoint's first revision is not its current one: it may go.
		"DeleteSpecRevisions": func() error { return s.DeleteSpecRevisions(ctxA, "web", 1) },
	}
	for name, write := range writes {
		if err := write(); rollout.ErrorCode(err) != rollout.ECONFLICT {
			t.Errorf("%s under a lost lease: error %v, want a conflict", name, err)
		}
	}
	equal(t, "endpoint after fenced writes", mustGetEndpoint(t, s, "web"), ep)
	equal(t, "release after fenced writes", mustGetRelease(t, s, "web", rollout.Production), r)
	equal(t, "state after fenced writes", mustGetState(t, s, "web"), st)
	equal(t, "events after fenced writes", mustListEvents(t, s, "web", 0, 0), events)
	equal(t, "spec revisions after fenced writes", mustListSpecRevisions(t, s, "web", 0, 0, 0), revisions)
	if cmds := mustListCommands(t, s, "web", 0); len(cmds) != 0 {
		t.Errorf("fenced command appended: %+v", cmds)
	}

	// The new holder writes.
	if _, err := s.PutState(store.WithLease(t.Context(), next), rollout.State{Endpoint: "web", NextRollout: 2}, st.Revision, ev); err != nil {
		t.Errorf("put state under the new lease: %v", err)
	}
}

// testLeaseFencingExpired expects a write under a lease that expired to be
// refused even though nobody took the lease: its writer must renew first.
func testLeaseFencingExpired(t *testing.T, s store.Store, l store.Leases) {
	ctx := t.Context()
	mustPutEndpoint(t, s, rollout.Endpoint{Name: "web"}, rollout.RevisionNew)
	lease := mustAcquire(t, l, "web", "replica-a", short)
	time.Sleep(short + 100*time.Millisecond)
	_, err := s.PutState(store.WithLease(ctx, lease), rollout.State{Endpoint: "web"}, rollout.RevisionNew)
	wantCode(t, err, rollout.ECONFLICT)
	if st := mustGetState(t, s, "web"); st.Revision != 0 {
		t.Fatalf("state written under an expired lease: %+v", st)
	}
	renewed, err := l.RenewLease(ctx, lease, long)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutState(store.WithLease(ctx, renewed), rollout.State{Endpoint: "web"}, rollout.RevisionNew); err != nil {
		t.Errorf("put state after renewal: %v", err)
	}
}

// testLeaseFencingOtherEndpoint expects a write to one endpoint under the
// lease of another to be refused as the caller's bug it is.
func testLeaseFencingOtherEndpoint(t *testing.T, s store.Store, l store.Leases) {
	mustPutEndpoint(t, s, rollout.Endpoint{Name: "web"}, rollout.RevisionNew)
	api := mustAcquire(t, l, "api", "replica-a", long)
	_, err := s.PutState(store.WithLease(t.Context(), api), rollout.State{Endpoint: "web"}, rollout.RevisionNew)
	wantCode(t, err, rollout.EINTERNAL)
	if st := mustGetState(t, s, "web"); st.Revision != 0 {
		t.Errorf("state written under another endpoint's lease: %+v", st)
	}
}

func testLeaseHeartbeats(t *testing.T, _ store.Store, l store.Leases) {
	ctx := t.Context()
	live := func() []string {
		t.Helper()
		rs, err := l.Replicas(ctx)
		if err != nil {
			t.Fatalf("replicas: %v", err)
		}
		var ids []string
		for _, r := range rs {
			ids = append(ids, r.ID)
		}
		return ids
	}
	beat := func(id string, ttl time.Duration) {
		t.Helper()
		if err := l.Heartbeat(ctx, id, ttl); err != nil {
			t.Fatalf("heartbeat of %s: %v", id, err)
		}
	}
	if ids := live(); len(ids) != 0 {
		t.Fatalf("a new store has replicas %v", ids)
	}
	beat("replica-b", long)
	beat("replica-a", short)
	beat("replica-c", long)
	equal(t, "replicas", live(), []string{"replica-a", "replica-b", "replica-c"})

	time.Sleep(short + 100*time.Millisecond)
	equal(t, "replicas after one stopped beating", live(), []string{"replica-b", "replica-c"})
	beat("replica-c", 0) // leaving
	equal(t, "replicas after one left", live(), []string{"replica-b"})
	beat("replica-a", long)
	equal(t, "replicas after one came back", live(), []string{"replica-a", "replica-b"})
}

// testPokes: a poke is read back by Poked from any time at or before it, in
// order, each once; an empty endpoint is invalid.
func testPokes(t *testing.T, _ store.Store, l store.Leases) {
	ctx := t.Context()
	before := time.Now().Add(-time.Second)
	for _, name := range []string{"web", "api", "web"} {
		if err := l.Poke(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	pokes, err := l.Poked(ctx, before)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	ids := map[string]bool{}
	for i, p := range pokes {
		names = append(names, p.Endpoint)
		ids[p.ID] = true
		if p.At.Before(before) || (i > 0 && p.At.Before(pokes[i-1].At)) {
			t.Errorf("poke %d at %v: before %v, or out of order", i, p.At, before)
		}
	}
	if fmt.Sprint(names) != "[web api web]" || len(ids) != 3 {
		t.Errorf("pokes %v (%d distinct IDs), want [web api web], 3 IDs", names, len(ids))
	}
	later, err := l.Poked(ctx, time.Now().Add(time.Minute))
	if err != nil || len(later) != 0 {
		t.Errorf("pokes after now: %v, %v; want none", later, err)
	}
	if err := l.Poke(ctx, ""); rollout.ErrorCode(err) != rollout.EINVALID {
		t.Errorf("poke of no endpoint: %v, want invalid", err)
	}
}
