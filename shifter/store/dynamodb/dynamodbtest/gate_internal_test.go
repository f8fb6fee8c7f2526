package dynamodbtest

import (
	"context"
	"runtime"
	"testing"
)

// TestGateLetsOthersThroughAnUrgentStream: urgent requests go first, but a
// stream of them does not keep another request waiting for ever.
func TestGateLetsOthersThroughAnUrgentStream(t *testing.T) {
	g := &gate{}
	ctx := context.Background()
	if err := g.enter(ctx, true); err != nil { // the request in flight
		t.Fatal(err)
	}
	admitted := make(chan string)
	queue := func(name string, urgent bool) {
		want := g.waiting() + 1
		go func() {
			if err := g.enter(ctx, urgent); err != nil {
				t.Error(err)
			}
			admitted <- name
		}()
		for g.waiting() < want { // queued: the order of arrival is known
			runtime.Gosched()
		}
	}
	queue("other", false)
	for range 2 * maxUrgentInARow {
		queue("urgent", true)
	}
	var order []string
	for range 2*maxUrgentInARow + 1 {
		g.leave()
		order = append(order, <-admitted)
	}
	for i, name := range order {
		if name == "other" && i != maxUrgentInARow {
			t.Errorf("admitted %v: want %d urgent requests, then the other", order, maxUrgentInARow)
		}
	}
}

func (g *gate) waiting() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.queues[0]) + len(g.queues[1])
}
