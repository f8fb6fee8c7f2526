package cli

import (
	"context"
	"fmt"

	"github.com/ionroller/terraform-provider-ionroller/shifter/client"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// eventsCommand is `shifter events ENDPOINT`: the endpoint's ION-Trail, one
// line per event, and with -follow the events still to come.
type eventsCommand struct {
	command
	conn     connection
	endpoint string
	follow   bool
	since    int64
	last     int
}

func (c *eventsCommand) parseFlags(args []string) error {
	fs := c.flags("shifter events [flags] ENDPOINT",
		"Prints the endpoint's ION-Trail, one line per event: time, sequence, type,\n"+
			"version, message. Every decision of the shifter and every change made through\n"+
			"the API is an event.")
	c.conn.register(fs.FlagSet)
	fs.BoolVar(&c.follow, "follow", false, "after the trail, print new events as they happen, until interrupted")
	fs.Int64Var(&c.since, "since", 0, "only events after sequence `seq`")
	fs.IntVar(&c.last, "n", 0, "only the last `n` events (0: all)")
	args, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case c.since < 0:
		return usagef("-since must be a sequence number, 0 or more; got %d", c.since)
	case c.last < 0:
		return usagef("-n must be 0 or more; got %d", c.last)
	}
	c.endpoint, err = endpointArg(args)
	return err
}

func (c *eventsCommand) run(ctx context.Context) error {
	cl, err := c.conn.connect(c.getenv)
	if err != nil {
		return err
	}
	shown := 0
	show := func(ev rollout.Event) error {
		shown++
		_, err := fmt.Fprintln(c.stdout, eventLine(ev))
		return err
	}
	last, err := readTrail(ctx, cl, c.endpoint, c.since, c.last, show)
	if err != nil {
		return err
	}
	// The trail outlives its endpoint, so the API answers an empty trail
	// for a name that never existed, a typo most likely: say so.
	if shown == 0 && c.since == 0 {
		if _, err := cl.GetEndpoint(ctx, c.endpoint); rollout.ErrorCode(err) == rollout.ENOTFOUND {
			return err
		}
	}
	if !c.follow {
		return nil
	}
	return cl.Follow(ctx, c.endpoint, last, show)
}

// trailPage is the most events one request asks for: the API's maximum.
const trailPage = 1000

// readTrail calls fn with the events of the endpoint's trail after
// sequence after, or with only the last n of them when n > 0, and returns
// the sequence of the last event of the trail, to follow on from. The API
// pages forward only, so the last n are found by reading to the end.
func readTrail(ctx context.Context, cl *client.Client, endpoint string, after int64, n int, fn func(rollout.Event) error) (int64, error) {
	var tail []rollout.Event
	for {
		page, next, err := cl.Events(ctx, endpoint, after, trailPage)
		if err != nil {
			return after, err
		}
		for _, ev := range page {
			if n == 0 {
				if err := fn(ev); err != nil {
					return after, err
				}
				continue
			}
			if len(tail) == n {
				tail = tail[1:]
			}
			tail = append(tail, ev)
		}
		after = next
		if len(page) < trailPage {
			break
		}
	}
	for _, ev := range tail {
		if err := fn(ev); err != nil {
			return after, err
		}
	}
	return after, nil
}
