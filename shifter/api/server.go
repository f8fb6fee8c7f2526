// Package api serves the shifter's HTTP JSON API v1 (DESIGN §6): endpoints,
// releases, operator actions and the event trail, for the Terraform
// provider, the CLI and the web UI.
//
// Handlers are thin: they authenticate, decode, validate with the domain's
// own rules (rollout), write through the store with the revision the caller
// expects and an event in the same transaction, and poke the endpoint's
// reconciler. They never act on AWS; the reconciler does.
package api

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sync/singleflight"

	"github.com/ionroller/terraform-provider-ionroller/shifter/api/ui"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store"
	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

// defaultPoll is how often event streams read the store even when nobody
// called Publish: events written by another replica arrive this way.
const defaultPoll = time.Second

// Server is the API. Set the dependencies, then call Handler once; Handler
// fills the optional ones with defaults, so do not change them afterwards.
type Server struct {
	// Store is where everything is read and written. Required.
	Store store.Store
	// Logger receives one line per request and the cause of every
	// internal error (default: discard).
	Logger hclog.Logger
	// Now is the clock of statuses and events (default: time.Now).
	Now func() time.Time
	// Notify wakes the endpoint's reconciler after an accepted write, so a
	// change is acted on now rather than at the next resync.
	Notify func(endpoint string)
	// Ready reports why the shifter cannot serve yet (nil: ready) for
	// /readyz.
	Ready func() error
	// Degraded says what keeps a ready shifter from doing all of its work
	// (reconcile.Reconciler.Degraded), for /readyz, which still answers
	// 200 then: the API is how people find out more, so a load balancer
	// must not drop it.
	Degraded func() []string
	// Preflight checks an endpoint's spec against its AWS account before
	// a PUT stores it (aws/preflight.Check); nil checks nothing. It
	// returns a rollout.Invalid error for a spec to refuse; any other
	// error (AWS cannot be asked) lets the spec through, logged, since a
	// PUT is also how people repair an endpoint while AWS struggles.
	Preflight func(context.Context, rollout.Endpoint) error
	// Auth authenticates requests; nil refuses every /v1 request.
	Auth *Auth
	// OverrideRole is the least role that may override production's
	// traffic (break glass) and lift an override (default: admin).
	OverrideRole wire.Role
	// Replica names this shifter process in GET /v1/replicas.
	Replica string
	// Leases, on a store shared by several replicas, lists the replicas
	// and their leases for GET /v1/replicas; nil on a store one shifter
	// owns.
	Leases store.Leases
	// Teams bound what each team's endpoints may route, assume, run and
	// notify; a team without an entry is unbounded.
	Teams map[string]Bounds
	// AllowPrivateWebhooks lets every team's webhooks reach loopback,
	// link-local and private addresses (a team's Bounds may allow it alone).
	AllowPrivateWebhooks bool
	// Backup, on a store that is a file, writes a consistent copy of it
	// for GET /v1/store/backup; nil on a shared table.
	Backup BackupFunc
	// MaxStreams bounds the event streams one principal may hold open
	// (default 16), so no caller can tie up the shifter with streams.
	MaxStreams int

	poll, heartbeat time.Duration

	// guard slows down sources that keep failing to authenticate.
	guard *guard

	// pages shares the reads of event streams woken together.
	pages singleflight.Group

	mu sync.Mutex
	// subscribers are the wake-up channels of open event streams, by
	// endpoint; streams counts them by principal. stopPolling ends the
	// poll of open streams; nil while none is open.
	subscribers map[string]map[chan struct{}]struct{}
	streams     map[string]int
	stopPolling chan struct{}
}

// handler is a /v1 route: it answers, or returns the error to answer with.
type handler func(w http.ResponseWriter, r *http.Request, p *Principal) error

// Handler returns the API's routes, and the web UI's (package ui) at / and
// under /endpoints/ and /ui/.
func (s *Server) Handler() http.Handler {
	if s.Logger == nil {
		s.Logger = hclog.NewNullLogger()
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Notify == nil {
		s.Notify = func(string) {}
	}
	if s.Ready == nil {
		s.Ready = func() error { return nil }
	}
	if s.Degraded == nil {
		s.Degraded = func() []string { return nil }
	}
	if s.poll == 0 {
		s.poll = defaultPoll
	}
	if s.heartbeat == 0 {
		s.heartbeat = wire.Heartbeat
	}
	if s.MaxStreams == 0 {
		s.MaxStreams = defaultMaxStreams
	}
	s.guard = newGuard(s.Logger)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	ui.Register(mux)
	for pattern, h := range s.v1Routes() {
		mux.Handle(pattern, h)
	}
	return s.logRequests(mux)
}

// v1Routes are the API's routes by pattern. openapi.json describes each of
// them, and nothing else (TestOpenAPIDescribesEveryRoute).
func (s *Server) v1Routes() map[string]http.Handler {
	return map[string]http.Handler{
		// The description tells nothing of any tenant, and clients read it
		// before they hold a token: it is served to everyone.
		"GET /v1/openapi.json": http.HandlerFunc(serveOpenAPI),

		"GET /v1/whoami":              s.route(wire.RoleRead, s.whoami),
		"GET /v1/replicas":            s.route(wire.RoleRead, s.replicas),
		"GET /v1/store/backup":        s.route(wire.RoleAdmin, s.backup),
		"GET /v1/endpoints":           s.route(wire.RoleRead, s.listEndpoints),
		"GET /v1/endpoints/{name}":    s.route(wire.RoleRead, s.getEndpoint),
		"PUT /v1/endpoints/{name}":    s.route(wire.RoleAdmin, s.putEndpoint),
		"DELETE /v1/endpoints/{name}": s.route(wire.RoleAdmin, s.deleteEndpoint),

		"GET /v1/endpoints/{name}/releases/{track}":    s.route(wire.RoleRead, s.getRelease),
		"PUT /v1/endpoints/{name}/releases/{track}":    s.route(wire.RoleDeploy, s.putRelease),
		"DELETE /v1/endpoints/{name}/releases/{track}": s.route(wire.RoleDeploy, s.deleteRelease),

		"POST /v1/endpoints/{name}/actions/{kind}": s.route(wire.RoleDeploy, s.act),
		"GET /v1/endpoints/{name}/events":          s.route(wire.RoleRead, s.events),

		"GET /v1/endpoints/{name}/revisions":            s.route(wire.RoleRead, s.specRevisions),
		"GET /v1/endpoints/{name}/revisions/{revision}": s.route(wire.RoleRead, s.specRevision),
	}
}

// route authenticates the request, checks the role the route needs and
// writes the error a handler returns.
func (s *Server) route(need wire.Role, h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.authenticate(w, r)
		if err == nil {
			if rec, ok := w.(*statusRecorder); ok {
				rec.caller = p.Name
			}
			if err = p.require(need); err != nil {
				// A run's phase decides its role: say which in the log.
				s.Logger.Warn("request forbidden", "caller", p.Name, "role", p.Role, "needs", need,
					"run_phase", p.claims["run_phase"], "method", r.Method, "path", r.URL.Path)
			}
		}
		if err == nil {
			err = h(w, r, p)
		}
		if err != nil {
			s.writeError(w, r, err)
		}
	})
}

// authenticate returns the principal of r, unless its source failed to
// authenticate too often (429 with Retry-After). A token presented and
// refused counts against its source; a request without one does not, as
// it guesses nothing.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*Principal, error) {
	src, now := source(r), s.Now()
	if wait := s.guard.wait(src, now); wait > 0 {
		seconds := int(math.Ceil(wait.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(seconds))
		return nil, rollout.Errorf(rollout.ETOOMANY, "too many failed authentications from %s; try again in %ds", src, seconds)
	}
	p, reason, err := s.Auth.authenticate(r)
	if err != nil && r.Header.Get("Authorization") != "" {
		if reason == "" {
			reason = err.Error()
		}
		s.guard.failed(src, reason, now)
	}
	return p, err
}

// changed tells the endpoint's reconciler and event streams that the API
// wrote to it.
func (s *Server) changed(endpoint string) {
	s.Notify(endpoint)
	s.Publish(endpoint)
}

// event returns an event of the request's endpoint caused by p.
func (s *Server) event(r *http.Request, p *Principal, typ, message string) rollout.Event {
	return rollout.Event{
		Endpoint: r.PathValue("name"),
		Time:     s.Now(),
		Actor:    p.Name,
		Type:     typ,
		Message:  message,
		Details:  p.details(r),
	}
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeText(w, http.StatusOK, "ok")
}

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	if err := s.Ready(); err != nil {
		writeText(w, http.StatusServiceUnavailable, "not ready: "+err.Error())
		return
	}
	if reasons := s.Degraded(); len(reasons) > 0 {
		writeText(w, http.StatusOK, "ready, degraded:\n- "+strings.Join(reasons, "\n- "))
		return
	}
	writeText(w, http.StatusOK, "ready")
}

func writeText(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(text + "\n")) // a failed write means the caller left
}

// logRequests logs every request once it is answered. Writes are logged at
// info level and reads at debug, because Terraform and the UI poll reads
// while writes are rare and worth an access trail.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		level := hclog.Debug
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			level = hclog.Info
		}
		s.Logger.Log(level, "request", "method", r.Method, "path", r.URL.Path, "status", rec.status,
			"duration", time.Since(start), "remote", r.RemoteAddr, "caller", rec.caller)
	})
}

// statusRecorder remembers the status a handler wrote. Unwrap lets
// http.ResponseController reach the real writer to flush event streams.
type statusRecorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	// caller is the name of the authenticated principal, for the access
	// log; "" when the request was not authenticated.
	caller string
}

func (r *statusRecorder) WriteHeader(status int) {
	if !r.wroteHeader {
		r.status, r.wroteHeader = status, true
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// endpointFor returns the endpoint a request writes to: ENOTFOUND when it
// does not exist or p may not see it, as for reads, so that a write does
// not reveal another team's endpoint either. (The role was checked first.)
func (s *Server) endpointFor(ctx context.Context, p *Principal, name string) (rollout.Endpoint, error) {
	return s.visibleEndpoint(ctx, p, name)
}

// visibleEndpoint returns the endpoint a request reads: ENOTFOUND both when
// it does not exist and when p may not see it, so that names do not leak.
func (s *Server) visibleEndpoint(ctx context.Context, p *Principal, name string) (rollout.Endpoint, error) {
	ep, err := s.Store.GetEndpoint(ctx, name)
	if rollout.ErrorCode(err) == rollout.ENOTFOUND || (err == nil && !p.sees(ep.Name, ep.Team)) {
		return rollout.Endpoint{}, notFound("endpoint %q not found", name)
	}
	return ep, err
}

// refuseDeleting refuses a change to an endpoint that is being torn down:
// it would be undone by the teardown, or worse, start a new rollout in it.
func refuseDeleting(ep rollout.Endpoint) error {
	if ep.Deleting {
		return rollout.Errorf(rollout.ECONFLICT, "endpoint %q is being deleted; wait until it is gone, then create it again", ep.Name)
	}
	return nil
}
