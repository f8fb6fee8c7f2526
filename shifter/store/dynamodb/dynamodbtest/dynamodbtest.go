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
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
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

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
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
	s, err := dynamodb.Open(t.Context(), client, table)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Direct returns a client for a test's own look below the store, at the
// items of a table of the moto account cfg reaches: serialized like the
// store's, but neither recorded for the IAM policy's check (its calls are
// the test's, not the shifter's) nor budgeted by the awslike layer.
func Direct(cfg aws.Config) *ddb.Client {
	cfg = awstest.Exempt(cfg)
	cfg.APIOptions = append(cfg.APIOptions, Serialize)
	return ddb.NewFromConfig(cfg)
}

// Stamp marks table as written at schema version version, as a shifter of
// that version would have left it.
func Stamp(t testing.TB, api *ddb.Client, table string, version int) {
	t.Helper()
	_, err := api.PutItem(t.Context(), &ddb.PutItemInput{TableName: &table, Item: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: dynamodb.SchemaPK}, "sk": &types.AttributeValueMemberS{Value: dynamodb.SchemaSK},
		dynamodb.SchemaVersionAttr: &types.AttributeValueMemberN{Value: strconv.Itoa(version)},
	}})
	if err != nil {
		t.Fatal(err)
	}
}

// SchemaVersion reads the schema version table is marked with: 0 if none.
func SchemaVersion(t testing.TB, api *ddb.Client, table string) int {
	t.Helper()
	out, err := api.GetItem(t.Context(), &ddb.GetItemInput{TableName: &table, ConsistentRead: aws.Bool(true), Key: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: dynamodb.SchemaPK}, "sk": &types.AttributeValueMemberS{Value: dynamodb.SchemaSK},
	}})
	if err != nil {
		t.Fatal(err)
	}
	v, ok := out.Item[dynamodb.SchemaVersionAttr].(*types.AttributeValueMemberN)
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(v.Value)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Items is the items of a table as the AWS CLI prints a Scan:
// {"Items": [{"pk": {"S": "endpoints"}, "rev": {"N": "1"}, ...}, ...]},
// sorted by pk and sk. The store writes only strings and numbers.
type Items struct {
	Items []map[string]map[string]string `json:"Items"`
}

// Dump returns every item of table, sorted by pk and sk.
func Dump(t testing.TB, api *ddb.Client, table string) Items {
	t.Helper()
	items := Items{Items: []map[string]map[string]string{}}
	in := &ddb.ScanInput{TableName: &table, ConsistentRead: aws.Bool(true)}
	for {
		out, err := api.Scan(t.Context(), in)
		if err != nil {
			t.Fatal(err)
		}
		for _, item := range out.Items {
			plain := map[string]map[string]string{}
			for name, v := range item {
				switch v := v.(type) {
				case *types.AttributeValueMemberS:
					plain[name] = map[string]string{"S": v.Value}
				case *types.AttributeValueMemberN:
					plain[name] = map[string]string{"N": v.Value}
				default:
					t.Fatalf("attribute %s is a %T, which the store never writes", name, v)
				}
			}
			items.Items = append(items.Items, plain)
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	slices.SortFunc(items.Items, func(a, b map[string]map[string]string) int {
		return cmp.Or(strings.Compare(a["pk"]["S"], b["pk"]["S"]), strings.Compare(a["sk"]["S"], b["sk"]["S"]))
	})
	return items
}

// Load writes items into table as they are, 25 (BatchWriteItem's most) at
// a time.
func Load(t testing.TB, api *ddb.Client, table string, items Items) {
	t.Helper()
	for batch := range slices.Chunk(items.Items, 25) {
		requests := make([]types.WriteRequest, 0, len(batch))
		for _, plain := range batch {
			item := map[string]types.AttributeValue{}
			for name, v := range plain {
				switch {
				case len(v) != 1:
					t.Fatalf("attribute %s = %v: want one type", name, v)
				case v["S"] != "":
					item[name] = &types.AttributeValueMemberS{Value: v["S"]}
				case v["N"] != "":
					item[name] = &types.AttributeValueMemberN{Value: v["N"]}
				default:
					t.Fatalf("attribute %s = %v: want S or N", name, v)
				}
			}
			requests = append(requests, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		}
		out, err := api.BatchWriteItem(t.Context(), &ddb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: requests}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.UnprocessedItems) > 0 {
			t.Fatalf("moto left %d items unprocessed", len(out.UnprocessedItems[table]))
		}
	}
}
