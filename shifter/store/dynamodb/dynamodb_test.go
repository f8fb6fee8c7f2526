package dynamodb_test

import (
	"testing"

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

// open returns a store in a new table of a new moto account.
func open(t *testing.T) *dynamodb.Store {
	t.Helper()
	return dynamodbtest.Open(t, awstest.Config(t), "shifter")
}
