package dynamodb

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ionroller/terraform-provider-ionroller/shifter/store"
)

// The item that records the schema version of the table's layout (a
// number), apart from the data: named here once, for Open and for the tests
// that write what another shifter would have left (dynamodbtest).
const (
	SchemaPK          = "meta"
	SchemaSK          = "schema"
	SchemaVersionAttr = "version"
)

// migrations[i] moves a table's layout from schema version i to i+1 (see
// store.Migrations); Open stamps version i+1 once step i is done. A step
// must be idempotent and leave alone what is migrated already: it runs again
// when a shifter stopped before its stamp, and side by side in replicas that
// open the table at once. The next change of the layout (a new kind of
// item, a value that changes its shape) appends its step here and raises
// store.SchemaVersion.
var migrations = []func(ctx context.Context, s *Store) error{
	// 0 → 1: a table written before versioning already has version 1's
	// layout; only the version is stamped.
	func(context.Context, *Store) error { return nil },
}

// Option configures Open.
type Option func(*options)

type options struct {
	migrated func(from, to int)
}

// WithMigrated lets done hear that Open brought the table from schema
// version from to version to, the current one. A replica that found the
// table migrated by another meanwhile hears nothing.
func WithMigrated(done func(from, to int)) Option {
	return func(o *options) { o.migrated = done }
}

// Open returns the store in table, which must exist (see CreateTable), once
// the table is at this code's schema version. A table without a version
// (new, or written before versioning) or of an older version is migrated in
// place, a step at a time, each step's version stamped after it on the
// condition that no one stamped it first; a table of a newer version is
// refused, unchanged, with a *store.NewerSchemaError. Any number of replicas
// may open one table at once.
func Open(ctx context.Context, api API, table string, opts ...Option) (*Store, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	s := &Store{api: api, table: table}
	where := "DynamoDB table " + table
	from := -1
	for {
		found, err := s.schemaVersion(ctx)
		if err != nil {
			return nil, fmt.Errorf("open store %s: read its schema version: %w", where, err)
		}
		if from < 0 {
			from = found
		}
		if found == store.SchemaVersion {
			return s, nil
		}
		steps, err := store.Migrations(where, found, migrations)
		if err != nil {
			return nil, err
		}
		if err := steps[0](ctx, s); err != nil {
			return nil, fmt.Errorf("open store %s: migrate from schema version %d to %d: %w", where, found, found+1, err)
		}
		stamped, err := s.stamp(ctx, found, found+1)
		if err != nil {
			return nil, fmt.Errorf("open store %s: stamp schema version %d: %w", where, found+1, err)
		}
		if stamped && found+1 == store.SchemaVersion && o.migrated != nil {
			o.migrated(from, found+1)
		}
		// Read the version again: stamped by this replica or another.
	}
}

// schemaVersion reads the version the table is stamped with: 0 if none.
func (s *Store) schemaVersion(ctx context.Context) (int, error) {
	out, err := s.api.GetItem(ctx, &ddb.GetItemInput{TableName: &s.table, Key: key(SchemaPK, SchemaSK), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return 0, err
	}
	if out.Item == nil {
		return 0, nil
	}
	if _, ok := out.Item[SchemaVersionAttr].(*types.AttributeValueMemberN); !ok {
		return 0, fmt.Errorf("item %s/%s has no number %s", SchemaPK, SchemaSK, SchemaVersionAttr)
	}
	v, err := number(out.Item, SchemaVersionAttr)
	return int(v), err
}

// stamp moves the table's version from from (0: none) to to unless another
// replica moved it first, and reports whether it did. No table is ever
// stamped 0, so one condition serves both.
func (s *Store) stamp(ctx context.Context, from, to int) (bool, error) {
	_, err := s.api.PutItem(ctx, &ddb.PutItemInput{
		TableName: &s.table,
		Item: map[string]types.AttributeValue{
			attrPK: str(SchemaPK), attrSK: str(SchemaSK), SchemaVersionAttr: num(int64(to)),
		},
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR #version = :from"),
		ExpressionAttributeNames:  map[string]string{"#version": SchemaVersionAttr},
		ExpressionAttributeValues: map[string]types.AttributeValue{":from": num(int64(from))},
	})
	if _, moved := errors.AsType[*types.ConditionalCheckFailedException](err); moved {
		return false, nil
	}
	return err == nil, err
}
