package storetest

// This file made the fixtures beside it, once, from a checkout of commit
// 56c9c91: the last layout before stores carried a schema version. It
// builds only there (it uses that commit's dynamodb.New and storetest's
// fixtures); see README.md for how it was run. It is kept as the record of
// what the fixtures hold, not to be run again: fixtures of a later layout
// come from a checkout of the commit before that layout changed. Its
// snapshot and its dump of a table are what storetest.snapshotOf and
// dynamodbtest.Dump do now: they are written out here because neither
// existed at 56c9c91.

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store/bolt"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store/dynamodb/dynamodbtest"
)

var fixtureDir = flag.String("fixtures", "", "where to write the fixtures")

func TestMain(m *testing.M) { awstest.Main(m) }

// trails are the endpoints whose events the fixtures hold: "gone" was
// deleted, and its trail outlives it.
var trails = []string{"api", "gone", "web"}

func TestGenerateUnversionedFixtures(t *testing.T) {
	if *fixtureDir == "" {
		t.Fatal("-fixtures DIR is required")
	}

	// bolt: a file, with a clock that moves a second a write.
	path := filepath.Join(*fixtureDir, "bolt.db")
	clock := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	b, err := bolt.Open(path, bolt.WithNow(func() time.Time { clock = clock.Add(time.Second); return clock }))
	if err != nil {
		t.Fatal(err)
	}
	fillFixture(t, b)
	writeJSON(t, "bolt.want.json", snapshotOf(t, b))
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	// DynamoDB: a table in moto, dumped item by item as the AWS CLI
	// prints a Scan.
	cfg := awstest.Config(t)
	d := dynamodbtest.Open(t, cfg, "shifter")
	fillFixture(t, d)
	writeJSON(t, "dynamodb.want.json", snapshotOf(t, d))
	out, err := ddb.NewFromConfig(awstest.Exempt(cfg)).Scan(t.Context(), &ddb.ScanInput{TableName: aws.String("shifter")})
	if err != nil || out.LastEvaluatedKey != nil {
		t.Fatalf("scan: %v (more pages: %v)", err, out.LastEvaluatedKey != nil)
	}
	items := make([]map[string]map[string]string, 0, len(out.Items))
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
		items = append(items, plain)
	}
	slices.SortFunc(items, func(a, b map[string]map[string]string) int {
		return strings.Compare(a["pk"]["S"]+"\x00"+a["sk"]["S"], b["pk"]["S"]+"\x00"+b["sk"]["S"])
	})
	writeJSON(t, "dynamodb.json", map[string]any{"Items": items})
}

// fillFixture writes every kind of object the layout holds, each field of
// each set (storetest's full fixtures), over several revisions: two
// endpoints with both tracks' releases, rollout state, commands and events
// in writes of one and of several, and an endpoint deleted with its trail
// left behind; on DynamoDB also a lease.
func fillFixture(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, name := range []string{"web", "api"} {
		ep := mustPutEndpoint(t, s, fullEndpoint(name), rollout.RevisionNew, fullEvent(name))
		ep.Team = "payments-eu"
		mustPutEndpoint(t, s, ep, ep.Revision)
		for _, track := range rollout.Tracks {
			mustPutRelease(t, s, fullRelease(name, track), rollout.RevisionNew, fullEvent(name), fullEvent(name))
		}
		st := mustPutState(t, s, fullState(name), rollout.RevisionNew, fullEvent(name))
		st.CommandSeq = 1
		mustPutState(t, s, st, st.Revision)
		mustAppendCommand(t, s, fullCommand(name))
		mustAppendCommand(t, s, fullCommand(name))
		if _, err := s.AppendEvents(ctx, name, fullEvent(name), fullEvent(name), fullEvent(name)); err != nil {
			t.Fatal(err)
		}
	}
	gone := mustPutEndpoint(t, s, fullEndpoint("gone"), rollout.RevisionNew, fullEvent("gone"))
	mustPutRelease(t, s, fullRelease("gone", rollout.Production), rollout.RevisionNew)
	mustAppendCommand(t, s, fullCommand("gone"))
	if err := s.DeleteEndpoint(ctx, "gone", gone.Revision, fullEvent("gone")); err != nil {
		t.Fatal(err)
	}
	if l, ok := s.(store.Leases); ok {
		if _, err := l.AcquireLease(ctx, "web", "replica-a", time.Hour); err != nil {
			t.Fatal(err)
		}
	}
}

// snapshot is everything a store holds, as read through store.Store (and
// store.Leases): what a shifter of the next layout must read back.
type snapshot struct {
	Endpoints []rollout.Endpoint           `json:"endpoints"`
	Releases  map[string][]rollout.Release `json:"releases"`
	States    map[string]rollout.State     `json:"states"`
	Commands  map[string][]rollout.Command `json:"commands"`
	Events    map[string][]rollout.Event   `json:"events"`
	Leases    []store.Lease                `json:"leases,omitempty"`
}

func snapshotOf(t *testing.T, s store.Store) snapshot {
	ctx := t.Context()
	snap := snapshot{Releases: map[string][]rollout.Release{}, States: map[string]rollout.State{},
		Commands: map[string][]rollout.Command{}, Events: map[string][]rollout.Event{}}
	var err error
	if snap.Endpoints, err = s.ListEndpoints(ctx); err != nil {
		t.Fatal(err)
	}
	for _, ep := range snap.Endpoints {
		if snap.Releases[ep.Name], err = s.ListReleases(ctx, ep.Name); err != nil {
			t.Fatal(err)
		}
		snap.States[ep.Name] = mustGetState(t, s, ep.Name)
		snap.Commands[ep.Name] = mustListCommands(t, s, ep.Name, 0)
	}
	for _, name := range trails {
		snap.Events[name] = mustListEvents(t, s, name, 0, 0)
	}
	if l, ok := s.(store.Leases); ok {
		if snap.Leases, err = l.ListLeases(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return snap
}

func writeJSON(t *testing.T, name string, v any) {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*fixtureDir, name), append(data, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}
