package awstest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awslike"
)

// Region is the region every test account works in.
const Region = "us-east-1"

// Account is a fresh moto account: nothing in it but moto's defaults.
type Account struct {
	ID string
	// Config reaches moto as this account.
	Config aws.Config
}

// NewAccount returns a new, empty moto account. Every test that takes its
// own account is isolated from every other without resetting moto.
func NewAccount(t testing.TB) Account {
	t.Helper()
	if endpoint == "" {
		t.Fatal("awstest: no moto endpoint: call awstest.Main from TestMain")
	}
	// 12 digits, never moto's default account 123456789012.
	id := fmt.Sprintf("%012d", 100_000_000_000+rand.Int64N(900_000_000_000))
	return Account{
		ID: id,
		Config: aws.Config{
			Region:       Region,
			Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
			BaseEndpoint: aws.String(endpoint),
			// moto answers an unimplemented operation with an HTML 500
			// that the SDK would retry and then misreport as a parse
			// error; one attempt makes it fail fast and visibly.
			RetryMaxAttempts: 1,
			APIOptions: []func(*middleware.Stack) error{
				smithyhttp.SetHeaderValue(awslike.AccountHeader, id),
			},
		},
	}
}

// Config returns an aws.Config for a new, empty moto account.
func Config(t testing.TB) aws.Config {
	t.Helper()
	return NewAccount(t).Config
}

// Exempt returns a copy of cfg whose calls the awslike layer neither
// budgets, delays nor refuses: for a test's own setup and inspection, never
// for the code under test. Without the layer in front of moto the header
// changes nothing.
//
// A test's own call is tried again when its connection is reset (under a
// loaded machine moto's or the layer's sockets do), and only then: moto's
// HTML 500 for an unimplemented operation still fails at once.
func Exempt(cfg aws.Config) aws.Config {
	c := cfg.Copy()
	c.APIOptions = append(slices.Clone(cfg.APIOptions), smithyhttp.SetHeaderValue(awslike.ExemptHeader, "1"))
	c.RetryMaxAttempts = 0
	c.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 3
			o.Retryables = []retry.IsErrorRetryable{retry.RetryableConnectionError{}}
			o.RateLimiter = ratelimit.None
		})
	}
	return c
}
