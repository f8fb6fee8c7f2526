// Package dynamodb implements store.Store and store.Leases over one DynamoDB
// table, so that several shifter replicas can share endpoints: every write is
// conditional on the revision it read, and every write made for an endpoint
// under a lease is also conditional on that lease (fencing).
//
// # Table design
//
// One table with a string partition key "pk" and a string sort key "sk".
// Values are the JSON encoding of rollout types in the attribute "data";
// revisions, counts and lease fields are numbers beside it so that
// conditions can test them.
//
//	pk               sk                      attributes
//	endpoints        <name>                  data (Endpoint), rev, inc
//	ep#<name>        release#<track>         data (Release), rev
//	ep#<name>        state                   data (State), rev
//	ep#<name>        seq#commands            n: last command sequence, inc
//	ep#<name>        cmd#<inc>#<seq>         data (Command)
//	ep#<name>        spec#<inc>#<rev>        data (SpecRevision)
//	trail#<name>     evt#<first seq>         data ([]Event of one write), n: how many
//	leases           <endpoint>              holder, gen, expires (Unix ms)
//	replicas         <replica>               expires (Unix ms), expire_at (TTL, Unix s)
//	meta             schema                  version: the layout's schema version
//
// Sequence numbers are zero-padded to 20 digits so that keys sort in
// sequence order. Endpoints live in one partition, so ListEndpoints is a
// single Query sorted by name. An endpoint's trail has a partition of its
// own: it only grows, and it outlives the endpoint.
//
// A write is one TransactWriteItems: the object, conditional on the revision
// read (or expected); a ConditionCheck that the endpoint exists when the
// object is new (an existing release or state implies it: they are deleted
// with it); the write's events; and, for a write under a lease, a
// ConditionCheck on the lease (fencing). The SDK gives every
// TransactWriteItems an idempotency token and retries with it, so a
// transaction whose answer was lost is not applied twice.
//
// Events are stored in one item per write, keyed by the sequence number of
// its first event: a write reads where the trail ends and puts its batch
// there, on the condition that the key is free. Two writers that read the
// same end collide on that key, and the one that loses reads again, so
// sequence numbers are allocated atomically with the write, without gaps or
// a counter item. A write costs at most four items of a transaction whatever
// its number of events; MaxEvents bounds the size of a batch.
//
// Deleting an endpoint deletes its spec, releases, state and command counter
// in one transaction, but not its events: the trail outlives the endpoint and
// keeps counting if the name is reused. Commands are keyed under the
// endpoint's incarnation ("inc", a random ID given at creation), so the
// commands of a deleted endpoint stay in the table, unreachable like its
// trail, and a recreated endpoint numbers its own from 1 without a bulk
// delete that could not fit in one transaction. The spec revisions every
// PutEndpoint keeps, in its transaction, are keyed under the incarnation
// for the same reason.
//
// The meta item says which schema version (store.SchemaVersion) the table
// is laid out at; Open migrates an older table and refuses a newer one.
//
// Lease items are never deleted, so generations only grow; heartbeats carry a
// DynamoDB TTL attribute so that DynamoDB removes the items of replicas gone
// for a day.
package dynamodb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ionroller/terraform-provider-ionroller/shifter/internal/wait"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store"
)

var (
	_ store.Store  = (*Store)(nil)
	_ store.Leases = (*Store)(nil)
)

// API is the part of DynamoDB the store uses. A *dynamodb.Client is one.
type API interface {
	GetItem(context.Context, *ddb.GetItemInput, ...func(*ddb.Options)) (*ddb.GetItemOutput, error)
	PutItem(context.Context, *ddb.PutItemInput, ...func(*ddb.Options)) (*ddb.PutItemOutput, error)
	Query(context.Context, *ddb.QueryInput, ...func(*ddb.Options)) (*ddb.QueryOutput, error)
	TransactWriteItems(context.Context, *ddb.TransactWriteItemsInput, ...func(*ddb.Options)) (*ddb.TransactWriteItemsOutput, error)
}

// MaxEvents is the most events one write may append: they are one item,
// which DynamoDB caps at 400 KB.
const MaxEvents = 100

// maxAttempts bounds how often a write is read and tried again when another
// writer changed what it read. Each retry means another write succeeded, so
// only heavy contention on one endpoint gets there.
const maxAttempts = 50

// Store is a store.Store and store.Leases in a DynamoDB table (see Open). It
// keeps no state of its own, so any number of Stores, in any number of
// processes, may share a table. It is safe for concurrent use.
type Store struct {
	api   API
	table string
}

// Close does nothing: the table outlives the store, and the SDK client is
// the caller's.
func (s *Store) Close() error { return nil }

// Item keys and attribute names; see the package documentation.
const (
	endpointsPK = "endpoints"
	leasesPK    = "leases"
	replicasPK  = "replicas"
	pokesPK     = "pokes"
	stateSK     = "state"
	cmdSeqSK    = "seq#commands"

	eventPrefix = "evt#"

	attrPK       = "pk"
	attrSK       = "sk"
	attrData     = "data"
	attrRevision = "rev"
	attrInc      = "inc"
	attrN        = "n"
	attrHolder   = "holder"
	attrGen      = "gen"
	attrExpires  = "expires"
	attrExpireAt = "expire_at"
)

func endpointPK(name string) string          { return "ep#" + name }
func trailPK(name string) string             { return "trail#" + name }
func releaseSK(track rollout.Track) string   { return "release#" + string(track) }
func eventSK(seq int64) string               { return fmt.Sprintf("%s%020d", eventPrefix, seq) }
func commandSK(inc string, seq int64) string { return fmt.Sprintf("cmd#%s#%020d", inc, seq) }
func specSK(inc string, rev int64) string    { return fmt.Sprintf("spec#%s#%020d", inc, rev) }
func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(pk), attrSK: str(sk)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// record is an item as read: its JSON value and the numbers beside it.
type record struct {
	found bool
	sk    string
	data  []byte
	rev   int64
	inc   string
	n     int64
}

func decodeRecord(item map[string]types.AttributeValue) (record, error) {
	r := record{found: item != nil, sk: stringAttr(item, attrSK), data: []byte(stringAttr(item, attrData)), inc: stringAttr(item, attrInc)}
	var err error
	if r.rev, err = number(item, attrRevision); err != nil {
		return r, err
	}
	r.n, err = number(item, attrN)
	return r, err
}

// number returns the number attribute name of item, 0 if it has none.
func number(item map[string]types.AttributeValue, name string) (int64, error) {
	v, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, nil
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("attribute %s = %q is not an integer: %w", name, v.Value, err)
	}
	return n, nil
}

// get reads one item with a strongly consistent read: revisions and
// counters must be the latest, or every conditional write built on them
// would fail.
func (s *Store) get(ctx context.Context, pk, sk string) (record, error) {
	out, err := s.api.GetItem(ctx, &ddb.GetItemInput{TableName: &s.table, Key: key(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return record{}, err
	}
	return decodeRecord(out.Item)
}

// query runs a strongly consistent Query page after page, handing each item
// to fn until fn returns false or the items run out. limit, if not nil, says
// how many items the next page may hold (DynamoDB's page size otherwise).
func (s *Store) query(ctx context.Context, in *ddb.QueryInput, limit func() int32, fn func(map[string]types.AttributeValue) (more bool, err error)) error {
	in.TableName, in.ConsistentRead = &s.table, aws.Bool(true)
	for {
		if limit != nil {
			in.Limit = aws.Int32(limit())
		}
		out, err := s.api.Query(ctx, in)
		if err != nil {
			return err
		}
		for _, item := range out.Items {
			more, err := fn(item)
			if err != nil || !more {
				return err
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// between queries the keys of partition pk from sk lo to sk hi, inclusive.
func between(pk, lo, hi string) *ddb.QueryInput {
	return &ddb.QueryInput{
		KeyConditionExpression:    aws.String("pk = :pk AND sk BETWEEN :lo AND :hi"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk), ":lo": str(lo), ":hi": str(hi)},
	}
}

// prefixed queries the keys of partition pk whose sk starts with prefix.
func prefixed(pk, prefix string) *ddb.QueryInput {
	return &ddb.QueryInput{
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk), ":prefix": str(prefix)},
	}
}

// whole queries every key of partition pk.
func whole(pk string) *ddb.QueryInput {
	return &ddb.QueryInput{
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
	}
}

// value decodes the JSON value of an item read as r.
func value[T any](r record) (T, error) {
	var v T
	if err := json.Unmarshal(r.data, &v); err != nil {
		return v, fmt.Errorf("decode %s: %w", r.sk, err)
	}
	return v, nil
}

// itemValue decodes the JSON value of an item a Query returned.
func itemValue[T any](item map[string]types.AttributeValue) (T, error) {
	r, err := decodeRecord(item)
	if err != nil {
		var zero T
		return zero, err
	}
	return value[T](r)
}

// encode returns v's JSON value and the copy a later read will return:
// decoded from the very bytes written, so times compare equal and no map or
// slice is shared with the caller's v.
func encode[T any](v T) (string, T, error) {
	var out T
	data, err := json.Marshal(v)
	if err != nil {
		return "", out, err
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return "", out, err
	}
	return string(data), out, nil
}

// txn is one attempt at a transaction, built from what was just read or
// assumed.
type txn struct {
	items []types.TransactWriteItem
	// explain has, for each item, what to report when its condition fails:
	// nil means that what was read is stale and the write is tried again;
	// otherwise it returns the error to report (or nil to try again after
	// all).
	explain []func() error
}

func (t *txn) add(item types.TransactWriteItem, explain func() error) {
	t.items = append(t.items, item)
	t.explain = append(t.explain, explain)
}

// put adds the replacement of an object whose revision was read or assumed
// as old (old.found false: it must not exist yet).
func (s *Store) put(t *txn, old record, item map[string]types.AttributeValue, explain func() error) {
	p := &types.Put{TableName: &s.table, Item: item}
	p.ConditionExpression, p.ExpressionAttributeValues = unchanged(old)
	t.add(types.TransactWriteItem{Put: p}, explain)
}

// remove adds the delete of an object read as old.
func (s *Store) remove(t *txn, pk, sk string, old record) {
	d := &types.Delete{TableName: &s.table, Key: key(pk, sk)}
	d.ConditionExpression, d.ExpressionAttributeValues = unchanged(old)
	t.add(types.TransactWriteItem{Delete: d}, nil)
}

// unchanged is the condition that an object is still at the revision read.
func unchanged(old record) (*string, map[string]types.AttributeValue) {
	if !old.found {
		return aws.String("attribute_not_exists(pk)"), nil
	}
	return aws.String("rev = :rev"), map[string]types.AttributeValue{":rev": num(old.rev)}
}

// current returns the revision a write expecting expect replaces. Only Any
// needs a read: any other expectation is assumed, written as the condition,
// and explained by conflict if it does not hold.
func (s *Store) current(ctx context.Context, pk, sk string, expect int64) (record, error) {
	if expect == rollout.RevisionAny {
		return s.get(ctx, pk, sk)
	}
	return record{found: expect > rollout.RevisionNew, rev: expect}, nil
}

// conflict explains a failed revision condition on the object at pk/sk of
// endpoint: ENOTFOUND if the object is gone with its endpoint, otherwise the
// ECONFLICT error for the revision it has now, or nil if it is at the
// expected revision again and the write may be tried again.
func (s *Store) conflict(ctx context.Context, endpoint, object, pk, sk string, expect int64) func() error {
	return func() error {
		now, err := s.get(ctx, pk, sk)
		if err != nil {
			return err
		}
		if !now.found {
			ep, err := s.get(ctx, endpointsPK, endpoint)
			if err != nil {
				return err
			}
			if !ep.found {
				return store.EndpointNotFound(endpoint)
			}
		}
		return store.CheckRevision(object, expect, now.rev)
	}
}

// requireEndpoint adds the check that the endpoint exists: needed only when
// the object written is new, as an existing release or state is deleted
// with its endpoint, and its revision condition implies the endpoint.
func (s *Store) requireEndpoint(t *txn, name string) {
	t.add(types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName: &s.table, Key: key(endpointsPK, name), ConditionExpression: aws.String("attribute_exists(pk)"),
	}}, func() error { return store.EndpointNotFound(name) })
}

// counter adds the move of the counter at pk/sk from old (as read) to n,
// with attrs beside it.
func (s *Store) counter(t *txn, pk, sk string, old record, n int64, attrs map[string]types.AttributeValue) {
	item := map[string]types.AttributeValue{attrPK: str(pk), attrSK: str(sk), attrN: num(n)}
	maps.Copy(item, attrs)
	p := &types.Put{TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}
	if old.found {
		p.ConditionExpression = aws.String("n = :n")
		p.ExpressionAttributeValues = map[string]types.AttributeValue{":n": num(old.n)}
	}
	t.add(types.TransactWriteItem{Put: p}, nil)
}

// events numbers events from where the trail of endpoint ends and adds
// them, as one batch item whose key must be free, to t. It returns the
// events as stored.
func (s *Store) events(ctx context.Context, t *txn, endpoint string, now time.Time, events []rollout.Event) ([]rollout.Event, error) {
	out := make([]rollout.Event, 0, len(events))
	if len(events) == 0 {
		return out, nil
	}
	pk := trailPK(endpoint)
	first, err := s.trailEnd(ctx, pk)
	if err != nil {
		return nil, err
	}
	for i, e := range events {
		e.Endpoint = endpoint
		e.Seq = first + int64(i)
		if e.Time.IsZero() {
			e.Time = now
		}
		out = append(out, e)
	}
	data, stored, err := encode(out)
	if err != nil {
		return nil, err
	}
	t.add(types.TransactWriteItem{Put: &types.Put{
		TableName:           &s.table,
		Item:                map[string]types.AttributeValue{attrPK: str(pk), attrSK: str(eventSK(first)), attrData: str(data), attrN: num(int64(len(out)))},
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}}, nil)
	return stored, nil
}

// trailEnd returns the sequence number the next event of partition pk gets:
// one after the last event of the last batch.
func (s *Store) trailEnd(ctx context.Context, pk string) (int64, error) {
	in := between(pk, eventSK(1), eventSK(math.MaxInt64))
	in.ScanIndexForward = aws.Bool(false)
	next := int64(1)
	err := s.query(ctx, in, func() int32 { return 1 }, func(item map[string]types.AttributeValue) (bool, error) {
		first, err := sequence(item)
		if err != nil {
			return false, err
		}
		n, err := number(item, attrN)
		next = first + n
		return false, err
	})
	return next, err
}

// sequence returns the first sequence number of an event batch item.
func sequence(item map[string]types.AttributeValue) (int64, error) {
	sk := stringAttr(item, attrSK)
	seq, err := strconv.ParseInt(strings.TrimPrefix(sk, eventPrefix), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("event item %q: %w", sk, err)
	}
	return seq, nil
}

// checkEvents refuses events that belong to another endpoint, which is a
// bug in the caller, and more events than a transaction can hold.
func checkEvents(endpoint string, events []rollout.Event) error {
	if len(events) > MaxEvents {
		return rollout.Invalid("events", "%d events in one write; at most %d fit in one DynamoDB item", len(events), MaxEvents)
	}
	for _, e := range events {
		if err := store.CheckEventEndpoint(endpoint, e); err != nil {
			return err
		}
	}
	return nil
}

// write runs build, which reads what a write depends on and returns the
// transaction that makes it, and commits the transaction. When the
// transaction is cancelled, each failed condition is explained: the endpoint
// is gone, the revision is not the expected one, the lease is lost. A
// condition with no explanation (a counter or revision another writer moved
// since build read it) or a concurrent transaction on the same items means
// only that what was read is stale: build runs again, with backoff.
//
// A write under a lease (store.WithLease) is fenced: the transaction also
// checks the lease, so a writer that lost it writes nothing.
func (s *Store) write(ctx context.Context, endpoint string, build func(t *txn, now time.Time) error) error {
	lease, fenced := store.LeaseFrom(ctx)
	if fenced && lease.Endpoint != endpoint {
		return rollout.Errorf(rollout.EINTERNAL, "a write to endpoint %q under the lease of endpoint %q", endpoint, lease.Endpoint)
	}
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		now := time.Now().UTC()
		var t txn
		if err := build(&t, now); err != nil {
			return err
		}
		if fenced {
			t.add(types.TransactWriteItem{ConditionCheck: s.leaseCheck(lease, now)}, func() error { return store.LeaseLost(lease) })
		}
		_, err := s.api.TransactWriteItems(ctx, &ddb.TransactWriteItemsInput{TransactItems: t.items})
		if err == nil {
			return nil
		}
		canceled, ok := errors.AsType[*types.TransactionCanceledException](err)
		if !ok {
			return err
		}
		for i, reason := range canceled.CancellationReasons {
			if i < len(t.explain) && t.explain[i] != nil && aws.ToString(reason.Code) == "ConditionalCheckFailed" {
				if err := t.explain[i](); err != nil {
					return err
				}
			}
		}
		if attempt == maxAttempts {
			return rollout.Errorf(rollout.ECONFLICT, "endpoint %q: gave up after %d attempts, each overtaken by another write: %v", endpoint, attempt, err)
		}
		if err := wait.Sleep(ctx, backoff(attempt)); err != nil {
			return err
		}
	}
}

// backoff is a short, jittered wait before attempt+1 that grows with the
// contention, up to 100ms.
func backoff(attempt int) time.Duration {
	ceiling := min(time.Duration(attempt)*5*time.Millisecond, 100*time.Millisecond)
	return time.Duration(rand.Int64N(int64(ceiling))) + time.Millisecond
}

// newIncarnation returns a random ID that tells the commands of an endpoint
// apart from those of an earlier endpoint of the same name.
func newIncarnation() string { return fmt.Sprintf("%016x", rand.Uint64()) }

// failed says what was being done when err happened. Domain errors are
// returned as they are: they name their object already, and their message
// is what the API shows to a person.
func failed(err error, format string, args ...any) error {
	var e *rollout.Error
	if err == nil || errors.As(err, &e) {
		return err
	}
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), err)
}
