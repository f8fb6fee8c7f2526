package budget

import (
	"sync"
	"time"
)

// Buckets holds the tokens AWS has left in every bucket of every account and
// region, the way AWS keeps them: per account, region, service and bucket. A
// new bucket is full and refills lazily, as the package comment says. It is
// AWS's side of the budgets, what a stand-in for AWS enforces (the awslike
// layer in front of moto, the scale benchmark's fake); the shifter paces
// itself with buckets of its own (package schedule). It is safe for
// concurrent use.
type Buckets struct {
	mu     sync.Mutex
	scale  float64
	tokens map[bucketKey]*level
}

type bucketKey struct {
	account, region string
	service         Service
	bucket          string
}

// level is a bucket's tokens at a moment.
type level struct {
	tokens float64
	at     time.Time
}

// NewBuckets returns full buckets granting scale times the table's budgets
// (Limit.Scale): 1 is AWS's, 0.5 acts as if another tool in the account used
// the other half.
func NewBuckets(scale float64) *Buckets {
	return &Buckets{scale: scale, tokens: make(map[bucketKey]*level)}
}

// Take takes a call's charges (Charges) from the buckets of account and
// region at now, and reports whether it could: when one bucket lacks its
// tokens it takes none from any, for AWS throttles the call and a throttled
// call costs nothing.
func (b *Buckets) Take(now time.Time, account, region string, charges []Charge) bool {
	if len(charges) == 0 {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	held := make([]*level, len(charges))
	for i, ch := range charges {
		l := ch.Limit.Scale(b.scale)
		key := bucketKey{account, region, ch.Limit.Service, ch.Bucket}
		lv := b.tokens[key]
		if lv == nil {
			lv = &level{tokens: l.Capacity, at: now}
			b.tokens[key] = lv
		}
		if elapsed := now.Sub(lv.at); elapsed > 0 {
			lv.tokens = min(l.Capacity, lv.tokens+elapsed.Seconds()*l.Refill)
			lv.at = now
		}
		lv.tokens = min(lv.tokens, l.Capacity) // the scale may have dropped
		if lv.tokens < ch.Tokens {
			return false
		}
		held[i] = lv
	}
	for i, ch := range charges {
		held[i].tokens -= ch.Tokens
	}
	return true
}

// SetScale changes the share of the table's budgets granted, at once.
func (b *Buckets) SetScale(f float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.scale = f
}

// Limits returns the budgets in force: the table (Limits) times the scale.
func (b *Buckets) Limits() []Limit {
	b.mu.Lock()
	scale := b.scale
	b.mu.Unlock()
	out := Limits()
	for i := range out {
		out[i] = out[i].Scale(scale)
	}
	return out
}
