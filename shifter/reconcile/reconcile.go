// Package reconcile runs the planner against the world: one actor per
// endpoint loads what the store knows, observes AWS, asks rollout.Plan what to
// do, stores the decision with its events, and only then acts. Because the
// decision is stored before any action and every action is idempotent, a
// shifter that dies at any point converges on restart without a second shift,
// a lost step or a duplicate environment (DESIGN §4, invariant 6).
//
// Several replicas sharing a store divide the endpoints with leases (see
// Config.Leases): a replica runs an actor only under a lease it holds, the
// actor stops before the lease could expire, and every store write it makes
// is fenced by the lease, so at most one replica acts on an endpoint at a
// time (invariant 7).
package reconcile

import (
	"context"
	"errors"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/schedule"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store"
)

// Config configures a Reconciler. Store and Connect are required.
type Config struct {
	Store store.Store
	// Connect returns the AWS an endpoint's placement lives in.
	Connect func(ctx context.Context, p rollout.Placement) (Cloud, error)
	Logger  hclog.Logger
	Now     func() time.Time
	// Poll is how soon an actor looks again while it waits on AWS.
	Poll time.Duration
	// Resync is how often an idle endpoint is compared with AWS, which is
	// how drift is found and repaired.
	Resync time.Duration
	// Published is called after events of an endpoint were stored, so
	// that live event streams can deliver them.
	Published func(endpoint string)
	// Decided is called with every decision once it is stored: metrics
	// and notifications follow rollouts through it. It must not block.
	Decided func(ep rollout.Endpoint, st rollout.State, events []rollout.Event)
	// Reconciled is called after every wake of an endpoint with how long
	// it took and how it ended.
	Reconciled func(endpoint string, took time.Duration, err error)
	// History bounds each endpoint's spec history (zero: keep it all).
	History rollout.Retention

	// Leases, when set, shares the endpoints with the other replicas of
	// the shifter that use the same store: this replica acts only on the
	// endpoints whose lease it holds. nil means it acts on every endpoint,
	// as a lone shifter on a bolt file does.
	Leases store.Leases
	// Replica names this replica in leases and heartbeats; required with
	// Leases, and new for every process, so that a restarted replica never
	// acts under the generation of the process it replaces.
	Replica string
	// LeaseTTL is how long a lease lasts unrenewed (default
	// DefaultLeaseTTL): how soon a dead replica's endpoints move. Leases
	// are renewed every LeaseTTL/3.
	LeaseTTL time.Duration
	// LeaseMargin is how long before its lease could expire, by its own
	// clock, an actor stops acting (default LeaseTTL/5). It must cover the
	// clock skew between replicas and the time an AWS call takes to land.
	LeaseMargin time.Duration
}

// Reconciler runs an actor per endpoint.
type Reconciler struct {
	cfg    Config
	logger hclog.Logger

	mu     sync.Mutex
	ctx    context.Context
	cancel context.CancelFunc
	actors map[string]*actor
	wg     sync.WaitGroup
	health health
	// leaser runs the actors when endpoints are shared (Config.Leases);
	// nil otherwise. It leaves once, at the first Stop.
	leaser    *leaser
	leaveOnce sync.Once
}

// New returns a Reconciler; Start runs it.
func New(cfg Config) *Reconciler {
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 5 * time.Second
	}
	if cfg.Resync <= 0 {
		cfg.Resync = 30 * time.Second
	}
	if cfg.Published == nil {
		cfg.Published = func(string) {}
	}
	if cfg.Decided == nil {
		cfg.Decided = func(rollout.Endpoint, rollout.State, []rollout.Event) {}
	}
	if cfg.Reconciled == nil {
		cfg.Reconciled = func(string, time.Duration, error) {}
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = DefaultLeaseTTL
	}
	if cfg.LeaseMargin <= 0 {
		cfg.LeaseMargin = cfg.LeaseTTL / marginOfTTL
	}
	r := &Reconciler{cfg: cfg, logger: cfg.Logger.Named("reconcile"), actors: map[string]*actor{},
		health: health{blocking: map[string]rollout.Condition{}}}
	if cfg.Leases != nil {
		r.leaser = newLeaser(r)
	}
	return r
}

// Start resumes every endpoint in the store and keeps looking for new ones
// every resync interval, until Stop. With leases, it takes its share of the
// endpoints instead, and keeps it even, until Stop.
func (r *Reconciler) Start(ctx context.Context) error {
	if r.leaser != nil && r.cfg.Replica == "" {
		return errors.New("reconcile: Config.Leases needs Config.Replica")
	}
	r.mu.Lock()
	r.ctx, r.cancel = context.WithCancel(ctx)
	r.mu.Unlock()
	if r.leaser != nil {
		r.wg.Go(func() { r.leaser.run(r.ctx) })
		r.wg.Go(func() { r.followPokes(r.ctx) })
		return nil
	}
	if err := r.discover(); err != nil {
		r.Stop()
		return err
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		t := time.NewTicker(r.cfg.Resync)
		defer t.Stop()
		for {
			select {
			case <-r.ctx.Done():
				return
			case <-t.C:
				if err := r.discover(); err != nil && r.ctx.Err() == nil {
					r.logger.Warn("listing endpoints failed", "error", err)
				}
			}
		}
	}()
	return nil
}

// Stop stops every actor and waits for them. Actors stop between steps of
// their work; nothing is rolled back or cleaned up. With leases, the leases
// are then given up, so that other replicas take the endpoints at once.
func (r *Reconciler) Stop() {
	r.mu.Lock()
	parent := r.ctx
	if r.cancel != nil {
		r.cancel()
	}
	r.mu.Unlock()
	r.wg.Wait()
	if r.leaser != nil && parent != nil {
		r.leaveOnce.Do(func() {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), r.cfg.LeaseTTL)
			defer cancel()
			r.leaser.leave(ctx)
		})
	}
}

// Held returns the leases this replica holds, sorted by endpoint; none
// without leases.
func (r *Reconciler) Held() []store.Lease {
	if r.leaser == nil {
		return nil
	}
	return r.leaser.heldLeases()
}

// context returns the context actors run under.
func (r *Reconciler) context() context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ctx
}

// Notify wakes the endpoint's actor, starting one if needed: the API calls
// it after every change so that the shifter acts at once. With leases, an
// endpoint this replica does not hold is poked in the store, for its holder
// to act within a poke interval (followPokes); a new one is also offered to
// the leaser at once.
func (r *Reconciler) Notify(endpoint string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ctx == nil || r.ctx.Err() != nil {
		return
	}
	a, ok := r.actors[endpoint]
	switch {
	case ok:
		a.poke()
	case r.leaser != nil:
		r.leaser.poke()
		ctx := r.ctx
		r.wg.Go(func() {
			if err := r.cfg.Leases.Poke(ctx, endpoint); err != nil && ctx.Err() == nil {
				r.logger.Warn("could not poke the endpoint for its holder; it acts at its next resync", "endpoint", endpoint, "error", err)
			}
		})
	default:
		r.startActor(r.ctx, endpoint, nil).poke()
	}
}

func (r *Reconciler) discover() error {
	eps, err := r.cfg.Store.ListEndpoints(r.ctx)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ep := range eps {
		if _, ok := r.actors[ep.Name]; !ok {
			r.startActor(r.ctx, ep.Name, nil)
		}
	}
	return nil
}

// startClaimed runs an actor of endpoint under the claim c.
func (r *Reconciler) startClaimed(ctx context.Context, endpoint string, c *claim) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.startActor(ctx, endpoint, c)
}

// startActor runs an actor of endpoint under ctx and, with leases, under
// the claim c (nil without). It must be called with r.mu held.
func (r *Reconciler) startActor(ctx context.Context, endpoint string, c *claim) *actor {
	a := &actor{
		r:          r,
		endpoint:   endpoint,
		claim:      c,
		logger:     r.logger.With("endpoint", endpoint),
		wake:       make(chan struct{}, 1),
		envWritten: map[string]time.Time{},
		// Another replica, or a shifter before this one, may have written
		// the route until a moment ago: a read of it from before this
		// actor began would be taken for drift and written back.
		routeWritten: r.cfg.Now(),
		failures:     map[string]string{},
	}
	if c != nil {
		a.logger = a.logger.With("generation", c.lease.Generation)
	}
	r.actors[endpoint] = a
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		a.run(ctx)
		r.conditionsOf(endpoint, nil) // another replica, or none, has it now
		r.mu.Lock()
		if r.actors[endpoint] == a {
			delete(r.actors, endpoint)
		}
		r.mu.Unlock()
		if c != nil {
			close(c.done)
		}
	}()
	return a
}

// errGone ends an actor whose endpoint no longer exists.
var errGone = errors.New("endpoint gone")

// maxPasses bounds how many plan–act rounds one wake may run before the
// actor sleeps for a poll interval: progress that needs AWS to catch up
// (instances launching) must not spin.
const maxPasses = 8

// run wakes the actor's endpoint up whenever the planner asked, on a poke,
// and at least every resync interval, backing off while it fails.
func (a *actor) run(ctx context.Context) {
	cfg := a.r.cfg
	backoff := time.Duration(0)
	for {
		start := time.Now()
		pctx, cancel := context.WithCancelCause(ctx)
		a.running(cancel)
		next, err := a.reconcile(pctx)
		a.running(nil)
		preempted := errors.Is(context.Cause(pctx), errPreempted)
		cancel(nil)
		cfg.Reconciled(a.endpoint, time.Since(start), err)
		switch {
		case ctx.Err() == nil && preempted:
			continue // a person changed the endpoint: plan again at once
		case errors.Is(err, errGone) || ctx.Err() != nil:
			return
		case a.claim != nil && rollout.ErrorCode(err) == rollout.ECONFLICT:
			// A write was fenced: another replica holds the endpoint
			// now, or its state moved under this actor. Stop; the
			// leaser renews or drops the lease.
			a.logger.Warn("stopped acting: a write was refused", "error", err)
			a.claim.cancel(err)
			return
		case err != nil:
			backoff = min(max(2*backoff, cfg.Poll), time.Minute)
			a.logger.Warn("reconcile failed; retrying", "error", err, "retry_in", backoff)
			next = cfg.Now().Add(backoff)
		default:
			backoff = 0
		}
		wait := cfg.Resync
		if !next.IsZero() {
			wait = min(wait, max(next.Sub(cfg.Now()), 0))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-a.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// reconcile runs plan–act rounds until the planner has nothing to do now,
// and returns when it wants to be woken. Each round observes AWS through
// reads shared with the other endpoints of the account (fresh enough for the
// endpoint's pace, and begun after its own last write), reads target health
// only when the planner asks for it to gate traffic, and runs its calls in
// the lane of what it may do (schedule.Lane).
func (a *actor) reconcile(ctx context.Context) (time.Time, error) {
	cfg := a.r.cfg
	var failed error
	for pass := 0; ; pass++ {
		in, cloud, err := a.load(ctx)
		if err != nil {
			return time.Time{}, err
		}
		lane := laneOf(in)
		a.lane.Store(int32(lane))
		tctx, tally := schedule.WithTally(ctx)
		lctx := schedule.WithLane(tctx, lane)
		f := a.freshness(in, lane)
		v, err := a.observe(lctx, cloud, in, f)
		if err != nil {
			if ctx.Err() != nil {
				return time.Time{}, ctx.Err()
			}
			return time.Time{}, a.unobserved(ctx, in.Endpoint, in.State, err)
		}
		a.failedObservations = 0
		in.Observed = v.observed
		d := rollout.Plan(in)
		if len(d.Resolve) > 0 {
			if in.Observed.Digests, err = a.resolve(lctx, cloud.Images, d.Resolve); err != nil {
				return time.Time{}, err
			}
			d = rollout.Plan(in)
		}
		a.forgetUnresolved(d.Resolve)
		if len(d.Health) > 0 {
			if err := a.readHealth(schedule.WithLane(ctx, healthLane(in.State, d.Health, lane)), cloud, in, f, d.Health, &v); err != nil {
				return time.Time{}, err
			}
			d = rollout.Plan(in)
		}
		if d, err = a.count(ctx, lctx, cloud, &in, d, v); err != nil {
			return time.Time{}, err
		}
		a.forgetAbandoned(d)
		if err := a.save(ctx, in.State, &d, a.sense(in, d.State, v, tally), true); err != nil {
			return time.Time{}, err
		}
		cfg.Decided(in.Endpoint, d.State, d.Events)
		a.expireHistory(ctx, in.Endpoint, d.State)
		if d.Gone {
			return time.Time{}, a.remove(ctx)
		}
		if len(d.Actions) == 0 || pass == maxPasses {
			if len(d.Actions) > 0 {
				d.WakeAt = cfg.Now().Add(cfg.Poll)
			}
			return d.WakeAt, failed
		}
		if err := a.execute(ctx, cloud, in.Endpoint, d, v, lane); err != nil {
			if ctx.Err() != nil {
				return time.Time{}, ctx.Err()
			}
			// Other actions went ahead; plan again, then back off.
			failed = err
		}
	}
}

// freshness is how recent a pass's reads must be. Reads at most a resync old
// do for most (drift is found within two resyncs): routes change by the
// actor's own writes, and traffic moves only on a fresh read of target health.
// Environments coming up or going, or written within a resync, are read at
// most a poll old, by name; the others take a listing of the account at most
// a resync old, even while their endpoint rolls out. And every read began
// after the actor's own last write of its kind, so that it sees what it
// wrote. A pass that may take traffic off a version does not wait for newer
// reads than that: the health of where traffic returns is read fresh anyway
// (invariant 2), and it must not wait behind anything.
type freshness struct {
	env, listed, route time.Time
	changing           []string // environments read by name
}

func (a *actor) freshness(in rollout.Input, lane schedule.Lane) freshness {
	cfg := a.r.cfg
	now := cfg.Now()
	// A listing a resync old began after any write older than that.
	maps.DeleteFunc(a.envWritten, func(_ string, at time.Time) bool { return now.Sub(at) > cfg.Resync })
	var changing []string
	var written time.Time
	for _, e := range in.State.Environments {
		at, ok := a.envWritten[e.ID]
		if e.Status != rollout.EnvReady || ok {
			changing = append(changing, e.ID)
		}
		if at.After(written) {
			written = at
		}
	}
	envAge := cfg.Poll
	if lane == schedule.LaneRollback {
		envAge = cfg.Resync
	}
	later := func(t time.Time, age time.Duration) time.Time {
		if since := now.Add(-age); since.After(t) {
			return since
		}
		return t
	}
	listed := now.Add(-cfg.Resync)
	if lane == schedule.LaneRollback {
		// Any listing will do: a new one takes many calls, and the health
		// of where traffic returns is read fresh anyway.
		listed = time.Time{}
	}
	return freshness{env: later(written, envAge), listed: listed, route: later(a.routeWritten, cfg.Resync), changing: changing}
}

// load reads everything the planner decides from.
func (a *actor) load(ctx context.Context) (rollout.Input, Cloud, error) {
	cfg := a.r.cfg
	s := cfg.Store
	ep, err := s.GetEndpoint(ctx, a.endpoint)
	if rollout.ErrorCode(err) == rollout.ENOTFOUND {
		return rollout.Input{}, Cloud{}, errGone
	}
	if err != nil {
		return rollout.Input{}, Cloud{}, a.r.stored(err)
	}
	in := rollout.Input{Now: cfg.Now(), Endpoint: ep, Poll: cfg.Poll}
	for _, track := range rollout.Tracks {
		r, err := s.GetRelease(ctx, a.endpoint, track)
		switch {
		case rollout.ErrorCode(err) == rollout.ENOTFOUND:
		case err != nil:
			return rollout.Input{}, Cloud{}, err
		case track == rollout.Preview:
			in.Preview = a.desired(ep, r)
		default:
			in.Production = a.desired(ep, r)
		}
	}
	if in.State, err = s.GetState(ctx, a.endpoint); err != nil {
		return rollout.Input{}, Cloud{}, err
	}
	in.State.Endpoint = a.endpoint
	if in.Commands, err = s.ListCommands(ctx, a.endpoint, in.State.CommandSeq); err != nil {
		return rollout.Input{}, Cloud{}, err
	}
	cloud, err := cfg.Connect(ctx, ep.Placement)
	in.PinImages = cloud.Images != nil
	if err == nil && ep.ObserveOnly {
		if a.shadow == nil {
			a.shadow = newShadow(in.State)
		}
		cloud = a.shadow.in(cloud)
	}
	return in, cloud, err
}

// desired caches the release's key: hashing the template is the costliest
// part of a plan, and the release and template rarely change.
func (a *actor) desired(ep rollout.Endpoint, r rollout.Release) *rollout.Desired {
	if c := a.keys[r.Track]; c != nil && c.endpointRev == ep.Revision && c.releaseRev == r.Revision {
		return c.desired
	}
	d := rollout.NewDesired(ep, r)
	if a.keys == nil {
		a.keys = map[rollout.Track]*cachedKey{}
	}
	a.keys[r.Track] = &cachedKey{endpointRev: ep.Revision, releaseRev: r.Revision, desired: d}
	return d
}

// save stores the decision before anything acts on it (invariant 5: the
// intent to create an environment is recorded before it is created), with
// the conditions present now and the events of those that start or end. A
// pass that observed AWS also records when, at least every half resync, so
// that a status read later knows how old its observation is.
func (a *actor) save(ctx context.Context, old rollout.State, d *rollout.Decision, present rollout.Conditions, observed bool) error {
	cfg := a.r.cfg
	now := cfg.Now()
	var events []rollout.Event
	d.State.Conditions, events = old.Conditions.Update(now, a.endpoint, present)
	d.Events = append(d.Events, events...)
	a.r.conditionsOf(a.endpoint, d.State.Conditions)
	due := observed && now.Sub(old.ObservedAt) >= cfg.Resync/2
	if len(d.Events) == 0 && !due && equalState(old, d.State) {
		return nil
	}
	if observed {
		d.State.ObservedAt, d.State.StaleAt = now, now.Add(2*cfg.Resync)
	}
	if err := a.mayAct(); err != nil {
		return err
	}
	d.State.UpdatedAt = now
	if _, err := cfg.Store.PutState(ctx, d.State, old.Revision, d.Events...); err != nil {
		return a.r.stored(err)
	}
	a.r.stored(nil)
	for _, e := range d.Events {
		a.logger.Info("event", "type", e.Type, "track", e.Track, "version", e.Version, "message", e.Message)
	}
	if len(d.Events) > 0 {
		cfg.Published(a.endpoint)
	}
	return nil
}

// remove deletes an endpoint whose AWS resources are all gone.
func (a *actor) remove(ctx context.Context) error {
	ev := rollout.Event{Actor: rollout.ActorShifter, Type: rollout.EventEndpointDeleted, Message: "endpoint deleted: nothing of it is left in AWS"}
	err := a.r.cfg.Store.DeleteEndpoint(ctx, a.endpoint, rollout.RevisionAny, ev)
	if err != nil && rollout.ErrorCode(err) != rollout.ENOTFOUND {
		return err
	}
	a.logger.Info("endpoint deleted")
	a.r.cfg.Published(a.endpoint)
	return errGone
}

// mayAct returns errLeaseExpired once the actor's lease could have expired
// by its own clock, so that nothing is written to the store or done in AWS
// after that; it is called before every write and every action.
func (a *actor) mayAct() error {
	if a.claim == nil {
		return nil
	}
	return a.claim.check(a.r.cfg.Now())
}

// actor reconciles one endpoint. Only its goroutine touches its fields.
type actor struct {
	r        *Reconciler
	endpoint string
	// claim is the lease the actor acts under; nil without leases.
	claim  *claim
	logger hclog.Logger
	wake   chan struct{}
	keys   map[rollout.Track]*cachedKey
	// envWritten is when the actor's last write to each environment ended,
	// for a resync, and routeWritten its last write to a route: its next
	// observation of each reads what began after, so it sees what it wrote.
	envWritten   map[string]time.Time
	routeWritten time.Time
	// shadow stands in for AWS while the endpoint is observe-only.
	shadow *shadow
	// failures remembers the last error of each failing action, so a
	// persistent failure is recorded once, not on every retry.
	failures map[string]string
	// trafficReadFailure is the last error of the read of a step's
	// traffic while it fails (count): a read, not an action, so no
	// decision abandons it; it is part of the action_failing condition.
	trafficReadFailure string
	// unresolved are the images that could not be resolved to a digest,
	// with why and when: tried again a poll later, not on every pass.
	unresolved map[string]unresolved
	// failedObservations counts the passes in a row that could not
	// observe AWS; throttled is when AWS last throttled the endpoint's
	// calls, and throttledOps which.
	failedObservations int
	throttled          time.Time
	throttledOps       []string
	// historyRevision and historyAt are the endpoint's revision when its
	// spec history was last expired, and when.
	historyRevision int64
	historyAt       time.Time

	// mu guards cancelPass, the cancel of the pass in progress, which
	// poke calls from other goroutines; lane is that pass's lane.
	mu         sync.Mutex
	cancelPass context.CancelCauseFunc
	lane       atomic.Int32
}

type cachedKey struct {
	endpointRev, releaseRev int64
	desired                 *rollout.Desired
}

// poke wakes the actor for a change a person made. A pass in progress that
// may not take traffic off a version is preempted: it may be waiting for
// AWS's budget in a low lane, and the change may be a rollback, which must
// not wait behind it. Every action is idempotent and every decision stored
// before it acts, so a pass cut short is no different from a crash.
func (a *actor) poke() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cancelPass != nil && schedule.Lane(a.lane.Load()) != schedule.LaneRollback {
		a.cancelPass(errPreempted)
	}
}

// running records the cancel of the pass in progress (nil: none).
func (a *actor) running(cancel context.CancelCauseFunc) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.cancelPass = cancel
}

// errPreempted ends a pass that a person's change cut short (poke).
var errPreempted = errors.New("preempted by a change to the endpoint")
