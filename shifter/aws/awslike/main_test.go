// The tests are an external package: awstest will put the layer in front of
// moto for every test, and so import awslike, which tests inside package
// awslike could then not import awstest back.
package awslike_test

import (
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awslike"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// env is a moto account reached through its own layer.
type env struct {
	layer *awslike.Layer
	acct  awstest.Account
	// cfg reaches the account through the layer as the code under test
	// does; setup through the layer too, exempt, for the test's own calls.
	cfg, setup aws.Config
}

// newEnv puts a layer with opts in front of moto for a new account. Unless
// opts say otherwise, the layer runs on TestTimeScale and without latency.
func newEnv(t *testing.T, opts ...awslike.Option) *env {
	t.Helper()
	return newEnvFor(t, awstest.NewAccount(t), opts...)
}

// newEnvFor is newEnv for an account that exists already.
func newEnvFor(t *testing.T, acct awstest.Account, opts ...awslike.Option) *env {
	t.Helper()
	opts = append([]awslike.Option{awslike.WithTimeScale(awslike.TestTimeScale), awslike.WithLatency(awslike.Latency{})}, opts...)
	layer, err := awslike.New(awstest.MotoEndpoint(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(layer)
	t.Cleanup(srv.Close)
	t.Cleanup(layer.EndBrownouts)

	cfg := acct.Config.Copy()
	cfg.BaseEndpoint = aws.String(srv.URL)
	return &env{layer: layer, acct: acct, cfg: cfg, setup: awstest.Exempt(cfg)}
}

// clock is a test's hand-turned clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// stats returns the layer's counts for one operation.
func stats(l *awslike.Layer, operation string) awslike.OpStats {
	for _, s := range l.Stats() {
		if s.Operation == operation {
			return s
		}
	}
	return awslike.OpStats{}
}
