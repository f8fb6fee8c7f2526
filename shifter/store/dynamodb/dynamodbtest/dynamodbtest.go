// Package dynamodbtest runs the DynamoDB store against moto's server in
// tests.
//
// moto's server answers requests on several threads without isolating them:
// a TransactWriteItems deep-copies the table to roll back from, and restores
// that copy when a condition fails, undoing whatever another request wrote
// meanwhile (or fails with an HTML 500 when the copy races a write). DynamoDB
// serializes conflicting writes itself. Tests therefore send one DynamoDB
// request at a time to moto: the store's own retries on conflicting
// transactions still run (a condition fails whenever another writer won), but
// moto never sees two requests at once on the same data. moto keeps each
// account apart, so requests of different accounts (tests) still overlap.
package dynamodbtest

import (
	"context"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/ionroller/terraform-provider-ionroller/shifter/store/dynamodb"
)

// accountLocks holds, per moto account, the lock held while a DynamoDB
// request of that account is at moto. There is one moto per test binary, so
// one set of locks per process is the honest scope.
var accountLocks sync.Map // account ID → *sync.Mutex

// accountHeader is the header awstest sets to pick a moto account.
const accountHeader = "x-moto-account-id"

// Serialize makes the clients of a configuration send the DynamoDB requests
// of a moto account one at a time; it is an element of aws.Config.APIOptions.
// It wraps only the HTTP round trip, so a request waiting for its turn holds
// no lock and a cancelled context still ends it.
func Serialize(stack *middleware.Stack) error {
	return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("ionrollerMotoSerialize",
		func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
			req, ok := in.Request.(*smithyhttp.Request)
			if !ok || awsmiddleware.GetServiceID(ctx) != ddb.ServiceID {
				return next.HandleDeserialize(ctx, in)
			}
			lock, _ := accountLocks.LoadOrStore(req.Header.Get(accountHeader), &sync.Mutex{})
			lock.(*sync.Mutex).Lock()
			defer lock.(*sync.Mutex).Unlock()
			return next.HandleDeserialize(ctx, in)
		}), middleware.After)
}

// Client returns a DynamoDB client of the moto account cfg reaches, with its
// requests serialized.
func Client(cfg aws.Config) *ddb.Client {
	cfg = cfg.Copy()
	cfg.APIOptions = append(cfg.APIOptions, Serialize)
	return ddb.NewFromConfig(cfg)
}

// Open creates table in the moto account cfg reaches and returns a store in
// it.
func Open(t testing.TB, cfg aws.Config, table string, opts ...dynamodb.Option) *dynamodb.Store {
	t.Helper()
	client := Client(cfg)
	if err := dynamodb.CreateTable(t.Context(), client, table); err != nil {
		t.Fatal(err)
	}
	return dynamodb.New(client, table, opts...)
}
