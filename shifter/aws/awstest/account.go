package awstest

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Region is the region every test account works in.
const Region = "us-east-1"

// accountHeader is how moto's server picks the account a request acts in.
const accountHeader = "x-moto-account-id"

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
				smithyhttp.SetHeaderValue(accountHeader, id),
			},
		},
	}
}

// Config returns an aws.Config for a new, empty moto account.
func Config(t testing.TB) aws.Config {
	t.Helper()
	return NewAccount(t).Config
}
