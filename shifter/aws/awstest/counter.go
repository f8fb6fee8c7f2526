package awstest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// Counter counts SDK calls by service and operation, so tests can assert how
// many AWS calls an operation costs ("exactly one ELBv2 write") and report
// calls per rollout. It counts operations, not HTTP attempts, whether they
// succeed or fail. It is safe for concurrent use.
//
// Services are named loosely: "ELBv2", "ElasticLoadBalancingV2" and
// elasticloadbalancingv2.ServiceID ("Elastic Load Balancing v2") are the
// same service, as are "AutoScaling" and "Auto Scaling".
type Counter struct {
	mu    sync.Mutex
	calls map[call]int
}

type call struct{ service, operation string }

// NewCounter returns a counter with no calls.
func NewCounter() *Counter { return &Counter{calls: make(map[call]int)} }

// Add makes every client built from cfg count its calls in c.
func (c *Counter) Add(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, c.Middleware)
}

// Middleware adds the counter to an SDK middleware stack; it is an element
// for aws.Config.APIOptions or a client's Options.APIOptions.
func (c *Counter) Middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("ionrollerCallCounter",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			c.record(awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx))
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
}

func (c *Counter) record(service, operation string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[call{serviceKey(service), operation}]++
}

// Count returns how many times operation of service was called.
func (c *Counter) Count(service, operation string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[call{serviceKey(service), operation}]
}

// Total returns the number of calls to service.
func (c *Counter) Total(service string) int {
	return c.sum(service, func(string) bool { return true })
}

// Writes returns the number of calls to service that may change something:
// by AWS's naming convention, every operation but Describe*, Get* and List*.
func (c *Counter) Writes(service string) int {
	return c.sum(service, func(op string) bool { return !isRead(op) })
}

func (c *Counter) sum(service string, match func(operation string) bool) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	key, n := serviceKey(service), 0
	for k, v := range c.calls {
		if k.service == key && match(k.operation) {
			n += v
		}
	}
	return n
}

// Calls returns the counts keyed by "service.Operation", the service as
// Count normalises it (for example "elasticloadbalancingv2.ModifyRule").
func (c *Counter) Calls() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.calls))
	for k, v := range c.calls {
		out[k.service+"."+k.operation] = v
	}
	return out
}

// Reset forgets every call counted so far.
func (c *Counter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.calls)
}

// String lists the counts, one "service.Operation=n" per call, sorted: for
// test logs.
func (c *Counter) String() string {
	calls := c.Calls()
	var b strings.Builder
	for i, k := range slices.Sorted(maps.Keys(calls)) {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%d", k, calls[k])
	}
	return b.String()
}

func serviceKey(s string) string {
	key := strings.ToLower(strings.ReplaceAll(s, " ", ""))
	if key == "elbv2" {
		return "elasticloadbalancingv2"
	}
	return key
}

func isRead(operation string) bool {
	for _, p := range []string{"Describe", "Get", "List"} {
		if strings.HasPrefix(operation, p) {
			return true
		}
	}
	return false
}
