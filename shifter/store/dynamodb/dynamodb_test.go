package dynamodb_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store/dynamodb"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store/dynamodb/dynamodbtest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store/storetest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

func TestSchema(t *testing.T) {
	storetest.RunSchema(t, "dynamodb.json", func(t *testing.T) storetest.Place { return newTablePlace(t) })
}

// open returns a store in a new table of a new moto account.
func open(t *testing.T) *dynamodb.Store {
	t.Helper()
	return dynamodbtest.Open(t, awstest.Config(t), "shifter")
}

// tablePlace is a table of its own moto account, for the schema section of
// the suite.
type tablePlace struct {
	cfg    aws.Config
	direct *ddb.Client
	table  string
}

func newTablePlace(t *testing.T) tablePlace {
	p := tablePlace{cfg: awstest.Config(t), table: "shifter"}
	p.direct = dynamodbtest.Direct(p.cfg)
	if err := dynamodb.CreateTable(t.Context(), p.direct, p.table); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p tablePlace) Open(t *testing.T) (store.Store, error) {
	return dynamodb.Open(t.Context(), dynamodbtest.Client(p.cfg), p.table)
}

func (p tablePlace) Load(t *testing.T, fixture []byte) {
	var items dynamodbtest.Items
	if err := json.Unmarshal(fixture, &items); err != nil {
		t.Fatal(err)
	}
	dynamodbtest.Load(t, p.direct, p.table, items)
}

func (p tablePlace) Stamp(t *testing.T, version int) {
	dynamodbtest.Stamp(t, p.direct, p.table, version)
}

func (p tablePlace) SchemaVersion(t *testing.T) int {
	return dynamodbtest.SchemaVersion(t, p.direct, p.table)
}

func (p tablePlace) Raw(t *testing.T) []byte {
	b, err := json.Marshal(dynamodbtest.Dump(t, p.direct, p.table))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReopeningOnlyReads: opening a table at the current version reads its
// version once and writes nothing, however often replicas restart.
func TestReopeningOnlyReads(t *testing.T) {
	cfg := awstest.Config(t)
	dynamodbtest.Open(t, cfg, "shifter")
	calls := awstest.NewCounter()
	counted := cfg.Copy()
	calls.Add(&counted)
	if _, err := dynamodb.Open(t.Context(), dynamodbtest.Client(counted), "shifter"); err != nil {
		t.Fatal(err)
	}
	if calls.Total(ddb.ServiceID) != 1 || calls.Count(ddb.ServiceID, "GetItem") != 1 {
		t.Errorf("reopening called %s; want one GetItem", calls)
	}
}

// TestReplicasMigrateAnUnversionedTableAtOnce: two replicas open a table
// written before versioning at the same moment, both having read that it
// has no version before either stamps it. Both open it, one of them reports
// that it migrated it, and the table is stamped and holds what it held.
func TestReplicasMigrateAnUnversionedTableAtOnce(t *testing.T) {
	p := newTablePlace(t)
	p.Load(t, storetest.Unversioned(t, "dynamodb.json"))
	before := dynamodbtest.Dump(t, p.direct, p.table)

	// Each replica's stamp waits until both have read the version:
	// DynamoDB must then decide between two writes made on the same
	// reading, which moto, answering one request at a time, would
	// otherwise rarely be asked to.
	var reads sync.WaitGroup
	reads.Add(2)
	bothRead := make(chan struct{})
	go func() { reads.Wait(); close(bothRead) }()
	var mu sync.Mutex
	var migrated [][2]int
	opened := make(chan error, 2)
	for range 2 {
		go func() {
			api := &stampAfterRead{API: dynamodbtest.Client(p.cfg), reads: &reads, bothRead: bothRead}
			_, err := dynamodb.Open(t.Context(), api, p.table, dynamodb.WithMigrated(func(from, to int) {
				mu.Lock()
				defer mu.Unlock()
				migrated = append(migrated, [2]int{from, to})
			}))
			opened <- err
		}()
	}
	for range 2 {
		if err := <-opened; err != nil {
			t.Errorf("open: %v", err)
		}
	}
	if len(migrated) != 1 || migrated[0] != [2]int{0, store.SchemaVersion} {
		t.Errorf("migrations reported: %v; want one, from 0 to %d", migrated, store.SchemaVersion)
	}
	if v := p.SchemaVersion(t); v != store.SchemaVersion {
		t.Errorf("the table is marked schema version %d, want %d", v, store.SchemaVersion)
	}
	after := dynamodbtest.Dump(t, p.direct, p.table)
	after.Items = slices.DeleteFunc(after.Items, func(item map[string]map[string]string) bool {
		return item["pk"]["S"] == dynamodb.SchemaPK
	})
	if !reflect.DeepEqual(after, before) {
		t.Error("migrating the table changed its items")
	}
}

// stampAfterRead is a replica's client on which a write of the schema
// version waits until both replicas have read it (bothRead); it counts its
// replica's first read in reads.
type stampAfterRead struct {
	dynamodb.API
	reads    *sync.WaitGroup
	bothRead chan struct{}
	counted  bool
}

func (a *stampAfterRead) GetItem(ctx context.Context, in *ddb.GetItemInput, opts ...func(*ddb.Options)) (*ddb.GetItemOutput, error) {
	out, err := a.API.GetItem(ctx, in, opts...)
	if isSchemaItem(in.Key) && !a.counted {
		a.counted = true
		a.reads.Done()
	}
	return out, err
}

func (a *stampAfterRead) PutItem(ctx context.Context, in *ddb.PutItemInput, opts ...func(*ddb.Options)) (*ddb.PutItemOutput, error) {
	if isSchemaItem(in.Item) {
		select {
		case <-a.bothRead:
		case <-time.After(30 * time.Second): // the other replica failed before reading: its error says why
			return nil, errors.New("the other replica never read the schema version")
		}
	}
	return a.API.PutItem(ctx, in, opts...)
}

func isSchemaItem(item map[string]types.AttributeValue) bool {
	pk, _ := item["pk"].(*types.AttributeValueMemberS)
	sk, _ := item["sk"].(*types.AttributeValueMemberS)
	return pk != nil && sk != nil && pk.Value == dynamodb.SchemaPK && sk.Value == dynamodb.SchemaSK
}
