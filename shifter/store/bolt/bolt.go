// Package bolt implements store.Store over bbolt: one file on the shifter's
// disk, ACID transactions, and nothing else to run, which is all a single
// shifter needs.
//
// Layout. Every value is the JSON encoding of a rollout type:
//
//	endpoints/<name>             Endpoint
//	states/<endpoint>            State
//	releases/<endpoint>/<track>  Release
//	commands/<endpoint>/<seq>    Command
//	events/<endpoint>/<seq>      Event
//	revisions/<endpoint>/<rev>   SpecRevision
//	meta/schema_version          the layout's version (store.SchemaVersion)
//
// A <seq> is 8 bytes big-endian, so keys sort in sequence order, and is taken
// from the NextSequence counter of the per-endpoint bucket. Deleting an
// endpoint deletes its commands bucket, so a recreated endpoint numbers its
// commands from 1 again just as its new state starts from 0, but never its
// events bucket: the trail outlives the endpoint and keeps counting if the
// name is reused. An endpoint's spec revisions go with it: a recreated
// endpoint counts its revisions from 1 again. The revisions bucket is created
// by the first write that needs it.
//
// A new file is written at store.SchemaVersion; Open brings a file of an
// older version to it (see migrations) and refuses one of a newer version.
package bolt

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store"
)

var _ store.Store = (*Store)(nil)

// Top-level buckets, created by Open.
const (
	endpointsBucket = "endpoints"
	statesBucket    = "states"
	releasesBucket  = "releases"
	commandsBucket  = "commands"
	eventsBucket    = "events"
	// revisionsBucket is created by the first PutEndpoint that needs it.
	revisionsBucket = "revisions"
)

// DefaultTimeout is how long Open waits for the file lock. bbolt holds an
// exclusive lock while the file is open, so a second shifter started on the
// same file would otherwise hang without a word.
const DefaultTimeout = time.Second

// Store is a store.Store in a bbolt file. It is safe for concurrent use:
// bbolt runs one write transaction at a time, so every read-modify-write
// below is atomic.
type Store struct {
	db  *bbolt.DB
	now func() time.Time
}

// Option configures Open.
type Option func(*options)

type options struct {
	now         func() time.Time
	timeout     time.Duration
	initialised func(damaged error, aside string)
	migrated    func(from, to int)
}

// WithNow sets the clock that stamps UpdatedAt, CreatedAt and the times of
// events and commands, so tests can control it. The default is time.Now.
func WithNow(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// WithTimeout sets how long Open waits for another process to release the
// file (0: for ever). The default is DefaultTimeout.
func WithTimeout(d time.Duration) Option {
	return func(o *options) { o.timeout = d }
}

// WithInitialise lets Open start an empty store in place of a file that is
// empty, not a bbolt file or damaged (a *DamagedError without it). The old
// file is moved aside, never deleted, and done hears why and where to.
func WithInitialise(done func(damaged error, aside string)) Option {
	return func(o *options) { o.initialised = done }
}

// WithMigrated lets done hear that Open brought a file written at schema
// version from to version to, the current one.
func WithMigrated(done func(from, to int)) Option {
	return func(o *options) { o.migrated = done }
}

// Open opens or creates the store at path. A file that is there but is
// not a sound store is refused with a *DamagedError unless WithInitialise.
// A file of an older schema version is migrated in place, in one
// transaction; one of a newer version is refused, unchanged, with a
// *store.NewerSchemaError.
func Open(path string, opts ...Option) (*Store, error) {
	o := options{now: time.Now, timeout: DefaultTimeout}
	for _, opt := range opts {
		opt(&o)
	}

	bopts := bbolt.Options{Timeout: o.timeout}
	db, err := openChecked(path, bopts)
	if damaged := (*DamagedError)(nil); errors.As(err, &damaged) && o.initialised != nil {
		aside, moveErr := moveAside(path, o.now())
		if moveErr != nil {
			return nil, moveErr
		}
		o.initialised(damaged, aside)
		db, err = openChecked(path, bopts)
	}
	if err != nil {
		return nil, err
	}
	// A lone write waits this long for others to share its commit.
	db.MaxBatchDelay = 2 * time.Millisecond

	if err := upgrade(db, path, o.migrated); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return &Store{db: db, now: o.now}, nil
}

// Close closes the file and releases its lock.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// GetEndpoint returns the endpoint called name.
func (s *Store) GetEndpoint(ctx context.Context, name string) (rollout.Endpoint, error) {
	var ep rollout.Endpoint
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		var found bool
		var err error
		ep, found, err = get[rollout.Endpoint](tx.Bucket([]byte(endpointsBucket)), []byte(name))
		if err == nil && !found {
			err = store.EndpointNotFound(name)
		}
		return err
	})
	if err != nil {
		return rollout.Endpoint{}, annotate(err, "get endpoint %q", name)
	}
	return ep, nil
}

// ListEndpoints returns every endpoint, sorted by name (bbolt keeps keys in
// byte order, which is string order).
func (s *Store) ListEndpoints(ctx context.Context) ([]rollout.Endpoint, error) {
	var eps []rollout.Endpoint
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		var err error
		eps, err = list[rollout.Endpoint](tx.Bucket([]byte(endpointsBucket)), nil, 0)
		return err
	})
	if err != nil {
		return nil, annotate(err, "list endpoints")
	}
	return eps, nil
}

// PutEndpoint creates or replaces ep if its stored revision is expect.
func (s *Store) PutEndpoint(ctx context.Context, ep rollout.Endpoint, expect int64, events ...rollout.Event) (rollout.Endpoint, error) {
	if ep.Name == "" {
		return rollout.Endpoint{}, rollout.Invalid("name", "an endpoint name is required")
	}
	var out rollout.Endpoint
	err := s.update(ctx, func(tx *bbolt.Tx, now time.Time) error {
		b := tx.Bucket([]byte(endpointsBucket))
		old, found, err := get[rollout.Endpoint](b, []byte(ep.Name))
		if err != nil {
			return err
		}
		if err := store.CheckRevision(store.EndpointObject(ep.Name), expect, old.Revision); err != nil {
			return err
		}
		ep.Revision = old.Revision + 1
		ep.CreatedAt, ep.UpdatedAt = old.CreatedAt, now
		if !found {
			ep.CreatedAt = now
		}
		if out, err = put(b, []byte(ep.Name), ep); err != nil {
			return err
		}
		if err := keepRevision(tx, out); err != nil {
			return err
		}
		_, err = appendEvents(tx, ep.Name, now, events)
		return err
	})
	if err != nil {
		return rollout.Endpoint{}, annotate(err, "put endpoint %q", ep.Name)
	}
	return out, nil
}

// DeleteEndpoint removes the endpoint called name, its releases, state and
// commands, and appends events to its trail, which it keeps.
func (s *Store) DeleteEndpoint(ctx context.Context, name string, expect int64, events ...rollout.Event) error {
	err := s.update(ctx, func(tx *bbolt.Tx, now time.Time) error {
		key := []byte(name)
		b := tx.Bucket([]byte(endpointsBucket))
		old, found, err := get[rollout.Endpoint](b, key)
		if err != nil {
			return err
		}
		if !found {
			return store.EndpointNotFound(name)
		}
		if err := store.CheckRevision(store.EndpointObject(name), expect, old.Revision); err != nil {
			return err
		}
		if err := b.Delete(key); err != nil {
			return err
		}
		if err := tx.Bucket([]byte(statesBucket)).Delete(key); err != nil {
			return err
		}
		for _, parent := range []string{releasesBucket, commandsBucket, revisionsBucket} {
			b := tx.Bucket([]byte(parent))
			if b == nil {
				continue // revisions: none kept yet
			}
			err := b.DeleteBucket(key)
			if err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
				return fmt.Errorf("delete %s: %w", parent, err)
			}
		}
		_, err = appendEvents(tx, name, now, events)
		return err
	})
	return annotate(err, "delete endpoint %q", name)
}

// GetRelease returns the release of endpoint on track.
func (s *Store) GetRelease(ctx context.Context, endpoint string, track rollout.Track) (rollout.Release, error) {
	var r rollout.Release
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		var err error
		r, _, err = release(tx, endpoint, track)
		return err
	})
	if err != nil {
		return rollout.Release{}, annotate(err, "get %s release of %q", track, endpoint)
	}
	return r, nil
}

// ListReleases returns the releases of endpoint in the order of
// rollout.Tracks, production first.
func (s *Store) ListReleases(ctx context.Context, endpoint string) ([]rollout.Release, error) {
	rs := []rollout.Release{}
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		b, err := releases(tx, endpoint)
		if err != nil || b == nil {
			return err
		}
		for _, track := range rollout.Tracks {
			r, found, err := get[rollout.Release](b, []byte(track))
			if err != nil {
				return err
			}
			if found {
				rs = append(rs, r)
			}
		}
		return nil
	})
	if err != nil {
		return nil, annotate(err, "list releases of %q", endpoint)
	}
	return rs, nil
}

// PutRelease creates or replaces the release of r.Endpoint on r.Track if its
// stored revision is expect.
func (s *Store) PutRelease(ctx context.Context, r rollout.Release, expect int64, events ...rollout.Event) (rollout.Release, error) {
	if !r.Track.Valid() {
		return rollout.Release{}, rollout.Invalid("track", "%q is not a track", r.Track)
	}
	var out rollout.Release
	err := s.update(ctx, func(tx *bbolt.Tx, now time.Time) error {
		if err := endpointExists(tx, r.Endpoint); err != nil {
			return err
		}
		b, err := tx.Bucket([]byte(releasesBucket)).CreateBucketIfNotExists([]byte(r.Endpoint))
		if err != nil {
			return err
		}
		old, _, err := get[rollout.Release](b, []byte(r.Track))
		if err != nil {
			return err
		}
		if err := store.CheckRevision(store.ReleaseObject(r.Endpoint, r.Track), expect, old.Revision); err != nil {
			return err
		}
		r.Revision, r.UpdatedAt = old.Revision+1, now
		if out, err = put(b, []byte(r.Track), r); err != nil {
			return err
		}
		_, err = appendEvents(tx, r.Endpoint, now, events)
		return err
	})
	if err != nil {
		return rollout.Release{}, annotate(err, "put %s release of %q", r.Track, r.Endpoint)
	}
	return out, nil
}

// DeleteRelease stops declaring a release of endpoint on track.
func (s *Store) DeleteRelease(ctx context.Context, endpoint string, track rollout.Track, expect int64, events ...rollout.Event) error {
	err := s.update(ctx, func(tx *bbolt.Tx, now time.Time) error {
		old, b, err := release(tx, endpoint, track)
		if err != nil {
			return err
		}
		if err := store.CheckRevision(store.ReleaseObject(endpoint, track), expect, old.Revision); err != nil {
			return err
		}
		if err := b.Delete([]byte(track)); err != nil {
			return err
		}
		_, err = appendEvents(tx, endpoint, now, events)
		return err
	})
	return annotate(err, "delete %s release of %q", track, endpoint)
}

// GetState returns the state of endpoint, or a zero state at revision 0.
func (s *Store) GetState(ctx context.Context, endpoint string) (rollout.State, error) {
	st := rollout.State{Endpoint: endpoint}
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		stored, found, err := get[rollout.State](tx.Bucket([]byte(statesBucket)), []byte(endpoint))
		if found {
			st = stored
		}
		return err
	})
	if err != nil {
		return rollout.State{}, annotate(err, "get state of %q", endpoint)
	}
	return st, nil
}

// PutState replaces the state of st.Endpoint if its stored revision is expect.
func (s *Store) PutState(ctx context.Context, st rollout.State, expect int64, events ...rollout.Event) (rollout.State, error) {
	var out rollout.State
	err := s.update(ctx, func(tx *bbolt.Tx, now time.Time) error {
		if err := endpointExists(tx, st.Endpoint); err != nil {
			return err
		}
		b := tx.Bucket([]byte(statesBucket))
		old, _, err := get[revisionOnly](b, []byte(st.Endpoint))
		if err != nil {
			return err
		}
		if err := store.CheckRevision(store.StateObject(st.Endpoint), expect, old.Revision); err != nil {
			return err
		}
		st.Revision, st.UpdatedAt = old.Revision+1, now
		if out, err = put(b, []byte(st.Endpoint), st); err != nil {
			return err
		}
		_, err = appendEvents(tx, st.Endpoint, now, events)
		return err
	})
	if err != nil {
		return rollout.State{}, annotate(err, "put state of %q", st.Endpoint)
	}
	return out, nil
}

// ListSpecRevisions returns the kept revisions of endpoint's spec from from to
// to (to <= 0: the latest), up to limit of them.
func (s *Store) ListSpecRevisions(ctx context.Context, endpoint string, from, to int64, limit int) ([]rollout.SpecRevision, error) {
	revs := []rollout.SpecRevision{}
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		if err := endpointExists(tx, endpoint); err != nil {
			return err
		}
		b := specRevisions(tx, endpoint)
		if b == nil {
			return nil
		}
		var err error
		revs, err = list[rollout.SpecRevision](b, afterKey(from-1), limit)
		if to > 0 {
			end := len(revs)
			for end > 0 && revs[end-1].Revision > to {
				end--
			}
			revs = revs[:end]
		}
		return err
	})
	if err != nil {
		return nil, annotate(err, "list spec revisions of %q", endpoint)
	}
	return revs, nil
}

// DeleteSpecRevisions deletes the given revisions of endpoint's spec but its
// current one.
func (s *Store) DeleteSpecRevisions(ctx context.Context, endpoint string, revisions ...int64) error {
	err := s.update(ctx, func(tx *bbolt.Tx, _ time.Time) error {
		ep, found, err := get[revisionOnly](tx.Bucket([]byte(endpointsBucket)), []byte(endpoint))
		if err != nil {
			return err
		}
		if !found {
			return store.EndpointNotFound(endpoint)
		}
		b := specRevisions(tx, endpoint)
		if b == nil {
			return nil
		}
		for _, rev := range revisions {
			if rev != ep.Revision {
				if err := b.Delete(seqKey(rev)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return annotate(err, "delete spec revisions of %q", endpoint)
}

// AppendEvents appends events to the trail of endpoint.
func (s *Store) AppendEvents(ctx context.Context, endpoint string, events ...rollout.Event) ([]rollout.Event, error) {
	if endpoint == "" {
		return nil, rollout.Invalid("endpoint", "an endpoint name is required")
	}
	var out []rollout.Event
	err := s.update(ctx, func(tx *bbolt.Tx, now time.Time) error {
		var err error
		out, err = appendEvents(tx, endpoint, now, events)
		return err
	})
	if err != nil {
		return nil, annotate(err, "append events of %q", endpoint)
	}
	return out, nil
}

// ListEvents returns up to limit events of endpoint after sequence after.
func (s *Store) ListEvents(ctx context.Context, endpoint string, after int64, limit int) ([]rollout.Event, error) {
	events := []rollout.Event{}
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(eventsBucket)).Bucket([]byte(endpoint))
		if b == nil {
			return nil
		}
		var err error
		events, err = list[rollout.Event](b, afterKey(after), limit)
		return err
	})
	if err != nil {
		return nil, annotate(err, "list events of %q", endpoint)
	}
	return events, nil
}

// AppendCommand queues c for its endpoint's reconciler.
func (s *Store) AppendCommand(ctx context.Context, c rollout.Command) (rollout.Command, error) {
	var out rollout.Command
	err := s.update(ctx, func(tx *bbolt.Tx, now time.Time) error {
		if err := endpointExists(tx, c.Endpoint); err != nil {
			return err
		}
		b, err := tx.Bucket([]byte(commandsBucket)).CreateBucketIfNotExists([]byte(c.Endpoint))
		if err != nil {
			return err
		}
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		c.Seq = int64(seq)
		if c.Time.IsZero() {
			c.Time = now
		}
		out, err = put(b, seqKey(c.Seq), c)
		return err
	})
	if err != nil {
		return rollout.Command{}, annotate(err, "append %s command to %q", c.Kind, c.Endpoint)
	}
	return out, nil
}

// ListCommands returns the commands of endpoint after sequence after.
func (s *Store) ListCommands(ctx context.Context, endpoint string, after int64) ([]rollout.Command, error) {
	cmds := []rollout.Command{}
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(commandsBucket)).Bucket([]byte(endpoint))
		if b == nil {
			return nil
		}
		var err error
		cmds, err = list[rollout.Command](b, afterKey(after), 0)
		return err
	})
	if err != nil {
		return nil, annotate(err, "list commands of %q", endpoint)
	}
	return cmds, nil
}

// view runs fn in a read transaction. bbolt cannot interrupt a transaction
// once it runs, so a cancelled context is checked before one starts.
func (s *Store) view(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(fn)
}

// update runs fn in a write transaction with the time of the write. The time
// is read inside the transaction, where writers are serialized, so that
// later writes never carry earlier times.
//
// Writes go through bbolt's Batch: the writes of many endpoints arriving
// together share one transaction and one fsync, which is what lets one
// shifter carry thousands of endpoints. fn may run more than once (alone,
// if another write of its batch failed), so it only reads and writes tx.
func (s *Store) update(ctx context.Context, fn func(tx *bbolt.Tx, now time.Time) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Batch(func(tx *bbolt.Tx) error {
		return fn(tx, s.now().UTC())
	})
}

// revisionOnly decodes just the revision of a stored object, which is all a
// write needs of the copy it replaces.
type revisionOnly struct {
	Revision int64 `json:"revision"`
}

// appendEvents numbers events from the trail of endpoint and stores them. It
// runs in the caller's transaction so that an object and the events that
// explain it are written together or not at all.
func appendEvents(tx *bbolt.Tx, endpoint string, now time.Time, events []rollout.Event) ([]rollout.Event, error) {
	if len(events) == 0 {
		return []rollout.Event{}, nil
	}
	b, err := tx.Bucket([]byte(eventsBucket)).CreateBucketIfNotExists([]byte(endpoint))
	if err != nil {
		return nil, err
	}
	out := make([]rollout.Event, 0, len(events))
	for _, e := range events {
		if err := store.CheckEventEndpoint(endpoint, e); err != nil {
			return nil, err
		}
		e.Endpoint = endpoint
		seq, err := b.NextSequence()
		if err != nil {
			return nil, err
		}
		e.Seq = int64(seq)
		if e.Time.IsZero() {
			e.Time = now
		}
		stored, err := put(b, seqKey(e.Seq), e)
		if err != nil {
			return nil, err
		}
		out = append(out, stored)
	}
	return out, nil
}

// keepRevision keeps ep, as just stored, in its spec's history.
func keepRevision(tx *bbolt.Tx, ep rollout.Endpoint) error {
	top, err := tx.CreateBucketIfNotExists([]byte(revisionsBucket))
	if err != nil {
		return err
	}
	b, err := top.CreateBucketIfNotExists([]byte(ep.Name))
	if err != nil {
		return err
	}
	_, err = put(b, seqKey(ep.Revision), rollout.NewSpecRevision(ep))
	return err
}

// specRevisions returns the bucket of endpoint's spec revisions, nil if
// none were kept.
func specRevisions(tx *bbolt.Tx, endpoint string) *bbolt.Bucket {
	top := tx.Bucket([]byte(revisionsBucket))
	if top == nil {
		return nil
	}
	return top.Bucket([]byte(endpoint))
}

// endpointExists returns ENOTFOUND unless the endpoint called name exists.
func endpointExists(tx *bbolt.Tx, name string) error {
	if tx.Bucket([]byte(endpointsBucket)).Get([]byte(name)) == nil {
		return store.EndpointNotFound(name)
	}
	return nil
}

// releases returns the releases bucket of endpoint, nil if it has none yet,
// or ENOTFOUND if the endpoint does not exist.
func releases(tx *bbolt.Tx, endpoint string) (*bbolt.Bucket, error) {
	if err := endpointExists(tx, endpoint); err != nil {
		return nil, err
	}
	return tx.Bucket([]byte(releasesBucket)).Bucket([]byte(endpoint)), nil
}

// release returns the release of endpoint on track and the bucket it is in,
// or ENOTFOUND if either does not exist.
func release(tx *bbolt.Tx, endpoint string, track rollout.Track) (rollout.Release, *bbolt.Bucket, error) {
	b, err := releases(tx, endpoint)
	if err != nil {
		return rollout.Release{}, nil, err
	}
	if b != nil {
		r, found, err := get[rollout.Release](b, []byte(track))
		if err != nil || found {
			return r, b, err
		}
	}
	return rollout.Release{}, nil, store.ReleaseNotFound(endpoint, track)
}

// get decodes the value under key; found is false if there is none.
func get[T any](b *bbolt.Bucket, key []byte) (T, bool, error) {
	var zero, v T
	data := b.Get(key)
	if data == nil {
		return zero, false, nil
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return zero, false, fmt.Errorf("decode %q: %w", key, err)
	}
	return v, true, nil
}

// list decodes up to limit values (limit <= 0: all) from key from on
// (nil: the first key), in key order. An empty list is [], not nil, so that
// the API encodes it as [] rather than null.
func list[T any](b *bbolt.Bucket, from []byte, limit int) ([]T, error) {
	vs := []T{}
	c := b.Cursor()
	k, data := c.First()
	if from != nil {
		k, data = c.Seek(from)
	}
	for ; k != nil && (limit <= 0 || len(vs) < limit); k, data = c.Next() {
		var v T
		if err := json.Unmarshal(data, &v); err != nil {
			return nil, fmt.Errorf("decode %q: %w", k, err)
		}
		vs = append(vs, v)
	}
	return vs, nil
}

// put stores v under key and returns the stored copy, decoded from the bytes
// written: it is exactly what a later read returns (times included), and it
// shares no map or slice with v.
func put[T any](b *bbolt.Bucket, key []byte, v T) (T, error) {
	var zero, out T
	data, err := json.Marshal(v)
	if err != nil {
		return zero, fmt.Errorf("encode %q: %w", key, err)
	}
	if err := b.Put(key, data); err != nil {
		return zero, err
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return zero, fmt.Errorf("decode %q: %w", key, err)
	}
	return out, nil
}

// seqKey is the key of sequence number seq.
func seqKey(seq int64) []byte {
	key := make([]byte, 8)
	binary.BigEndian.PutUint64(key, uint64(seq))
	return key
}

// afterKey is the key of the first sequence number after after. Sequences
// start at 1, so a negative after lists from the start.
func afterKey(after int64) []byte {
	key := make([]byte, 8)
	binary.BigEndian.PutUint64(key, uint64(max(after, 0))+1)
	return key
}

// annotate says what was being done when err happened. Domain errors are
// returned as they are: they already name their object, and their message is
// what the API shows to a person.
func annotate(err error, format string, args ...any) error {
	var e *rollout.Error
	if err == nil || errors.As(err, &e) {
		return err
	}
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), err)
}
