// Package daemontest runs the shifter's daemon in-process for tests: the
// API, the reconciler and the store of a real shifter, on the AWS
// configuration the test gives (a moto account).
package daemontest

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/hashicorp/go-hclog"

	"github.com/ionroller/terraform-provider-ionroller/shifter/api/openapitest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/daemon"
)

// Serve opens a shifter with the HCL configuration config (listen on
// "127.0.0.1:0" for a free port) against awsCfg, logging warnings nowhere
// unless setup sets a Logger. setup may also set Timeouts. In tests (not
// benchmarks, which measure the shifter as it runs) every exchange with its
// API is checked against the API's OpenAPI description, and a mismatch
// fails tb (package openapitest). The shifter is
// closed when the test ends; close closes it earlier (once: a second call
// returns the first's result).
func Serve(tb testing.TB, config string, awsCfg aws.Config, setup ...func(*daemon.Server)) (s *daemon.Server, close func() error) {
	tb.Helper()
	cfg, err := daemon.ParseConfig([]byte(config), tb.Name()+".hcl")
	if err != nil {
		tb.Fatal(err)
	}
	s = &daemon.Server{Config: cfg, AWS: &awsCfg, Logger: hclog.New(&hclog.LoggerOptions{Level: hclog.Warn, Output: io.Discard})}
	if _, bench := tb.(*testing.B); !bench {
		s.WrapAPI = func(h http.Handler) http.Handler { return openapitest.Handler(tb, h) }
	}
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

// Open serves a shifter as most tests want one: on a free port with a bolt
// file of its own, in a moto account of its own whose network it returns,
// acting fast (poll 50ms, resync 1s), and with auth as the body of its auth
// block.
func Open(tb testing.TB, auth string) (*daemon.Server, awstest.Net) {
	tb.Helper()
	return OpenIn(tb, awstest.Config(tb), auth)
}

// OpenIn is Open in the moto account awsCfg reaches, which the test can set
// up further.
func OpenIn(tb testing.TB, awsCfg aws.Config, auth string) (*daemon.Server, awstest.Net) {
	tb.Helper()
	net := awstest.Network(tb, awsCfg)
	s, _ := Serve(tb, fmt.Sprintf(`
listen          = "127.0.0.1:0"
poll_interval   = "50ms"
resync_interval = "1s"
store { path = %q }
images { pin = false } # no registry serves the tests' images
auth {
  %s
}
`, filepath.Join(tb.TempDir(), "shifter.db"), auth), awsCfg)
	return s, net
}
