// Package awstest runs the project's AWS tests against moto's server: the same
// SDK code that talks to AWS, pointed at a local URL. Main starts one
// moto_server per test binary; Config gives every test its own moto account,
// so tests never see each other's resources and need no cleanup.
package awstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awslike"
)

// EndpointEnv names a moto server to use instead of starting one, e.g.
// "http://127.0.0.1:5000".
const EndpointEnv = "IONROLLER_MOTO_ENDPOINT"

// startTimeout bounds how long moto_server may take to answer.
const startTimeout = 60 * time.Second

// The AWS of this test binary: moto's server, and the awslike layer in front
// of it that makes it behave like AWS where moto does not (target health,
// request budgets, latency). They are set once by Main before any test runs
// and only read afterwards: a test harness's process-wide state, the one
// place where package variables are the honest shape.
var (
	motoURL  string
	endpoint string // the layer's URL
	layer    *awslike.Layer
)

// Endpoint returns the URL the tests reach AWS at: the awslike layer in
// front of moto, on by default so that no test passes only because moto is
// kinder than AWS. It is empty unless Main runs in the test binary's
// TestMain.
func Endpoint() string { return endpoint }

// MotoEndpoint returns the URL of moto's server itself, with nothing in
// front of it: for tests of a layer that puts itself there (awslike). It is
// empty unless Main runs in the test binary's TestMain.
func MotoEndpoint() string { return motoURL }

// Layer returns the awslike layer in front of moto, to turn its knobs
// (brownouts, unhealthy targets, budgets, Wipe) and read its counts.
func Layer() *awslike.Layer { return layer }

// Main runs the tests of a package against moto. Call it from TestMain:
//
//	func TestMain(m *testing.M) { awstest.Main(m) }
//
// It uses the server named by IONROLLER_MOTO_ENDPOINT if set; otherwise it
// starts moto_server from PATH on a free loopback port and stops it when the
// tests end. Without moto the tests fail: they are never skipped.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if url := os.Getenv(EndpointEnv); url != "" {
		return serve(m, url)
	}

	srv, err := startMoto()
	if err != nil {
		fmt.Fprintf(os.Stderr, "awstest: %v\n", err)
		return 1
	}
	defer srv.stop()

	// A signal that ends the test binary (Ctrl-C, go test's timeout kill
	// with SIGTERM) must not leave moto behind.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		if sig, ok := <-sigs; ok {
			srv.stop()
			fmt.Fprintf(os.Stderr, "awstest: %v: stopped moto_server\n", sig)
			os.Exit(1)
		}
	}()

	return serve(m, srv.url)
}

// serve runs the tests with the awslike layer in front of moto at url.
func serve(m *testing.M, url string) int {
	l, front, stop, err := startLayer(url)
	if err != nil {
		fmt.Fprintf(os.Stderr, "awstest: %v\n", err)
		return 1
	}
	defer stop()
	motoURL, layer, endpoint = url, l, front
	return m.Run()
}

// startLayer serves an awslike layer in front of moto at upstream, on its
// test time scale (an AWS second is 10 ms, so target groups come through
// their first health checks in a test's time), and returns its URL.
func startLayer(upstream string) (*awslike.Layer, string, func(), error) {
	l, err := awslike.New(upstream, awslike.WithTimeScale(awslike.TestTimeScale))
	if err != nil {
		return nil, "", nil, fmt.Errorf("awslike layer: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", nil, fmt.Errorf("awslike layer: %w", err)
	}
	srv := &http.Server{Handler: l, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // Close ends it
	return l, "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

// Server starts a moto_server for t alone, with an awslike layer in front
// of it as Endpoint has, and returns the layer's URL; both stop when t ends.
// moto serves one request at a time per process (Python's GIL), so a test
// that would saturate the shared server with one service (the DynamoDB of
// several shifter replicas) gives that service its own, and the second core
// with it. Point a copy of an Account's Config at it with BaseEndpoint.
func Server(t testing.TB) string {
	t.Helper()
	srv, err := startMoto()
	if err != nil {
		t.Fatalf("awstest: %v", err)
	}
	t.Cleanup(srv.stop)
	_, url, stop, err := startLayer(srv.url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return url
}

// motoServer is a moto_server process this binary started.
type motoServer struct {
	cmd    *exec.Cmd
	url    string
	log    *tailBuffer
	exited chan struct{} // closed once the process is reaped
	err    error         // how it exited, set before exited is closed
	once   sync.Once
}

func startMoto() (*motoServer, error) {
	path, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, errors.New("moto_server not found on PATH: install moto[server] 5.x or set " + EndpointEnv)
	}
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("find a free port for moto_server: %w", err)
	}

	// Pdeathsig kills moto if this process dies without running its
	// defers (a panic in a test goroutine, os.Exit in a test). The kernel
	// sends it when the thread that started the child exits, so the
	// starting goroutine stays locked to its thread for good.
	runtime.LockOSThread()

	log := &tailBuffer{max: 64 << 10}
	cmd := exec.Command(path, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Stdout = log
	cmd.Stderr = log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	srv := &motoServer{cmd: cmd, url: "http://127.0.0.1:" + strconv.Itoa(port), log: log, exited: make(chan struct{})}
	go func() {
		srv.err = cmd.Wait()
		close(srv.exited)
	}()
	if err := srv.waitReady(); err != nil {
		srv.stop()
		return nil, fmt.Errorf("%w\nmoto_server output:\n%s", err, log.String())
	}
	return srv, nil
}

// waitReady polls moto until it answers HTTP, the process exits or the start
// timeout passes.
func (s *motoServer) waitReady() error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/moto-api/data.json", nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("moto_server exited before answering: %v", s.err)
		case <-ctx.Done():
			return fmt.Errorf("moto_server did not answer on %s within %s", s.url, startTimeout)
		case <-tick.C:
		}
	}
}

// stop kills moto's process group and waits, briefly, until it is reaped. It
// is safe to call more than once and from several goroutines.
func (s *motoServer) stop() {
	s.once.Do(func() {
		// The negative PID addresses the group Setpgid created, so a
		// wrapper (a pyenv shim) and the Python process both go.
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		select {
		case <-s.exited:
		case <-time.After(5 * time.Second):
		}
	})
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return 0, fmt.Errorf("unexpected listener address %v", l.Addr())
	}
	return addr.Port, nil
}

// tailBuffer keeps the last max bytes written to it: moto logs every request,
// and only the end matters when it fails to start.
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if over := b.buf.Len() - b.max; over > 0 {
		b.buf.Next(over)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
