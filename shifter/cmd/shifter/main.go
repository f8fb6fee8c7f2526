// Command shifter runs and steers ionroller's rollouts; see shifter/cli
// (the command line) and shifter/daemon (what serve runs).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/ionroller/terraform-provider-ionroller/shifter/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal asks for a clean stop; a second one, with the
	// signals' default action back, ends the process at once.
	context.AfterFunc(ctx, stop)
	os.Exit(cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}
