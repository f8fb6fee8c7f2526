// Package faults makes AWS calls fail on purpose: an SDK middleware that, for
// the services and operations a test chooses, fails a fraction of calls the
// way AWS and networks fail (throttling, 5xx answers, connection resets,
// timeouts, answers lost after the call took effect). Tests use it to show
// that the shifter holds safely and recovers; nothing in the daemon adds it.
//
// The faults are injected where the SDK sends a request, below its retry
// middleware, and look exactly like the real thing to the layers above: the
// SDK retries them as it would retry AWS, the shifter's metrics count them by
// error code. Which call fails is drawn from a generator seeded by the test,
// so a run is repeatable as far as the order of calls is.
package faults

import (
	"context"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/budget"
)

// Kind is a way an AWS call fails.
type Kind string

const (
	// Throttle answers HTTP 400 with the service's throttling error code.
	Throttle Kind = "throttle"
	// ServerError answers HTTP 500 (InternalFailure) or 503
	// (ServiceUnavailable).
	ServerError Kind = "5xx"
	// Reset drops the connection before the request reaches AWS.
	Reset Kind = "reset"
	// Timeout sends nothing and answers nothing until the injector's
	// timeout (or the call's context) ends.
	Timeout Kind = "timeout"
	// LostResponse lets the call reach AWS and take effect, then drops the
	// connection before the answer arrives: the caller cannot tell it from
	// Reset, and must not do twice what it did once.
	LostResponse Kind = "lost_response"
)

// DefaultKinds are the kinds of a Rule that names none.
var DefaultKinds = []Kind{Throttle, ServerError, Reset, Timeout}

// Rule fails a fraction of the calls to a service.
type Rule struct {
	// Service is the SDK's service ID ("Elastic Load Balancing v2",
	// "Auto Scaling", "CloudWatch", "DynamoDB", "EC2"), matched without
	// case or spaces; "ELBv2" is accepted too.
	Service string
	// Operations limits the rule to these operations; empty means all.
	Operations []string
	// Rate is the fraction of matching calls that fail, from 0 to 1.
	Rate float64
	// Kinds are drawn from uniformly; empty means DefaultKinds.
	Kinds []Kind
}

// Injector fails calls as its rules say. It is safe for concurrent use.
type Injector struct {
	timeout time.Duration

	mu       sync.Mutex
	rng      *rand.Rand
	rules    []Rule
	injected map[string]int // "service.Operation kind" → count
}

// DefaultTimeout is how long a Timeout fault hangs.
const DefaultTimeout = 2 * time.Second

// New returns an injector that draws from seed and applies rules.
func New(seed uint64, rules ...Rule) *Injector {
	return &Injector{
		timeout:  DefaultTimeout,
		rng:      rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		rules:    slices.Clone(rules),
		injected: map[string]int{},
	}
}

// WithTimeout sets how long a Timeout fault hangs, and returns i.
func (i *Injector) WithTimeout(d time.Duration) *Injector {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.timeout = d
	return i
}

// Set replaces the rules, for faults that start or end during a test (a
// replica cut off from DynamoDB, then back).
func (i *Injector) Set(rules ...Rule) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.rules = slices.Clone(rules)
}

// Injected returns how many faults were injected, keyed by
// "service.Operation kind".
func (i *Injector) Injected() map[string]int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return maps.Clone(i.injected)
}

// String lists the faults injected, sorted: for test logs.
func (i *Injector) String() string {
	injected := i.Injected()
	var b strings.Builder
	for n, k := range slices.Sorted(maps.Keys(injected)) {
		if n > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s=%d", k, injected[k])
	}
	return b.String()
}

// Middleware adds the injector to an SDK middleware stack; it is an element
// of aws.Config.APIOptions. It sits last before the request is sent, under
// the SDK's retries, so every attempt may fail.
func (i *Injector) Middleware(stack *middleware.Stack) error {
	return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("ionrollerFaults",
		func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
			service, op := awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)
			f, ok := i.draw(service, op)
			if !ok {
				return next.HandleDeserialize(ctx, in)
			}
			switch f.kind {
			case LostResponse:
				out, md, err := next.HandleDeserialize(ctx, in)
				if err != nil {
					return out, md, err
				}
				if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && resp.Body != nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
				}
				return middleware.DeserializeOutput{}, md, sendError(syscall.ECONNRESET)
			case Timeout:
				t := time.NewTimer(f.timeout)
				defer t.Stop()
				select {
				case <-ctx.Done():
					return middleware.DeserializeOutput{}, middleware.Metadata{}, &smithyhttp.RequestSendError{Err: ctx.Err()}
				case <-t.C:
				}
				return middleware.DeserializeOutput{}, middleware.Metadata{}, &smithyhttp.RequestSendError{Err: timeoutError{}}
			case Reset:
				return middleware.DeserializeOutput{}, middleware.Metadata{}, sendError(syscall.ECONNRESET)
			case Throttle:
				return middleware.DeserializeOutput{}, middleware.Metadata{}, apiError(http.StatusBadRequest, budget.ServiceOf(service).ThrottleCode(), "Rate exceeded", smithy.FaultClient)
			case ServerError:
				if f.unavailable {
					return middleware.DeserializeOutput{}, middleware.Metadata{}, apiError(http.StatusServiceUnavailable, "ServiceUnavailable", "Service is unavailable", smithy.FaultServer)
				}
				return middleware.DeserializeOutput{}, middleware.Metadata{}, apiError(http.StatusInternalServerError, "InternalFailure", "Internal failure", smithy.FaultServer)
			}
			return middleware.DeserializeOutput{}, middleware.Metadata{}, fmt.Errorf("faults: unknown kind %q", f.kind)
		}), middleware.After)
}

// fault is one failure drawn for a call.
type fault struct {
	kind        Kind
	timeout     time.Duration // of a Timeout
	unavailable bool          // a ServerError answers 503 rather than 500
}

// draw decides whether this call of service's op fails, and how. The first
// rule that matches the call decides.
func (i *Injector) draw(service, op string) (fault, bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	for _, r := range i.rules {
		if serviceKey(r.Service) != serviceKey(service) || (len(r.Operations) > 0 && !slices.Contains(r.Operations, op)) {
			continue
		}
		if i.rng.Float64() >= r.Rate {
			return fault{}, false
		}
		kinds := r.Kinds
		if len(kinds) == 0 {
			kinds = DefaultKinds
		}
		f := fault{kind: kinds[i.rng.IntN(len(kinds))], timeout: i.timeout, unavailable: i.rng.IntN(2) == 0}
		i.injected[fmt.Sprintf("%s.%s %s", serviceKey(service), op, f.kind)]++
		return f, true
	}
	return fault{}, false
}

// apiError is an error answer as the SDK builds it from AWS's response.
func apiError(status int, code, message string, fault smithy.ErrorFault) error {
	return &awshttp.ResponseError{
		RequestID: "injected-fault",
		ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status, Header: http.Header{}, Body: http.NoBody}},
			Err:      &smithy.GenericAPIError{Code: code, Message: message + " (injected fault)", Fault: fault},
		},
	}
}

// sendError is a failure to send a request or read its answer, as the SDK
// reports the transport's error.
func sendError(errno syscall.Errno) error {
	return &smithyhttp.RequestSendError{Err: &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", errno)}}
}

// timeoutError is the net.Error of a request that got no answer in time.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout (injected fault)" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

var _ net.Error = timeoutError{}

func serviceKey(s string) string {
	key := strings.ToLower(strings.ReplaceAll(s, " ", ""))
	if key == "elbv2" {
		return "elasticloadbalancingv2"
	}
	return key
}
