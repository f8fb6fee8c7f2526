package awslike

import (
	"cmp"
	"maps"
	"slices"
	"sync"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/budget"
)

// OpStats counts the calls of one operation that reached the layer. A
// benchmark divides them by its own duration to report calls per second
// per service, next to Layer.Budgets.
type OpStats struct {
	Service   budget.Service
	Class     string // the budget class of its request bucket; empty when unbudgeted
	Operation string
	// Calls made by the code under test (not exempt), throttled and
	// refused ones included.
	Calls int
	// Throttled answered with the service's throttling error.
	Throttled int
	// Unavailable answered 503 by a brownout; Stalled held by one.
	Unavailable, Stalled int
	// Exempt calls of the tests' own setup and inspection.
	Exempt int
}

type statKey struct {
	service          budget.Service
	class, operation string
}

type stats struct {
	mu sync.Mutex
	op map[statKey]*OpStats
}

func newStats() *stats { return &stats{op: make(map[statKey]*OpStats)} }

// add applies f to the counts of c's operation.
func (s *stats) add(c *call, f func(*OpStats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := statKey{c.service, c.class, c.operation}
	o := s.op[key]
	if o == nil {
		o = &OpStats{Service: c.service, Class: c.class, Operation: c.operation}
		s.op[key] = o
	}
	f(o)
}

// snapshot returns the counts, sorted by service, class and operation.
func (s *stats) snapshot() []OpStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]OpStats, 0, len(s.op))
	for _, k := range slices.SortedFunc(maps.Keys(s.op), func(a, b statKey) int {
		return cmp.Or(cmp.Compare(a.service, b.service), cmp.Compare(a.class, b.class), cmp.Compare(a.operation, b.operation))
	}) {
		out = append(out, *s.op[k])
	}
	return out
}

func (s *stats) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.op)
}
