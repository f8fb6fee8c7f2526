package metrics

import (
	"context"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store"
)

// Store returns s with the latency of every operation recorded.
func (m *Metrics) Store(s store.Store) store.Store { return &timedStore{s: s, m: m} }

type timedStore struct {
	s store.Store
	m *Metrics
}

var _ store.Store = (*timedStore)(nil)

func timed[T any](m *Metrics, op string, f func() (T, error)) (T, error) {
	defer m.observeStore(op, time.Now())
	return f()
}

func (t *timedStore) GetEndpoint(ctx context.Context, name string) (rollout.Endpoint, error) {
	return timed(t.m, "get_endpoint", func() (rollout.Endpoint, error) { return t.s.GetEndpoint(ctx, name) })
}

func (t *timedStore) ListEndpoints(ctx context.Context) ([]rollout.Endpoint, error) {
	return timed(t.m, "list_endpoints", func() ([]rollout.Endpoint, error) { return t.s.ListEndpoints(ctx) })
}

func (t *timedStore) PutEndpoint(ctx context.Context, ep rollout.Endpoint, expect int64, events ...rollout.Event) (rollout.Endpoint, error) {
	return timed(t.m, "put_endpoint", func() (rollout.Endpoint, error) { return t.s.PutEndpoint(ctx, ep, expect, events...) })
}

func (t *timedStore) DeleteEndpoint(ctx context.Context, name string, expect int64, events ...rollout.Event) error {
	_, err := timed(t.m, "delete_endpoint", func() (struct{}, error) { return struct{}{}, t.s.DeleteEndpoint(ctx, name, expect, events...) })
	return err
}

func (t *timedStore) ListSpecRevisions(ctx context.Context, endpoint string, from, to int64, limit int) ([]rollout.SpecRevision, error) {
	return timed(t.m, "list_spec_revisions", func() ([]rollout.SpecRevision, error) {
		return t.s.ListSpecRevisions(ctx, endpoint, from, to, limit)
	})
}

func (t *timedStore) DeleteSpecRevisions(ctx context.Context, endpoint string, revisions ...int64) error {
	_, err := timed(t.m, "delete_spec_revisions", func() (struct{}, error) {
		return struct{}{}, t.s.DeleteSpecRevisions(ctx, endpoint, revisions...)
	})
	return err
}

func (t *timedStore) GetRelease(ctx context.Context, endpoint string, track rollout.Track) (rollout.Release, error) {
	return timed(t.m, "get_release", func() (rollout.Release, error) { return t.s.GetRelease(ctx, endpoint, track) })
}

func (t *timedStore) ListReleases(ctx context.Context, endpoint string) ([]rollout.Release, error) {
	return timed(t.m, "list_releases", func() ([]rollout.Release, error) { return t.s.ListReleases(ctx, endpoint) })
}

func (t *timedStore) PutRelease(ctx context.Context, r rollout.Release, expect int64, events ...rollout.Event) (rollout.Release, error) {
	return timed(t.m, "put_release", func() (rollout.Release, error) { return t.s.PutRelease(ctx, r, expect, events...) })
}

func (t *timedStore) DeleteRelease(ctx context.Context, endpoint string, track rollout.Track, expect int64, events ...rollout.Event) error {
	_, err := timed(t.m, "delete_release", func() (struct{}, error) {
		return struct{}{}, t.s.DeleteRelease(ctx, endpoint, track, expect, events...)
	})
	return err
}

func (t *timedStore) GetState(ctx context.Context, endpoint string) (rollout.State, error) {
	return timed(t.m, "get_state", func() (rollout.State, error) { return t.s.GetState(ctx, endpoint) })
}

func (t *timedStore) PutState(ctx context.Context, st rollout.State, expect int64, events ...rollout.Event) (rollout.State, error) {
	return timed(t.m, "put_state", func() (rollout.State, error) { return t.s.PutState(ctx, st, expect, events...) })
}

func (t *timedStore) AppendEvents(ctx context.Context, endpoint string, events ...rollout.Event) ([]rollout.Event, error) {
	return timed(t.m, "append_events", func() ([]rollout.Event, error) { return t.s.AppendEvents(ctx, endpoint, events...) })
}

func (t *timedStore) ListEvents(ctx context.Context, endpoint string, after int64, limit int) ([]rollout.Event, error) {
	return timed(t.m, "list_events", func() ([]rollout.Event, error) { return t.s.ListEvents(ctx, endpoint, after, limit) })
}

func (t *timedStore) AppendCommand(ctx context.Context, c rollout.Command) (rollout.Command, error) {
	return timed(t.m, "append_command", func() (rollout.Command, error) { return t.s.AppendCommand(ctx, c) })
}

func (t *timedStore) ListCommands(ctx context.Context, endpoint string, after int64) ([]rollout.Command, error) {
	return timed(t.m, "list_commands", func() ([]rollout.Command, error) { return t.s.ListCommands(ctx, endpoint, after) })
}

func (t *timedStore) Close() error { return t.s.Close() }
