package awstest

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// Clock records when each successful call of one operation returned, so a
// benchmark can time from its own start to an AWS write being done (the
// rollback latency: from a revert to the ModifyRule that moves traffic).
// It is safe for concurrent use.
type Clock struct {
	operation string

	mu   sync.Mutex
	done []time.Time
}

// NewClock returns a clock of the operation named, for example "ModifyRule".
func NewClock(operation string) *Clock { return &Clock{operation: operation} }

// Add makes every client built from cfg report its calls to c.
func (c *Clock) Add(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, c.middleware)
}

func (c *Clock) middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("ionrollerCallClock",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleInitialize(ctx, in)
			if err == nil && awsmiddleware.GetOperationName(ctx) == c.operation {
				c.mu.Lock()
				c.done = append(c.done, time.Now())
				c.mu.Unlock()
			}
			return out, md, err
		}), middleware.After)
}

// Count returns how many calls succeeded so far.
func (c *Clock) Count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.done)
}

// After waits until a call succeeds after the first n and returns when it
// returned, or false when none has within timeout.
func (c *Clock) After(n int, timeout time.Duration) (time.Time, bool) {
	for deadline := time.Now().Add(timeout); ; time.Sleep(100 * time.Microsecond) {
		c.mu.Lock()
		if len(c.done) > n {
			t := c.done[n]
			c.mu.Unlock()
			return t, true
		}
		c.mu.Unlock()
		if time.Now().After(deadline) {
			return time.Time{}, false
		}
	}
}
