package callrecord_test

import (
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/callrecord"
)

// answerEmpty answers every request 200 with an empty JSON object: the
// record is made before the request is sent, so no AWS is needed.
type answerEmpty struct{}

func (answerEmpty) Do(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
		Body: io.NopCloser(strings.NewReader("{}"))}, nil
}

func config() aws.Config {
	return aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient: answerEmpty{}, RetryMaxAttempts: 1}
}

// TestRecordsEachCallOnce: calls are recorded by service ID and operation,
// a transaction by the kinds of its items, each once however often made.
func TestRecordsEachCallOnce(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(callrecord.DirEnv, dir)
	cfg := config()
	callrecord.Add(&cfg)
	client := ddb.NewFromConfig(cfg)
	key := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}}
	for range 2 {
		if _, err := client.GetItem(t.Context(), &ddb.GetItemInput{TableName: aws.String("t"), Key: key}); err != nil {
			t.Fatal(err)
		}
		if _, err := client.TransactWriteItems(t.Context(), &ddb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: aws.String("t"), Item: key}},
			{ConditionCheck: &types.ConditionCheck{TableName: aws.String("t"), Key: key, ConditionExpression: aws.String("attribute_exists(pk)")}},
		}}); err != nil {
			t.Fatal(err)
		}
	}
	calls, err := callrecord.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []callrecord.Call{
		{Service: "DynamoDB", Operation: "GetItem"},
		{Service: "DynamoDB", Operation: "TransactWriteItems.ConditionCheck"},
		{Service: "DynamoDB", Operation: "TransactWriteItems.Put"},
	}
	slices.SortFunc(calls, func(a, b callrecord.Call) int { return strings.Compare(a.Operation, b.Operation) })
	if !slices.Equal(calls, want) {
		t.Errorf("recorded %v, want %v", calls, want)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) != 1 {
		t.Errorf("files %v, want one for the process", files)
	}
}

// TestNothingWithoutTheVariable: without DirEnv the clients are unchanged.
func TestNothingWithoutTheVariable(t *testing.T) {
	t.Setenv(callrecord.DirEnv, "")
	cfg := config()
	callrecord.Add(&cfg)
	if len(cfg.APIOptions) != 0 {
		t.Errorf("%d API options added", len(cfg.APIOptions))
	}
}

// TestUnrecordableCallFails: a call that cannot be recorded fails, rather
// than going unseen by the policy check.
func TestUnrecordableCallFails(t *testing.T) {
	t.Setenv(callrecord.DirEnv, filepath.Join(t.TempDir(), "missing"))
	cfg := config()
	callrecord.Add(&cfg)
	_, err := ddb.NewFromConfig(cfg).ListTables(t.Context(), &ddb.ListTablesInput{})
	if err == nil || !strings.Contains(err.Error(), callrecord.DirEnv) {
		t.Errorf("err = %v, want the record's failure", err)
	}
}

// TestReadingNoRecordFails: a directory missing or empty proves nothing.
func TestReadingNoRecordFails(t *testing.T) {
	for _, dir := range []string{t.TempDir(), filepath.Join(t.TempDir(), "missing")} {
		if calls, err := callrecord.Read(dir); err == nil {
			t.Errorf("Read(%s) = %v, want an error", dir, calls)
		}
	}
}
