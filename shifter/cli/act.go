package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// actCommand is `shifter promote|pause|resume|abort|rollback|override
// ENDPOINT`: one command for the endpoint's production rollout. The shifter queues it and
// the endpoint's reconciler applies it at its next wake, so what is printed
// is what was queued; `shifter watch` or `shifter events` show the effect.
type actCommand struct {
	command
	kind     rollout.CommandKind
	conn     connection
	endpoint string
	cmd      rollout.Command
}

func (c *actCommand) parseFlags(args []string) error {
	fs := c.flags(fmt.Sprintf("shifter %s [flags] ENDPOINT", c.kind), actAbout(c.kind))
	c.conn.register(fs.FlagSet)
	fs.StringVar(&c.cmd.Reason, "reason", "", "why, recorded in the trail with your name")
	var lasts time.Duration
	var lift bool
	switch c.kind {
	case rollout.CommandPause:
		fs.DurationVar(&lasts, "for", 0, "resume on its own after this `duration` (0: until resumed)")
	case rollout.CommandRollback:
		fs.StringVar(&c.cmd.To, "to", "", "hot `version` to return to (default: the one most recently replaced)")
	case rollout.CommandOverride:
		fs.StringVar(&c.cmd.To, "to", "", "the `version`, live or hot, production traffic stays on (required)")
		fs.DurationVar(&lasts, "for", 0, "how long the override lasts, at most 24h (required): it ends by itself")
		fs.BoolVar(&lift, "lift", false, "end the override in force now instead")
	}
	args, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	if lasts < 0 {
		return usagef("-for must not be negative; got %s", lasts)
	}
	c.cmd.Kind, c.cmd.For = c.kind, rollout.Duration(lasts)
	if lift {
		if c.cmd.To != "" || lasts != 0 {
			return usagef("-lift ends the override in force: it takes no -to or -for")
		}
		c.cmd.Kind = rollout.CommandLift
	}
	// The shifter checks the command too; checking here makes a bad
	// value a usage error (exit 2), named by its flag, whose names are
	// the command's fields.
	if err := c.cmd.Validate(); err != nil {
		return usagef("%s", flagError(err))
	}
	c.endpoint, err = endpointArg(args)
	return err
}

func (c *actCommand) run(ctx context.Context) error {
	cl, err := c.conn.connect(c.getenv)
	if err != nil {
		return err
	}
	queued, err := cl.Act(ctx, c.endpoint, c.cmd)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(c.stdout, describeCommand(c.endpoint, queued))
	return err
}

// describeCommand is a queued command in one line:
// `web: rollback to v1 queued as command #7 by alice, reason "bad canary"`.
func describeCommand(endpoint string, cmd rollout.Command) string {
	what := string(cmd.Kind)
	if cmd.To != "" {
		what += " to " + cmd.To
	}
	if cmd.For > 0 {
		what += " for " + cmd.For.String()
	}
	line := fmt.Sprintf("%s: %s queued as command #%d by %s", endpoint, what, cmd.Seq, cmd.Actor)
	if cmd.Reason != "" {
		line += fmt.Sprintf(", reason %q", cmd.Reason)
	}
	return line
}

// actAbout is what -h says of each command.
func actAbout(kind rollout.CommandKind) string {
	switch kind {
	case rollout.CommandPromote:
		return "Moves the production rollout to its next step now: past a canary waiting for a\n" +
			"promote, or before a step's pause is over."
	case rollout.CommandPause:
		return "Holds the production rollout where it is: its timers stop until it is resumed\n" +
			"(or -for is over). Alarms are still watched."
	case rollout.CommandResume:
		return "Lets a paused production rollout go on; its timers continue where they stopped."
	case rollout.CommandAbort:
		return "Ends the production rollout: all traffic returns to the stable version in one\n" +
			"write and the new environment is torn down. The release is not retried until\n" +
			"it changes."
	case rollout.CommandOverride:
		return "Break glass: pins production traffic to a version, the live one or a hot one,\n" +
			"for a bounded time (-for, at most 24h) with a reason everyone is told. What is\n" +
			"in flight ends as a rollback does; releases applied meanwhile are recorded and\n" +
			"roll out when it ends. -lift ends it now. Needs role admin (or the shifter's\n" +
			"auth.override_role)."
	default:
		return "Returns production traffic to a hot previous version in one write: ends the\n" +
			"rollout in flight, or after a completed one goes back to the version it\n" +
			"replaced (or -to VERSION), inside its rollback window."
	}
}

// flagError words an invalid command's error with the flag to blame:
// "-to "x y" is not a version" rather than "to: ...".
func flagError(err error) string {
	var e *rollout.Error
	if errors.As(err, &e) && e.Field != "" {
		return "-" + e.Field + " " + e.Message
	}
	return err.Error()
}
