package provider

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/ionroller/terraform-provider-ionroller/shifter/client"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// This file holds what both resources need to talk to the shifter: the
// revision kept in private state, errors turned into diagnostics, and the
// polling loop of every wait.

// revisionKey is the private state key of the revision the shifter last
// answered with. Writes send it as If-Match, so a write based on a stale
// read fails instead of overwriting someone else's change.
const revisionKey = "revision"

// privateGetter and privateSetter are the private state of a request and of
// a response (the framework's type is internal).
type (
	privateGetter interface {
		GetKey(ctx context.Context, key string) ([]byte, diag.Diagnostics)
	}
	privateSetter interface {
		SetKey(ctx context.Context, key string, value []byte) diag.Diagnostics
	}
)

// getRevision returns the revision kept in private state. A state without
// one (written by hand, or moved) gets rollout.RevisionAny: the write then
// cannot detect a concurrent change, which is logged.
func getRevision(ctx context.Context, p privateGetter) (int64, diag.Diagnostics) {
	b, diags := p.GetKey(ctx, revisionKey)
	if diags.HasError() {
		return 0, diags
	}
	if len(b) == 0 {
		tflog.Warn(ctx, "no shifter revision in private state; writing without a revision check")
		return rollout.RevisionAny, diags
	}
	rev, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		diags.AddError("Invalid Private State", fmt.Sprintf("The stored shifter revision %q is not a number: %s. This is a bug in the provider.", b, err))
	}
	return rev, diags
}

// setRevision keeps rev in private state.
func setRevision(ctx context.Context, p privateSetter, rev int64) diag.Diagnostics {
	return p.SetKey(ctx, revisionKey, []byte(strconv.FormatInt(rev, 10)))
}

// addShifterError adds the diagnostic for err, the shifter's answer to
// action ("creating", "updating", ...) on object ("endpoint \"web\"").
// An invalid value is reported at the attribute the shifter names (its
// fields are the attribute paths), when the schema has it.
func addShifterError(ctx context.Context, diags *diag.Diagnostics, schemaOf tfsdk.State, action, object string, err error) {
	summary := fmt.Sprintf("Error %s %s", action, object)
	switch rollout.ErrorCode(err) {
	case rollout.EINVALID:
		// The field's path, or the nearest attribute above it: an element
		// of a list of strings is no attribute of its own.
		for p, ok := fieldPath(rollout.ErrorField(err)); ok && len(p.Steps()) > 0; p = p.ParentPath() {
			if _, d := schemaOf.Schema.AttributeAtPath(ctx, p); !d.HasError() {
				diags.AddAttributeError(p, summary, fmt.Sprintf("The shifter refused %s: %s", rollout.ErrorField(err), apiMessage(err)))
				return
			}
		}
		diags.AddError(summary, "The shifter refused the request: "+err.Error())
	case rollout.ECONFLICT:
		diags.AddError(summary, fmt.Sprintf(
			"Another run changed %s since Terraform last read it; re-run plan to see the change, then apply again.\n\nThe shifter said: %s",
			object, err))
	default:
		diags.AddError(summary, err.Error())
	}
}

// apiMessage returns the message of a shifter error without its field.
func apiMessage(err error) string {
	var e *rollout.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

// isNotFound reports whether err is the shifter's not_found.
func isNotFound(err error) bool { return rollout.ErrorCode(err) == rollout.ENOTFOUND }

// fieldPath returns the attribute path of a shifter error's field, a JSON
// path such as `policy.steps[1].weight` or `template.env["PORT"]`.
func fieldPath(field string) (path.Path, bool) {
	end := strings.IndexAny(field, ".[")
	if end < 0 {
		end = len(field)
	}
	if end == 0 {
		return path.Empty(), false
	}
	return appendField(path.Root(field[:end]), field[end:])
}

// appendField returns p followed by rest, the tail of a shifter field such
// as `[1].weight` or `["PORT"]`.
func appendField(p path.Path, rest string) (path.Path, bool) {
	for rest != "" {
		switch {
		case strings.HasPrefix(rest, "."):
			rest = rest[1:]
			end := strings.IndexAny(rest, ".[")
			if end < 0 {
				end = len(rest)
			}
			if end == 0 {
				return p, false
			}
			p, rest = p.AtName(rest[:end]), rest[end:]
		case strings.HasPrefix(rest, `["`):
			end := strings.Index(rest, `"]`)
			if end < 0 {
				return p, false
			}
			key, err := strconv.Unquote(rest[1 : end+1])
			if err != nil {
				return p, false
			}
			p, rest = p.AtMapKey(key), rest[end+2:]
		case strings.HasPrefix(rest, "["):
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return p, false
			}
			i, err := strconv.Atoi(rest[1:end])
			if err != nil || i < 0 {
				return p, false
			}
			p, rest = p.AtListIndex(i), rest[end+1:]
		default:
			return p, false
		}
	}
	return p, true
}

// Waits poll the shifter, quickly at first: a rollback to a hot version is
// done tens of milliseconds after the shifter takes it (a first poll at
// 100 ms added a third to the apply of a rollback: BenchmarkTerraformRollback),
// most other changes the provider waits for (a deleted endpoint in a small
// account) take a second or two, and a GET is one read of the shifter's
// store. The interval doubles up to longestPoll.
const (
	firstPoll   = 20 * time.Millisecond
	longestPoll = 2 * time.Second
)

// planLookupTimeout bounds what a plan reads of another object to check a
// resource against it (a release against its endpoint): a shifter that
// does not answer at once is not waited for, since it checks the same when
// the change is applied.
const planLookupTimeout = 2 * time.Second

// poll calls check until it reports done or fails, or ctx ends. A shifter
// that does not answer (restarting) is waited for: its error ends the wait
// only with ctx, and is then part of it.
func poll(ctx context.Context, check func() (done bool, err error)) error {
	interval := firstPoll
	var unavailable error
	for {
		done, err := check()
		switch {
		case client.Unavailable(err) && ctx.Err() == nil:
			tflog.Warn(ctx, "the shifter does not answer; waiting on", map[string]any{"error": err.Error()})
			unavailable = err
		case done || err != nil:
			return err
		default:
			unavailable = nil
		}
		select {
		case <-ctx.Done():
			if unavailable != nil {
				return fmt.Errorf("%w: %w", ctx.Err(), unavailable)
			}
			return ctx.Err()
		case <-time.After(interval):
		}
		interval = min(2*interval, longestPoll)
	}
}

// noAddress is what the provider gives its resources and data sources when
// its configuration names no shifter: each that needs one fails with it.
type noAddress struct{}

// clientFrom returns the client a provider gives its resources and data
// sources, or adds a diagnostic. data is nil before the provider is
// configured (validation), which is not an error.
func clientFrom(data any, diags *diag.Diagnostics) *client.Client {
	if data == nil {
		return nil
	}
	if _, ok := data.(noAddress); ok {
		diags.AddError("Missing Shifter Address",
			"Set address in the provider block, for example \"https://shifter.example.com:7070\", or the "+addressEnv+" environment variable. "+
				"Only ionroller_shifter_iam_policy works without a shifter.")
		return nil
	}
	d, ok := data.(*providerData)
	if !ok {
		diags.AddError("Unexpected Provider Data",
			fmt.Sprintf("Expected *providerData, got %T. This is a bug in the provider; please report it.", data))
		return nil
	}
	return d.client
}
