// Package store defines where the shifter keeps what must survive a restart:
// endpoints, desired releases, rollout state, the event trail and operator
// commands. Implementations live in sub-packages (bolt for one embedded file,
// dynamodb for replicas) and must pass the conformance suite in storetest.
//
// Every object carries a revision so that writers never silently overwrite
// each other: a write names the revision it read (optimistic concurrency),
// which is how two Terraform runs on one endpoint, or two shifter replicas,
// are told apart from a legitimate update.
package store

import (
	"context"
	"fmt"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// Store keeps the shifter's durable data. Errors are *rollout.Error (possibly
// wrapped) for everything a caller can act on: ENOTFOUND for a missing
// endpoint or release, ECONFLICT for a revision that does not match, EINVALID
// for a request no store could satisfy (an empty name, an unknown track).
// All returned objects are independent copies.
type Store interface {
	GetEndpoint(ctx context.Context, name string) (rollout.Endpoint, error)
	ListEndpoints(ctx context.Context) ([]rollout.Endpoint, error) // sorted by name
	// PutEndpoint creates or replaces an endpoint if its current revision is expect
	// (rollout.RevisionAny: no check, rollout.RevisionNew: must not exist). The stored
	// copy gets revision old+1 (1 when created), UpdatedAt = now, CreatedAt kept from
	// the old copy (now when created).
	// events are appended in the same transaction.
	PutEndpoint(ctx context.Context, ep rollout.Endpoint, expect int64, events ...rollout.Event) (rollout.Endpoint, error)
	// DeleteEndpoint removes the endpoint with its releases, state and commands (not its events,
	// whose sequence keeps counting if the name is reused).
	// Deleting an endpoint that does not exist is ENOTFOUND whatever expect is.
	DeleteEndpoint(ctx context.Context, name string, expect int64, events ...rollout.Event) error

	GetRelease(ctx context.Context, endpoint string, track rollout.Track) (rollout.Release, error)
	ListReleases(ctx context.Context, endpoint string) ([]rollout.Release, error) // production first
	// PutRelease follows the revision rules of PutEndpoint (a release has no CreatedAt).
	PutRelease(ctx context.Context, r rollout.Release, expect int64, events ...rollout.Event) (rollout.Release, error)
	DeleteRelease(ctx context.Context, endpoint string, track rollout.Track, expect int64, events ...rollout.Event) error

	// GetState returns the stored state, or a zero State{Endpoint: endpoint} with revision 0 if none was stored
	// (whether or not the endpoint exists).
	GetState(ctx context.Context, endpoint string) (rollout.State, error)
	PutState(ctx context.Context, s rollout.State, expect int64, events ...rollout.Event) (rollout.State, error)

	// ListSpecRevisions returns the kept revisions of the endpoint's spec
	// numbered from to to (to <= 0: up to the latest), oldest first, at most
	// limit of them (limit <= 0: all). Every PutEndpoint keeps the copy it
	// stores as rollout.NewSpecRevision, in the same transaction; the
	// revisions go with their endpoint. ENOTFOUND if the endpoint does not
	// exist.
	ListSpecRevisions(ctx context.Context, endpoint string, from, to int64, limit int) ([]rollout.SpecRevision, error)
	// DeleteSpecRevisions lets the given revisions of the endpoint's spec go
	// (retention). The current revision is always kept, and revisions that
	// are not kept are passed over. ENOTFOUND if the endpoint does not
	// exist.
	DeleteSpecRevisions(ctx context.Context, endpoint string, revisions ...int64) error

	// AppendEvents assigns each event the endpoint's next sequence number (1, 2, ...), and the store's
	// now as Time when Time is zero, and returns them.
	// The endpoint need not exist: its trail outlives it.
	AppendEvents(ctx context.Context, endpoint string, events ...rollout.Event) ([]rollout.Event, error)
	// ListEvents returns up to limit events with Seq > after in order (limit <= 0: all).
	ListEvents(ctx context.Context, endpoint string, after int64, limit int) ([]rollout.Event, error)

	// AppendCommand assigns the next per-endpoint command sequence and Time (if zero).
	AppendCommand(ctx context.Context, c rollout.Command) (rollout.Command, error)
	ListCommands(ctx context.Context, endpoint string, after int64) ([]rollout.Command, error)

	Close() error
}

// CheckRevision returns nil if a write expecting revision expect may replace
// an object whose current revision is current (0: it does not exist), and
// otherwise the ECONFLICT or EINVALID error every implementation reports.
// object names what is written, such as `endpoint "web"`.
func CheckRevision(object string, expect, current int64) error {
	switch {
	case expect < rollout.RevisionAny:
		return rollout.Invalid("revision", "%s: %d is not a revision", object, expect)
	case expect == rollout.RevisionAny || expect == current:
		return nil
	case current == rollout.RevisionNew:
		return rollout.Errorf(rollout.ECONFLICT, "%s: expected revision %d, but it does not exist (current revision 0)", object, expect)
	case expect == rollout.RevisionNew:
		return rollout.Errorf(rollout.ECONFLICT, "%s: expected a new object (revision 0), but it exists at revision %d", object, current)
	default:
		return rollout.Errorf(rollout.ECONFLICT, "%s: expected revision %d, current revision %d", object, expect, current)
	}
}

// Names of stored objects in errors, such as `endpoint "web"`, as every
// implementation writes them.

// EndpointObject names an endpoint.
func EndpointObject(name string) string { return fmt.Sprintf("endpoint %q", name) }

// ReleaseObject names a track's release of an endpoint.
func ReleaseObject(endpoint string, track rollout.Track) string {
	return fmt.Sprintf("%s release of endpoint %q", track, endpoint)
}

// StateObject names an endpoint's rollout state.
func StateObject(endpoint string) string { return fmt.Sprintf("state of endpoint %q", endpoint) }

// EndpointNotFound is the ENOTFOUND error of a missing endpoint.
func EndpointNotFound(name string) error {
	return rollout.Errorf(rollout.ENOTFOUND, "endpoint %q not found", name)
}

// ReleaseNotFound is the ENOTFOUND error of a track with no release.
func ReleaseNotFound(endpoint string, track rollout.Track) error {
	return rollout.Errorf(rollout.ENOTFOUND, "%s not found", ReleaseObject(endpoint, track))
}

// CheckEventEndpoint refuses an event of another endpoint appended to the
// trail of endpoint, a bug in the caller; an event naming no endpoint is
// the trail's own.
func CheckEventEndpoint(endpoint string, e rollout.Event) error {
	if e.Endpoint != "" && e.Endpoint != endpoint {
		return rollout.Errorf(rollout.EINTERNAL, "event %q of endpoint %q cannot be appended to the trail of %q", e.Type, e.Endpoint, endpoint)
	}
	return nil
}

// Leases is what a store shared by several shifter replicas adds, so that at
// most one replica acts on an endpoint at a time (DESIGN §4, invariant 7).
// A store used by a single process (bolt) does not implement it.
//
// Time is the caller's: a lease expires when the clock of the store's
// process passes Expires, and a replica compares another's Expires with its
// own clock, so replicas' clocks must agree to well within the safety margin
// a lease holder keeps (see reconcile.Config.LeaseMargin).
type Leases interface {
	// AcquireLease takes the lease of endpoint for holder for ttl if no one
	// holds it, it expired or was released, or holder already holds it.
	// Every acquisition starts a new Generation, even by the same holder,
	// so that whatever acted under the previous one is fenced off; only
	// RenewLease keeps a generation. A live lease of another holder is
	// ECONFLICT.
	AcquireLease(ctx context.Context, endpoint, holder string, ttl time.Duration) (Lease, error)
	// RenewLease extends l for ttl from now if l.Holder still holds it with
	// l.Generation, even if it expired meanwhile (no one else took it, so
	// no one else acted); otherwise ECONFLICT.
	RenewLease(ctx context.Context, l Lease, ttl time.Duration) (Lease, error)
	// ReleaseLease gives l up at once, so another replica may take it
	// without waiting for it to expire; ECONFLICT if l is no longer held.
	ReleaseLease(ctx context.Context, l Lease) error
	// ListLeases returns every lease ever taken, expired ones included,
	// sorted by endpoint.
	ListLeases(ctx context.Context) ([]Lease, error)

	// Heartbeat records that replica is alive for ttl; a ttl of 0 says it
	// is leaving.
	Heartbeat(ctx context.Context, replica string, ttl time.Duration) error
	// Replicas returns the replicas whose heartbeat has not expired,
	// sorted by ID.
	Replicas(ctx context.Context) ([]Replica, error)

	// Poke records that endpoint changed, for the replica that holds it to
	// act now rather than at its next resync: a replica that accepts a
	// write for an endpoint it does not hold pokes it.
	Poke(ctx context.Context, endpoint string) error
	// Poked returns the pokes recorded at or after since, by the clock of
	// the replica that recorded each, oldest first.
	Poked(ctx context.Context, since time.Time) ([]Poke, error)
}

// Poke is one recorded change of an endpoint (Leases.Poke).
type Poke struct {
	Endpoint string
	At       time.Time
	// ID tells pokes recorded at the same time apart.
	ID string
}

// Lease is the right of one holder to act on an endpoint until Expires.
// Generation grows each time the lease is taken anew, so that a write made
// under an older generation can be refused (fencing).
type Lease struct {
	Endpoint   string    `json:"endpoint"`
	Holder     string    `json:"holder"`
	Generation int64     `json:"generation"`
	Expires    time.Time `json:"expires"`
}

// Replica is a live shifter replica.
type Replica struct {
	ID      string    `json:"id"`
	Expires time.Time `json:"expires"`
}

type leaseKey struct{}

// WithLease returns a context whose writes are fenced by l: a store
// implementing Leases makes every write to l.Endpoint (its spec, releases,
// state, events or commands) made with this context conditional on l.Holder
// still holding the lease with l.Generation, unexpired by the writer's clock,
// and otherwise refuses it with ECONFLICT and writes nothing. A write to
// another endpoint with this context is EINTERNAL: it is a bug in the caller.
// Stores without leases ignore it.
func WithLease(ctx context.Context, l Lease) context.Context {
	return context.WithValue(ctx, leaseKey{}, l)
}

// LeaseFrom returns the lease WithLease put in ctx.
func LeaseFrom(ctx context.Context) (Lease, bool) {
	l, ok := ctx.Value(leaseKey{}).(Lease)
	return l, ok
}

// LeaseLost is the ECONFLICT error of a write or renewal refused because l
// is no longer held as it was.
func LeaseLost(l Lease) error {
	return rollout.Errorf(rollout.ECONFLICT, "the lease of endpoint %q is no longer held by %q with generation %d", l.Endpoint, l.Holder, l.Generation)
}
