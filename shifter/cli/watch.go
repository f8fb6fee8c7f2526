package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/client"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// watchCommand is `shifter watch ENDPOINT`: the production rollout live,
// until it ends. It follows the event stream, and reads the endpoint's
// status at every event and every -interval, for the countdowns and in
// case the stream lags. Its exit code is the rollout's outcome, so that a
// CI job can wait on a deploy:
//
//	terraform apply && shifter watch web
type watchCommand struct {
	command
	conn     connection
	endpoint string
	interval time.Duration
	events   int
	plain    bool
}

func (c *watchCommand) parseFlags(args []string) error {
	fs := c.flags("shifter watch [flags] ENDPOINT",
		"Shows the endpoint's production rollout as it happens: the step, the traffic of\n"+
			"every version, the time to the next step, the health of the environments and\n"+
			"the events of its trail. On a terminal the display is redrawn in place;\n"+
			"otherwise (a pipe, a CI log) a line is printed for every change.\n\n"+
			"It ends when no rollout is in flight and the declared release is no longer\n"+
			"waiting for one, which is at once if nothing is moving. The exit code says\n"+
			"how the release ended: 0 complete (or nothing declared), 3 rolled back,\n"+
			"4 aborted, 5 failed; 1 is an error, 130 an interrupt.")
	c.conn.register(fs.FlagSet)
	fs.DurationVar(&c.interval, "interval", time.Second, "how often to read the status besides at every event")
	fs.IntVar(&c.events, "events", 5, "show the latest `n` events of the trail")
	fs.BoolVar(&c.plain, "plain", false, "print a line per change even on a terminal")
	args, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case c.interval < 100*time.Millisecond:
		return usagef("-interval must be at least 100ms; got %s", c.interval)
	case c.events < 0:
		return usagef("-events must be 0 or more; got %d", c.events)
	}
	c.endpoint, err = endpointArg(args)
	return err
}

func (c *watchCommand) run(ctx context.Context) error {
	cl, err := c.conn.connect(c.getenv)
	if err != nil {
		return err
	}
	// The display starts with the latest events (at least one is read,
	// for its sequence: the stream follows on from there). The status is
	// read after them, so that whatever happens later arrives on the
	// stream and leads to a new read.
	var recent []rollout.Event
	last, err := readTrail(ctx, cl, c.endpoint, 0, max(c.events, 1), func(ev rollout.Event) error {
		recent = append(recent, ev)
		return nil
	})
	if err != nil {
		return err
	}
	recent = sinceDeclared(recent[len(recent)-min(c.events, len(recent)):])
	snap, err := c.snapshot(ctx, cl)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	events, stopped := make(chan rollout.Event, 64), make(chan struct{})
	var followErr error
	go func() {
		defer close(stopped)
		followErr = cl.Follow(ctx, c.endpoint, last, func(ev rollout.Event) error {
			select {
			case events <- ev:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	defer func() {
		cancel()
		<-stopped // the stream is closed before the command returns
	}()

	d := c.display()
	defer d.close()
	tick := time.NewTicker(c.interval)
	defer tick.Stop()
	fresh := recent
	for {
		if snap.view.Status.State == rollout.StateDeleting {
			return fmt.Errorf("endpoint %q is being deleted", c.endpoint)
		}
		if err := d.draw(snap, fresh, c.now()); err != nil {
			return err
		}
		if done, phase, reason := snap.outcome(); done {
			d.close()
			return c.result(snap, phase, reason)
		}
		fresh = nil
		select {
		case ev := <-events:
			fresh = append(fresh, ev)
			for len(events) > 0 { // a burst of events costs one status read
				fresh = append(fresh, <-events)
			}
		case <-tick.C:
		case <-stopped:
			return followErr // an error retrying cannot fix, such as a revoked token
		case <-ctx.Done():
			return ctx.Err()
		}
		next, err := c.snapshot(ctx, cl)
		switch {
		case err == nil:
			snap = next
		case rollout.ErrorCode(err) == rollout.EINTERNAL && ctx.Err() == nil:
			// The shifter restarting or a network blip: the rollout goes
			// on without us. Say so and try again at the next tick.
			snap.unreachable = err
		default:
			return err
		}
	}
}

// display returns the live display on a terminal, log lines otherwise.
func (c *watchCommand) display() watchDisplay {
	if fd, ok := terminal(c.stdout); ok && !c.plain && c.getenv("TERM") != "dumb" {
		return &screen{w: c.stdout, fd: fd, events: c.events}
	}
	return &logLines{w: c.stdout}
}

// result is the command's end: a line for a complete release, an exit code
// and the reason for any other outcome.
func (c *watchCommand) result(s snapshot, phase rollout.Phase, reason string) error {
	if s.release == nil {
		return nil // nothing was in flight and nothing is declared
	}
	version := s.release.Release.Version
	var code int
	switch phase {
	case rollout.PhaseComplete:
		_, err := fmt.Fprintf(c.stdout, "%s: release %s is complete\n", c.endpoint, version)
		return err
	case rollout.PhaseRolledBack:
		code = exitRolledBack
	case rollout.PhaseAborted:
		code = exitAborted
	default:
		code = exitFailed
	}
	msg := fmt.Sprintf("%s: release %s %s", c.endpoint, version, phaseWords(phase))
	if reason != "" {
		msg += ": " + reason
	}
	return &codedError{code: code, msg: msg}
}

// phaseWords says how a release ended, in words.
func phaseWords(p rollout.Phase) string {
	switch p {
	case rollout.PhaseRolledBack:
		return "was rolled back"
	case rollout.PhaseAborted:
		return "was aborted"
	case rollout.PhaseFailed:
		return "failed"
	}
	return string(p)
}

// snapshot is the endpoint and its production release as the shifter
// described them at one moment.
type snapshot struct {
	view rollout.EndpointView
	// release is nil when no production release is declared.
	release *rollout.ReleaseView
	// unreachable is why the last read failed, while the shifter cannot
	// be reached; the rest is the last good read.
	unreachable error
}

func (c *watchCommand) snapshot(ctx context.Context, cl *client.Client) (snapshot, error) {
	v, err := cl.GetEndpoint(ctx, c.endpoint)
	if err != nil {
		return snapshot{}, err
	}
	s := snapshot{view: v}
	rel, err := cl.GetRelease(ctx, c.endpoint, rollout.Production)
	switch {
	case err == nil:
		s.release = &rel
	case rollout.ErrorCode(err) != rollout.ENOTFOUND:
		return snapshot{}, err
	}
	return s, nil
}

// outcome reports whether the watch is over, and if so how the declared
// release ended ("" when none is declared). A watch goes on while a
// rollout is in flight, and while the declared release is pending: the
// shifter has not started its rollout yet, as just after a terraform apply.
func (s snapshot) outcome() (done bool, phase rollout.Phase, reason string) {
	st := s.view.Status
	switch {
	case inFlight(st.Rollout):
		return false, "", ""
	case s.release == nil:
		return true, "", ""
	}
	rs := s.release.Status
	phase = rollout.Phase(rs.State)
	if !phase.Done() {
		return false, "", ""
	}
	reason = rs.Reason
	if reason == "" && st.Rollout != nil {
		reason = st.Rollout.Reason
	}
	return true, phase, reason
}

// sinceDeclared drops the events before the latest production release was
// declared: those are of an earlier rollout, not of the one being watched.
func sinceDeclared(events []rollout.Event) []rollout.Event {
	for i := len(events) - 1; i >= 0; i-- {
		if events[i].Type == rollout.EventReleaseDeclared && events[i].Track == rollout.Production {
			return events[i:]
		}
	}
	return events
}
