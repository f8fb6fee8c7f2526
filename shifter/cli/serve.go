package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/hashicorp/go-hclog"

	"github.com/ionroller/terraform-provider-ionroller/shifter/daemon"
)

// serveCommand is `shifter serve`.
type serveCommand struct {
	configPath      string
	listen          string
	initialiseStore bool
	stderr          io.Writer
}

func (c *serveCommand) parseFlags(args []string) error {
	fs := flag.NewFlagSet("shifter serve", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.StringVar(&c.configPath, "config", "shifter.hcl", "configuration file (HCL)")
	fs.StringVar(&c.listen, "listen", "", "address to serve the API on, overriding the file's listen")
	fs.BoolVar(&c.initialiseStore, "initialise-store", false, "start an empty store if the store file is empty, foreign or damaged, moving it aside")
	fs.Usage = func() {
		fmt.Fprintln(c.stderr, "Usage: shifter serve [-config FILE] [-listen ADDR] [-initialise-store]\n\nRuns the shifter: the API and the reconciler of every endpoint.")
		fs.PrintDefaults()
	}
	return fs.Parse(args)
}

func (c *serveCommand) run(ctx context.Context) error {
	src, err := os.ReadFile(c.configPath)
	if err != nil {
		return err
	}
	cfg, err := daemon.ParseConfig(src, c.configPath)
	if err != nil {
		return err
	}
	if c.listen != "" {
		cfg.Listen = c.listen
	}
	cfg.InitialiseStore = c.initialiseStore
	s := &daemon.Server{
		Config: cfg,
		Logger: hclog.New(&hclog.LoggerOptions{Name: "shifter", Level: cfg.LogLevel, JSONFormat: cfg.LogJSON, Output: c.stderr}),
	}
	if err := s.Open(ctx); err != nil {
		return err
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			s.Logger.Info("shutting down")
			return s.Close()
		case <-hup:
			if cfg.TLSCertFile == "" {
				continue
			}
			if err := s.ReloadTLS(); err != nil {
				s.Logger.Error("certificate not reloaded; serving the previous one", "error", err)
				continue
			}
			s.Logger.Info("certificate reloaded", "cert_file", cfg.TLSCertFile)
		}
	}
}
