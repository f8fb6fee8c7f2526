// Package watch reads what the shifter watches during a rollout: CloudWatch
// alarm states and the ALB metrics of target groups.
package watch

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
)

// DescribeAlarmsAPI is the part of CloudWatch the alarm watcher uses.
type DescribeAlarmsAPI interface {
	DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, opts ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
}

// maxNamesPerCall is DescribeAlarms' limit on AlarmNames.
const maxNamesPerCall = 100

// Alarms reads alarm states for every endpoint of one account and region.
// Endpoints ask for their alarms on every pass; the watcher answers from
// what it read within MaxAge, and otherwise reads every alarm anyone asked
// for recently in one batch: one DescribeAlarms per 100 names per refresh,
// whatever the number of endpoints.
type Alarms struct {
	api DescribeAlarmsAPI
	// MaxAge is how old an answer may be (the shifter's poll interval).
	MaxAge time.Duration
	Now    func() time.Time

	mu sync.Mutex
	// wanted maps each alarm name to when it was last asked for; names
	// nobody asked for in forget are no longer read.
	wanted map[string]time.Time
	// covered are the names the last read asked for; states holds those
	// that exist.
	covered  map[string]bool
	states   map[string]string
	readAt   time.Time
	inFlight *refresh
}

// refresh is one batch read that concurrent callers share.
type refresh struct {
	done chan struct{}
	err  error
}

// forget is how long an alarm nobody asks for stays in the batch.
const forget = 10 * time.Minute

// NewAlarms returns a watcher reading through api.
func NewAlarms(api DescribeAlarmsAPI, maxAge time.Duration) *Alarms {
	return &Alarms{api: api, MaxAge: maxAge, Now: time.Now, wanted: map[string]time.Time{}, states: map[string]string{}}
}

// States returns the state ("OK", "ALARM", "INSUFFICIENT_DATA") of each
// named alarm that exists; a name without an alarm is left out.
func (a *Alarms) States(ctx context.Context, names []string) (map[string]string, error) {
	for {
		a.mu.Lock()
		now := a.Now()
		fresh := now.Sub(a.readAt) < a.MaxAge
		for _, n := range names {
			fresh = fresh && a.covered[n] // a name never read forces a read
			a.wanted[n] = now
		}
		if fresh {
			out := make(map[string]string, len(names))
			for _, n := range names {
				if s, ok := a.states[n]; ok {
					out[n] = s
				}
			}
			a.mu.Unlock()
			return out, nil
		}
		r := a.inFlight
		if r == nil {
			r = &refresh{done: make(chan struct{})}
			a.inFlight = r
			batch := a.batch(now)
			a.mu.Unlock()
			go a.read(r, batch)
		} else {
			a.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-r.done:
			if r.err != nil {
				return nil, r.err
			}
		}
	}
}

// batch returns every name asked for recently, dropping the others. It must
// be called with a.mu held.
func (a *Alarms) batch(now time.Time) []string {
	maps.DeleteFunc(a.wanted, func(_ string, at time.Time) bool { return now.Sub(at) > forget })
	return slices.Sorted(maps.Keys(a.wanted))
}

// read refreshes the states of names. It runs detached from any one caller's
// context so that a caller giving up does not fail the others.
func (a *Alarms) read(r *refresh, names []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	states := make(map[string]string, len(names))
	for chunk := range slices.Chunk(names, maxNamesPerCall) {
		in := &cloudwatch.DescribeAlarmsInput{AlarmNames: chunk, MaxRecords: awssdk.Int32(maxNamesPerCall)}
		for {
			out, err := a.api.DescribeAlarms(ctx, in)
			if err != nil {
				r.err = err
				break
			}
			for _, m := range out.MetricAlarms {
				states[awssdk.ToString(m.AlarmName)] = string(m.StateValue)
			}
			for _, c := range out.CompositeAlarms {
				states[awssdk.ToString(c.AlarmName)] = string(c.StateValue)
			}
			if out.NextToken == nil {
				break
			}
			in.NextToken = out.NextToken
		}
		if r.err != nil {
			break
		}
	}
	a.mu.Lock()
	if r.err == nil {
		a.covered = make(map[string]bool, len(names))
		for _, n := range names {
			a.covered[n] = true
		}
		a.states, a.readAt = states, a.Now()
	}
	a.inFlight = nil
	a.mu.Unlock()
	close(r.done)
}
