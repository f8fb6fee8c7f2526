// Package openapitest checks what tests send to the shifter's API, and what
// it answers, against the API's OpenAPI description (api.OpenAPI), so that
// every test that talks to the API keeps the description true.
//
// It uses pb33f/libopenapi-validator: it validates whole exchanges
// (http.Request and http.Response) against OpenAPI 3.1 with JSON Schema
// 2020-12, which the description's schemas are written in.
package openapitest

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	verrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/helpers"
	"github.com/pb33f/libopenapi-validator/paths"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"

	"github.com/ionroller/terraform-provider-ionroller/shifter/api"
)

// Description is the API's OpenAPI description, parsed, and its validator.
type Description struct {
	Model     *v3.Document
	validator validator.Validator
}

// load parses the description once per test binary; the validator is safe
// for concurrent use.
var load = sync.OnceValues(func() (*Description, error) {
	doc, err := libopenapi.NewDocument(api.OpenAPI())
	if err != nil {
		return nil, err
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		return nil, fmt.Errorf("the OpenAPI description does not build: %w", err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		return nil, fmt.Errorf("the OpenAPI description does not build: %v", errs)
	}
	if ok, errs := v.ValidateDocument(); !ok {
		return nil, fmt.Errorf("the OpenAPI description is not valid OpenAPI: %s", describe(errs))
	}
	return &Description{Model: &model.Model, validator: v}, nil
})

// Parse returns the API's description, or why it does not parse or is not
// valid OpenAPI.
func Parse() (*Description, error) { return load() }

// Load returns the API's description, failing tb if it does not parse or
// is not valid OpenAPI.
func Load(tb testing.TB) *Description {
	tb.Helper()
	d, err := load()
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// Operations returns the described operations as ServeMux patterns, such as
// "GET /v1/endpoints/{name}".
func (d *Description) Operations() []string {
	var ops []string
	for path, item := range d.Model.Paths.PathItems.FromOldest() {
		for method := range item.GetOperations().KeysFromOldest() {
			ops = append(ops, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(ops)
	return ops
}

// route returns the description's path template that r matches, "" if none.
func (d *Description) route(r *http.Request) string {
	if item, _, path := paths.FindPath(r, d.Model, nil); item != nil {
		return path
	}
	return ""
}

// Handler returns next checking every /v1 exchange against the description.
// It fails tb, naming the route and the field, when an answer is not one
// the description allows, or when the server accepted a request that the
// description refuses. A request both refuse (a test of a bad request) is
// fine: the description cannot say every rule the server checks, but it
// must never refuse what the server takes.
func Handler(tb testing.TB, next http.Handler) http.Handler {
	tb.Helper()
	d := Load(tb)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/v1/") {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			tb.Errorf("openapitest: reading the body of %s %s: %v", r.Method, r.URL.Path, err)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		if err := d.check(r, body, rec); err != nil {
			tb.Error(err)
		}
		exchanges.count(Exchange{Method: r.Method, Route: d.route(r), Status: rec.status})
	})
}

// check returns what is wrong with an exchange, nil when nothing is.
func (d *Description) check(r *http.Request, body []byte, rec *recorder) error {
	request := func() *http.Request {
		c := r.Clone(r.Context())
		c.Body = io.NopCloser(bytes.NewReader(body))
		return c
	}
	if ok, errs := d.validator.ValidateHttpRequest(request()); !ok {
		if rec.status < http.StatusBadRequest {
			return fmt.Errorf("openapitest: %s %s was answered %d, but the OpenAPI description refuses the request: %s",
				r.Method, r.URL.Path, rec.status, describe(errs))
		}
		if unrouted(errs) {
			return nil // refused by both; nothing describes the answer
		}
	}
	resp := &http.Response{
		StatusCode: rec.status,
		Header:     rec.Header().Clone(),
		Body:       io.NopCloser(bytes.NewReader(rec.body.Bytes())),
		Request:    r,
	}
	if ok, errs := d.validator.ValidateHttpResponse(request(), resp); !ok {
		return fmt.Errorf("openapitest: the answer %d to %s %s is not what the OpenAPI description says: %s\nbody: %s",
			rec.status, r.Method, r.URL.Path, describe(errs), truncate(rec.body.Bytes()))
	}
	return nil
}

// unrouted reports whether the description has no operation for the request.
func unrouted(errs []*verrors.ValidationError) bool {
	for _, e := range errs {
		if e.ValidationType == helpers.PathValidation {
			return true
		}
	}
	return false
}

// describe writes validation errors with the operation and the field.
func describe(errs []*verrors.ValidationError) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "\n  %s %s: %s", e.RequestMethod, e.SpecPath, e.Message)
		if e.Reason != "" && e.Reason != e.Message {
			fmt.Fprintf(&b, " (%s)", e.Reason)
		}
		for _, f := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "\n    %s: %s", cmp.Or(f.FieldPath, "$"), f.Reason)
		}
	}
	return b.String()
}

func truncate(body []byte) string {
	const max = 2000
	if len(body) > max {
		return string(body[:max]) + "…"
	}
	return string(body)
}

// recorder passes an answer through and keeps a copy. Unwrap lets
// http.ResponseController flush event streams and lift write deadlines.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// exchanges counts the checked exchanges of the test binary, so a test can
// tell which operations its package exercised.
var exchanges = &counter{seen: map[Exchange]int{}}

// Exchange is a checked request by method and the description's path
// template ("" when the description has none), and its answer's status.
type Exchange struct {
	Method, Route string
	Status        int
}

type counter struct {
	mu   sync.Mutex
	seen map[Exchange]int
}

func (c *counter) count(e Exchange) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen[e]++
}

// Checked returns how many exchanges of each kind were checked so far by
// this test binary.
func Checked() map[Exchange]int {
	exchanges.mu.Lock()
	defer exchanges.mu.Unlock()
	out := make(map[Exchange]int, len(exchanges.seen))
	for k, n := range exchanges.seen {
		out[k] = n
	}
	return out
}
