package storetest

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store"
)

// unversioned holds stores written before schema versions, and what the
// code of that time read back from them (see its README).
//
//go:embed testdata/unversioned/*.db testdata/unversioned/*.json
var unversioned embed.FS

// Place is where a store keeps its data, reached below store.Store: the
// schema section writes there what another shifter would have left. No
// store is open there when Load, Stamp, SchemaVersion or Raw is called.
type Place interface {
	// Open opens the store there with this code, which migrates it.
	Open(t *testing.T) (store.Store, error)
	// Load puts a fixture there as it is, byte for byte or item for item.
	Load(t *testing.T, fixture []byte)
	// Stamp marks the store there as written at schema version version.
	Stamp(t *testing.T, version int)
	// SchemaVersion reads the version the store there is marked with, 0
	// if none.
	SchemaVersion(t *testing.T) int
	// Raw returns all that is there, byte for byte: what a refused open
	// or a reopening must leave as it was.
	Raw(t *testing.T) []byte
}

// RunSchema runs the schema section: a new store is written at
// store.SchemaVersion; the store of fixture (a file in
// testdata/unversioned, written before versioning) is migrated on open,
// reads back what the code that wrote it read, and takes writes where it
// left off; a store marked newer than this code is refused and left
// unchanged. place returns a new, empty place for each subtest.
func RunSchema(t *testing.T, fixture string, place func(t *testing.T) Place) {
	tests := []struct {
		name string
		fn   func(t *testing.T, p Place)
	}{
		{"NewStoreIsStamped", testSchemaNewStore},
		{"UnversionedIsMigrated", func(t *testing.T, p Place) { testSchemaUnversioned(t, p, fixture) }},
		{"NewerIsRefusedUnchanged", testSchemaNewer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, place(t))
		})
	}
}

func testSchemaNewStore(t *testing.T, p Place) {
	s := mustOpenAt(t, p)
	mustPutEndpoint(t, s, fullEndpoint("web"), rollout.RevisionNew)
	mustClose(t, s)
	if v := p.SchemaVersion(t); v != store.SchemaVersion {
		t.Errorf("a new store is marked schema version %d, want %d", v, store.SchemaVersion)
	}
}

// Unversioned returns the file called name in testdata/unversioned: a
// store written before schema versions (bolt.db, dynamodb.json), or what
// the code that wrote it read back (bolt.want.json, dynamodb.want.json).
func Unversioned(t testing.TB, name string) []byte {
	t.Helper()
	data, err := unversioned.ReadFile(path.Join("testdata/unversioned", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func testSchemaUnversioned(t *testing.T, p Place, fixture string) {
	want := wantSnapshot(t, fixture)
	p.Load(t, Unversioned(t, fixture))
	if v := p.SchemaVersion(t); v != 0 {
		t.Fatalf("the fixture is marked schema version %d; it was written before versions", v)
	}

	s := mustOpenAt(t, p)
	equal(t, "read back after migration", snapshotOf(t, s, want), want)
	mustClose(t, s)
	if v := p.SchemaVersion(t); v != store.SchemaVersion {
		t.Errorf("the migrated store is marked schema version %d, want %d", v, store.SchemaVersion)
	}

	migrated := p.Raw(t)
	s = mustOpenAt(t, p)
	equal(t, "read back after reopening", snapshotOf(t, s, want), want)
	mustClose(t, s)
	if !bytes.Equal(p.Raw(t), migrated) {
		t.Error("reopening a migrated store changed it")
	}

	// Revisions and sequences carry on from the migrated data.
	s = mustOpenAt(t, p)
	defer mustClose(t, s)
	web := want.Endpoints[slices.IndexFunc(want.Endpoints, func(ep rollout.Endpoint) bool { return ep.Name == "web" })]
	if got := mustPutEndpoint(t, s, web, web.Revision); got.Revision != web.Revision+1 {
		t.Errorf("endpoint updated at revision %d, want %d", got.Revision, web.Revision+1)
	}
	st := want.States["web"]
	if got := mustPutState(t, s, st, st.Revision); got.Revision != st.Revision+1 {
		t.Errorf("state updated at revision %d, want %d", got.Revision, st.Revision+1)
	}
	for name, trail := range want.Events {
		es, err := s.AppendEvents(t.Context(), name, fullEvent(name))
		if err != nil {
			t.Fatal(err)
		}
		if last := trail[len(trail)-1].Seq; es[0].Seq != last+1 {
			t.Errorf("event of %s appended at %d, want %d", name, es[0].Seq, last+1)
		}
	}
	cmds := want.Commands["web"]
	if c := mustAppendCommand(t, s, fullCommand("web")); c.Seq != cmds[len(cmds)-1].Seq+1 {
		t.Errorf("command appended at %d, want %d", c.Seq, cmds[len(cmds)-1].Seq+1)
	}
}

func testSchemaNewer(t *testing.T, p Place) {
	s := mustOpenAt(t, p)
	mustPutEndpoint(t, s, fullEndpoint("web"), rollout.RevisionNew, fullEvent("web"))
	mustClose(t, s)
	newer := store.SchemaVersion + 1
	p.Stamp(t, newer)
	before := p.Raw(t)

	s, err := p.Open(t)
	if err == nil {
		mustClose(t, s)
		t.Fatalf("a store marked schema version %d opened", newer)
	}
	var refused *store.NewerSchemaError
	if !errors.As(err, &refused) || refused.Version != newer {
		t.Fatalf("open: %v; want a NewerSchemaError of version %d", err, newer)
	}
	says := fmt.Sprintf(": written by schema version %d, this shifter understands up to %d; run a shifter at least as new as the one that wrote it", newer, store.SchemaVersion)
	if !strings.Contains(err.Error(), says) || err.Error() != refused.Error() {
		t.Errorf("open: %q; want the refusal alone, saying %q", err, says)
	}
	if !bytes.Equal(p.Raw(t), before) {
		t.Error("refusing the store changed it")
	}
}

func mustOpenAt(t *testing.T, p Place) store.Store {
	t.Helper()
	s, err := p.Open(t)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return s
}

func mustClose(t *testing.T, s store.Store) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
}

// snapshot is everything a store holds, as read through store.Store (and
// store.Leases). A fixture's is in <fixture name>.want.json.
type snapshot struct {
	Endpoints []rollout.Endpoint           `json:"endpoints"`
	Releases  map[string][]rollout.Release `json:"releases"`
	States    map[string]rollout.State     `json:"states"`
	Commands  map[string][]rollout.Command `json:"commands"`
	Events    map[string][]rollout.Event   `json:"events"`
	Leases    []store.Lease                `json:"leases,omitempty"`
}

// wantSnapshot reads what the code that wrote fixture read back from it.
func wantSnapshot(t *testing.T, fixture string) snapshot {
	t.Helper()
	name := strings.TrimSuffix(fixture, path.Ext(fixture)) + ".want.json"
	data := Unversioned(t, name)
	var want snapshot
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return want
}

// snapshotOf reads from s everything like reads: the endpoints s lists,
// the trails like has (a deleted endpoint's too), and the leases if s has
// any. It returns it as it would be read from JSON, so that it compares
// with a snapshot read from a file.
func snapshotOf(t *testing.T, s store.Store, like snapshot) snapshot {
	t.Helper()
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
	for _, name := range slices.Sorted(maps.Keys(like.Events)) {
		snap.Events[name] = mustListEvents(t, s, name, 0, 0)
	}
	if l, ok := s.(store.Leases); ok {
		if snap.Leases, err = l.ListLeases(ctx); err != nil {
			t.Fatal(err)
		}
	}
	data, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	var read snapshot
	if err := json.Unmarshal(data, &read); err != nil {
		t.Fatal(err)
	}
	return read
}
