package awslike

import (
	"sync"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/budget"
)

// buckets holds the tokens left in every bucket of every account and
// region, the way AWS keeps them: per account, per region, per bucket.
type buckets struct {
	mu     sync.Mutex
	scale  float64
	tokens map[bucketKey]*bucket
}

type bucketKey struct {
	account, region string
	service         budget.Service
	bucket          string
}

// bucket is a token bucket's level at a moment; it refills lazily.
type bucket struct {
	level float64
	at    time.Time
}

func newBuckets(scale float64) *buckets {
	return &buckets{scale: scale, tokens: make(map[bucketKey]*bucket)}
}

// take takes c's tokens from every bucket it is charged to, or from none
// when one of them lacks them: a throttled call costs nothing, as in AWS.
func (b *buckets) take(now time.Time, c *call) bool {
	if len(c.charges) == 0 {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	held := make([]*bucket, len(c.charges))
	for i, ch := range c.charges {
		l := ch.Limit.Scale(b.scale)
		key := bucketKey{c.account, c.region, c.service, ch.Bucket}
		bk := b.tokens[key]
		if bk == nil {
			bk = &bucket{level: l.Capacity, at: now} // a new bucket is full
			b.tokens[key] = bk
		}
		if elapsed := now.Sub(bk.at); elapsed > 0 {
			bk.level = min(l.Capacity, bk.level+elapsed.Seconds()*l.Refill)
			bk.at = now
		}
		bk.level = min(bk.level, l.Capacity) // the scale may have dropped
		if bk.level < ch.Tokens {
			return false
		}
		held[i] = bk
	}
	for i, ch := range c.charges {
		held[i].level -= ch.Tokens
	}
	return true
}

func (b *buckets) setScale(f float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.scale = f
}

func (b *buckets) limits() []budget.Limit {
	b.mu.Lock()
	scale := b.scale
	b.mu.Unlock()
	out := budget.Limits()
	for i := range out {
		out[i] = out[i].Scale(scale)
	}
	return out
}
