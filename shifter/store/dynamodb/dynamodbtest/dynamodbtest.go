// Package dynamodbtest runs the DynamoDB store against moto's server in
// tests.
//
// moto's server answers requests on several threads without isolating them:
// a TransactWriteItems deep-copies the table to roll back from, and restores
// that copy when a condition fails, undoing whatever another request wrote
// meanwhile (or fails with an HTML 500 when the copy races a write). DynamoDB
// serializes conflicting writes itself. Tests therefore send the DynamoDB
// requests of a moto account one at a time: the store's own retries on
// conflicting transactions still run (a condition fails whenever another
// writer won), but moto never sees two requests at once on the same data.
//
// moto is also slow (a transaction copies the whole table), so requests
// queue in front of it, which they never do in front of DynamoDB. The
// requests that keep leases (on the lease and heartbeat partitions, and the
// listing of the endpoints) go to the head of the queue: a replica's lease
// timing is then what the test measures, not moto's backlog of other
// replicas' reads and writes.
package dynamodbtest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/callrecord"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store/dynamodb"
)

// gates holds the gate of each moto account. There is one moto per test
// binary (or per test that starts its own), so one set per process is the
// honest scope.
var gates sync.Map // account ID → *gate

// accountHeader is the header awstest sets to pick a moto account.
const accountHeader = "x-moto-account-id"

// The partitions of the store's lease and heartbeat items, and of the
// endpoints (see the table design in package dynamodb).
const (
	leasesPartition    = "leases"
	replicasPartition  = "replicas"
	endpointsPartition = "endpoints"
)

type urgentKey struct{}

// Serialize makes the clients of a configuration send the DynamoDB requests
// of a moto account one at a time, lease traffic first; it is an element of
// aws.Config.APIOptions. It holds the account's gate only for the HTTP round
// trip, and a request waiting for its turn gives up when its context ends,
// as it would on a slow network.
func Serialize(stack *middleware.Stack) error {
	err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("ionrollerMotoUrgent",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			if urgent(in.Parameters) {
				ctx = context.WithValue(ctx, urgentKey{}, true)
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
	if err != nil {
		return err
	}
	return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("ionrollerMotoSerialize",
		func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
			req, ok := in.Request.(*smithyhttp.Request)
			if !ok || awsmiddleware.GetServiceID(ctx) != ddb.ServiceID {
				return next.HandleDeserialize(ctx, in)
			}
			g, _ := gates.LoadOrStore(req.Header.Get(accountHeader), &gate{})
			urgent, _ := ctx.Value(urgentKey{}).(bool)
			if err := g.(*gate).enter(ctx, urgent); err != nil {
				return middleware.DeserializeOutput{}, middleware.Metadata{}, &smithyhttp.RequestSendError{Err: err}
			}
			defer g.(*gate).leave()
			return next.HandleDeserialize(ctx, in)
		}), middleware.After)
}

// urgent reports whether a request keeps leases: any request on the lease
// and heartbeat partitions, and the Query that lists the endpoints (reading
// one endpoint is an actor's, not urgent).
func urgent(input any) bool {
	var pk types.AttributeValue
	query := false
	switch in := input.(type) {
	case *ddb.GetItemInput:
		pk = in.Key["pk"]
	case *ddb.PutItemInput:
		pk = in.Item["pk"]
	case *ddb.QueryInput:
		pk, query = in.ExpressionAttributeValues[":pk"], true
	}
	s, _ := pk.(*types.AttributeValueMemberS)
	switch {
	case s == nil:
		return false
	case s.Value == leasesPartition, s.Value == replicasPartition:
		return true
	default:
		return query && s.Value == endpointsPartition
	}
}

// gate lets one request through at a time, urgent ones first, each class in
// order of arrival; but never more than maxUrgentInARow urgent ones while
// another waits: on a loaded machine moto can be slower than the lease
// traffic of a fleet, and strict priority then starved every other request
// (a test's own write waited for 14 minutes).
type gate struct {
	mu     sync.Mutex
	busy   bool
	queues [2][]chan struct{} // [0] urgent, [1] the others
	streak int                // urgent requests let through in a row while others waited
}

const maxUrgentInARow = 4

func (g *gate) enter(ctx context.Context, urgent bool) error {
	class := 1
	if urgent {
		class = 0
	}
	g.mu.Lock()
	if !g.busy {
		g.busy = true
		g.mu.Unlock()
		return nil
	}
	turn := make(chan struct{})
	g.queues[class] = append(g.queues[class], turn)
	g.mu.Unlock()

	select {
	case <-turn:
		return nil
	case <-ctx.Done():
	}
	g.mu.Lock()
	if i := slices.Index(g.queues[class], turn); i >= 0 {
		g.queues[class] = slices.Delete(g.queues[class], i, i+1)
		g.mu.Unlock()
		return ctx.Err()
	}
	g.mu.Unlock()
	g.leave() // the turn came as the context ended: pass it on
	return ctx.Err()
}

func (g *gate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	class := 0
	if len(g.queues[0]) == 0 || (len(g.queues[1]) > 0 && g.streak >= maxUrgentInARow) {
		class = 1
	}
	q := g.queues[class]
	if len(q) == 0 {
		g.busy = false
		return
	}
	if class == 0 && len(g.queues[1]) > 0 {
		g.streak++
	} else {
		g.streak = 0
	}
	close(q[0])
	g.queues[class] = q[1:]
}

// Client returns a DynamoDB client of the moto account cfg reaches, with its
// requests serialized, for the store under test: its calls are recorded for
// the IAM policy's check (package callrecord). It retries as the SDK does by
// default (3 attempts), with short waits: moto now and then closes a
// kept-alive connection under a request, which AWS's SDK retries in
// production too.
func Client(cfg aws.Config) *ddb.Client {
	cfg = cfg.Copy()
	cfg.APIOptions = append(cfg.APIOptions, Serialize)
	callrecord.Add(&cfg)
	cfg.RetryMaxAttempts = 3
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 3
			o.MaxBackoff = 50 * time.Millisecond
		})
	}
	return ddb.NewFromConfig(cfg)
}

// Open creates table in the moto account cfg reaches and returns a store in
// it.
func Open(t testing.TB, cfg aws.Config, table string) *dynamodb.Store {
	t.Helper()
	client := Client(cfg)
	if err := dynamodb.CreateTable(t.Context(), client, table); err != nil {
		t.Fatal(err)
	}
	return dynamodb.New(client, table)
}
