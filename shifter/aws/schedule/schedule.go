// Package schedule paces the shifter's AWS calls within the request budgets
// AWS gives each account and region. AWS throttles with token buckets shared
// by every caller in the account (the ELB API guide, for one, gives Describe*
// calls a bucket of 40 tokens refilled at 10 a second); a shifter with a
// thousand endpoints would exhaust them and then wait behind its own routine
// reads when a rollback has to move traffic.
//
// A Scheduler keeps, per bucket, a local token bucket a little smaller than
// AWS's, and hands its tokens out by lane: rollback and abort writes first,
// then weight steps, then the health reads that gate traffic, then what
// rollouts build, then routine observation. Routine reads slow down instead
// of starving a rollback. When AWS throttles anyway (another caller shares
// the account), the bucket's rate halves, once per shortage, and grows back
// slowly, and the throttled call is tried again after a jittered wait in its
// own lane, so a retry never blocks a higher lane and a throttle does not end
// as a failure while the call's context lasts.
package schedule

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/ionroller/terraform-provider-ionroller/shifter/internal/wait"
)

// Lane is a call's priority; lower lanes go first.
type Lane int

const (
	// LaneRollback is for rollback and abort: the calls that take traffic
	// off a bad version.
	LaneRollback Lane = iota
	// LaneStep is for weight steps.
	LaneStep
	// LaneGate is for the health reads that gate traffic.
	LaneGate
	// LaneBuild is for what a rollout builds and tears down: environments,
	// their attachment to a route at 0, and reads of them while they come
	// up or go.
	LaneBuild
	// LaneRoutine is for observation and housekeeping: the default.
	LaneRoutine

	lanes = iota
)

func (l Lane) String() string {
	switch l {
	case LaneRollback:
		return "rollback"
	case LaneStep:
		return "step"
	case LaneGate:
		return "gate"
	case LaneBuild:
		return "build"
	}
	return "routine"
}

type laneKey struct{}

// WithLane returns ctx carrying lane: the AWS calls made under it are
// scheduled in that lane.
func WithLane(ctx context.Context, lane Lane) context.Context {
	return context.WithValue(ctx, laneKey{}, lane)
}

// WithLaneOf returns ctx whose calls are scheduled in the lane lane returns
// when each is made: for a read shared by callers of several lanes, which
// goes as fast as the most urgent of them needs.
func WithLaneOf(ctx context.Context, lane func() Lane) context.Context {
	return context.WithValue(ctx, laneKey{}, lane)
}

// LaneOf returns the lane of ctx, LaneRoutine if it has none.
func LaneOf(ctx context.Context) Lane {
	switch l := ctx.Value(laneKey{}).(type) {
	case Lane:
		return l
	case func() Lane:
		return l()
	}
	return LaneRoutine
}

// Budget is a token bucket: Burst tokens at most, Refill added a second.
type Budget struct {
	Burst  float64
	Refill float64
}

// Charge is a bucket a call draws a token from: its name (operations sharing
// a bucket share it) and its size as AWS publishes it.
type Charge struct {
	Bucket string
	Budget
}

// Budgets says which buckets an operation of a service (its SDK service ID)
// draws from; none for calls AWS does not budget by count.
type Budgets func(service, operation string) []Charge

// Observer hears how long calls waited for a token and which were throttled
// by AWS; the shifter's metrics implement it.
type Observer interface {
	Waited(service string, lane Lane, d time.Duration)
	Throttled(service, operation string)
}

// Options tune a Scheduler; the zero value takes the defaults.
type Options struct {
	// Share is the part of each AWS budget the shifter allows itself, so
	// people and tools in the same account keep some (default 0.8).
	Share float64
	// MaxThrottleRetries bounds how often a throttled call is tried
	// again before its error is returned (default 10).
	MaxThrottleRetries int
	// AttemptTimeout is how long one attempt of a call may go unanswered
	// before it fails as stalled (default 10s; AWS answers its API calls
	// within a second or two). Time waiting for a token does not count.
	AttemptTimeout time.Duration
	Observer       Observer
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// StalledError is a call AWS did not answer within Options.AttemptTimeout.
// The SDK does not retry it: a stalled service is reported, not waited on.
type StalledError struct {
	Service, Operation string
	After              time.Duration
}

func (e *StalledError) Error() string {
	return fmt.Sprintf("%s %s: AWS did not answer within %s", e.Service, e.Operation, e.After)
}

// Tally counts what the calls made under a context met (WithTally).
type Tally struct {
	mu        sync.Mutex
	throttled []string // operations AWS throttled, each retried
	waited    time.Duration
}

type tallyKey struct{}

// WithTally returns ctx and the tally of the calls made under it: how often
// AWS throttled them and how long they waited for budget.
func WithTally(ctx context.Context) (context.Context, *Tally) {
	t := &Tally{}
	return context.WithValue(ctx, tallyKey{}, t), t
}

// Throttled returns the operations AWS throttled, in order, one per throttle.
func (t *Tally) Throttled() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.throttled)
}

// Waited returns how long the calls waited for budget, in all.
func (t *Tally) Waited() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.waited
}

func tallyOf(ctx context.Context) *Tally {
	t, _ := ctx.Value(tallyKey{}).(*Tally)
	return t
}

// Scheduler paces the calls of one account and region. It is safe for
// concurrent use; share one by every client of the account and region.
type Scheduler struct {
	budgets Budgets
	opts    Options

	mu      sync.Mutex
	buckets map[string]*bucket
}

// New returns a scheduler drawing from budgets.
func New(budgets Budgets, opts Options) *Scheduler {
	if opts.Share <= 0 || opts.Share > 1 {
		opts.Share = 0.8
	}
	if opts.MaxThrottleRetries <= 0 {
		opts.MaxThrottleRetries = 10
	}
	if opts.AttemptTimeout <= 0 {
		opts.AttemptTimeout = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Scheduler{budgets: budgets, opts: opts, buckets: map[string]*bucket{}}
}

// Middleware adds the scheduler to an SDK client's stack (an element of
// aws.Config.APIOptions). It sits after the SDK's retry middleware, so that
// every attempt the SDK makes takes a token, and before signing, so that a
// call throttled by AWS is signed afresh when it is tried again.
func (s *Scheduler) Middleware(stack *middleware.Stack) error {
	return stack.Finalize.Insert(middleware.FinalizeMiddlewareFunc("ionrollerSchedule",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (out middleware.FinalizeOutput, md middleware.Metadata, err error) {
			err = s.Do(ctx, awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx), func(ctx context.Context, attempt int) error {
				try := in
				if req, ok := in.Request.(*smithyhttp.Request); ok && attempt > 0 {
					r := req.Clone()
					if err := r.RewindStream(); err != nil {
						return err
					}
					try.Request = r
				}
				var err error
				out, md, err = next.HandleFinalize(ctx, try)
				return err
			})
			return out, md, err
		}), "Retry", middleware.After)
}

// Do makes one call of op, an operation of service (an SDK service ID or a
// signing name), within the budgets: it waits in the lane of ctx for a token
// of every bucket the call draws from, then sends it with send (attempt
// counts from 0). When AWS throttles it (send returns the service's
// throttling error), the buckets' rates halve and the call is tried again
// after a jittered wait in its lane, up to Options.MaxThrottleRetries times.
// An attempt AWS leaves unanswered for Options.AttemptTimeout fails as a
// StalledError. Middleware runs every SDK call through it; a stand-in for AWS
// written in Go (the scale benchmark's fake) calls it directly.
func (s *Scheduler) Do(ctx context.Context, service, op string, send func(ctx context.Context, attempt int) error) error {
	tally := tallyOf(ctx)
	charges := s.budgets(service, op)
	if len(charges) == 0 {
		return s.attempt(ctx, send, 0, service, op)
	}
	buckets := make([]*bucket, len(charges))
	for i, c := range charges {
		buckets[i] = s.bucket(c.Bucket, c.Budget)
	}
	lane := LaneOf(ctx)
	for attempt := 0; ; attempt++ {
		start := s.opts.Now()
		for _, b := range buckets {
			if err := b.take(ctx, lane); err != nil {
				return err
			}
		}
		waited := s.opts.Now().Sub(start)
		if o := s.opts.Observer; o != nil {
			o.Waited(service, lane, waited)
		}
		if tally != nil {
			tally.mu.Lock()
			tally.waited += waited
			tally.mu.Unlock()
		}
		err := s.attempt(ctx, send, attempt, service, op)
		throttled := isThrottle(err)
		for _, b := range buckets {
			if throttled {
				b.throttled() // which of its buckets AWS found empty, it does not say
			} else {
				b.succeeded()
			}
		}
		if !throttled {
			return err
		}
		if o := s.opts.Observer; o != nil {
			o.Throttled(service, op)
		}
		if tally != nil {
			tally.mu.Lock()
			tally.throttled = append(tally.throttled, service+" "+op)
			tally.mu.Unlock()
		}
		if attempt == s.opts.MaxThrottleRetries {
			return err
		}
		if err := wait.Sleep(ctx, backoff(attempt)); err != nil {
			return err
		}
	}
}

// attempt sends one attempt of a call, failing it as stalled when AWS does
// not answer within the attempt timeout.
func (s *Scheduler) attempt(ctx context.Context, send func(context.Context, int) error, n int, service, op string) error {
	stalled := &StalledError{Service: service, Operation: op, After: s.opts.AttemptTimeout}
	actx, cancel := context.WithTimeoutCause(ctx, s.opts.AttemptTimeout, stalled)
	defer cancel()
	err := send(actx, n)
	if err != nil && ctx.Err() == nil && errors.Is(context.Cause(actx), stalled) {
		return stalled
	}
	return err
}

func (s *Scheduler) bucket(key string, budget Budget) *bucket {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.buckets[key]
	if !ok {
		b = newBucket(budget, s.opts.Share, s.opts.Now)
		s.buckets[key] = b
	}
	return b
}

// Rates returns each bucket's current rate, in tokens a second: lower than
// its share of AWS's budget while it recovers from throttling.
func (s *Scheduler) Rates() map[string]float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]float64, len(s.buckets))
	for key, b := range s.buckets {
		b.mu.Lock()
		out[key] = b.rate
		b.mu.Unlock()
	}
	return out
}

// bucket is the local image of one AWS token bucket. Tokens go to waiters
// strictly by lane, and in order of arrival within a lane. A waiter whose
// lane rises while it waits (a shared read an urgent caller joined,
// WithLaneOf) moves to the back of its new lane's queue.
type bucket struct {
	now func() time.Time
	max float64 // the highest rate: the shifter's share of AWS's refill
	// reserve is the part of the burst only the rollback lane may take, so
	// that a rollback finds a token at once however busy the others are;
	// headroom the part the lanes that can wait (build, routine) leave to
	// those that move traffic, so that steps falling due together find
	// tokens at hand however busy the building is.
	reserve, headroom float64

	mu      sync.Mutex
	burst   float64
	rate    float64
	tokens  float64
	last    time.Time
	waiting [lanes][]*waiter
	timer   *time.Timer
	timerAt time.Time // when timer fires, by the wall clock
	cut     time.Time // when a throttle last halved the rate
}

type waiter struct {
	ready chan struct{}
	done  bool // served or given up; under bucket.mu
	// rises is the lane the waiter's context says now, when it may rise
	// while the waiter waits (WithLaneOf); nil when it cannot.
	rises func() Lane
}

// riseCheck is how often a bucket looks whether a waiter's lane rose while
// any waiter's can: soon enough that a rollback or a step joining a read
// queued in a lane that can wait is not held at that lane's pace.
const riseCheck = 100 * time.Millisecond

func newBucket(b Budget, share float64, now func() time.Time) *bucket {
	burst := max(1, b.Burst*share)
	return &bucket{now: now, max: b.Refill * share, reserve: float64(int(burst / 4)), headroom: float64(int(burst / 2)),
		burst: burst, rate: b.Refill * share, tokens: burst, last: now()}
}

// take waits for a token in lane, or for ctx to end. When ctx carries its
// lane as a function (WithLaneOf), the waiter follows it if it rises.
func (b *bucket) take(ctx context.Context, lane Lane) error {
	b.mu.Lock()
	b.refill()
	if b.tokens >= 1+b.floor(lane) && !b.queuedAtOrAbove(lane) {
		b.tokens--
		b.mu.Unlock()
		return nil
	}
	w := &waiter{ready: make(chan struct{})}
	if rises, ok := ctx.Value(laneKey{}).(func() Lane); ok && lane > LaneRollback {
		w.rises = rises
	}
	b.waiting[lane] = append(b.waiting[lane], w)
	b.schedule()
	b.mu.Unlock()

	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		b.mu.Lock()
		defer b.mu.Unlock()
		if w.done {
			b.tokens++ // served as it gave up: the token goes back
			b.dispatch()
			return ctx.Err()
		}
		w.done = true
		return ctx.Err()
	}
}

// floor is how many tokens a lane must leave in the bucket: none for the
// rollback lane, the reserve for the lanes that move traffic, the headroom
// for the others.
func (b *bucket) floor(lane Lane) float64 {
	switch {
	case lane == LaneRollback:
		return 0
	case lane <= LaneGate:
		return b.reserve
	}
	return max(b.reserve, b.headroom)
}

// queuedAtOrAbove reports whether a waiter of lane or a higher lane is
// queued: a newcomer never overtakes it.
func (b *bucket) queuedAtOrAbove(lane Lane) bool {
	for l := Lane(0); l <= lane; l++ {
		if len(b.waiting[l]) > 0 {
			return true
		}
	}
	return false
}

func (b *bucket) refill() {
	now := b.now()
	b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
}

// dispatch hands the tokens there are to waiters, highest lane first.
// It is called with b.mu held.
func (b *bucket) dispatch() {
	b.refill()
	b.serve()
}

func (b *bucket) serve() {
	b.promote()
	for l := range b.waiting {
		for len(b.waiting[l]) > 0 && b.tokens >= 1+b.floor(Lane(l)) {
			w := b.waiting[l][0]
			b.waiting[l] = b.waiting[l][1:]
			if w.done {
				continue // gave up
			}
			w.done = true
			b.tokens--
			close(w.ready)
		}
	}
	b.schedule()
}

// promote moves the waiters whose lane rose to the back of their new lane's
// queue.
func (b *bucket) promote() {
	for l := LaneRollback + 1; l < lanes; l++ {
		stay := b.waiting[l][:0]
		for _, w := range b.waiting[l] {
			if w.rises != nil && !w.done {
				if now := w.rises(); now < l {
					b.waiting[now] = append(b.waiting[now], w)
					continue
				}
			}
			stay = append(stay, w)
		}
		clear(b.waiting[l][len(stay):])
		b.waiting[l] = stay
	}
}

// schedule arms the timer for the next token if anyone waits for it, and
// sooner (riseCheck) while a waiter's lane may rise.
func (b *bucket) schedule() {
	need := -1.0 // the tokens the highest lane waiting needs
	rises := false
	for l := len(b.waiting) - 1; l >= 0; l-- {
		if len(b.waiting[l]) > 0 {
			need = 1 + b.floor(Lane(l))
		}
		for _, w := range b.waiting[l] {
			rises = rises || (w.rises != nil && !w.done)
		}
	}
	if need < 0 {
		return
	}
	wait := max(time.Duration((need-b.tokens)/b.rate*float64(time.Second)), time.Millisecond)
	if rises {
		wait = min(wait, riseCheck)
	}
	at := time.Now().Add(wait)
	if b.timer != nil {
		if !rises || !b.timerAt.After(at) {
			return
		}
		b.timer.Stop() // armed for a lane's pace before a waiter whose lane may rise came
	}
	var t *time.Timer
	t = time.AfterFunc(wait, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.timer == t {
			b.timer = nil
		}
		b.dispatch()
	})
	b.timer, b.timerAt = t, at
}

// throttled empties the bucket, for AWS's own is empty whoever emptied it,
// and halves the rate (to a tenth of the shifter's share at least) once per
// cutEvery: calls in flight together meet the same empty bucket, and one
// shortage must not cut the rate once for each of them.
func (b *bucket) throttled() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill()
	if now := b.now(); b.cut.IsZero() || now.Sub(b.cut) >= cutEvery {
		b.rate = max(b.rate/2, b.max/10)
		b.cut = now
	}
	b.tokens = min(b.tokens, 0)
}

// cutEvery is how often throttles may halve a bucket's rate: about the time
// the calls in flight when AWS's bucket ran dry take to come back.
const cutEvery = time.Second

// succeeded grows a reduced rate back by a fiftieth of its maximum a call.
func (b *bucket) succeeded() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.rate < b.max {
		b.refill()
		b.rate = min(b.max, b.rate+b.max/50)
	}
}

// isThrottle reports whether err is AWS refusing a call for its rate.
func isThrottle(err error) bool {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	switch apiErr.ErrorCode() {
	case "Throttling", "ThrottlingException", "ThrottledException", "RequestLimitExceeded",
		"TooManyRequestsException", "RequestThrottled", "RequestThrottledException", "SlowDown":
		return true
	}
	return false
}

// backoff is the wait before trying a throttled call again: full jitter over
// an exponential ceiling from 100ms to 5s.
func backoff(attempt int) time.Duration {
	ceiling := min(100*time.Millisecond<<min(attempt, 6), 5*time.Second)
	return time.Duration(rand.Int64N(int64(ceiling)) + 1)
}
