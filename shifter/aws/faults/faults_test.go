package faults_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/faults"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// client returns an ELBv2 client of a new moto account with inj in its
// stack, and a client of the same account without it.
func client(t *testing.T, inj *faults.Injector, attempts int) (faulty, clean *elb.Client) {
	t.Helper()
	// The injector is what is tested: AWS's budgets stay out of its counts.
	cfg := awstest.Exempt(awstest.Config(t))
	clean = elb.NewFromConfig(cfg)
	cfg.APIOptions = append(cfg.APIOptions, inj.Middleware)
	cfg.RetryMaxAttempts = attempts
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = attempts
			o.MaxBackoff = 10 * time.Millisecond
		})
	}
	return elb.NewFromConfig(cfg), clean
}

func describe(ctx context.Context, c *elb.Client) error {
	_, err := c.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{})
	return err
}

func TestKindsLookLikeAWS(t *testing.T) {
	for _, tt := range []struct {
		kind   faults.Kind
		code   string
		status []int
	}{
		{faults.Throttle, "Throttling", []int{400}},
		{faults.ServerError, "", []int{500, 503}},
		{faults.Reset, "", nil},
		{faults.Timeout, "", nil},
	} {
		t.Run(string(tt.kind), func(t *testing.T) {
			t.Parallel()
			inj := faults.New(1, faults.Rule{Service: "ELBv2", Rate: 1, Kinds: []faults.Kind{tt.kind}}).WithTimeout(20 * time.Millisecond)
			c, _ := client(t, inj, 1)
			err := describe(t.Context(), c)
			if err == nil {
				t.Fatal("no error")
			}
			var apiErr smithy.APIError
			if got := errors.As(err, &apiErr); got != (tt.code != "" || len(tt.status) > 0) {
				t.Errorf("error %v: APIError %t", err, got)
			}
			if tt.code != "" && apiErr.ErrorCode() != tt.code {
				t.Errorf("error code %q, want %q", apiErr.ErrorCode(), tt.code)
			}
			var resp *smithyhttp.ResponseError
			if len(tt.status) > 0 && (!errors.As(err, &resp) || !slices.Contains(tt.status, resp.HTTPStatusCode())) {
				t.Errorf("error %v: want an HTTP status in %v", err, tt.status)
			}
			var send *smithyhttp.RequestSendError
			if len(tt.status) == 0 && !errors.As(err, &send) {
				t.Errorf("error %v: want a request send error", err)
			}
		})
	}
}

// TestSDKRetriesInjectedFaults shows that the faults are below the SDK's
// retries: three attempts, three faults, one error.
func TestSDKRetriesInjectedFaults(t *testing.T) {
	inj := faults.New(1, faults.Rule{Service: "Elastic Load Balancing v2", Operations: []string{"DescribeLoadBalancers"}, Rate: 1, Kinds: []faults.Kind{faults.Throttle}})
	c, _ := client(t, inj, 3)
	if err := describe(t.Context(), c); err == nil {
		t.Fatal("no error")
	}
	if got := inj.Injected()["elasticloadbalancingv2.DescribeLoadBalancers throttle"]; got != 3 {
		t.Errorf("faults injected = %v, want 3 throttles", inj)
	}
	// Other operations pass.
	if _, err := c.DescribeTargetGroups(t.Context(), &elb.DescribeTargetGroupsInput{}); err != nil {
		t.Errorf("an operation without a rule failed: %v", err)
	}
}

func TestRateAndSeed(t *testing.T) {
	const calls, rate = 300, 0.2
	run := func(seed uint64) []bool {
		inj := faults.New(seed, faults.Rule{Service: "elbv2", Rate: rate, Kinds: []faults.Kind{faults.Reset}})
		c, _ := client(t, inj, 1)
		var failed []bool
		for range calls {
			failed = append(failed, describe(t.Context(), c) != nil)
		}
		return failed
	}
	a, b, other := run(7), run(7), run(8)
	if !slices.Equal(a, b) {
		t.Error("the same seed failed different calls")
	}
	if slices.Equal(a, other) {
		t.Error("different seeds failed the same calls")
	}
	n := 0
	for _, f := range a {
		if f {
			n++
		}
	}
	// Binomial(300, 0.2): mean 60, standard deviation ~6.9.
	if math.Abs(float64(n)-calls*rate) > 25 {
		t.Errorf("%d of %d calls failed, want about %d", n, calls, int(calls*rate))
	}
}

// TestLostResponseTakesEffect shows the fault that tests idempotence: the
// call fails, yet what it asked for was done.
func TestLostResponseTakesEffect(t *testing.T) {
	inj := faults.New(1, faults.Rule{Service: "EC2", Operations: []string{"CreateVpc"}, Rate: 1, Kinds: []faults.Kind{faults.LostResponse}})
	cfg := awstest.Config(t)
	clean := ec2.NewFromConfig(cfg)
	cfg.APIOptions = append(cfg.APIOptions, inj.Middleware)
	_, err := ec2.NewFromConfig(cfg).CreateVpc(t.Context(), &ec2.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")})
	var send *smithyhttp.RequestSendError
	if !errors.As(err, &send) {
		t.Fatalf("error %v, want a request send error", err)
	}
	out, err := clean.DescribeVpcs(t.Context(), &ec2.DescribeVpcsInput{Filters: []ec2types.Filter{{Name: aws.String("cidr"), Values: []string{"10.9.0.0/16"}}}})
	if err != nil || len(out.Vpcs) != 1 {
		t.Fatalf("vpcs after a lost response = %v, %v; want the one created", out, err)
	}
}

func TestTimeoutEndsWithTheContext(t *testing.T) {
	inj := faults.New(1, faults.Rule{Service: "ELBv2", Rate: 1, Kinds: []faults.Kind{faults.Timeout}}).WithTimeout(time.Hour)
	c, _ := client(t, inj, 1)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := describe(ctx, c); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v, want the context's deadline", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("a timeout fault outlived its context by %s", took)
	}
}

func TestSetChangesRulesWhileRunning(t *testing.T) {
	inj := faults.New(1)
	c, _ := client(t, inj, 1)
	steps := []struct {
		rules []faults.Rule
		fail  bool
	}{
		{nil, false},
		{[]faults.Rule{{Service: "ELBv2", Rate: 1, Kinds: []faults.Kind{faults.Reset}}}, true},
		{[]faults.Rule{{Service: "DynamoDB", Rate: 1}}, false},
		{nil, false},
	}
	for i, s := range steps {
		inj.Set(s.rules...)
		if err := describe(t.Context(), c); (err != nil) != s.fail {
			t.Errorf("step %d: error %v, want failure %t", i, err, s.fail)
		}
	}
	if got := fmt.Sprint(inj); got != "elasticloadbalancingv2.DescribeLoadBalancers reset=1" {
		t.Errorf("injected = %q", got)
	}
}
