package crashtest_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
)

// shifterBinary is the `shifter` binary under test: SHIFTER_BIN, or one
// built once for the test binary into dir.
func shifterBinary(dir string) (string, error) {
	if bin := os.Getenv("SHIFTER_BIN"); bin != "" {
		return bin, nil
	}
	bin := filepath.Join(dir, "shifter")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/ionroller/terraform-provider-ionroller/shifter/cmd/shifter").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("build the shifter: %v\n%s", err, out)
	}
	return bin, nil
}

// accountProxy forwards to moto as one moto account: the shifter reaches
// AWS through its aws { endpoint }, and has no way to pick a moto account
// itself (nor should it).
func accountProxy(t *testing.T, account string) string {
	t.Helper()
	target, err := url.Parse(awstest.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	p := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Header.Set("x-moto-account-id", account)
	}}
	// A request cut short by a SIGKILL is not an error worth a log line.
	p.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) }
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return srv.URL
}

// process is one run of `shifter serve` on a trial's configuration.
type process struct {
	cmd  *exec.Cmd
	url  string // the API
	done chan struct{}
	err  error // how it exited, once done is closed
}

// startShifter runs the shifter and waits until it serves. Its log goes to
// log, to be shown if the trial fails.
func startShifter(ctx context.Context, bin, config string, log io.Writer) (*process, error) {
	cmd := exec.Command(bin, "serve", "-config", config)
	cmd.Env = shifterEnv()
	cmd.Stdout = log
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	serving := make(chan string, 1)
	go func() {
		// The log is JSON lines; the address is in "shifter serving".
		lines := bufio.NewScanner(stderr)
		for lines.Scan() {
			line := lines.Bytes()
			fmt.Fprintf(log, "%s\n", line)
			var entry struct {
				Message string `json:"@message"`
				Address string `json:"address"`
			}
			if json.Unmarshal(line, &entry) == nil && entry.Message == "shifter serving" {
				serving <- entry.Address
			}
		}
		p.err = cmd.Wait()
		close(p.done)
	}()
	select {
	case p.url = <-serving:
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("the shifter exited before serving: %v", p.err)
	case <-time.After(20 * time.Second):
		p.kill()
		return nil, errors.New("the shifter did not serve within 20s")
	case <-ctx.Done():
		p.kill()
		return nil, ctx.Err()
	}
}

// shifterEnv is the process's environment: moto's static credentials and
// nothing of the developer's AWS setup.
func shifterEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return append(env, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_EC2_METADATA_DISABLED=true")
}

// kill SIGKILLs the shifter, as a crash or the OOM killer would, and waits
// for it to be gone.
func (p *process) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop asks the shifter to stop (SIGTERM) and waits up to 10s.
func (p *process) stop() error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(10 * time.Second):
		p.kill()
		return errors.New("the shifter did not stop within 10s of SIGTERM")
	}
}

// api calls the shifter's API and decodes the answer into out (if not nil).
func api(ctx context.Context, method, url string, body, out any) (int, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return 0, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if out != nil {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil && !errors.Is(err, io.EOF) {
			return res.StatusCode, err
		}
	}
	return res.StatusCode, nil
}
