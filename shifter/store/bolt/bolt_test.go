package bolt_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store/bolt"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store/bolt/bolttest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return mustOpen(t, filepath.Join(t.TempDir(), "shifter.db"))
	})
}

func TestSchema(t *testing.T) {
	storetest.RunSchema(t, "bolt.db", func(t *testing.T) storetest.Place {
		return filePlace(filepath.Join(t.TempDir(), "shifter.db"))
	})
}

// filePlace is a store file, for the schema section of the suite.
type filePlace string

func (p filePlace) Open(*testing.T) (store.Store, error) { return bolt.Open(string(p)) }
func (p filePlace) Stamp(t *testing.T, version int)      { bolttest.Stamp(t, string(p), version) }
func (p filePlace) SchemaVersion(t *testing.T) int       { return bolttest.SchemaVersion(t, string(p)) }

func (p filePlace) Load(t *testing.T, fixture []byte) {
	if err := os.WriteFile(string(p), fixture, 0o600); err != nil {
		t.Fatal(err)
	}
}

func (p filePlace) Raw(t *testing.T) []byte {
	b, err := os.ReadFile(string(p))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMigratedIsReported: Open says when it migrated a file, and only then.
func TestMigratedIsReported(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shifter.db")
	var reports [][2]int
	report := bolt.WithMigrated(func(from, to int) { reports = append(reports, [2]int{from, to}) })
	closeStore(t, mustOpen(t, path, report)) // a new file is written at the current version
	if len(reports) != 0 {
		t.Errorf("a new file reported migrations %v", reports)
	}

	if err := os.WriteFile(path, storetest.Unversioned(t, "bolt.db"), 0o600); err != nil {
		t.Fatal(err)
	}
	closeStore(t, mustOpen(t, path, report))
	closeStore(t, mustOpen(t, path, report))
	if want := [][2]int{{0, store.SchemaVersion}}; !reflect.DeepEqual(reports, want) {
		t.Errorf("opening an unversioned file twice reported migrations %v, want %v", reports, want)
	}
}

func TestReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "shifter.db")
	s := mustOpen(t, path)
	in := rollout.NewEndpoint()
	in.Name = "web"
	ep, err := s.PutEndpoint(ctx, in, rollout.RevisionNew, rollout.Event{Type: rollout.EventEndpointCreated, Message: "created"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.PutRelease(ctx, rollout.Release{Endpoint: "web", Track: rollout.Production, Version: "1"}, rollout.RevisionNew)
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.PutState(ctx, rollout.State{Endpoint: "web", NextRollout: 2, CommandSeq: 1}, rollout.RevisionNew)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.AppendCommand(ctx, rollout.Command{Endpoint: "web", Kind: rollout.CommandPause, Actor: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	events, err := s.ListEvents(ctx, "web", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	s = mustOpen(t, path)
	defer s.Close()
	if got, err := s.GetEndpoint(ctx, "web"); err != nil || !reflect.DeepEqual(got, ep) {
		t.Errorf("endpoint after reopen = %+v, %v; want %+v", got, err, ep)
	}
	if got, err := s.GetRelease(ctx, "web", rollout.Production); err != nil || !reflect.DeepEqual(got, r) {
		t.Errorf("release after reopen = %+v, %v; want %+v", got, err, r)
	}
	if got, err := s.GetState(ctx, "web"); err != nil || !reflect.DeepEqual(got, st) {
		t.Errorf("state after reopen = %+v, %v; want %+v", got, err, st)
	}
	if got, err := s.ListCommands(ctx, "web", 0); err != nil || !reflect.DeepEqual(got, []rollout.Command{c}) {
		t.Errorf("commands after reopen = %+v, %v; want %+v", got, err, c)
	}
	if got, err := s.ListEvents(ctx, "web", 0, 0); err != nil || !reflect.DeepEqual(got, events) {
		t.Errorf("events after reopen = %+v, %v; want %+v", got, err, events)
	}

	// Sequences carry on where they were.
	if es, err := s.AppendEvents(ctx, "web", rollout.Event{Type: rollout.EventCommand}); err != nil || es[0].Seq != 2 {
		t.Errorf("event appended after reopen = %+v, %v; want seq 2", es, err)
	}
	if c, err := s.AppendCommand(ctx, rollout.Command{Endpoint: "web", Kind: rollout.CommandResume}); err != nil || c.Seq != 2 {
		t.Errorf("command appended after reopen = %+v, %v; want seq 2", c, err)
	}
}

// TestOpenLocked checks that a second shifter on the same file is told why it
// cannot start instead of waiting for ever on bbolt's file lock.
func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shifter.db")
	s := mustOpen(t, path)

	start := time.Now()
	second, err := bolt.Open(path, bolt.WithTimeout(100*time.Millisecond))
	if err == nil {
		second.Close()
		t.Fatal("second open of a file in use succeeded")
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("second open gave up after %s, want about 100ms", elapsed)
	}
	if !errors.Is(err, bolterrors.ErrTimeout) || !strings.Contains(err.Error(), "locked") || !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not say that %s is locked", err, path)
	}

	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	mustOpen(t, path).Close()
}

func TestWithNow(t *testing.T) {
	ctx := t.Context()
	now := time.Date(2025, 1, 2, 3, 4, 5, 6, time.FixedZone("CET", 3600))
	s, err := bolt.Open(filepath.Join(t.TempDir(), "shifter.db"), bolt.WithNow(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	ep, err := s.PutEndpoint(ctx, rollout.Endpoint{Name: "web"}, rollout.RevisionNew)
	if err != nil {
		t.Fatal(err)
	}
	// Stored times are UTC, to the nanosecond.
	if ep.CreatedAt != now.UTC() || ep.UpdatedAt != now.UTC() {
		t.Errorf("created at %v, updated at %v; want %v", ep.CreatedAt, ep.UpdatedAt, now.UTC())
	}
	es, err := s.AppendEvents(ctx, "web", rollout.Event{Type: rollout.EventCommand})
	if err != nil {
		t.Fatal(err)
	}
	if es[0].Time != now.UTC() {
		t.Errorf("event time %v, want %v", es[0].Time, now.UTC())
	}
}

// TestCorruptValue checks that a value the store cannot decode is an error
// naming it, never a panic or a zero value taken for the real one.
func TestCorruptValue(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "shifter.db")
	s := mustOpen(t, path)
	if _, err := s.PutEndpoint(ctx, rollout.Endpoint{Name: "web"}, rollout.RevisionNew); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendEvents(ctx, "web", rollout.Event{Type: rollout.EventCommand}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		if err := tx.Bucket([]byte("endpoints")).Put([]byte("web"), []byte(`{"name": "web", "revision": "one"`)); err != nil {
			return err
		}
		return tx.Bucket([]byte("events")).Bucket([]byte("web")).Put([]byte{0, 0, 0, 0, 0, 0, 0, 1}, []byte("\x00"))
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	s = mustOpen(t, path)
	defer s.Close()
	for name, call := range map[string]func() error{
		"get endpoint":   func() error { _, err := s.GetEndpoint(ctx, "web"); return err },
		"list endpoints": func() error { _, err := s.ListEndpoints(ctx); return err },
		"put endpoint": func() error {
			_, err := s.PutEndpoint(ctx, rollout.Endpoint{Name: "web"}, rollout.RevisionAny)
			return err
		},
		"list events": func() error { _, err := s.ListEvents(ctx, "web", 0, 0); return err },
	} {
		err := call()
		if rollout.ErrorCode(err) != rollout.EINTERNAL || !strings.Contains(err.Error(), "decode") || !strings.Contains(err.Error(), "web") {
			t.Errorf("%s of a corrupt value: error %v, want an internal error naming the value", name, err)
		}
	}
}

func mustOpen(t *testing.T, path string, opts ...bolt.Option) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(path, opts...)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return s
}

func closeStore(t *testing.T, s *bolt.Store) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
}
