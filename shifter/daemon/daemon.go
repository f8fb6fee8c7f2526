// Package daemon is the shifter's configuration and wiring: it opens the
// store, the AWS clients, the reconciler, the notifier and the API, and
// serves them until closed. `shifter serve` runs it, and tests run it
// in-process (package daemontest).
package daemon

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/hashicorp/go-hclog"

	"github.com/ionroller/terraform-provider-ionroller/shifter/api"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/callrecord"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/cloud"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/preflight"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/schedule"
	"github.com/ionroller/terraform-provider-ionroller/shifter/metrics"
	"github.com/ionroller/terraform-provider-ionroller/shifter/notify"
	"github.com/ionroller/terraform-provider-ionroller/shifter/reconcile"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store/bolt"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store/dynamodb"
	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

// Server is a running shifter: the store, the reconciler and the API. Open
// starts it and returns; Close stops it. Tests and the provider's acceptance
// tests run it in-process on 127.0.0.1:0.
type Server struct {
	Config Config
	Logger hclog.Logger
	// AWS, when set, replaces the AWS configuration loaded from Config:
	// tests use it to give each shifter its own moto account.
	AWS *awssdk.Config
	// Timeouts bound how long a client may take; zero fields get defaults.
	Timeouts Timeouts
	// WrapAPI, when set, wraps the API's handler: tests check every
	// exchange against the API's OpenAPI description with it.
	WrapAPI func(http.Handler) http.Handler

	// connState, when set, hears the API's connections change state
	// (tests: export_test.go).
	connState func(net.Conn, http.ConnState)

	store      store.Store
	reconciler *reconcile.Reconciler
	notifier   *notify.Notifier
	cert       *certificate
	http       *http.Server
	listener   net.Listener
	cancel     context.CancelFunc
	done       chan error
}

// Open starts the shifter: it opens the store, resumes every endpoint and
// serves the API.
func (s *Server) Open(ctx context.Context) (err error) {
	if s.Logger == nil {
		s.Logger = hclog.NewNullLogger()
	}
	cfg := s.Config
	if err := cfg.CheckListen(); err != nil {
		return err
	}
	ctx, s.cancel = context.WithCancel(ctx)
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	m := metrics.New()
	// The certificate is checked before anything is opened: a bad one
	// must stop the start-up at once, with the reason.
	if cfg.TLSCertFile != "" {
		s.cert = &certificate{certFile: cfg.TLSCertFile, keyFile: cfg.TLSKeyFile, logger: s.Logger}
		if err := s.cert.load(time.Now()); err != nil {
			return err
		}
	}
	awsCfg, err := s.awsConfig(ctx)
	if err != nil {
		return err
	}
	awsCfg = awsCfg.Copy()
	awsCfg.APIOptions = append(awsCfg.APIOptions, m.AWSMiddleware)
	var leases store.Leases
	if s.store, leases, err = s.openStore(ctx, awsCfg); err != nil {
		return err
	}
	st := m.Store(s.store)
	clients := aws.NewClients(awsCfg, s.Logger, schedule.Options{Observer: m})
	auth, err := newAuth(cfg.Auth)
	if err != nil {
		return err
	}
	replica := replicaName(cfg.ReplicaID)
	srv := &api.Server{Store: st, Logger: s.Logger, Auth: auth, OverrideRole: wire.Role(cfg.Auth.OverrideRole), Replica: replica, Leases: leases,
		Teams: cfg.Teams, AllowPrivateWebhooks: cfg.AllowPrivateWebhooks}
	if file, ok := s.store.(*bolt.Store); ok {
		srv.Backup = file.Backup
	}
	s.notifier = &notify.Notifier{
		Logger:          s.Logger.Named("notify"),
		MayReachPrivate: srv.WebhooksMayReachPrivate,
		SNS: func(p rollout.Placement) (notify.SNS, error) {
			set, err := clients.For(p)
			if err != nil {
				return nil, err
			}
			return set.SNS, nil
		},
	}
	s.notifier.Start(ctx)
	var connectOptions []cloud.Option
	if !cfg.PinImages {
		s.Logger.Warn("images run as tagged (images { pin = false }): a tag pushed again changes what a recreated environment runs")
		connectOptions = append(connectOptions, cloud.RunTagged())
	}
	s.reconciler = reconcile.New(reconcile.Config{
		Store:     st,
		Connect:   cloud.Connector(clients, cfg.ShifterID, cfg.PollInterval, s.Logger, connectOptions...),
		Logger:    s.Logger,
		Poll:      cfg.PollInterval,
		Resync:    cfg.ResyncInterval,
		Published: srv.Publish,
		Decided: func(ep rollout.Endpoint, state rollout.State, events []rollout.Event) {
			m.Decided(ep, state, events)
			s.notifier.Decided(ep, state, events)
		},
		Reconciled: m.Reconciled,
		History:    cfg.History,
		Leases:     leases,
		Replica:    replica,
		LeaseTTL:   cfg.leaseTTL(),
	})
	srv.Notify = s.reconciler.Notify
	srv.Ready = s.ready
	srv.Degraded = s.reconciler.Degraded
	srv.Preflight = func(ctx context.Context, ep rollout.Endpoint) error {
		set, err := clients.For(ep.Placement)
		if err != nil {
			return err
		}
		// A person waits on the answer: ahead of routine reads.
		return preflight.Check(schedule.WithLane(ctx, schedule.LaneGate), preflight.API{ELB: set.ELBv2, EC2: set.EC2, CloudWatch: set.CloudWatch, ECS: set.ECS, Route53: set.Route53, ACM: set.ACM, IAM: set.IAM}, ep)
	}
	g := gauges{
		subscribers: func() float64 { return float64(srv.Subscribers()) },
		leasesHeld:  func() float64 { return float64(len(s.reconciler.Held())) },
		degraded:    func() float64 { return float64(min(len(s.reconciler.Degraded()), 1)) },
		replica:     replicaLabels(replica, cfg.ShifterID, cfg.storeKind()),
	}
	if s.cert != nil {
		g.certExpiry = func() float64 { return time.Until(s.cert.notAfter()).Seconds() }
	}
	registerGauges(m, g)
	if s.listener, err = net.Listen("tcp", cfg.Listen); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	apiHandler := srv.Handler()
	if s.WrapAPI != nil {
		apiHandler = s.WrapAPI(apiHandler)
	}
	mux.Handle("/", apiHandler)
	// Requests live under ctx, so Close ends open event streams, which
	// Shutdown alone would wait for.
	s.http = &http.Server{
		BaseContext:       func(net.Listener) context.Context { return ctx },
		Handler:           mux,
		ReadHeaderTimeout: cmp.Or(s.Timeouts.ReadHeader, 10*time.Second),
		ReadTimeout:       cmp.Or(s.Timeouts.Read, 30*time.Second),
		WriteTimeout:      cmp.Or(s.Timeouts.Write, time.Minute), // event streams lift it
		IdleTimeout:       cmp.Or(s.Timeouts.Idle, 2*time.Minute),
		ErrorLog:          s.Logger.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}),
		ConnState:         s.connState,
	}
	if s.cert != nil {
		s.http.TLSConfig = &tls.Config{GetCertificate: s.cert.get, MinVersion: tls.VersionTLS12}
	}
	// Nothing may fail between setting s.http and s.done: Close waits on
	// done whenever http is set.
	s.done = make(chan error, 1)
	go func() {
		if s.cert != nil {
			s.done <- s.http.ServeTLS(s.listener, "", "")
			return
		}
		s.done <- s.http.Serve(s.listener)
	}()
	if err := s.reconciler.Start(ctx); err != nil {
		return err
	}
	s.Logger.Info("shifter serving", "address", s.URL(), "shifter_id", cfg.ShifterID, "replica", replica, "store", cfg.storeKind(), "location", cfg.storeLocation(), "schema_version", store.SchemaVersion)
	return nil
}

// gauges are the metrics read from the daemon's parts at every scrape.
type gauges struct {
	// certExpiry is nil when the API is not served over TLS.
	certExpiry, subscribers, leasesHeld, degraded func() float64
	// replica labels ionroller_replica_info.
	replica map[string]string
}

func replicaLabels(replica, shifterID, store string) map[string]string {
	return map[string]string{"replica": replica, "shifter_id": shifterID, "store": store}
}

func registerGauges(m *metrics.Metrics, g gauges) {
	if g.certExpiry != nil {
		m.Gauge("ionroller_tls_certificate_expiry_seconds", "Seconds until the served TLS certificate expires; it warns within "+certWarnWithin.String()+".", g.certExpiry)
	}
	m.Gauge("ionroller_event_stream_subscribers", "Open live event streams (SSE).", g.subscribers)
	m.Gauge("ionroller_leases_held", "Endpoint leases this replica holds; 0 on a bolt store, where one shifter acts on every endpoint.", g.leasesHeld)
	m.Info("ionroller_replica_info", "This shifter process: its replica name, shifter ID and store.", g.replica)
	m.Gauge("ionroller_degraded", "1 while this replica is degraded (GET /readyz says why): endpoints blocked by AWS or what they route on, or store writes failing.", g.degraded)
}

// MetricsReference describes every ionroller metric a shifter serves, the
// TLS certificate's included, as Open registers them: the metrics guide is
// generated from it (tools/refdocs).
func MetricsReference() []metrics.Definition {
	m := metrics.New()
	never := func() float64 { return 0 } // nothing scrapes m
	registerGauges(m, gauges{certExpiry: never, subscribers: never, leasesHeld: never, degraded: never,
		replica: replicaLabels("", "", "")})
	return m.Reference()
}

// openStore opens the store the configuration names: the bolt file, or the
// DynamoDB table in the aws block's region (created first if the
// configuration says so), which holds the replicas' leases too. A store of
// an older schema version is migrated, which is logged; one of a newer
// version is refused with the store's own error, which says what to run.
func (s *Server) openStore(ctx context.Context, awsCfg awssdk.Config) (store.Store, store.Leases, error) {
	migrated := func(from, to int) {
		s.Logger.Info("store migrated to this shifter's schema version", "store", s.Config.storeKind(), "location", s.Config.storeLocation(), "from", from, "to", to)
	}
	d := s.Config.DynamoDB
	if d == nil {
		opts := []bolt.Option{bolt.WithMigrated(migrated)}
		if s.Config.InitialiseStore {
			opts = append(opts, bolt.WithInitialise(func(damaged error, aside string) {
				s.Logger.Warn("the store file was not a sound store: moved it aside and started an empty store", "reason", damaged, "moved_to", aside)
			}))
		}
		st, err := bolt.Open(s.Config.StorePath, opts...)
		if err != nil {
			return nil, nil, err
		}
		return st, nil, nil
	}
	awsCfg = awsCfg.Copy()
	callrecord.Add(&awsCfg)
	client := ddb.NewFromConfig(awsCfg)
	if d.CreateTable {
		if err := dynamodb.CreateTable(ctx, client, d.Table); err != nil {
			return nil, nil, err
		}
	}
	st, err := dynamodb.Open(ctx, client, d.Table, dynamodb.WithMigrated(migrated))
	if err != nil {
		return nil, nil, err
	}
	return st, st, nil
}

// replicaName names this process among the replicas of a shared store: the
// configured replica ID (the host name by default) and a suffix drawn anew
// by every process, so that a replica restarted under the same name holds
// no lease of the process it replaces, and whatever that process had in
// flight is fenced off.
func replicaName(id string) string {
	if id == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			host = "shifter"
		}
		id = strings.ToLower(host)
	}
	return fmt.Sprintf("%s-%06x", id, rand.Uint32()&0xffffff)
}

// Timeouts of the API's connections: a slow or idle client cannot hold a
// connection past them.
type Timeouts struct {
	// ReadHeader bounds reading a request's headers, Read the whole
	// request, Write an answer (event streams excepted), Idle the wait
	// for the next request on a kept-alive connection.
	ReadHeader, Read, Write, Idle time.Duration
	// Shutdown bounds how long Close lets requests in flight finish
	// before it cuts every connection still open (default 5s).
	Shutdown time.Duration
}

// URL is the base URL of the running API.
func (s *Server) URL() string {
	if s.cert != nil {
		return "https://" + s.listener.Addr().String()
	}
	return "http://" + s.listener.Addr().String()
}

// Close stops serving, stops the reconciler and closes the store.
func (s *Server) Close() error {
	if s.cancel != nil {
		s.cancel()
	}
	var errs []error
	if s.http != nil {
		grace := cmp.Or(s.Timeouts.Shutdown, 5*time.Second)
		ctx, cancel := context.WithTimeout(context.Background(), grace)
		defer cancel()
		if err := s.http.Shutdown(ctx); err != nil {
			// Shutdown waits for connections that never sent a request
			// (a client's spare dial) as if one were coming: cut them,
			// and any request still running, once the grace is over.
			s.Logger.Warn("connections still open at shutdown; closing them", "after", grace, "error", err)
			_ = s.http.Close() // its only error: the listener, already closed
		}
		if err := <-s.done; !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	if s.reconciler != nil {
		s.reconciler.Stop()
	}
	if s.notifier != nil {
		s.notifier.Stop()
	}
	if s.store != nil {
		errs = append(errs, s.store.Close())
	}
	return errors.Join(errs...)
}

func (s *Server) awsConfig(ctx context.Context) (awssdk.Config, error) {
	if s.AWS != nil {
		return *s.AWS, nil
	}
	return aws.Load(ctx, aws.Config{Region: s.Config.AWSRegion, Endpoint: s.Config.AWSEndpoint})
}

// ready reports whether the shifter can serve: its store answers.
func (s *Server) ready() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := s.store.ListEndpoints(ctx)
	return err
}

func newAuth(a AuthBlock) (*api.Auth, error) {
	tokens := make([]api.Token, 0, len(a.Tokens))
	for _, t := range a.Tokens {
		tokens = append(tokens, api.Token{Name: t.Name, Team: t.Team, Role: wire.Role(t.Role), Endpoints: t.Endpoints, SHA256: t.SHA256})
	}
	var anonymous *api.Principal
	if a.Anonymous != nil {
		anonymous = &api.Principal{Name: "anonymous", Team: a.Anonymous.Team, Role: wire.Role(a.Anonymous.Role)}
	}
	issuers := make([]api.Issuer, 0, len(a.JWTIssuers))
	for _, b := range a.JWTIssuers {
		issuers = append(issuers, b.issuer())
	}
	return api.NewAuth(tokens, anonymous, issuers...)
}
