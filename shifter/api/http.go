package api

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

// The helpers every handler shares: reading a body, reading the revision a
// write expects, and writing an answer or an error.

// decode reads the JSON body of r into v, which should hold the defaults
// for whatever the body leaves out. Unknown fields and trailing data are
// refused so that a typo in a spec is an error rather than a silent default.
// An empty body leaves v as it is when optional is set.
func decode(w http.ResponseWriter, r *http.Request, v any, optional bool) error {
	body, err := readBody(w, r)
	if err != nil || (len(bytes.TrimSpace(body)) == 0 && optional) {
		return err
	}
	return decodeBytes(body, v)
}

// readBody reads a request's body, at most wire.MaxBodyBytes of it.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, wire.MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, rollout.Invalid("body", "is larger than 1 MiB")
	case err != nil:
		return nil, rollout.Invalid("body", "cannot be read: %v", err)
	}
	return body, nil
}

// decodeBytes decodes body into v as decode does.
func decodeBytes(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(body, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return rollout.Invalid("body", "has data after the JSON object")
	}
	return nil
}

// decodeError turns an encoding/json error decoding body into an EINVALID
// error naming the field, so a bad value reads like a validation error.
func decodeError(body []byte, err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := cmp.Or(indexedField(body, typeErr.Field, typeErr.Type), "body")
		return rollout.Invalid(field, "must be %s; got %s", describeType(typeErr.Type), describeValue(typeErr.Value))
	case errors.As(err, &syntaxErr):
		return rollout.Invalid("body", "is malformed JSON at byte %d: %v", syntaxErr.Offset, syntaxErr)
	case errors.Is(err, io.EOF):
		return rollout.Invalid("body", "is empty; want a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return rollout.Invalid("body", "ends too early")
	}
	// encoding/json has no type for an unknown field, only this message.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if unquoted, uerr := strconv.Unquote(name); uerr == nil {
			name = unquoted
		}
		if name == "" {
			return rollout.Invalid("body", "has a field with an empty name")
		}
		return rollout.Invalid(name, "is not a known field")
	}
	return rollout.Invalid("body", "is malformed JSON: %v", err)
}

// indexedField completes field, the path encoding/json gives without list
// indexes ("policy.steps.pause"), with the index of the first element of
// each list in body whose value there does not decode as t, so that the
// field is the one validation and the provider name ("policy.steps[1].pause").
func indexedField(body []byte, field string, t reflect.Type) string {
	var root any
	if field == "" || json.Unmarshal(body, &root) != nil {
		return field
	}
	var find func(v any, names []string, at string) (string, bool)
	find = func(v any, names []string, at string) (string, bool) {
		switch v := v.(type) {
		case []any:
			for i, e := range v {
				if p, ok := find(e, names, fmt.Sprintf("%s[%d]", at, i)); ok {
					return p, true
				}
			}
			return "", false
		case map[string]any:
			if len(names) > 0 {
				return find(v[names[0]], names[1:], strings.TrimPrefix(at+"."+names[0], "."))
			}
		}
		if len(names) > 0 {
			return "", false
		}
		raw, err := json.Marshal(v)
		return at, err == nil && json.Unmarshal(raw, reflect.New(t).Interface()) != nil
	}
	if p, ok := find(root, strings.Split(field, "."), ""); ok {
		return p
	}
	return field
}

func describeType(t reflect.Type) string {
	if t == reflect.TypeFor[rollout.Duration]() {
		return `a duration such as "30s", "5m" or "1h"`
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return t.String()
}

// describeValue rewords what rollout.Duration reports ("duration 5 minutes")
// and leaves encoding/json's kinds ("string", "number 1.5") as they are.
func describeValue(v string) string {
	if s, ok := strings.CutPrefix(v, "duration "); ok {
		return strconv.Quote(s)
	}
	return v
}

// writeJSON writes v with status. An encoding failure at this point can
// only be logged: the status line is already sent.
func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		s.Logger.Debug("response not written", "error", err)
	}
}

// writeError writes err as a wire.ErrorResponse with the status of its code.
// Internal errors are logged with their cause and answered with a generic
// message, which tells a caller nothing about the store or the host.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *rollout.Error
	if !errors.As(err, &e) || e.Code == rollout.EINTERNAL {
		s.Logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "error", err)
		e = rollout.Errorf(rollout.EINTERNAL, "internal error; the shifter's log has the cause")
	}
	if e.Code == rollout.EUNAUTHORIZED {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ionroller"`)
	}
	s.writeJSON(w, wire.ErrorStatus(e.Code), wire.ErrorResponse{Error: e})
}

// writeView writes an endpoint or release view with its revision as ETag.
func (s *Server) writeView(w http.ResponseWriter, status int, rev int64, v any) {
	w.Header().Set("ETag", wire.ETag(rev))
	s.writeJSON(w, status, v)
}

// createdOrOK is 201 for an object the write created (its first revision)
// and 200 for one it replaced.
func createdOrOK(rev int64) int {
	if rev == 1 {
		return http.StatusCreated
	}
	return http.StatusOK
}

// notFound is the error for an object that is missing or that the caller
// may not see; the two read the same so names do not leak.
func notFound(format string, args ...any) error {
	return rollout.Errorf(rollout.ENOTFOUND, format, args...)
}

// expectOrCurrent returns the revision to write with: the caller's, or when
// the caller expects nothing (rollout.RevisionAny), the revision the handler
// read and checked. The write then fails rather than replace something the
// checks never saw.
func expectOrCurrent(expect, current int64) int64 {
	if expect == rollout.RevisionAny {
		return current
	}
	return expect
}
