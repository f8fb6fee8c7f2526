// Package clitest runs `shifter serve` in-process for tests: the API, the
// reconciler and the store of a real shifter, on the AWS configuration the
// test gives (a moto account).
package clitest

import (
	"io"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/hashicorp/go-hclog"

	"github.com/ionroller/terraform-provider-ionroller/shifter/cli"
)

// Serve opens a shifter with the HCL configuration config (listen on
// "127.0.0.1:0" for a free port) against awsCfg, logging warnings nowhere
// unless setup sets a Logger. setup may also set Timeouts. The shifter is
// closed when the test ends; close closes it earlier (once: a second call
// returns the first's result).
func Serve(tb testing.TB, config string, awsCfg aws.Config, setup ...func(*cli.Server)) (s *cli.Server, close func() error) {
	tb.Helper()
	cfg, err := cli.ParseConfig([]byte(config), tb.Name()+".hcl")
	if err != nil {
		tb.Fatal(err)
	}
	s = &cli.Server{Config: cfg, AWS: &awsCfg, Logger: hclog.New(&hclog.LoggerOptions{Level: hclog.Warn, Output: io.Discard})}
	for _, f := range setup {
		f(s)
	}
	if err := s.Open(tb.Context()); err != nil {
		tb.Fatal(err)
	}
	close = sync.OnceValue(s.Close)
	tb.Cleanup(func() {
		if err := close(); err != nil {
			tb.Error(err)
		}
	})
	return s, close
}
