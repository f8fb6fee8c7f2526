// Command awslike serves the awslike layer in front of a moto server, for
// the local demo and for processes that cannot embed it:
//
//	awslike -upstream http://127.0.0.1:5000 [-listen 127.0.0.1:0] [-time-scale 1]
//	        [-latency 2ms] [-jitter 3ms] [-budget-scale 1]
//
// It prints the URL it serves on, on one line of stdout, logs to stderr and
// stops on SIGTERM or SIGINT.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awslike"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "awslike:", err)
		os.Exit(1)
	}
}

// config is what the flags say.
type config struct {
	upstream, listen string
	timeScale        float64
	latency          awslike.Latency
	budgetScale      float64
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("awslike", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.upstream, "upstream", "", "URL of the moto server (required)")
	fs.StringVar(&c.listen, "listen", "127.0.0.1:0", "address to serve on")
	fs.Float64Var(&c.timeScale, "time-scale", awslike.DefaultTimeScale, "wall-clock seconds per AWS second of initial health checks and draining")
	fs.DurationVar(&c.latency.Base, "latency", awslike.DefaultLatency().Base, "latency added to every call")
	fs.DurationVar(&c.latency.Jitter, "jitter", awslike.DefaultLatency().Jitter, "up to this much more latency, drawn at random")
	fs.Float64Var(&c.budgetScale, "budget-scale", 1, "share of AWS's request budgets granted (0.5: another tool uses half)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.upstream == "" {
		return c, errors.New("-upstream is required")
	}
	return c, nil
}

// run serves until ctx ends, then shuts the server down.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logger := hclog.New(&hclog.LoggerOptions{Name: "awslike", Output: stderr, JSONFormat: true})
	layer, err := awslike.New(c.upstream,
		awslike.WithTimeScale(c.timeScale), awslike.WithLatency(c.latency),
		awslike.WithBudgetScale(c.budgetScale), awslike.WithLogger(logger))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: layer, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "http://%s\n", ln.Addr())
	logger.Info("serving", "address", ln.Addr().String(), "upstream", c.upstream)

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdown)
	logger.Info("stopped")
	return err
}
