package reconcile

import (
	"context"
	"errors"
	"hash/fnv"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store"
)

// Lease defaults: a lease lasts 15 s unrenewed, is renewed every 5 s, and an
// actor stops 3 s before its lease could expire.
const (
	DefaultLeaseTTL = 15 * time.Second
	renewals        = 3 // per TTL
	marginOfTTL     = 5 // the default margin is TTL/marginOfTTL
	acquireAtOnce   = 8 // concurrent AcquireLease calls of one pass
)

// errLeaseExpired ends an actor whose lease could have expired by its own
// clock: another replica may take the endpoint at any moment now.
var errLeaseExpired = errors.New("the lease may have expired: stopped acting")

// errShed ends an actor whose lease this replica gives up.
var errShed = errors.New("lease given up")

// leaser holds this replica's share of the endpoint leases and runs an actor
// under each. Replicas divide the endpoints by themselves: each heartbeats,
// counts the live replicas, and takes free or expired leases up to its fair
// share, ceil(endpoints / live replicas), preferring the endpoints that
// rendezvous hashing gives it, so that replicas rarely reach for the same
// one; a replica above its share (another one joined) gives the excess up.
type leaser struct {
	r       *Reconciler
	leases  store.Leases
	replica string
	ttl     time.Duration
	margin  time.Duration
	logger  hclog.Logger
	wake    chan struct{}

	// names are the endpoints as last listed, at listed; only the
	// leaser's goroutine touches them.
	names  []string
	listed time.Time

	mu     sync.Mutex
	claims map[string]*claim // by endpoint; written only by the leaser's goroutine
}

// claim is a lease this replica holds and the actor acting under it.
type claim struct {
	// lease is the lease acquired, its expiry as last renewed (under the
	// leaser's mu); its generation never changes, a new one is a new claim.
	lease store.Lease
	// until is when, by this replica's clock, the actor must have
	// stopped: the last renewal's start + TTL - margin (Unix nanoseconds).
	until  atomic.Int64
	cancel context.CancelCauseFunc
	ctx    context.Context
	timer  *time.Timer   // cancels the actor at until, should the leaser be late
	done   chan struct{} // closed when the actor returned
}

func newLeaser(r *Reconciler) *leaser {
	cfg := r.cfg
	return &leaser{
		r:       r,
		leases:  cfg.Leases,
		replica: cfg.Replica,
		ttl:     cfg.LeaseTTL,
		margin:  cfg.LeaseMargin,
		logger:  r.logger.Named("leases").With("replica", cfg.Replica),
		wake:    make(chan struct{}, 1),
		claims:  map[string]*claim{},
	}
}

// run keeps the leases until ctx ends. It passes every TTL/3, sooner when a
// lease it may take is about to expire or the API created an endpoint. The
// first pass only announces the replica, so that replicas started together
// see each other before they divide the endpoints. A failing store does not
// slow it down: renewals must keep their pace, and each call is bounded.
func (l *leaser) run(ctx context.Context) {
	var lastErr string
	report := func(err error) {
		switch {
		case ctx.Err() != nil:
		case err != nil && err.Error() != lastErr:
			l.logger.Warn("lease pass failed; renewing and retrying every interval", "error", err)
		case err == nil && lastErr != "":
			l.logger.Info("lease pass succeeded again")
		}
		lastErr = ""
		if err != nil {
			lastErr = err.Error()
		}
	}
	report(l.heartbeat(ctx))
	wait, relist := l.ttl/renewals, false
	for {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-l.wake:
			relist = true
		case <-t.C:
		}
		t.Stop()
		var err error
		wait, err = l.pass(ctx, relist)
		report(err)
		relist = false
	}
}

func (l *leaser) poke() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// pass heartbeats, renews what it holds, then evens out its share. The
// endpoints are listed every TTL, or at once if relist (the API created
// one); leases and replicas, which are small, every pass. It returns how
// long to wait for the next pass.
func (l *leaser) pass(ctx context.Context, relist bool) (time.Duration, error) {
	start := l.r.cfg.Now()
	due := start.Add(l.ttl / renewals) // the next renewals
	// The heartbeat goes first, so that it expires before the leases
	// renewed after it: when a dead replica's leases expire, the others
	// already count it out and their fair share has room for its
	// endpoints.
	hbErr := l.heartbeat(ctx)
	l.renew(ctx)

	now := l.r.cfg.Now()
	next := max(due.Sub(now), 0)
	var listErr error
	if relist || now.Sub(l.listed) >= l.ttl {
		// Without a fresh list, the last one will do: it only lacks
		// endpoints created since.
		var eps []rollout.Endpoint
		listErr = l.call(ctx, func(ctx context.Context) (err error) {
			eps, err = l.r.cfg.Store.ListEndpoints(ctx)
			return err
		})
		if listErr == nil {
			l.names, l.listed = l.names[:0], now
			for _, ep := range eps {
				l.names = append(l.names, ep.Name)
			}
		}
	}
	var (
		replicas []store.Replica
		leases   []store.Lease
	)
	err := l.call(ctx, func(ctx context.Context) (err error) {
		replicas, err = l.leases.Replicas(ctx)
		return err
	})
	if err == nil {
		err = l.call(ctx, func(ctx context.Context) (err error) {
			leases, err = l.leases.ListLeases(ctx)
			return err
		})
	}
	if err != nil {
		return next, errors.Join(hbErr, listErr, err)
	}
	live := []string{l.replica}
	for _, r := range replicas {
		if r.ID != l.replica {
			live = append(live, r.ID)
		}
	}
	share := (len(l.names) + len(live) - 1) / len(live)
	l.shed(ctx, share, live)
	l.acquire(ctx, share, live, leases)

	// A lease of another replica that is about to expire unrenewed is
	// likely a dead replica's: pass again right after it expires, so that
	// its endpoints move within the TTL.
	now = l.r.cfg.Now()
	next = max(due.Sub(now), 0)
	for _, lease := range leases {
		if wait := lease.Expires.Sub(now) + 10*time.Millisecond; lease.Holder != l.replica && wait > 0 && wait < next {
			next = wait
		}
	}
	return next, errors.Join(hbErr, listErr)
}

func (l *leaser) heartbeat(ctx context.Context) error {
	return l.call(ctx, func(ctx context.Context) error { return l.leases.Heartbeat(ctx, l.replica, l.ttl) })
}

// renew renews every lease held, all at once, so that holding many
// endpoints does not make the last renewal late. A lease another replica
// took, or whose time ran out while the store could not be reached, is
// dropped with its actor; one whose actor ended by itself (endpoint deleted,
// a write fenced) is given up.
func (l *leaser) renew(ctx context.Context) {
	type result struct {
		c       *claim
		ended   bool
		start   time.Time
		renewed store.Lease
		err     error
	}
	held := l.held()
	results := make([]result, len(held))
	var wg sync.WaitGroup
	for i, c := range held {
		if c.ended() {
			results[i] = result{c: c, ended: true}
			continue
		}
		wg.Go(func() {
			r := result{c: c, start: l.r.cfg.Now()}
			r.err = l.call(ctx, func(ctx context.Context) (err error) {
				r.renewed, err = l.leases.RenewLease(ctx, c.lease, l.ttl)
				return err
			})
			results[i] = r
		})
	}
	wg.Wait()
	for _, r := range results {
		c := r.c
		switch {
		case r.ended:
			l.drop(ctx, c, true)
		case r.err == nil:
			c.extend(r.start.Add(l.ttl-l.margin), l.r.cfg.Now())
			l.mu.Lock()
			c.lease.Expires = r.renewed.Expires
			l.mu.Unlock()
		case rollout.ErrorCode(r.err) == rollout.ECONFLICT:
			l.logger.Warn("lease lost", "endpoint", c.lease.Endpoint, "generation", c.lease.Generation, "error", r.err)
			l.drop(ctx, c, false)
		case !l.r.cfg.Now().Before(time.Unix(0, c.until.Load())):
			l.logger.Warn("lease could not be renewed in time; stopped acting", "endpoint", c.lease.Endpoint, "error", r.err)
			l.drop(ctx, c, false)
		}
	}
}

// shed gives up leases above share, those other live replicas rank highest
// first, so that a replica that joins gets endpoints at once.
func (l *leaser) shed(ctx context.Context, share int, live []string) {
	held := l.held()
	if len(held) <= share {
		return
	}
	slices.SortFunc(held, func(a, b *claim) int {
		return compareRank(l.replica, live, a.lease.Endpoint, b.lease.Endpoint)
	})
	for _, c := range held[:len(held)-share] {
		l.logger.Info("lease given up to even out the replicas' shares", "endpoint", c.lease.Endpoint, "share", share, "replicas", len(live))
		l.drop(ctx, c, true)
	}
}

// acquire takes free or expired leases until this replica holds its share,
// at most acquireAtOnce at the same time: a dead replica's endpoints move in
// one round trip or two, not one after the other.
func (l *leaser) acquire(ctx context.Context, share int, live []string, leases []store.Lease) {
	held := l.held()
	if len(held) >= share {
		return
	}
	now := l.r.cfg.Now()
	current := make(map[string]store.Lease, len(leases))
	for _, lease := range leases {
		current[lease.Endpoint] = lease
	}
	var free []string
	for _, name := range l.names {
		lease, taken := current[name]
		if l.claimOf(name) == nil && (!taken || !lease.Expires.After(now)) {
			free = append(free, name)
		}
	}
	slices.SortFunc(free, func(a, b string) int { return -compareRank(l.replica, live, a, b) })
	free = free[:min(len(free), share-len(held))]

	type result struct {
		start time.Time
		lease store.Lease
		err   error
	}
	results := make([]result, len(free))
	var wg sync.WaitGroup
	sem := make(chan struct{}, acquireAtOnce)
	for i, name := range free {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			r := result{start: l.r.cfg.Now()}
			r.err = l.call(ctx, func(ctx context.Context) (err error) {
				r.lease, err = l.leases.AcquireLease(ctx, name, l.replica, l.ttl)
				return err
			})
			results[i] = r
		})
	}
	wg.Wait()
	for i, r := range results {
		switch {
		case r.err == nil:
			l.logger.Info("lease acquired", "endpoint", free[i], "generation", r.lease.Generation)
			l.start(r.lease, r.start.Add(l.ttl-l.margin))
		case rollout.ErrorCode(r.err) != rollout.ECONFLICT && ctx.Err() == nil:
			l.logger.Warn("acquiring a lease failed", "endpoint", free[i], "error", r.err)
		}
	}
}

// start runs an actor under a lease just acquired, until until at most.
func (l *leaser) start(lease store.Lease, until time.Time) {
	ctx, cancel := context.WithCancelCause(l.r.context())
	c := &claim{lease: lease, ctx: ctx, cancel: cancel, done: make(chan struct{})}
	c.until.Store(until.UnixNano())
	c.timer = time.AfterFunc(until.Sub(l.r.cfg.Now()), func() { cancel(errLeaseExpired) })
	l.mu.Lock()
	l.claims[lease.Endpoint] = c
	l.mu.Unlock()
	l.r.startClaimed(store.WithLease(ctx, lease), lease.Endpoint, c)
}

// drop stops a claim's actor, waits for it, forgets the claim and, if
// release, gives the lease up so that another replica need not wait for it
// to expire.
func (l *leaser) drop(ctx context.Context, c *claim, release bool) {
	c.cancel(errShed)
	c.timer.Stop()
	<-c.done
	l.mu.Lock()
	delete(l.claims, c.lease.Endpoint)
	l.mu.Unlock()
	if !release {
		return
	}
	err := l.call(ctx, func(ctx context.Context) error { return l.leases.ReleaseLease(ctx, c.lease) })
	if err != nil && rollout.ErrorCode(err) != rollout.ECONFLICT && ctx.Err() == nil {
		l.logger.Warn("releasing a lease failed; it will expire", "endpoint", c.lease.Endpoint, "error", err)
	}
}

// leave gives every lease up and says the replica is gone, once the actors
// stopped: a replica that stops cleanly hands its endpoints over at once.
func (l *leaser) leave(ctx context.Context) {
	for _, c := range l.held() {
		l.drop(ctx, c, true)
	}
	if err := l.call(ctx, func(ctx context.Context) error { return l.leases.Heartbeat(ctx, l.replica, 0) }); err != nil {
		l.logger.Warn("leaving failed; the replica's heartbeat will expire", "error", err)
	}
}

// call runs one store call, bounded so that a store that hangs cannot hold
// the pass, and with it the renewal of the other leases, for long.
func (l *leaser) call(ctx context.Context, fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, l.ttl/renewals)
	defer cancel()
	return fn(ctx)
}

// held returns the claims, sorted by endpoint.
func (l *leaser) held() []*claim {
	l.mu.Lock()
	defer l.mu.Unlock()
	cs := make([]*claim, 0, len(l.claims))
	for _, c := range l.claims {
		cs = append(cs, c)
	}
	slices.SortFunc(cs, func(a, b *claim) int { return strings.Compare(a.lease.Endpoint, b.lease.Endpoint) })
	return cs
}

// heldLeases returns the leases held, sorted by endpoint.
func (l *leaser) heldLeases() []store.Lease {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]store.Lease, 0, len(l.claims))
	for _, c := range l.claims {
		out = append(out, c.lease)
	}
	slices.SortFunc(out, func(a, b store.Lease) int { return strings.Compare(a.Endpoint, b.Endpoint) })
	return out
}

func (l *leaser) claimOf(endpoint string) *claim {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.claims[endpoint]
}

// ended reports whether the claim's actor stopped, or was told to.
func (c *claim) ended() bool {
	select {
	case <-c.done:
		return true
	default:
		return c.ctx.Err() != nil
	}
}

// extend moves the claim's deadline to until (renewed at now).
func (c *claim) extend(until, now time.Time) {
	c.until.Store(until.UnixNano())
	c.timer.Reset(until.Sub(now))
}

// check returns errLeaseExpired, and cancels the actor, once now is past
// the claim's deadline: an actor checks before every action and write, in
// case the timer that cancels it fires late.
func (c *claim) check(now time.Time) error {
	if now.Before(time.Unix(0, c.until.Load())) {
		return nil
	}
	c.cancel(errLeaseExpired)
	return errLeaseExpired
}

// compareRank orders endpoints a and b by how much replica should keep
// them: first those it ranks highest among the live replicas (rendezvous
// hashing), then by its own rank. Every replica computes the same ranks, so
// with the same view of the live replicas they prefer disjoint endpoints.
func compareRank(replica string, live []string, a, b string) int {
	key := func(endpoint string) (bool, uint64) {
		mine, top := rank(replica, endpoint), true
		for _, other := range live {
			if other != replica && rank(other, endpoint) > mine {
				top = false
			}
		}
		return top, mine
	}
	topA, rankA := key(a)
	topB, rankB := key(b)
	switch {
	case topA != topB && topA:
		return 1
	case topA != topB:
		return -1
	case rankA < rankB:
		return -1
	case rankA > rankB:
		return 1
	}
	return 0
}

func rank(replica, endpoint string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(replica + "\x00" + endpoint)) // a hash.Hash never fails to write
	return h.Sum64()
}

// PokeInterval is how often a replica reads the pokes other replicas
// record for the endpoints it holds (store.Leases.Poked): how soon a write
// accepted by another replica is acted on.
const PokeInterval = 250 * time.Millisecond

// pokeWindow is how far back each read of pokes looks: it covers the skew
// between replicas' clocks, and a poke is acted on once however many reads
// see it.
const pokeWindow = 5 * time.Second

// followPokes wakes the actors of held endpoints that another replica poked,
// until ctx ends.
func (r *Reconciler) followPokes(ctx context.Context) {
	seen := map[string]time.Time{} // poke ID → when it was recorded
	failing := false
	t := time.NewTicker(PokeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		since := time.Now().Add(-pokeWindow)
		pokes, err := r.cfg.Leases.Poked(ctx, since)
		switch {
		case err != nil && !failing && ctx.Err() == nil:
			r.logger.Warn("reading pokes failed; other replicas' writes wait for a resync until it works again", "error", err)
			failing = true
			continue
		case err != nil:
			continue
		case failing:
			r.logger.Info("reading pokes works again")
			failing = false
		}
		maps.DeleteFunc(seen, func(_ string, at time.Time) bool { return at.Before(since) })
		for _, p := range pokes {
			if _, ok := seen[p.ID]; ok {
				continue
			}
			seen[p.ID] = p.At
			r.mu.Lock()
			if a, ok := r.actors[p.Endpoint]; ok {
				a.poke()
			}
			r.mu.Unlock()
		}
	}
}
