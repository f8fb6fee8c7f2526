package provider

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// clientSubsystem is the tflog subsystem of the shifter client's request
// log (TF_LOG_PROVIDER_IONROLLER_SHIFTER_CLIENT sets its level).
const clientSubsystem = "shifter_client"

var _ hclog.Logger = (*tflogLogger)(nil)

// tflogLogger is the hclog.Logger the shifter client logs its requests to,
// written to Terraform's provider log through tflog. The client logs one
// line per request (method, path, status, duration) and redacts the token;
// the context it logs with masks the token as well.
//
// hclog has no context per call, so the lines carry the fields of the
// context the provider was configured with.
type tflogLogger struct {
	// hclog.Logger is a null logger for what tflog has no use for:
	// names, levels, standard library loggers. Trace stays off, so request
	// headers are never logged.
	hclog.Logger
	ctx  context.Context
	args []any
}

// newClientLogger returns a logger writing to the provider log of ctx, or
// one that logs nothing when no TF_LOG variable asks for logs: terraform
// then throws away every line the provider logs, after reading it, and the
// client logs a line per request (600 in a plan of 200 endpoints and
// releases, BenchmarkTerraform).
func newClientLogger(ctx context.Context) hclog.Logger {
	if !LogsAsked() {
		return hclog.NewNullLogger()
	}
	return &tflogLogger{Logger: hclog.NewNullLogger(), ctx: tflog.NewSubsystem(ctx, clientSubsystem)}
}

// LogsAsked reports whether a TF_LOG variable (TF_LOG, TF_LOG_PROVIDER,
// TF_LOG_PROVIDER_IONROLLER_SHIFTER_CLIENT, ...) asks for logs: one set,
// and not to OFF. Without one terraform shows no provider log, and the
// provider writes none.
func LogsAsked() bool {
	return slices.ContainsFunc(os.Environ(), func(kv string) bool {
		name, value, _ := strings.Cut(kv, "=")
		return strings.HasPrefix(name, "TF_LOG") && value != "" && !strings.EqualFold(value, "OFF")
	})
}

// QuietSDKLogs turns the plugin SDK's own logging off unless LogsAsked. The
// SDK formats a trace line for every attribute it validates, defaults and
// plans, and terraform, logging nothing, throws them away: a third of a
// plan's time with 200 endpoints (BenchmarkTerraform). The provider's main
// calls it before serving.
func QuietSDKLogs() {
	if !LogsAsked() {
		os.Setenv("TF_LOG_SDK", "OFF")
	}
}

func (l *tflogLogger) Log(level hclog.Level, msg string, args ...any) {
	fields := fieldsOf(append(slices.Clone(l.args), args...))
	switch level {
	case hclog.Trace:
		tflog.SubsystemTrace(l.ctx, clientSubsystem, msg, fields)
	case hclog.Debug:
		tflog.SubsystemDebug(l.ctx, clientSubsystem, msg, fields)
	case hclog.Warn:
		tflog.SubsystemWarn(l.ctx, clientSubsystem, msg, fields)
	case hclog.Error:
		tflog.SubsystemError(l.ctx, clientSubsystem, msg, fields)
	default:
		tflog.SubsystemInfo(l.ctx, clientSubsystem, msg, fields)
	}
}

func (l *tflogLogger) Trace(msg string, args ...any) { l.Log(hclog.Trace, msg, args...) }
func (l *tflogLogger) Debug(msg string, args ...any) { l.Log(hclog.Debug, msg, args...) }
func (l *tflogLogger) Info(msg string, args ...any)  { l.Log(hclog.Info, msg, args...) }
func (l *tflogLogger) Warn(msg string, args ...any)  { l.Log(hclog.Warn, msg, args...) }
func (l *tflogLogger) Error(msg string, args ...any) { l.Log(hclog.Error, msg, args...) }

func (l *tflogLogger) With(args ...any) hclog.Logger {
	return &tflogLogger{Logger: l.Logger, ctx: l.ctx, args: append(slices.Clone(l.args), args...)}
}

func (l *tflogLogger) Named(string) hclog.Logger      { return l }
func (l *tflogLogger) ResetNamed(string) hclog.Logger { return l }

// fieldsOf turns hclog's alternating keys and values into tflog fields.
func fieldsOf(args []any) map[string]any {
	fields := make(map[string]any, len(args)/2)
	for i := 0; i < len(args); i += 2 {
		key := fmt.Sprint(args[i])
		if i+1 == len(args) {
			fields["EXTRA_VALUE_AT_END"] = args[i]
			break
		}
		fields[key] = args[i+1]
	}
	return fields
}
