// Package cli is the `shifter` command line: serve, which runs package
// daemon, and the commands people use to watch and steer rollouts through
// the API (package client).
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
)

// Version is set at build time.
var Version = "dev"

const usage = `Usage: shifter <command> [flags]

Commands:
  serve     run the shifter daemon
  status    list the endpoints, or show one in detail
  watch     follow an endpoint's rollout until it ends; the exit code is its outcome
  events    print an endpoint's ION-Trail (-follow to stream it)
  history   list the revisions of an endpoint's spec, and which versions run each
  diff      show what changed in an endpoint's spec between two revisions
  promote   move the rollout to its next step now
  pause     hold the rollout (-for DURATION)
  resume    let a paused rollout go on
  abort     end the rollout and return traffic to the stable version
  rollback  return traffic to a hot previous version (-to VERSION)
  override  break glass: pin production traffic to a version for a while (-to VERSION -for 30m -reason WHY; -lift)
  simulate  dry-run a policy against a scenario or the recorded trail (-scenario FILE | -trail; -policy FILE)
  replicas  list the shifter replicas and the endpoint leases each holds
  store     check a store file, or back up a serving shifter's store (store check|backup FILE)
  version   print the version

Run 'shifter <command> -h' for a command's flags.
`

// Run runs the command line args (without the program name) and returns
// the process's exit code. Errors are one line on stderr.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		c := &serveCommand{stderr: stderr}
		if err = c.parseFlags(args[1:]); err == nil {
			err = c.run(ctx)
		}
	case "status", "watch", "events", "history", "diff", "promote", "pause", "resume", "abort", "rollback", "override", "simulate", "replicas", "store":
		return runRemote(ctx, args[0], args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "shifter", Version)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "shifter: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		fmt.Fprintln(stderr, "shifter:", err)
		return 1
	}
	return 0
}
