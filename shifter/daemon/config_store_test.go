package daemon

import (
	"strings"
	"testing"
	"time"
)

func TestParseConfigReadsTheDynamoDBStore(t *testing.T) {
	cfg, err := ParseConfig([]byte(`
replica_id = "shifter-a.eu"
store {
  dynamodb {
    table     = "ionroller"
    create    = true
    lease_ttl = "10s"
  }
}
aws { region = "eu-west-1" }
`), "shifter.hcl")
	if err != nil {
		t.Fatal(err)
	}
	want := DynamoDBStore{Table: "ionroller", CreateTable: true, LeaseTTL: 10 * time.Second}
	if cfg.DynamoDB == nil || *cfg.DynamoDB != want || cfg.StorePath != "" || cfg.ReplicaID != "shifter-a.eu" {
		t.Errorf("store = %+v (path %q, replica %q), want %+v", cfg.DynamoDB, cfg.StorePath, cfg.ReplicaID, want)
	}
	if cfg.storeKind() != "dynamodb" || cfg.leaseTTL() != 10*time.Second {
		t.Errorf("kind %s, lease TTL %s", cfg.storeKind(), cfg.leaseTTL())
	}

	cfg, err = ParseConfig([]byte(dynamoStore(`table = "ionroller"`)), "shifter.hcl")
	if err != nil || cfg.DynamoDB.CreateTable || cfg.DynamoDB.LeaseTTL != 15*time.Second || cfg.ReplicaID != "" {
		t.Errorf("defaults = %+v, %v; want no create, a 15s lease TTL and the host name as replica", cfg.DynamoDB, err)
	}
	if cfg, _ := ParseConfig([]byte(`store { path = "s.db" }`), "shifter.hcl"); cfg.storeKind() != "bolt" || cfg.leaseTTL() != 0 {
		t.Errorf("a bolt store: kind %s, lease TTL %s", cfg.storeKind(), cfg.leaseTTL())
	}
}

func TestParseConfigRefusesAnAmbiguousOrBadStore(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{`store {}`, "store:"},
		{"store {\n  path = \"s.db\"\n  dynamodb { table = \"ionroller\" }\n}", "store:"},
		{dynamoStore(`table = "a"`), "store.dynamodb.table:"},
		{dynamoStore(`table = "ion roller"`), "store.dynamodb.table:"},
		{dynamoStore("table = \"ionroller\"\nlease_ttl = \"100ms\""), "store.dynamodb.lease_ttl:"},
		{dynamoStore("table = \"ionroller\"\nlease_ttl = \"soon\""), "store.dynamodb.lease_ttl:"},
		{"replica_id = \"-a\"\nstore { path = \"s.db\" }", "replica_id:"},
	} {
		_, err := ParseConfig([]byte(tc.src), "shifter.hcl")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseConfig(%q) = %v, want an error containing %q", tc.src, err, tc.want)
		}
	}
}

func TestReplicaNamesAreNewForEveryProcess(t *testing.T) {
	a, b := replicaName("shifter-a"), replicaName("shifter-a")
	if a == b || !strings.HasPrefix(a, "shifter-a-") || !replicaIDPattern.MatchString(a) {
		t.Errorf("replica names %q and %q: want two different names after shifter-a", a, b)
	}
	if host := replicaName(""); host == "" || !replicaIDPattern.MatchString(host) {
		t.Errorf("default replica name %q", host)
	}
}

// dynamoStore is a store block of the DynamoDB store with body inside.
func dynamoStore(body string) string {
	return "store {\n  dynamodb {\n" + body + "\n  }\n}\n"
}
