package schedule

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

func TestTokensGoToTheHighestLaneFirst(t *testing.T) {
	b := newBucket(Budget{Burst: 1, Refill: 1e-6}, 1, time.Now)
	if err := b.take(t.Context(), LaneRoutine); err != nil {
		t.Fatal(err)
	}
	served := make(chan Lane)
	// Queued in the reverse of their priority, one after another.
	for _, lane := range []Lane{LaneRoutine, LaneGate, LaneStep, LaneRollback} {
		go func() {
			if err := b.take(t.Context(), lane); err != nil {
				t.Error(err)
			}
			served <- lane
		}()
		waitQueued(t, b, lane)
	}
	var order []Lane
	for range 4 {
		grant(b, 1)
		order = append(order, <-served)
	}
	want := []Lane{LaneRollback, LaneStep, LaneGate, LaneRoutine}
	if fmt.Sprint(order) != fmt.Sprint(want) {
		t.Errorf("tokens went to %v, want %v", order, want)
	}
}

func TestTheLastTokensAreKeptForARollback(t *testing.T) {
	b, step := queuedAtFloor(t, LaneStep)
	for range 2 {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		err := b.take(ctx, LaneRollback)
		cancel()
		if err != nil {
			t.Fatalf("a rollback waited with tokens in reserve: %v", err)
		}
	}
	select {
	case err := <-step:
		t.Fatalf("a step took a token of the reserve (%v)", err)
	default:
	}
}

// TestLanesThatCanWaitLeaveHeadroomForSteps: building drains a bucket only
// to half its burst, so steps that fall due together find tokens at once.
func TestLanesThatCanWaitLeaveHeadroomForSteps(t *testing.T) {
	b, build := queuedAtFloor(t, LaneBuild)
	for range 2 {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		err := b.take(ctx, LaneStep)
		cancel()
		if err != nil {
			t.Fatalf("a step waited with the headroom untouched: %v", err)
		}
	}
	select {
	case err := <-build:
		t.Fatalf("building took a token of the headroom (%v)", err)
	default:
	}
}

func TestANewcomerDoesNotOvertakeItsLane(t *testing.T) {
	b := newBucket(Budget{Burst: 1, Refill: 1e-6}, 1, time.Now)
	if err := b.take(t.Context(), LaneGate); err != nil {
		t.Fatal(err)
	}
	first := make(chan struct{})
	go func() {
		if err := b.take(t.Context(), LaneGate); err == nil {
			close(first)
		}
	}()
	waitQueued(t, b, LaneGate)
	b.mu.Lock()
	b.tokens++ // a token arrives before the queue is served
	b.mu.Unlock()
	second := make(chan struct{})
	go func() {
		if err := b.take(t.Context(), LaneGate); err == nil {
			close(second)
		}
	}()
	waitQueuedN(t, b, LaneGate, 2)
	grant(b, 0)
	<-first
	select {
	case <-second:
		t.Error("a later call of the same lane got a token as well as the one queued before it")
	default:
	}
	grant(b, 1)
	<-second
}

func TestAWaiterThatGivesUpLeavesTheQueue(t *testing.T) {
	b := newBucket(Budget{Burst: 1, Refill: 1e-6}, 1, time.Now)
	if err := b.take(t.Context(), LaneRoutine); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	gaveUp := make(chan error, 1)
	go func() { gaveUp <- b.take(ctx, LaneRollback) }()
	waitQueued(t, b, LaneRollback)
	cancel()
	if err := <-gaveUp; err != context.Canceled {
		t.Fatalf("take after cancel = %v, want context.Canceled", err)
	}
	// The next token goes to the routine call: the waiter that gave up
	// holds nothing.
	done := make(chan error, 1)
	go func() { done <- b.take(t.Context(), LaneRoutine) }()
	waitQueued(t, b, LaneRoutine)
	grant(b, 1)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestAWaiterWhoseLaneRisesMovesUp: a call of a shared read queued in the
// routine lane, whose lane an urgent caller joining the read raises
// (WithLaneOf), is served in its new lane, before routine calls queued
// ahead of it, and without waiting for a token the routine lane could take.
func TestAWaiterWhoseLaneRisesMovesUp(t *testing.T) {
	b, routine := queuedAtFloor(t, LaneRoutine)
	var lane atomic.Int32
	lane.Store(int32(LaneRoutine))
	shared := make(chan error, 1)
	go func() {
		ctx := WithLaneOf(t.Context(), func() Lane { return Lane(lane.Load()) })
		shared <- b.take(ctx, LaneOf(ctx))
	}()
	waitQueuedN(t, b, LaneRoutine, 2)

	lane.Store(int32(LaneStep)) // a step joins the read
	select {
	case err := <-shared:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the read's call stayed queued in the routine lane after its lane rose to step")
	}
	select {
	case err := <-routine:
		t.Fatalf("the routine call took a token of the headroom (%v)", err)
	default:
	}
}

// queuedAtFloor returns a bucket of 8 tokens (a headroom of 4, a reserve of
// 2) from which lane has taken all it may, and what one more call of lane,
// queued, gets.
func queuedAtFloor(t *testing.T, lane Lane) (*bucket, <-chan error) {
	t.Helper()
	b := newBucket(Budget{Burst: 8, Refill: 1e-6}, 1, time.Now)
	for b.tokens >= 1+b.floor(lane) {
		if err := b.take(t.Context(), lane); err != nil {
			t.Fatal(err)
		}
	}
	queued := make(chan error, 1)
	go func() { queued <- b.take(t.Context(), lane) }()
	waitQueued(t, b, lane)
	return b, queued
}

// grant adds n tokens to b and serves its queue, as its timer would.
func grant(b *bucket, n float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tokens += n // above the burst: dispatch refills with a cap
	b.serve()
}

// waitQueued waits until a waiter of lane is queued in b.
func waitQueued(t *testing.T, b *bucket, lane Lane) {
	t.Helper()
	waitQueuedN(t, b, lane, 1)
}

func waitQueuedN(t *testing.T, b *bucket, lane Lane, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b.mu.Lock()
		n := len(b.waiting[lane])
		b.mu.Unlock()
		if n >= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no waiter of lane %s queued", lane)
		}
		time.Sleep(time.Millisecond)
	}
}

// elbServer answers DescribeRules as ELBv2 does, throttling the first
// throttles calls with ELBv2's own error.
func elbServer(t *testing.T, throttles int) (*httptest.Server, *atomic.Int64) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		if calls.Add(1) <= int64(throttles) {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>1</RequestId></ErrorResponse>`)
			return
		}
		fmt.Fprint(w, `<DescribeRulesResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><DescribeRulesResult><Rules/></DescribeRulesResult><ResponseMetadata><RequestId>2</RequestId></ResponseMetadata></DescribeRulesResponse>`)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

type recorder struct {
	mu        sync.Mutex
	throttled int
	waited    map[Lane]int
}

func (r *recorder) Waited(_ string, lane Lane, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.waited == nil {
		r.waited = map[Lane]int{}
	}
	r.waited[lane]++
}

func (r *recorder) Throttled(string, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.throttled++
}

func elbClient(url string, s *Scheduler) *elb.Client {
	return elb.NewFromConfig(aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint:     aws.String(url),
		RetryMaxAttempts: 1, // no SDK retries: what is retried, the scheduler retries
		APIOptions:       []func(*middleware.Stack) error{s.Middleware},
	})
}

func elbBudget(string, string) []Charge {
	return []Charge{{Bucket: "elbv2/describe", Budget: Budget{Burst: 40, Refill: 10}}}
}

func TestAThrottledCallIsTriedAgainAndTheRateHalves(t *testing.T) {
	srv, calls := elbServer(t, 2)
	rec := &recorder{}
	s := New(elbBudget, Options{Observer: rec})
	ctx := WithLane(t.Context(), LaneRollback)
	if _, err := elbClient(srv.URL, s).DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: aws.String("arn")}); err != nil {
		t.Fatalf("DescribeRules throttled twice: %v, want it to succeed on the third try", err)
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("calls = %d, want 3", n)
	}
	if rec.throttled != 2 || rec.waited[LaneRollback] != 3 {
		t.Errorf("observed %d throttles and %v waits, want 2 throttles and 3 waits in the rollback lane", rec.throttled, rec.waited)
	}
	// 8 a second is the shifter's share (0.8) of ELBv2's 10; two throttles
	// within a second, one shortage, halve it once, and one success adds
	// back a fiftieth.
	if got, want := s.Rates()["elbv2/describe"], 8.0/2+8.0/50; fmt.Sprintf("%.3f", got) != fmt.Sprintf("%.3f", want) {
		t.Errorf("rate after two throttles and a success = %.3f/s, want %.3f/s", got, want)
	}
}

// TestEachShortageHalvesTheRateOnce: the calls in flight when AWS's bucket
// runs dry are all throttled; together they halve the rate once, and only a
// throttle a second later halves it again.
func TestEachShortageHalvesTheRateOnce(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	b := newBucket(Budget{Burst: 10, Refill: 10}, 1, func() time.Time { return now })
	for range 5 {
		b.throttled()
	}
	if b.rate != 5 {
		t.Errorf("rate after five throttles at once = %v/s, want 5/s", b.rate)
	}
	now = now.Add(time.Second)
	b.throttled()
	if b.rate != 2.5 {
		t.Errorf("rate after a throttle a second later = %v/s, want 2.5/s", b.rate)
	}
}

func TestAThrottleEndsAsAFailureOnlyAfterItsRetries(t *testing.T) {
	srv, calls := elbServer(t, 1000)
	s := New(elbBudget, Options{MaxThrottleRetries: 2})
	_, err := elbClient(srv.URL, s).DescribeRules(WithLane(t.Context(), LaneRollback), &elb.DescribeRulesInput{ListenerArn: aws.String("arn")})
	if !isThrottle(err) {
		t.Fatalf("err = %v, want the throttling error once retries are spent", err)
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("calls = %d, want 3 (the call and 2 retries)", n)
	}
}

func TestCallsOutsideEveryBudgetPassStraightThrough(t *testing.T) {
	srv, calls := elbServer(t, 1)
	s := New(func(string, string) []Charge { return nil }, Options{})
	_, err := elbClient(srv.URL, s).DescribeRules(t.Context(), &elb.DescribeRulesInput{ListenerArn: aws.String("arn")})
	if !isThrottle(err) || calls.Load() != 1 {
		t.Errorf("unbudgeted call: err %v after %d calls, want the throttle returned after 1", err, calls.Load())
	}
}

func TestAnUnansweredCallFailsAsStalledAndIsTalliedApartFromThrottles(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		select { // AWS stalls: the answer never comes while the call waits
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	s := New(elbBudget, Options{AttemptTimeout: 100 * time.Millisecond})
	cfg := elbClient(srv.URL, s).Options()
	cfg.RetryMaxAttempts = 3 // the SDK must not retry a stall
	ctx, tally := WithTally(t.Context())
	_, err := elb.New(cfg).DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: aws.String("arn")})
	var stalled *StalledError
	if !errors.As(err, &stalled) || stalled.Operation != "DescribeRules" || stalled.After != 100*time.Millisecond {
		t.Fatalf("err = %v, want a StalledError of DescribeRules after 100ms", err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("calls = %d, want 1: a stall is reported, not retried", n)
	}
	if th := tally.Throttled(); len(th) != 0 {
		t.Errorf("a stall tallied as throttles: %v", th)
	}

	srv2, _ := elbServer(t, 2)
	ctx, tally = WithTally(t.Context())
	if _, err := elbClient(srv2.URL, s).DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: aws.String("arn")}); err != nil {
		t.Fatal(err)
	}
	want := []string{"Elastic Load Balancing v2 DescribeRules", "Elastic Load Balancing v2 DescribeRules"}
	if th := tally.Throttled(); !slices.Equal(th, want) {
		t.Errorf("tally.Throttled() = %q, want %q", th, want)
	}
}

// TestACallMadeInGoIsScheduledAsAnSDKCall: Do, which a stand-in for AWS
// written in Go calls instead of going through an SDK client, takes its
// tokens in the lane of its context and retries a throttle the same way.
func TestACallMadeInGoIsScheduledAsAnSDKCall(t *testing.T) {
	rec := &recorder{}
	s := New(elbBudget, Options{Observer: rec})
	var attempts []int
	err := s.Do(WithLane(t.Context(), LaneStep), "elasticloadbalancing", "ModifyRule", func(_ context.Context, attempt int) error {
		attempts = append(attempts, attempt)
		if attempt < 2 {
			return &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}
		}
		return nil
	})
	if err != nil || !slices.Equal(attempts, []int{0, 1, 2}) {
		t.Fatalf("Do = %v after attempts %v, want success on attempt 2", err, attempts)
	}
	if rec.throttled != 2 || rec.waited[LaneStep] != 3 {
		t.Errorf("observed %d throttles and %v waits, want 2 throttles and 3 waits in the step lane", rec.throttled, rec.waited)
	}
	refused := errors.New("ValidationError")
	if err := s.Do(t.Context(), "elasticloadbalancing", "ModifyRule", func(context.Context, int) error { return refused }); err != refused {
		t.Errorf("Do of a refused call = %v, want its error returned at once", err)
	}
}
