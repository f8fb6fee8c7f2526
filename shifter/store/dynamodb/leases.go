package dynamodb

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store"
)

// heartbeatRetention is how long DynamoDB keeps the heartbeat of a replica
// that stopped beating (its TTL attribute): long enough for a person to see
// which replica went away, short enough that replicas restarted with new
// IDs do not pile up.
const heartbeatRetention = 24 * time.Hour

// AcquireLease takes the lease of endpoint for holder with a new generation,
// unless another holder's lease is live by this store's clock. Every
// condition compares with the caller's clock, passed as a value, so DynamoDB
// only ever decides between writers, never about time.
func (s *Store) AcquireLease(ctx context.Context, endpoint, holder string, ttl time.Duration) (store.Lease, error) {
	if err := checkLease(endpoint, holder, ttl); err != nil {
		return store.Lease{}, err
	}
	if err := ctx.Err(); err != nil {
		return store.Lease{}, err
	}
	old, found, err := s.lease(ctx, endpoint)
	if err != nil {
		return store.Lease{}, failed(err, "acquire the lease of %q", endpoint)
	}
	now := time.Now()
	if found && old.Holder != holder && old.Expires.After(now) {
		return store.Lease{}, rollout.Errorf(rollout.ECONFLICT, "the lease of endpoint %q is held by %q until %s", endpoint, old.Holder, old.Expires.Format(time.RFC3339Nano))
	}
	l := store.Lease{Endpoint: endpoint, Holder: holder, Generation: old.Generation + 1, Expires: expiry(now, ttl)}
	// Taken only if it is still as read: absent, or at the generation read
	// and either expired or ours.
	cond, values := aws.String("attribute_not_exists(pk)"), map[string]types.AttributeValue(nil)
	if found {
		cond = aws.String("gen = :gen AND (expires <= :now OR holder = :holder)")
		values = map[string]types.AttributeValue{":gen": num(old.Generation), ":now": num(now.UnixMilli()), ":holder": str(holder)}
	}
	taken := rollout.Errorf(rollout.ECONFLICT, "the lease of endpoint %q was taken by another holder meanwhile", endpoint)
	if err := s.putLease(ctx, l, cond, values, taken); err != nil {
		return store.Lease{}, failed(err, "acquire the lease of %q", endpoint)
	}
	return l, nil
}

// RenewLease extends l by ttl from now if it is still held as l says.
func (s *Store) RenewLease(ctx context.Context, l store.Lease, ttl time.Duration) (store.Lease, error) {
	if err := checkLease(l.Endpoint, l.Holder, ttl); err != nil {
		return store.Lease{}, err
	}
	if err := ctx.Err(); err != nil {
		return store.Lease{}, err
	}
	l.Expires = expiry(time.Now(), ttl)
	cond, values := held(l)
	if err := s.putLease(ctx, l, cond, values, store.LeaseLost(l)); err != nil {
		return store.Lease{}, failed(err, "renew the lease of %q", l.Endpoint)
	}
	return l, nil
}

// ReleaseLease ends l now. The item stays, with its generation, so that the
// next holder's generation is higher still.
func (s *Store) ReleaseLease(ctx context.Context, l store.Lease) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	released := l
	released.Expires = time.UnixMilli(0).UTC()
	cond, values := held(l)
	return failed(s.putLease(ctx, released, cond, values, store.LeaseLost(l)), "release the lease of %q", l.Endpoint)
}

// ListLeases returns every lease, sorted by endpoint (the sort key).
func (s *Store) ListLeases(ctx context.Context) ([]store.Lease, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	leases := []store.Lease{}
	err := s.query(ctx, whole(leasesPK), nil, func(item map[string]types.AttributeValue) (bool, error) {
		l, err := decodeLease(item)
		leases = append(leases, l)
		return true, err
	})
	if err != nil {
		return nil, failed(err, "list leases")
	}
	return leases, nil
}

// Heartbeat records that replica is alive until now + ttl.
func (s *Store) Heartbeat(ctx context.Context, replica string, ttl time.Duration) error {
	if replica == "" || ttl < 0 {
		return rollout.Invalid("replica", "a heartbeat needs a replica ID and a ttl of 0 or more")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	expires := expiry(time.Now(), ttl)
	_, err := s.api.PutItem(ctx, &ddb.PutItemInput{TableName: &s.table, Item: map[string]types.AttributeValue{
		attrPK: str(replicasPK), attrSK: str(replica),
		attrExpires:  num(expires.UnixMilli()),
		attrExpireAt: num(expires.Add(heartbeatRetention).Unix()),
	}})
	return failed(err, "heartbeat of replica %q", replica)
}

// Replicas returns the replicas whose heartbeat is live by this store's
// clock, sorted by ID (the sort key).
func (s *Store) Replicas(ctx context.Context) ([]store.Replica, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := time.Now()
	replicas := []store.Replica{}
	err := s.query(ctx, whole(replicasPK), nil, func(item map[string]types.AttributeValue) (bool, error) {
		ms, err := number(item, attrExpires)
		if err != nil {
			return false, err
		}
		if r := (store.Replica{ID: stringAttr(item, attrSK), Expires: time.UnixMilli(ms).UTC()}); r.Expires.After(now) {
			replicas = append(replicas, r)
		}
		return true, nil
	})
	if err != nil {
		return nil, failed(err, "list replicas")
	}
	return replicas, nil
}

// leaseCheck is the fence of a write under l: l is still held with its
// generation and, by the writer's clock, has not expired.
func (s *Store) leaseCheck(l store.Lease, now time.Time) *types.ConditionCheck {
	cond, values := held(l)
	values[":now"] = num(now.UnixMilli())
	return &types.ConditionCheck{
		TableName:                 &s.table,
		Key:                       key(leasesPK, l.Endpoint),
		ConditionExpression:       aws.String(*cond + " AND expires > :now"),
		ExpressionAttributeValues: values,
	}
}

// held is the condition that l's holder still holds it at l's generation.
func held(l store.Lease) (*string, map[string]types.AttributeValue) {
	return aws.String("holder = :holder AND gen = :gen"),
		map[string]types.AttributeValue{":holder": str(l.Holder), ":gen": num(l.Generation)}
}

// lease reads the lease of endpoint.
func (s *Store) lease(ctx context.Context, endpoint string) (store.Lease, bool, error) {
	out, err := s.api.GetItem(ctx, &ddb.GetItemInput{TableName: &s.table, Key: key(leasesPK, endpoint), ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item == nil {
		return store.Lease{Endpoint: endpoint}, false, err
	}
	l, err := decodeLease(out.Item)
	return l, true, err
}

// putLease writes l if cond holds, and returns lost if it does not.
func (s *Store) putLease(ctx context.Context, l store.Lease, cond *string, values map[string]types.AttributeValue, lost error) error {
	_, err := s.api.PutItem(ctx, &ddb.PutItemInput{
		TableName: &s.table,
		Item: map[string]types.AttributeValue{
			attrPK: str(leasesPK), attrSK: str(l.Endpoint),
			attrHolder: str(l.Holder), attrGen: num(l.Generation), attrExpires: num(l.Expires.UnixMilli()),
		},
		ConditionExpression:       cond,
		ExpressionAttributeValues: values,
	})
	if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
		return lost
	}
	return err
}

func decodeLease(item map[string]types.AttributeValue) (store.Lease, error) {
	gen, err := number(item, attrGen)
	if err != nil {
		return store.Lease{}, err
	}
	ms, err := number(item, attrExpires)
	return store.Lease{Endpoint: stringAttr(item, attrSK), Holder: stringAttr(item, attrHolder), Generation: gen, Expires: time.UnixMilli(ms).UTC()}, err
}

// pokeRetention is how long a poke is kept: a replica reads the last seconds.
const pokeRetention = 10 * time.Minute

// Poke records that endpoint changed, under a sort key that orders pokes by
// time (nanoseconds, zero-padded) so Poked reads only the new ones.
func (s *Store) Poke(ctx context.Context, endpoint string) error {
	if endpoint == "" {
		return rollout.Invalid("endpoint", "a poke needs an endpoint")
	}
	now := time.Now()
	_, err := s.api.PutItem(ctx, &ddb.PutItemInput{TableName: &s.table, Item: map[string]types.AttributeValue{
		attrPK: str(pokesPK), attrSK: str(fmt.Sprintf("%020d#%s#%s", now.UnixNano(), endpoint, rand.Text()[:8])),
		attrExpireAt: num(now.Add(pokeRetention).Unix()),
	}})
	return failed(err, "poke endpoint %q", endpoint)
}

// Poked returns the pokes recorded at or after since, oldest first.
func (s *Store) Poked(ctx context.Context, since time.Time) ([]store.Poke, error) {
	in := whole(pokesPK)
	in.KeyConditionExpression = aws.String("pk = :pk AND sk >= :since")
	in.ExpressionAttributeValues[":since"] = str(fmt.Sprintf("%020d", since.UnixNano()))
	var pokes []store.Poke
	err := s.query(ctx, in, nil, func(item map[string]types.AttributeValue) (bool, error) {
		sk := stringAttr(item, attrSK)
		ms, rest, _ := strings.Cut(sk, "#")
		at, err := strconv.ParseInt(ms, 10, 64)
		if err != nil {
			return false, fmt.Errorf("poke %q: %w", sk, err)
		}
		endpoint := rest[:strings.LastIndexByte(rest, '#')]
		pokes = append(pokes, store.Poke{Endpoint: endpoint, At: time.Unix(0, at).UTC(), ID: sk})
		return true, nil
	})
	if err != nil {
		return nil, failed(err, "list pokes")
	}
	return pokes, nil
}

func stringAttr(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// expiry is now + ttl at the millisecond the item stores, so the lease
// returned is exactly the one a later read returns.
func expiry(now time.Time, ttl time.Duration) time.Time {
	return time.UnixMilli(now.Add(ttl).UnixMilli()).UTC()
}

func checkLease(endpoint, holder string, ttl time.Duration) error {
	switch {
	case endpoint == "":
		return rollout.Invalid("endpoint", "a lease needs an endpoint")
	case holder == "":
		return rollout.Invalid("holder", "a lease needs a holder")
	case ttl <= 0:
		return rollout.Invalid("ttl", "a lease needs a positive ttl, not %s", ttl)
	}
	return nil
}
