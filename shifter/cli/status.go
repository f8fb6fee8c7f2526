package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

// statusCommand is `shifter status [ENDPOINT]`: a table of the endpoints,
// or one endpoint in detail, as the shifter sees them now.
type statusCommand struct {
	command
	conn     connection
	endpoint string // "" lists the endpoints
	team     string
	json     bool
}

func (c *statusCommand) parseFlags(args []string) error {
	fs := c.flags("shifter status [flags] [ENDPOINT]",
		"Without an endpoint, lists the endpoints the token may see: state, live version,\n"+
			"traffic split. With one, shows it in detail: the rollout in flight, the traffic\n"+
			"of every version, its environments and the hot versions a rollback can return to.")
	c.conn.register(fs.FlagSet)
	output := outputFlag(fs)
	fs.StringVar(&c.team, "team", "", "list only the endpoints of `team`")
	args, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	if c.json, err = output(); err != nil {
		return err
	}
	switch len(args) {
	case 0:
	case 1:
		c.endpoint = args[0]
	default:
		return usagef("expects at most one ENDPOINT argument; got %d", len(args))
	}
	return nil
}

func (c *statusCommand) run(ctx context.Context) error {
	cl, err := c.conn.connect(c.getenv)
	if err != nil {
		return err
	}
	if c.endpoint == "" {
		list, err := cl.ListEndpoints(ctx, c.team)
		if err != nil {
			return err
		}
		if c.json {
			return printJSON(c.stdout, wire.EndpointList{Endpoints: list})
		}
		return printEndpointTable(c.stdout, list, c.now())
	}
	v, err := cl.GetEndpoint(ctx, c.endpoint)
	if err != nil {
		return err
	}
	if c.json {
		return printJSON(c.stdout, v)
	}
	return printEndpoint(c.stdout, v, c.now())
}

// printJSON prints v as the API serves it, indented for people who pipe
// it to jq or read it.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printEndpointTable(w io.Writer, list []rollout.EndpointView, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTEAM\tSTATE\tLIVE\tTRAFFIC\tUPDATED")
	for _, v := range list {
		s := v.Status
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", v.Endpoint.Name, orDash(v.Endpoint.Team), s.State,
			orDash(s.StableVersion), split(shares(s)), ago(s.UpdatedAt, now))
	}
	return tw.Flush()
}

// printEndpoint is the detailed view: a few labelled lines, then a table of
// the environments.
func printEndpoint(w io.Writer, v rollout.EndpointView, now time.Time) error {
	s := v.Status
	var b strings.Builder
	field := func(label, value string) { fmt.Fprintf(&b, "%-14s%s\n", label, value) }
	more := func(value string) { field("", value) }

	name := v.Endpoint.Name
	if v.Endpoint.Team != "" {
		name += " (team " + v.Endpoint.Team + ")"
	}
	field("Endpoint:", name)
	field("State:", s.State)
	if s.ObserveOnly {
		field("Mode:", "observe only: decides and records what it would do; writes nothing to AWS")
	}
	field("Live:", orDash(s.StableVersion))
	for i, sh := range shares(s) {
		line := fmt.Sprintf("%-8s %s %3d%%%s", sh.version, bar(sh.weight), sh.weight, sh.observedLabel())
		if i == 0 {
			if !s.Verified && len(s.Weights) > 0 {
				line += "  (being written to the listener rule)"
			}
			field("Traffic:", line)
		} else {
			more(line)
		}
	}
	if o := observation(s); o != nil {
		more(observedLine(o))
	}
	if o := s.Override; o != nil {
		field("Override:", overrideLine(o, now))
	}
	if s.DNSTTL != 0 {
		field("DNS TTL:", fmt.Sprintf("%s: the weights are Route 53's records; traffic follows as resolvers let go of cached answers", s.DNSTTL))
	}
	if r := s.Rollout; r != nil {
		if inFlight(r) {
			field("Rollout:", fmt.Sprintf("#%d %s", r.ID, rolloutLine(r)))
			more(waiting(s, now, dueInAt))
			if r.Judged != "" {
				more(fmt.Sprintf("metrics %s: %s", ago(r.JudgedAt, now), r.Judged))
			}
		} else {
			line := fmt.Sprintf("#%d %s: %s %s", r.ID, rolloutLine(r), r.Phase, ago(r.EndedAt, now))
			if r.Reason != "" {
				line += " (" + r.Reason + ")"
			}
			field("Last rollout:", line)
		}
	}
	if s.PreviewVersion != "" {
		field("Preview:", s.PreviewVersion)
	}
	for i, line := range conditionLines(s, now) {
		if i == 0 {
			field("Conditions:", line)
		} else {
			more(line)
		}
	}
	if !s.ObservedAt.IsZero() {
		field("Observed:", ago(s.ObservedAt, now))
	}
	field("Updated:", ago(s.UpdatedAt, now))
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}

	if len(s.Environments) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ENVIRONMENT\tVERSION\tSPEC\tPHASE\tWEIGHT\tCAPACITY\tIN SERVICE\tHEALTHY\tHOT UNTIL\tDIGEST")
		for _, e := range s.Environments {
			hot := "-"
			if !e.HotUntil.IsZero() {
				hot = clock(e.HotUntil)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d%%\t%d\t%d\t%d\t%s\t%s\n", e.ID, e.Version, specRevision(e.SpecRevision), e.Phase, e.Weight, e.Capacity, e.InService, e.Healthy, hot, shortDigest(e.Digest))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(s.HotVersions) > 0 {
		hot := make([]string, len(s.HotVersions))
		for i, h := range s.HotVersions {
			hot[i] = fmt.Sprintf("%s (spec %s) until %s (%s left), %s", h.Version, specRevision(h.SpecRevision), clock(h.Until), human(h.Until.Sub(now)), readiness(h))
		}
		fmt.Fprintf(w, "\nHot versions: %s\n", strings.Join(hot, ", "))
	}
	return nil
}

// readiness says how ready a hot version is to take all the traffic back.
func readiness(h rollout.HotVersion) string {
	switch {
	case h.Ready:
		return fmt.Sprintf("ready: %d of %d healthy", h.Healthy, h.FullCapacity)
	case h.ScaleUp:
		return fmt.Sprintf("not ready: runs %d of %d, scaled up first", h.Capacity, h.FullCapacity)
	}
	return fmt.Sprintf("not ready: %d of %d healthy", h.Healthy, h.FullCapacity)
}

// shortDigest is a digest as docker shortens it, enough to tell images
// apart in a table ("-" for none); the JSON output has it whole.
func shortDigest(d string) string {
	if d == "" {
		return "-"
	}
	return d[:min(len(d), len("sha256:")+12)]
}
