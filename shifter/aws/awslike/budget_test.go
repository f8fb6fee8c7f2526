package awslike_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwschemas "github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/aws/smithy-go/transport/http/protocol/awsjson"

	shifteraws "github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awslike"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/budget"
)

// apiCall is one call of a service in one wire protocol.
type apiCall struct {
	protocol string
	service  budget.Service
	call     func(context.Context, aws.Config) error
}

var (
	describeLoadBalancers = apiCall{"query", budget.ELBv2, func(ctx context.Context, cfg aws.Config) error {
		_, err := elb.NewFromConfig(cfg).DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{})
		return err
	}}
	describeAutoScalingGroups = apiCall{"query", budget.AutoScaling, func(ctx context.Context, cfg aws.Config) error {
		_, err := autoscaling.NewFromConfig(cfg).DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{})
		return err
	}}
	describeAlarmsQuery = describeAlarms("query", shifteraws.UseQueryProtocol)
	describeAlarmsJSON  = describeAlarms("json 1.0", func(o *cloudwatch.Options) { o.Protocol = awsjson.New10(cwschemas.GraniteServiceVersion20100801) })
	// The SDK's default for CloudWatch, which moto rejects: the layer
	// answers before moto sees it.
	describeAlarmsCBOR = describeAlarms("rpc v2 cbor", func(*cloudwatch.Options) {})
	describeVpcs       = apiCall{"ec2", budget.EC2, func(ctx context.Context, cfg aws.Config) error {
		_, err := ec2.NewFromConfig(cfg).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
		return err
	}}
	listHostedZones = apiCall{"rest-xml", budget.Route53, func(ctx context.Context, cfg aws.Config) error {
		_, err := route53.NewFromConfig(cfg).ListHostedZones(ctx, &route53.ListHostedZonesInput{})
		return err
	}}
	listTables = apiCall{"json 1.0", budget.DynamoDB, func(ctx context.Context, cfg aws.Config) error {
		_, err := dynamodb.NewFromConfig(cfg).ListTables(ctx, &dynamodb.ListTablesInput{})
		return err
	}}
)

func describeAlarms(protocol string, opt func(*cloudwatch.Options)) apiCall {
	return apiCall{protocol, budget.CloudWatch, func(ctx context.Context, cfg aws.Config) error {
		_, err := cloudwatch.NewFromConfig(cfg, opt).DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
		return err
	}}
}

// wantAPIError fails t unless err is the SDK's reading of an AWS error with
// code and HTTP status.
func wantAPIError(t *testing.T, err error, code string, status int) {
	t.Helper()
	var apiErr smithy.APIError
	var resp *smithyhttp.ResponseError
	switch {
	case !errors.As(err, &apiErr):
		t.Errorf("error %v: not an API error", err)
	case apiErr.ErrorCode() != code:
		t.Errorf("error code %q (%v), want %q", apiErr.ErrorCode(), err, code)
	case !errors.As(err, &resp) || resp.HTTPStatusCode() != status:
		t.Errorf("error %v: want HTTP %d", err, status)
	}
}

// TestThrottlingParsesAsAWS: a throttled call reaches the SDK as the
// service's own throttling error, in every protocol the project speaks.
func TestThrottlingParsesAsAWS(t *testing.T) {
	for _, tt := range []struct {
		apiCall
		code   string
		status int
	}{
		{describeLoadBalancers, "Throttling", 400},
		{describeAutoScalingGroups, "Throttling", 400},
		{describeAlarmsQuery, "Throttling", 400},
		{describeAlarmsJSON, "Throttling", 400},
		{describeAlarmsCBOR, "Throttling", 400},
		{describeVpcs, "RequestLimitExceeded", 503},
		{listHostedZones, "Throttling", 400},
	} {
		t.Run(string(tt.service)+" "+tt.protocol, func(t *testing.T) {
			// Every bucket holds one token and the clock stands still.
			e := newEnv(t, awslike.WithBudgetScale(1e-9), awslike.WithClock(newClock().Now))
			_ = tt.call(t.Context(), e.cfg) // takes the token
			wantAPIError(t, tt.call(t.Context(), e.cfg), tt.code, tt.status)
			if s := stats(e.layer, "DescribeAlarms"); tt.service == budget.CloudWatch && (s.Calls != 2 || s.Throttled != 1) {
				t.Errorf("stats %+v, want 2 calls, 1 throttled", s)
			}
		})
	}
}

// TestBrownoutParsesAsAWS: during a brownout a call reaches the SDK as the
// service's ServiceUnavailable.
func TestBrownoutParsesAsAWS(t *testing.T) {
	for _, tt := range []apiCall{describeLoadBalancers, describeAlarmsJSON, describeAlarmsCBOR, describeVpcs, listTables} {
		t.Run(string(tt.service)+" "+tt.protocol, func(t *testing.T) {
			e := newEnv(t)
			e.layer.Brownout("", tt.service, time.Minute, awslike.Unavailable)
			wantAPIError(t, tt.call(t.Context(), e.cfg), "ServiceUnavailable", 503)
			// moto may fail the call (CBOR), but not the layer.
			if err := tt.call(t.Context(), e.setup); hasCode(err, "ServiceUnavailable") {
				t.Errorf("an exempt call was refused: %v", err)
			}
		})
	}
	t.Run("every service", func(t *testing.T) {
		e := newEnv(t)
		e.layer.Brownout("", "", time.Minute, awslike.Unavailable)
		wantAPIError(t, describeVpcs.call(t.Context(), e.cfg), "ServiceUnavailable", 503)
		e.layer.EndBrownouts()
		if err := describeVpcs.call(t.Context(), e.cfg); err != nil {
			t.Errorf("after the brownout: %v", err)
		}
	})
}

func hasCode(err error, code string) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == code
}

// TestBurstThenRefill: a burst beyond a bucket is throttled, and the
// bucket's refill lets calls through again at its rate.
func TestBurstThenRefill(t *testing.T) {
	for _, tt := range []struct {
		name             string
		call             func(context.Context, aws.Config) error
		operation        string
		capacity, refill int
	}{
		// ELB guide: Describe* 40 tokens, 10 a second.
		{"elbv2 describe", describeLoadBalancers.call, "DescribeLoadBalancers", 40, 10},
		// EC2 guide: an unfiltered, unpaginated DescribeInstances 50, 10.
		{"ec2 unfiltered describe", func(ctx context.Context, cfg aws.Config) error {
			_, err := ec2.NewFromConfig(cfg).DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
			return err
		}, "DescribeInstances", 50, 10},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			e := newEnv(t, awslike.WithClock(clk.Now))
			if passed := burst(t, e, tt.call, tt.capacity+10); passed != tt.capacity {
				t.Errorf("a burst of %d: %d passed, want the bucket's %d", tt.capacity+10, passed, tt.capacity)
			}
			clk.Add(time.Second)
			if passed := burst(t, e, tt.call, tt.refill+5); passed != tt.refill {
				t.Errorf("a second later: %d passed, want the refill's %d", passed, tt.refill)
			}
			clk.Add(500 * time.Millisecond)
			if passed := burst(t, e, tt.call, tt.refill); passed != tt.refill/2 {
				t.Errorf("half a second later: %d passed, want %d", passed, tt.refill/2)
			}
			want := awslike.OpStats{Calls: tt.capacity + tt.refill*2 + 15, Throttled: 15 + tt.refill/2}
			if s := stats(e.layer, tt.operation); s.Calls != want.Calls || s.Throttled != want.Throttled {
				t.Errorf("stats %+v, want %d calls, %d throttled", s, want.Calls, want.Throttled)
			}
		})
	}
}

// burst makes n calls as the code under test and returns how many passed;
// the others must have been throttled.
func burst(t *testing.T, e *env, call func(context.Context, aws.Config) error, n int) int {
	t.Helper()
	passed := 0
	for range n {
		switch err := call(t.Context(), e.cfg); {
		case err == nil:
			passed++
		case !hasCode(err, "Throttling") && !hasCode(err, "RequestLimitExceeded"):
			t.Fatalf("call: %v", err)
		}
	}
	return passed
}

// TestExemptCallsAreNeverThrottled: the test's own calls take no tokens.
func TestExemptCallsAreNeverThrottled(t *testing.T) {
	e := newEnv(t, awslike.WithBudgetScale(1e-9), awslike.WithClock(newClock().Now))
	for range 20 {
		if err := describeLoadBalancers.call(t.Context(), e.setup); err != nil {
			t.Fatalf("exempt call: %v", err)
		}
	}
	if s := stats(e.layer, "DescribeLoadBalancers"); s.Exempt != 20 || s.Calls != 0 || s.Throttled != 0 {
		t.Errorf("stats %+v, want 20 exempt calls and nothing else", s)
	}
	// The bucket is still full for the code under test.
	if err := describeLoadBalancers.call(t.Context(), e.cfg); err != nil {
		t.Errorf("first call of the code under test: %v", err)
	}
}

// TestBudgetScale: the knob shares the account's budget with other tools,
// and changes at run time.
func TestBudgetScale(t *testing.T) {
	clk := newClock()
	e := newEnv(t, awslike.WithBudgetScale(0.5), awslike.WithClock(clk.Now))
	if passed := burst(t, e, describeLoadBalancers.call, 30); passed != 20 {
		t.Errorf("at half the budget a burst of 30: %d passed, want 20", passed)
	}
	if l := budgetOf(e.layer, budget.ELBv2, "non-mutating"); l.Capacity != 20 || l.Refill != 5 {
		t.Errorf("budget in force %+v, want 20 tokens refilled at 5 a second", l)
	}

	e.layer.SetBudgetScale(1)
	clk.Add(4 * time.Second) // 10 a second fill the empty bucket to its 40
	if passed := burst(t, e, describeLoadBalancers.call, 50); passed != 40 {
		t.Errorf("at the whole budget a burst of 50: %d passed, want 40", passed)
	}
}

func budgetOf(l *awslike.Layer, s budget.Service, class string) budget.Limit {
	for _, b := range l.Budgets() {
		if b.Service == s && b.Class == class {
			return b
		}
	}
	return budget.Limit{}
}

// TestLatency: the code under test waits at least the configured latency.
func TestLatency(t *testing.T) {
	e := newEnv(t, awslike.WithLatency(awslike.Latency{Base: 50 * time.Millisecond}))
	start := time.Now()
	if err := describeLoadBalancers.call(t.Context(), e.cfg); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 50*time.Millisecond {
		t.Errorf("the call took %v, less than the latency", took)
	}
}
