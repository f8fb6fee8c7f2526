package cli

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/client"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// The commands in this file and its siblings steer a running shifter
// through its API, as a person or a CI job does. Each is a struct with
// parseFlags and run, like serve; what they share is here: how they reach
// the shifter, how their flags and arguments are read, and how their errors
// become one line and an exit code.

// Where the commands find the shifter when no flag says.
const (
	defaultAddr = "http://127.0.0.1:7070"
	envAddr     = "IONROLLER_ADDR"
	envToken    = "IONROLLER_TOKEN"
	envCAFile   = "IONROLLER_CA_FILE"
)

// Exit codes. watch's outcome codes let a CI script tell a rollout that an
// alarm rolled back from one a person aborted or one that never became
// healthy.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitRolledBack  = 3
	exitAborted     = 4
	exitFailed      = 5
	exitInterrupted = 130 // 128 + SIGINT, as shells report it
)

// remoteCommand is a command that talks to a running shifter.
type remoteCommand interface {
	// parseFlags reads the command line (without the command's name).
	parseFlags(args []string) error
	run(ctx context.Context) error
}

// newRemoteCommand returns the command called name, or nil. The output,
// the environment and the clock are the process's, passed in so that
// nothing below reads a global.
func newRemoteCommand(name string, stdout io.Writer, getenv func(string) string) remoteCommand {
	base := command{name: "shifter " + name, stdout: stdout, getenv: getenv, now: time.Now}
	switch name {
	case "status":
		return &statusCommand{command: base}
	case "watch":
		return &watchCommand{command: base}
	case "events":
		return &eventsCommand{command: base}
	case "history":
		return &historyCommand{command: base}
	case "diff":
		return &diffCommand{command: base}
	case "promote", "pause", "resume", "abort", "rollback", "override":
		return &actCommand{command: base, kind: rollout.CommandKind(name)}
	case "simulate":
		return &simulateCommand{command: base}
	case "replicas":
		return &replicasCommand{command: base}
	case "store":
		return &storeCommand{command: base}
	}
	return nil
}

// runRemote runs the remote command called name and returns the process's
// exit code: 0, or one line on stderr and 1 for an error, 2 for a command
// line that cannot run, 130 when interrupted, or the code of a watch's
// outcome.
func runRemote(ctx context.Context, name string, args []string, stdout, stderr io.Writer) int {
	cmd := newRemoteCommand(name, stdout, os.Getenv)
	if cmd == nil {
		fmt.Fprintf(stderr, "shifter: unknown command %q\n", name)
		return exitUsage
	}
	err := cmd.parseFlags(args)
	if err == nil {
		err = cmd.run(ctx)
	}
	var usage *usageError
	var coded *codedError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &usage):
		fmt.Fprintf(stderr, "shifter %s: %s (see 'shifter %s -h')\n", name, usage.msg, name)
		return exitUsage
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		return exitInterrupted // the person who pressed Ctrl-C knows why
	case errors.As(err, &coded):
		fmt.Fprintln(stderr, "shifter:", oneLine(coded.msg))
		return coded.code
	default:
		fmt.Fprintln(stderr, "shifter:", oneLine(explain(err)))
		return exitError
	}
}

// usageError is a command line that cannot run (exit 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// codedError ends a command with an exit code of its own, such as watch's
// outcome.
type codedError struct {
	code int
	msg  string
}

func (e *codedError) Error() string { return e.msg }

// oneLine keeps an error on one line of stderr whatever a server or proxy
// put in it.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// command is what every remote command has: its name for usage lines, its
// output, the environment and the clock. Errors are not the command's to
// print: runRemote does, one line each.
type command struct {
	name   string
	stdout io.Writer
	getenv func(string) string
	now    func() time.Time
}

// flagSet is a command's flags and the usage -h prints with them.
type flagSet struct {
	*flag.FlagSet
	synopsis string // "shifter pause [flags] ENDPOINT"
	about    string // what the command does, in a few lines
}

func (c *command) flags(synopsis, about string) *flagSet {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	// Parse errors come back as a usageError, printed on one line by
	// runRemote, so the flag package prints nothing itself.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &flagSet{FlagSet: fs, synopsis: synopsis, about: about}
}

// parse parses args, allowing flags after the positional arguments too
// (`shifter pause web -for 10m`), and returns the positional arguments.
// -h prints the usage on stdout, since it was asked for, and returns
// flag.ErrHelp.
func (c *command) parse(fs *flagSet, args []string) ([]string, error) {
	var positional []string
	for {
		err := fs.Parse(args)
		switch {
		case errors.Is(err, flag.ErrHelp):
			c.printUsage(fs)
			return nil, err
		case err != nil:
			return nil, &usageError{msg: err.Error()}
		}
		rest := fs.Args()
		consumed := args[:len(args)-len(rest)]
		if len(consumed) > 0 && consumed[len(consumed)-1] == "--" {
			return append(positional, rest...), nil // everything after -- is an argument
		}
		if len(rest) == 0 {
			return positional, nil
		}
		positional, args = append(positional, rest[0]), rest[1:]
	}
}

func (c *command) printUsage(fs *flagSet) {
	fmt.Fprintf(c.stdout, "Usage: %s\n\n%s\n\nFlags:\n", fs.synopsis, fs.about)
	fs.SetOutput(c.stdout)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// outputFlag registers -output (text or json) and returns what reports,
// once the flags are parsed, whether it asks for JSON.
func outputFlag(fs *flagSet) func() (json bool, err error) {
	output := fs.String("output", "text", "`format`: text, or json for the API's view")
	return func() (bool, error) {
		switch *output {
		case "text":
			return false, nil
		case "json":
			return true, nil
		}
		return false, usagef("-output must be text or json; got %q", *output)
	}
}

// endpointArg returns the one ENDPOINT argument of a command.
func endpointArg(args []string) (string, error) {
	switch len(args) {
	case 0:
		return "", usagef("missing the ENDPOINT argument")
	case 1:
		return args[0], nil
	default:
		return "", usagef("expects one ENDPOINT argument; got %d arguments: %s", len(args), strings.Join(args, " "))
	}
}

// connection is how a command reaches the shifter. Flags win over the
// environment; the token has no flag default so that -h never prints it.
type connection struct {
	addr    string
	token   string
	caFile  string
	timeout time.Duration
}

func (c *connection) register(fs *flag.FlagSet) {
	fs.StringVar(&c.addr, "addr", "", "shifter `URL` (default $"+envAddr+", or "+defaultAddr+")")
	fs.StringVar(&c.token, "token", "", "API `token` (default $"+envToken+")")
	fs.StringVar(&c.caFile, "ca-file", "", "PEM `file` of the CA that signed an https shifter's certificate (default $"+envCAFile+")")
	fs.DurationVar(&c.timeout, "timeout", client.DefaultTimeout, "bound of each API request (event streams are not bounded)")
}

func (c *connection) connect(getenv func(string) string) (*client.Client, error) {
	// A person is told at once that the shifter does not answer; watch
	// keeps trying on its own and says so.
	opts := []client.Option{client.WithTimeout(c.timeout), client.WithRetryFor(0)}
	if token := cmp.Or(c.token, getenv(envToken)); token != "" {
		opts = append(opts, client.WithToken(token))
	}
	if file := cmp.Or(c.caFile, getenv(envCAFile)); file != "" {
		pem, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("read the CA bundle: %w", err)
		}
		opts = append(opts, client.WithCABundle(pem))
	}
	return client.New(cmp.Or(c.addr, getenv(envAddr), defaultAddr), opts...)
}

// explain turns an error into what a person should read: the shifter's own
// message, with a hint where one helps, or for a request that got no answer
// which shifter could not be reached rather than the whole request URL.
func explain(err error) string {
	var uerr *url.Error
	switch {
	case errors.As(err, &uerr):
		shifter := uerr.URL
		if u, perr := url.Parse(uerr.URL); perr == nil {
			shifter = u.Scheme + "://" + u.Host
		}
		return fmt.Sprintf("cannot reach the shifter at %s: %v", shifter, uerr.Err)
	case rollout.ErrorCode(err) == rollout.EUNAUTHORIZED:
		return err.Error() + " (the token comes from -token or $" + envToken + ")"
	}
	return err.Error()
}
