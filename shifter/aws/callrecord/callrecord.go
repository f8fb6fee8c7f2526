// Package callrecord records which AWS operations the shifter calls, for the
// check that its IAM policy allows them all and nothing more (tools/iamcheck,
// run by `make test`). When the environment variable DirEnv names a
// directory, every process appends each operation its shifter clients call,
// once, to a file of its own there. Without it nothing is added to the
// clients.
package callrecord

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/iampolicy"
)

// DirEnv names the environment variable naming the directory of the record.
const DirEnv = "IONROLLER_AWS_CALLS_DIR"

// Call is an operation of a service, named as the SDK's middleware names
// them (service ID "Elastic Load Balancing v2", operation "ModifyRule");
// DynamoDB's transaction items are operations of their own
// (iampolicy.TransactItem).
type Call struct{ Service, Operation string }

// Add adds the recorder to the clients built from cfg when DirEnv is set.
// Only the shifter's own clients get it; a test's clients for its setup and
// inspection must not, or what the policy must allow would include them.
func Add(cfg *aws.Config) {
	dir := os.Getenv(DirEnv)
	if dir == "" {
		return
	}
	r := processRecord(dir)
	cfg.APIOptions = append(cfg.APIOptions, func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("ionrollerCallRecord",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if err := r.add(callsOf(ctx, in.Parameters)...); err != nil {
					// A call the record misses could let a gap in the
					// policy through: the test run fails instead.
					return middleware.InitializeOutput{}, middleware.Metadata{}, err
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	})
}

// callsOf names the call, and the items of a transaction.
func callsOf(ctx context.Context, params any) []Call {
	service, op := awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)
	in, ok := params.(*ddb.TransactWriteItemsInput)
	if !ok {
		return []Call{{service, op}}
	}
	var calls []Call
	for _, item := range in.TransactItems {
		for kind, set := range map[string]bool{"Put": item.Put != nil, "Delete": item.Delete != nil, "Update": item.Update != nil, "ConditionCheck": item.ConditionCheck != nil} {
			if set {
				calls = append(calls, Call{service, iampolicy.TransactItem(op, kind)})
			}
		}
	}
	return calls
}

// record is a process's file of calls. It is one per process (processRecord)
// because the file is: every client of the process writes to it, and each
// call once.
type record struct {
	dir  string
	once sync.Once
	file *os.File
	err  error

	mu   sync.Mutex
	seen map[Call]bool
}

var (
	recordsMu sync.Mutex
	records   = map[string]*record{}
)

func processRecord(dir string) *record {
	recordsMu.Lock()
	defer recordsMu.Unlock()
	r, ok := records[dir]
	if !ok {
		r = &record{dir: dir, seen: map[Call]bool{}}
		records[dir] = r
	}
	return r
}

// add appends the calls not written yet, a line each, as they happen: a
// process may be SIGKILLed (the crash trials) and lose nothing written.
func (r *record) add(calls ...Call) error {
	r.once.Do(func() {
		r.file, r.err = os.OpenFile(filepath.Join(r.dir, fmt.Sprintf("pid-%d.calls", os.Getpid())), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	})
	if r.err != nil {
		return fmt.Errorf("record the AWS calls (%s): %w", DirEnv, r.err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range calls {
		if r.seen[c] {
			continue
		}
		if _, err := fmt.Fprintf(r.file, "%s\t%s\n", c.Service, c.Operation); err != nil {
			return fmt.Errorf("record the AWS call %s %s: %w", c.Service, c.Operation, err)
		}
		r.seen[c] = true
	}
	return nil
}

// Read returns every call recorded in dir, each once. A directory that is
// missing or holds no call is an error: the suite did not run with DirEnv
// set, and nothing would be proven.
func Read(dir string) ([]Call, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.calls"))
	if err != nil {
		return nil, err
	}
	seen := map[Call]bool{}
	var calls []Call
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		got, err := parse(f)
		_ = f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		for _, c := range got {
			if !seen[c] {
				seen[c] = true
				calls = append(calls, c)
			}
		}
	}
	if len(calls) == 0 {
		return nil, fmt.Errorf("no AWS call is recorded in %s: run the suite with %s naming it (make test does)", dir, DirEnv)
	}
	return calls, nil
}

func parse(r io.Reader) ([]Call, error) {
	var calls []Call
	lines := bufio.NewScanner(r)
	for lines.Scan() {
		service, op, ok := strings.Cut(lines.Text(), "\t")
		if !ok || service == "" || op == "" {
			return nil, errors.New("not a line of service<TAB>operation: " + lines.Text())
		}
		calls = append(calls, Call{service, op})
	}
	return calls, lines.Err()
}
