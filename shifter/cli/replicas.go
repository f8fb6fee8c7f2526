package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

// replicasCommand is `shifter replicas`: the live shifter replicas and the
// endpoint leases each holds, as GET /v1/replicas answers.
type replicasCommand struct {
	command
	conn connection
	json bool
}

func (c *replicasCommand) parseFlags(args []string) error {
	fs := c.flags("shifter replicas [flags]",
		"Lists the shifter replicas sharing a DynamoDB store, when each one's heartbeat\n"+
			"expires unless renewed, and the endpoints whose leases it holds (of those the\n"+
			"token may see). The replica that answered is marked with *. On a bolt store the\n"+
			"one shifter acts on every endpoint without leases.")
	c.conn.register(fs.FlagSet)
	output := outputFlag(fs)
	args, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	if len(args) > 0 {
		return usagef("takes no arguments; got %q", args[0])
	}
	c.json, err = output()
	return err
}

func (c *replicasCommand) run(ctx context.Context) error {
	cl, err := c.conn.connect(c.getenv)
	if err != nil {
		return err
	}
	v, err := cl.Replicas(ctx)
	if err != nil {
		return err
	}
	if c.json {
		return printJSON(c.stdout, v)
	}
	return printReplicas(c.stdout, v, c.now())
}

func printReplicas(w io.Writer, v wire.ReplicasView, now time.Time) error {
	if !v.Leased {
		_, err := fmt.Fprintf(w, "%s is the only replica (bolt store): it acts on every endpoint, without leases\n", v.Replica)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REPLICA\tHEARTBEAT\tLEASES")
	for _, r := range v.Replicas {
		name := r.ID
		if r.ID == v.Replica {
			name += " *"
		}
		endpoints := make([]string, len(r.Leases))
		for i, l := range r.Leases {
			endpoints[i] = l.Endpoint
		}
		fmt.Fprintf(tw, "%s\texpires in %s\t%s\n", name, human(r.Expires.Sub(now)), orDash(strings.Join(endpoints, ", ")))
	}
	return tw.Flush()
}
