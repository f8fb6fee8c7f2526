package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

// historyCommand is `shifter history ENDPOINT`: every kept revision of the
// endpoint's spec, who wrote it, what it changed, and which versions run it.
type historyCommand struct {
	command
	conn     connection
	endpoint string
	from, to int64
	json     bool
}

func (c *historyCommand) parseFlags(args []string) error {
	fs := c.flags("shifter history [flags] ENDPOINT",
		"Lists the kept revisions of the endpoint's spec, oldest first: when and by whom\n"+
			"each was written, the fields it changed, and the versions whose environments\n"+
			"were built from it (those run that configuration). 'shifter diff' shows the\n"+
			"changes between any two.")
	c.conn.register(fs.FlagSet)
	fs.Int64Var(&c.from, "from", 1, "the first `revision` to list")
	fs.Int64Var(&c.to, "to", 0, "the last `revision` to list (0: the latest)")
	output := outputFlag(fs)
	args, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case c.from < 1:
		return usagef("-from must be a revision, 1 or more; got %d", c.from)
	case c.to < 0:
		return usagef("-to must be a revision, or 0 for the latest; got %d", c.to)
	}
	if c.json, err = output(); err != nil {
		return err
	}
	c.endpoint, err = endpointArg(args)
	return err
}

func (c *historyCommand) run(ctx context.Context) error {
	cl, err := c.conn.connect(c.getenv)
	if err != nil {
		return err
	}
	revs := []wire.SpecRevisionView{}
	for from := c.from; from != 0; {
		var page []wire.SpecRevisionView
		if page, from, err = cl.SpecRevisions(ctx, c.endpoint, from, c.to, 0); err != nil {
			return err
		}
		revs = append(revs, page...)
	}
	if c.json {
		return printJSON(c.stdout, revs)
	}
	view, err := cl.GetEndpoint(ctx, c.endpoint)
	if err != nil {
		return err
	}
	return printHistory(c.stdout, revs, view.Status)
}

func printHistory(w io.Writer, revs []wire.SpecRevisionView, st rollout.EndpointStatus) error {
	running := map[int64][]string{}
	for _, e := range st.Environments {
		if e.SpecRevision != 0 {
			running[e.SpecRevision] = append(running[e.SpecRevision], e.Version+" ("+e.Phase+")")
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REVISION\tTIME\tACTOR\tRUNS\tCHANGES")
	for _, r := range revs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", r.Revision, r.Time.Format(time.RFC3339), orDash(r.Actor),
			orDash(strings.Join(running[r.Revision], ", ")), changeSummary(r))
	}
	return tw.Flush()
}

// changeSummary names the fields a revision changed.
func changeSummary(r wire.SpecRevisionView) string {
	switch {
	case r.Replaces == 0:
		return "created"
	case r.Against == 0:
		return fmt.Sprintf("(revision %d is not kept)", r.Replaces)
	case len(r.Changes) == 0:
		return "no change to the spec"
	}
	paths := make([]string, len(r.Changes))
	for i, ch := range r.Changes {
		paths[i] = ch.Path
	}
	return strings.Join(paths, ", ")
}

// specRevision names the spec revision an environment was built from: "r3",
// or "-" for one recorded before history was kept.
func specRevision(n int64) string {
	if n == 0 {
		return "-"
	}
	return "r" + strconv.FormatInt(n, 10)
}

// diffCommand is `shifter diff ENDPOINT A B`: what changed in the
// endpoint's spec from revision A to revision B.
type diffCommand struct {
	command
	conn     connection
	endpoint string
	a, b     int64
	json     bool
}

func (c *diffCommand) parseFlags(args []string) error {
	fs := c.flags("shifter diff [flags] ENDPOINT A B",
		"Shows what changed in the endpoint's spec from revision A to revision B, one\n"+
			"field a line: its path, its value in A and in B. A secret (the webhook URL, the\n"+
			"external ID) is only said to have changed. 'shifter history' lists the revisions.")
	c.conn.register(fs.FlagSet)
	output := outputFlag(fs)
	args, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	if c.json, err = output(); err != nil {
		return err
	}
	if len(args) != 3 {
		return usagef("expects ENDPOINT A B; got %d arguments", len(args))
	}
	c.endpoint = args[0]
	for i, p := range []*int64{&c.a, &c.b} {
		if *p, err = strconv.ParseInt(args[i+1], 10, 64); err != nil || *p < 1 {
			return usagef("%s must be a revision, 1 or more; got %q", []string{"A", "B"}[i], args[i+1])
		}
	}
	return nil
}

func (c *diffCommand) run(ctx context.Context) error {
	cl, err := c.conn.connect(c.getenv)
	if err != nil {
		return err
	}
	v, err := cl.DiffSpec(ctx, c.endpoint, c.a, c.b)
	if err != nil {
		return err
	}
	if c.json {
		return printJSON(c.stdout, v)
	}
	fmt.Fprintf(c.stdout, "%s: revision %d → %d (written %s by %s)\n", c.endpoint, c.a, c.b, v.Time.Format(time.RFC3339), orDash(v.Actor))
	if len(v.Changes) == 0 {
		_, err := fmt.Fprintln(c.stdout, "no change to the spec")
		return err
	}
	for _, ch := range v.Changes {
		if _, err := fmt.Fprintln(c.stdout, "  "+ch.String()); err != nil {
			return err
		}
	}
	return nil
}
