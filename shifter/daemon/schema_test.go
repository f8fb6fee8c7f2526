package daemon_test

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/hashicorp/go-hclog"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/daemon"
	"github.com/ionroller/terraform-provider-ionroller/shifter/daemon/daemontest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/internal/syncbuf"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store/bolt"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store/bolt/bolttest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store/dynamodb"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store/dynamodb/dynamodbtest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store/storetest"
)

// TestAStoreOfANewerShifterIsRefused: a shifter does not start on a store
// written by a newer one, bolt or DynamoDB; its error is the store's
// refusal word for word, which names the store, both versions and what to
// run.
func TestAStoreOfANewerShifterIsRefused(t *testing.T) {
	newer := store.SchemaVersion + 1
	t.Run("bolt", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "shifter.db")
		s, err := bolt.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		bolttest.Stamp(t, path, newer)
		err = openErr(t, fmt.Sprintf("store { path = %q }", path), awstest.Config(t))
		wantRefusal(t, err, &store.NewerSchemaError{Store: path, Version: newer})
	})
	t.Run("dynamodb", func(t *testing.T) {
		awsCfg := awstest.Config(t)
		direct := dynamodbtest.Direct(awsCfg)
		if err := dynamodb.CreateTable(t.Context(), direct, "ionroller"); err != nil {
			t.Fatal(err)
		}
		dynamodbtest.Stamp(t, direct, "ionroller", newer)
		awsCfg.APIOptions = append(awsCfg.APIOptions, dynamodbtest.Serialize) // moto: see dynamodbtest
		err := openErr(t, `store {
  dynamodb { table = "ionroller" }
}`, awsCfg)
		wantRefusal(t, err, &store.NewerSchemaError{Store: "DynamoDB table ionroller", Version: newer})
	})
}

// openErr opens a shifter with the store block storeBlock and returns why
// it did not start.
func openErr(t *testing.T, storeBlock string, awsCfg awssdk.Config) error {
	t.Helper()
	cfg, err := daemon.ParseConfig([]byte("listen = \"127.0.0.1:0\"\n"+storeBlock+"\nauth {\n  anonymous { role = \"admin\" }\n}\n"), "shifter.hcl")
	if err != nil {
		t.Fatal(err)
	}
	s := &daemon.Server{Config: cfg, AWS: &awsCfg}
	err = s.Open(t.Context())
	if err == nil {
		t.Cleanup(func() { s.Close() })
		t.Fatal("the shifter started")
	}
	return err
}

func wantRefusal(t *testing.T, err error, want *store.NewerSchemaError) {
	t.Helper()
	if !errors.As(err, new(*store.NewerSchemaError)) || err.Error() != want.Error() {
		t.Errorf("open: %v\nwant the store's refusal unchanged: %v", err, want)
	}
}

// TestAnUnversionedStoreIsMigratedOnStart: a shifter started on a bolt file
// of the layout before schema versions migrates it, says so in its log, and
// serves its endpoints.
func TestAnUnversionedStoreIsMigratedOnStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shifter.db")
	if err := os.WriteFile(path, storetest.Unversioned(t, "bolt.db"), 0o600); err != nil {
		t.Fatal(err)
	}
	log := &syncbuf.Buffer{}
	s, _ := daemontest.Serve(t, fmt.Sprintf(`
listen = "127.0.0.1:0"
store { path = %q }
auth {
  anonymous { role = "admin" }
}
`, path), awstest.Config(t), func(s *daemon.Server) {
		s.Logger = hclog.New(&hclog.LoggerOptions{Level: hclog.Info, Output: log})
	})
	if want := fmt.Sprintf("store migrated to this shifter's schema version: store=bolt location=%s from=0 to=%d", path, store.SchemaVersion); !strings.Contains(log.String(), want) {
		t.Errorf("log:\n%s\nwant a line saying %q", log, want)
	}
	code, body := call(t, "GET", s.URL()+"/v1/endpoints", nil)
	if eps, _ := body["endpoints"].([]any); code != http.StatusOK || len(eps) != 2 {
		t.Errorf("GET /v1/endpoints = %d %v; want the fixture's two endpoints", code, body)
	}
}
