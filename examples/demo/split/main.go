// Command split prints an endpoint's production traffic split, one line a
// second, until the declared release is complete (exit 0) or ends badly
// (exit 1). With -once it prints the split once.
package main

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/client"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

func main() {
	addr := flag.String("addr", "", "URL of the shifter's API")
	endpoint := flag.String("endpoint", "", "endpoint name")
	version := flag.String("version", "", "the release to wait for")
	once := flag.Bool("once", false, "print the split once and exit")
	timeout := flag.Duration("timeout", 2*time.Minute, "give up after this long")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := run(ctx, *addr, *endpoint, *version, *once); err != nil {
		fmt.Fprintln(os.Stderr, "split:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, addr, endpoint, version string, once bool) error {
	c, err := client.New(addr)
	if err != nil {
		return err
	}
	start := time.Now()
	for {
		ep, err := c.GetEndpoint(ctx, endpoint)
		if err != nil {
			return err
		}
		rel, err := c.GetRelease(ctx, endpoint, rollout.Production)
		if err != nil {
			return err
		}
		fmt.Printf("  %5.1fs  %-22s %s\n", time.Since(start).Seconds(), phase(ep.Status), split(ep.Status.Weights))
		state := rollout.Phase(rel.Status.State)
		switch {
		case once:
			return nil
		case state.Bad():
			return fmt.Errorf("release %s %s: %s", rel.Release.Version, state, rel.Status.Reason)
		case rel.Release.Version == version && state == rollout.PhaseComplete:
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// phase describes what the endpoint is doing.
func phase(s rollout.EndpointStatus) string {
	if r := s.Rollout; r != nil && s.State != rollout.StateSteady {
		return fmt.Sprintf("%s (step %d/%d)", s.State, r.Step, r.Steps)
	}
	return s.State
}

// split draws the weights by version: "v1 ███████░░░ 70%  v2 30%".
func split(weights map[string]int) string {
	var b strings.Builder
	for _, v := range slices.Sorted(maps.Keys(weights)) {
		w := weights[v]
		fmt.Fprintf(&b, "%s %s%s %3d%%   ", v, strings.Repeat("█", w/10), strings.Repeat("░", 10-w/10), w)
	}
	return strings.TrimSpace(b.String())
}
