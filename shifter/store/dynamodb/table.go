package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Tables is the part of DynamoDB that CreateTable uses. A *dynamodb.Client is
// one.
type Tables interface {
	DescribeTable(context.Context, *ddb.DescribeTableInput, ...func(*ddb.Options)) (*ddb.DescribeTableOutput, error)
	CreateTable(context.Context, *ddb.CreateTableInput, ...func(*ddb.Options)) (*ddb.CreateTableOutput, error)
	UpdateTimeToLive(context.Context, *ddb.UpdateTimeToLiveInput, ...func(*ddb.Options)) (*ddb.UpdateTimeToLiveOutput, error)
}

// tableWait bounds how long CreateTable waits for a new table to be active.
const tableWait = 5 * time.Minute

// CreateTable creates the store's table if it does not exist (on-demand
// capacity, the expiry of dead replicas' heartbeats as its TTL attribute)
// and waits until it is active. A table that exists with another key schema
// is an error: the store would fail on its first write. Several replicas may
// call it at once; DynamoDB lets one create the table and the others wait.
func CreateTable(ctx context.Context, api Tables, name string) error {
	out, err := api.DescribeTable(ctx, &ddb.DescribeTableInput{TableName: &name})
	if _, missing := errors.AsType[*types.ResourceNotFoundException](err); missing {
		err := create(ctx, api, name)
		if _, raced := errors.AsType[*types.ResourceInUseException](err); raced {
			return waitActive(ctx, api, name) // another replica is creating it
		}
		if err != nil {
			return fmt.Errorf("create table %s: %w", name, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("describe table %s: %w", name, err)
	}
	if !hasStoreKeys(out.Table.KeySchema) {
		return fmt.Errorf("table %s exists but its key is not pk (string, partition) + sk (string, sort), which the store needs", name)
	}
	return waitActive(ctx, api, name)
}

func create(ctx context.Context, api Tables, name string) error {
	_, err := api.CreateTable(ctx, &ddb.CreateTableInput{
		TableName:   &name,
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(attrPK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(attrSK), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(attrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(attrSK), KeyType: types.KeyTypeRange},
		},
	})
	if err != nil {
		return err
	}
	if err := waitActive(ctx, api, name); err != nil {
		return err
	}
	_, err = api.UpdateTimeToLive(ctx, &ddb.UpdateTimeToLiveInput{
		TableName:               &name,
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(attrExpireAt), Enabled: aws.Bool(true)},
	})
	return err
}

// waitActive waits until the table is active, polling every second or so.
func waitActive(ctx context.Context, api Tables, name string) error {
	w := ddb.NewTableExistsWaiter(api, func(o *ddb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Second, 5*time.Second
	})
	if err := w.Wait(ctx, &ddb.DescribeTableInput{TableName: &name}, tableWait); err != nil {
		return fmt.Errorf("wait for table %s to be active: %w", name, err)
	}
	return nil
}

func hasStoreKeys(schema []types.KeySchemaElement) bool {
	want := map[string]types.KeyType{attrPK: types.KeyTypeHash, attrSK: types.KeyTypeRange}
	if len(schema) != len(want) {
		return false
	}
	for _, k := range schema {
		if want[aws.ToString(k.AttributeName)] != k.KeyType {
			return false
		}
	}
	return true
}
