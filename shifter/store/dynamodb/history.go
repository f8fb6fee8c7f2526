package dynamodb

import (
	"context"
	"math"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store"
)

// deleteBatch is how many revisions one transaction deletes: DynamoDB takes
// 100 items, and a write under a lease adds its check.
const deleteBatch = 50

// keepRevision adds to t the revision ep, as it is stored, keeps in its
// spec's history, under the endpoint's incarnation inc.
func (s *Store) keepRevision(t *txn, inc string, ep rollout.Endpoint) error {
	data, _, err := encode(rollout.NewSpecRevision(ep))
	if err != nil {
		return err
	}
	t.add(types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: map[string]types.AttributeValue{
		attrPK: str(endpointPK(ep.Name)), attrSK: str(specSK(inc, ep.Revision)), attrData: str(data),
	}}}, nil)
	return nil
}

// ListSpecRevisions returns the kept revisions of endpoint's spec from from
// to to (to <= 0: the latest), up to limit of them: those of the endpoint's
// current incarnation.
func (s *Store) ListSpecRevisions(ctx context.Context, endpoint string, from, to int64, limit int) ([]rollout.SpecRevision, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	revs := []rollout.SpecRevision{}
	ep, err := s.get(ctx, endpointsPK, endpoint)
	if err == nil && !ep.found {
		err = store.EndpointNotFound(endpoint)
	}
	if to <= 0 {
		to = math.MaxInt64
	}
	if limit <= 0 {
		limit = math.MaxInt
	}
	// DynamoDB refuses a BETWEEN whose bounds are inverted (moto does
	// not): such a range holds nothing.
	if err == nil && max(from, 1) <= to {
		in := between(endpointPK(endpoint), specSK(ep.inc, max(from, 1)), specSK(ep.inc, to))
		err = s.query(ctx, in, func() int32 { return int32(min(limit-len(revs), 100)) }, func(item map[string]types.AttributeValue) (bool, error) {
			r, err := itemValue[rollout.SpecRevision](item)
			revs = append(revs, r)
			return len(revs) < limit, err
		})
	}
	if err != nil {
		return nil, failed(err, "list spec revisions of %q", endpoint)
	}
	return revs, nil
}

// DeleteSpecRevisions deletes the given revisions of endpoint's spec but its
// current one, a batch per transaction.
func (s *Store) DeleteSpecRevisions(ctx context.Context, endpoint string, revisions ...int64) error {
	ep, err := s.get(ctx, endpointsPK, endpoint)
	if err == nil && !ep.found {
		err = store.EndpointNotFound(endpoint)
	}
	// A transaction may not name an item twice.
	gone := slices.Compact(slices.Sorted(slices.Values(revisions)))
	gone = slices.DeleteFunc(gone, func(rev int64) bool { return rev == ep.rev })
	for len(gone) > 0 && err == nil {
		batch := gone[:min(len(gone), deleteBatch)]
		gone = gone[len(batch):]
		err = s.write(ctx, endpoint, func(t *txn, _ time.Time) error {
			for _, rev := range batch {
				t.add(types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key(endpointPK(endpoint), specSK(ep.inc, rev))}}, nil)
			}
			return nil
		})
	}
	return failed(err, "delete spec revisions of %q", endpoint)
}
