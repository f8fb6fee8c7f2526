package dynamodb

import (
	"context"
	"math"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store"
)

// GetEndpoint returns the endpoint called name.
func (s *Store) GetEndpoint(ctx context.Context, name string) (rollout.Endpoint, error) {
	if err := ctx.Err(); err != nil {
		return rollout.Endpoint{}, err
	}
	r, err := s.get(ctx, endpointsPK, name)
	if err == nil && !r.found {
		err = store.EndpointNotFound(name)
	}
	if err != nil {
		return rollout.Endpoint{}, failed(err, "get endpoint %q", name)
	}
	return value[rollout.Endpoint](r)
}

// ListEndpoints returns every endpoint, sorted by name: the sort key of the
// endpoints partition.
func (s *Store) ListEndpoints(ctx context.Context) ([]rollout.Endpoint, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	eps := []rollout.Endpoint{}
	err := s.query(ctx, whole(endpointsPK), nil, func(item map[string]types.AttributeValue) (bool, error) {
		ep, err := itemValue[rollout.Endpoint](item)
		eps = append(eps, ep)
		return true, err
	})
	if err != nil {
		return nil, failed(err, "list endpoints")
	}
	return eps, nil
}

// PutEndpoint creates or replaces ep if its stored revision is expect.
func (s *Store) PutEndpoint(ctx context.Context, ep rollout.Endpoint, expect int64, events ...rollout.Event) (rollout.Endpoint, error) {
	if ep.Name == "" {
		return rollout.Endpoint{}, rollout.Invalid("name", "an endpoint name is required")
	}
	if err := checkEvents(ep.Name, events); err != nil {
		return rollout.Endpoint{}, err
	}
	var out rollout.Endpoint
	err := s.write(ctx, ep.Name, func(t *txn, now time.Time) error {
		old, err := s.get(ctx, endpointsPK, ep.Name)
		if err != nil {
			return err
		}
		if err := store.CheckRevision(store.EndpointObject(ep.Name), expect, old.rev); err != nil {
			return err
		}
		inc := old.inc
		ep.Revision, ep.CreatedAt, ep.UpdatedAt = old.rev+1, now, now
		if old.found {
			prev, err := value[rollout.Endpoint](old)
			if err != nil {
				return err
			}
			ep.CreatedAt = prev.CreatedAt
		} else {
			inc = newIncarnation()
		}
		data, stored, err := encode(ep)
		if err != nil {
			return err
		}
		s.put(t, old, map[string]types.AttributeValue{
			attrPK: str(endpointsPK), attrSK: str(ep.Name), attrData: str(data), attrRevision: num(ep.Revision), attrInc: str(inc),
		}, nil)
		out = stored
		if err := s.keepRevision(t, inc, stored); err != nil {
			return err
		}
		_, err = s.events(ctx, t, ep.Name, now, events)
		return err
	})
	if err != nil {
		return rollout.Endpoint{}, failed(err, "put endpoint %q", ep.Name)
	}
	return out, nil
}

// DeleteEndpoint removes the endpoint called name with its releases, state
// and command counter, and appends events to its trail, which it keeps.
func (s *Store) DeleteEndpoint(ctx context.Context, name string, expect int64, events ...rollout.Event) error {
	if err := checkEvents(name, events); err != nil {
		return err
	}
	err := s.write(ctx, name, func(t *txn, now time.Time) error {
		old, err := s.get(ctx, endpointsPK, name)
		if err != nil {
			return err
		}
		if !old.found {
			return store.EndpointNotFound(name)
		}
		if err := store.CheckRevision(store.EndpointObject(name), expect, old.rev); err != nil {
			return err
		}
		s.remove(t, endpointsPK, name, old)
		pk := endpointPK(name)
		for _, sk := range []string{stateSK, releaseSK(rollout.Production), releaseSK(rollout.Preview), cmdSeqSK} {
			t.add(types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key(pk, sk)}}, nil)
		}
		_, err = s.events(ctx, t, name, now, events)
		return err
	})
	return failed(err, "delete endpoint %q", name)
}

// GetRelease returns the release of endpoint on track. An endpoint that does
// not exist has no releases, so one read answers both questions.
func (s *Store) GetRelease(ctx context.Context, endpoint string, track rollout.Track) (rollout.Release, error) {
	if err := ctx.Err(); err != nil {
		return rollout.Release{}, err
	}
	r, err := s.get(ctx, endpointPK(endpoint), releaseSK(track))
	if err == nil && !r.found {
		err = store.ReleaseNotFound(endpoint, track)
	}
	if err != nil {
		return rollout.Release{}, failed(err, "get %s release of %q", track, endpoint)
	}
	return value[rollout.Release](r)
}

// ListReleases returns the releases of endpoint in the order of
// rollout.Tracks, production first.
func (s *Store) ListReleases(ctx context.Context, endpoint string) ([]rollout.Release, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rs := []rollout.Release{}
	err := s.query(ctx, prefixed(endpointPK(endpoint), releaseSK("")), nil, func(item map[string]types.AttributeValue) (bool, error) {
		r, err := itemValue[rollout.Release](item)
		rs = append(rs, r)
		return true, err
	})
	if err == nil && len(rs) == 0 {
		// No releases: the endpoint may not exist either.
		var ep record
		if ep, err = s.get(ctx, endpointsPK, endpoint); err == nil && !ep.found {
			err = store.EndpointNotFound(endpoint)
		}
	}
	if err != nil {
		return nil, failed(err, "list releases of %q", endpoint)
	}
	slices.SortFunc(rs, func(a, b rollout.Release) int {
		return slices.Index(rollout.Tracks, a.Track) - slices.Index(rollout.Tracks, b.Track)
	})
	return rs, nil
}

// PutRelease creates or replaces the release of r.Endpoint on r.Track if its
// stored revision is expect.
func (s *Store) PutRelease(ctx context.Context, r rollout.Release, expect int64, events ...rollout.Event) (rollout.Release, error) {
	if !r.Track.Valid() {
		return rollout.Release{}, rollout.Invalid("track", "%q is not a track", r.Track)
	}
	if err := checkEvents(r.Endpoint, events); err != nil {
		return rollout.Release{}, err
	}
	var out rollout.Release
	err := s.write(ctx, r.Endpoint, func(t *txn, now time.Time) error {
		pk, sk, object := endpointPK(r.Endpoint), releaseSK(r.Track), store.ReleaseObject(r.Endpoint, r.Track)
		old, err := s.current(ctx, pk, sk, expect)
		if err != nil {
			return err
		}
		if err := store.CheckRevision(object, expect, old.rev); err != nil {
			return err
		}
		if !old.found {
			s.requireEndpoint(t, r.Endpoint)
		}
		r.Revision, r.UpdatedAt = old.rev+1, now
		data, stored, err := encode(r)
		if err != nil {
			return err
		}
		s.put(t, old, map[string]types.AttributeValue{
			attrPK: str(pk), attrSK: str(sk), attrData: str(data), attrRevision: num(r.Revision),
		}, s.conflict(ctx, r.Endpoint, object, pk, sk, expect))
		out = stored
		_, err = s.events(ctx, t, r.Endpoint, now, events)
		return err
	})
	if err != nil {
		return rollout.Release{}, failed(err, "put %s release of %q", r.Track, r.Endpoint)
	}
	return out, nil
}

// DeleteRelease stops declaring a release of endpoint on track.
func (s *Store) DeleteRelease(ctx context.Context, endpoint string, track rollout.Track, expect int64, events ...rollout.Event) error {
	if err := checkEvents(endpoint, events); err != nil {
		return err
	}
	err := s.write(ctx, endpoint, func(t *txn, now time.Time) error {
		old, err := s.get(ctx, endpointPK(endpoint), releaseSK(track))
		if err != nil {
			return err
		}
		if !old.found {
			return store.ReleaseNotFound(endpoint, track)
		}
		if err := store.CheckRevision(store.ReleaseObject(endpoint, track), expect, old.rev); err != nil {
			return err
		}
		s.remove(t, endpointPK(endpoint), releaseSK(track), old)
		_, err = s.events(ctx, t, endpoint, now, events)
		return err
	})
	return failed(err, "delete %s release of %q", track, endpoint)
}

// GetState returns the state of endpoint, or a zero state at revision 0.
func (s *Store) GetState(ctx context.Context, endpoint string) (rollout.State, error) {
	if err := ctx.Err(); err != nil {
		return rollout.State{}, err
	}
	r, err := s.get(ctx, endpointPK(endpoint), stateSK)
	if err != nil {
		return rollout.State{}, failed(err, "get state of %q", endpoint)
	}
	if !r.found {
		return rollout.State{Endpoint: endpoint}, nil
	}
	return value[rollout.State](r)
}

// PutState replaces the state of st.Endpoint if its stored revision is expect.
func (s *Store) PutState(ctx context.Context, st rollout.State, expect int64, events ...rollout.Event) (rollout.State, error) {
	if err := checkEvents(st.Endpoint, events); err != nil {
		return rollout.State{}, err
	}
	var out rollout.State
	err := s.write(ctx, st.Endpoint, func(t *txn, now time.Time) error {
		pk, object := endpointPK(st.Endpoint), store.StateObject(st.Endpoint)
		old, err := s.current(ctx, pk, stateSK, expect)
		if err != nil {
			return err
		}
		if err := store.CheckRevision(object, expect, old.rev); err != nil {
			return err
		}
		if !old.found {
			s.requireEndpoint(t, st.Endpoint)
		}
		st.Revision, st.UpdatedAt = old.rev+1, now
		data, stored, err := encode(st)
		if err != nil {
			return err
		}
		s.put(t, old, map[string]types.AttributeValue{
			attrPK: str(pk), attrSK: str(stateSK), attrData: str(data), attrRevision: num(st.Revision),
		}, s.conflict(ctx, st.Endpoint, object, pk, stateSK, expect))
		out = stored
		_, err = s.events(ctx, t, st.Endpoint, now, events)
		return err
	})
	if err != nil {
		return rollout.State{}, failed(err, "put state of %q", st.Endpoint)
	}
	return out, nil
}

// AppendEvents appends events to the trail of endpoint.
func (s *Store) AppendEvents(ctx context.Context, endpoint string, events ...rollout.Event) ([]rollout.Event, error) {
	if endpoint == "" {
		return nil, rollout.Invalid("endpoint", "an endpoint name is required")
	}
	if err := checkEvents(endpoint, events); err != nil {
		return nil, err
	}
	if len(events) == 0 {
		return []rollout.Event{}, ctx.Err()
	}
	var out []rollout.Event
	err := s.write(ctx, endpoint, func(t *txn, now time.Time) error {
		var err error
		out, err = s.events(ctx, t, endpoint, now, events)
		return err
	})
	if err != nil {
		return nil, failed(err, "append events of %q", endpoint)
	}
	return out, nil
}

// ListEvents returns up to limit events of endpoint after sequence after.
// The batch that holds event after+1 may start before it: it is the last
// batch whose key is not above after+1, found first, then the batches are
// read in order from there.
func (s *Store) ListEvents(ctx context.Context, endpoint string, after int64, limit int) ([]rollout.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	events := []rollout.Event{}
	if limit <= 0 {
		limit = math.MaxInt
	}
	pk, from := trailPK(endpoint), max(after, 0)+1
	start := eventSK(from)
	if from > 1 {
		in := between(pk, eventSK(1), start)
		in.ScanIndexForward = aws.Bool(false)
		err := s.query(ctx, in, func() int32 { return 1 }, func(item map[string]types.AttributeValue) (bool, error) {
			start = stringAttr(item, attrSK)
			return false, nil
		})
		if err != nil {
			return nil, failed(err, "list events of %q", endpoint)
		}
	}
	err := s.query(ctx, between(pk, start, eventSK(math.MaxInt64)), func() int32 { return 100 }, func(item map[string]types.AttributeValue) (bool, error) {
		batch, err := itemValue[[]rollout.Event](item)
		for _, e := range batch {
			if e.Seq >= from && len(events) < limit {
				events = append(events, e)
			}
		}
		return len(events) < limit, err
	})
	if err != nil {
		return nil, failed(err, "list events of %q", endpoint)
	}
	return events, nil
}

// AppendCommand queues c for its endpoint's reconciler.
func (s *Store) AppendCommand(ctx context.Context, c rollout.Command) (rollout.Command, error) {
	var out rollout.Command
	err := s.write(ctx, c.Endpoint, func(t *txn, now time.Time) error {
		ep, err := s.get(ctx, endpointsPK, c.Endpoint)
		if err != nil {
			return err
		}
		if !ep.found {
			return store.EndpointNotFound(c.Endpoint)
		}
		// Still the incarnation read, or the command would go to the
		// trail of a deleted endpoint.
		t.add(types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
			TableName: &s.table, Key: key(endpointsPK, c.Endpoint), ConditionExpression: aws.String("inc = :inc"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":inc": str(ep.inc)},
		}}, nil)
		pk := endpointPK(c.Endpoint)
		seq, err := s.get(ctx, pk, cmdSeqSK)
		if err != nil {
			return err
		}
		c.Seq = seq.n + 1
		if c.Time.IsZero() {
			c.Time = now
		}
		data, stored, err := encode(c)
		if err != nil {
			return err
		}
		t.add(types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: map[string]types.AttributeValue{
			attrPK: str(pk), attrSK: str(commandSK(ep.inc, c.Seq)), attrData: str(data),
		}}}, nil)
		s.counter(t, pk, cmdSeqSK, seq, c.Seq, map[string]types.AttributeValue{attrInc: str(ep.inc)})
		out = stored
		return nil
	})
	if err != nil {
		return rollout.Command{}, failed(err, "append %s command to %q", c.Kind, c.Endpoint)
	}
	return out, nil
}

// ListCommands returns the commands of endpoint after sequence after: those
// of its current incarnation, which the command counter names. The counter
// alone answers the common question, whether there is any new command.
func (s *Store) ListCommands(ctx context.Context, endpoint string, after int64) ([]rollout.Command, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cmds := []rollout.Command{}
	seq, err := s.get(ctx, endpointPK(endpoint), cmdSeqSK)
	if err == nil && seq.n > after {
		in := between(endpointPK(endpoint), commandSK(seq.inc, max(after, 0)+1), commandSK(seq.inc, math.MaxInt64))
		err = s.query(ctx, in, nil, func(item map[string]types.AttributeValue) (bool, error) {
			c, err := itemValue[rollout.Command](item)
			cmds = append(cmds, c)
			return true, err
		})
	}
	if err != nil {
		return nil, failed(err, "list commands of %q", endpoint)
	}
	return cmds, nil
}
