// Package metrics exposes the shifter's Prometheus metrics: what rollouts
// are doing, what the shifter asks of AWS and how long it takes, how long the
// reconciler and the store take, and how many people watch live.
package metrics

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go"
	smithymiddleware "github.com/aws/smithy-go/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/schedule"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// Metrics holds the shifter's collectors in their own registry.
type Metrics struct {
	registry *prometheus.Registry

	rollouts        *prometheus.GaugeVec
	conditions      *prometheus.GaugeVec
	stepTransitions prometheus.Counter
	rollbacks       *prometheus.CounterVec
	outcomes        *prometheus.CounterVec
	awsCalls        *prometheus.CounterVec
	awsLatency      *prometheus.HistogramVec
	awsWait         *prometheus.HistogramVec
	awsThrottled    *prometheus.CounterVec
	reconcile       *prometheus.HistogramVec
	store           *prometheus.HistogramVec

	mu     sync.Mutex
	phases map[string]string // endpoint → phase of its production rollout
	// conditionsOf are each endpoint's conditions, by type and blocking.
	conditionsOf map[string]map[[2]string]bool
}

// New returns the shifter's metrics, with Go and process collectors.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		rollouts: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ionroller_rollouts", Help: "Endpoints by the state of their production rollout (the last one, for endpoints at rest).",
		}, []string{"state"}),
		conditions: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ionroller_conditions", Help: "Endpoints this replica acts on that have a condition, by type and whether it blocks their rollouts (see GET /v1/endpoints/{name}).",
		}, []string{"type", "blocking"}),
		stepTransitions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ionroller_step_transitions_total", Help: "Traffic steps applied and verified, including the final 100%.",
		}),
		rollbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ionroller_rollbacks_total", Help: "Rollouts that ended badly, by cause (alarm, metric, operator, unhealthy, superseded).",
		}, []string{"cause", "phase"}),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ionroller_rollouts_ended_total", Help: "Rollouts that ended, by final phase.",
		}, []string{"phase"}),
		awsCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ionroller_aws_calls_total", Help: "AWS API calls by service, operation and outcome (ok or the error code).",
		}, []string{"service", "operation", "outcome"}),
		awsLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ionroller_aws_call_seconds", Help: "AWS API call latency, retries included.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
		}, []string{"service", "operation"}),
		awsWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ionroller_aws_lane_wait_seconds", Help: "How long AWS calls waited for their account's request budget, by service and lane (rollback, step, gate, routine).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 15),
		}, []string{"service", "lane"}),
		awsThrottled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ionroller_aws_throttled_total", Help: "AWS calls AWS throttled (each is tried again in its lane), by service and operation.",
		}, []string{"service", "operation"}),
		reconcile: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ionroller_reconcile_seconds", Help: "Time one wake of an endpoint's reconciler takes, by outcome.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 15),
		}, []string{"outcome"}),
		store: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ionroller_store_seconds", Help: "Store operation latency.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 15),
		}, []string{"operation"}),
		phases:       map[string]string{},
		conditionsOf: map[string]map[[2]string]bool{},
	}
	m.registry.MustRegister(m.rollouts, m.conditions, m.stepTransitions, m.rollbacks, m.outcomes, m.awsCalls, m.awsLatency, m.awsWait, m.awsThrottled, m.reconcile, m.store,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// Gauge registers a gauge read from f at every scrape, such as the number of
// live event stream subscribers.
func (m *Metrics) Gauge(name, help string, f func() float64) {
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
}

// Info registers a gauge that is always 1 and whose labels describe this
// process (the Prometheus "info" idiom), such as which replica it is.
func (m *Metrics) Info(name, help string, labels map[string]string) {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: labels})
	g.Set(1)
	m.registry.MustRegister(g)
}

// Decided follows the reconciler's decisions (reconcile.Config.Decided).
func (m *Metrics) Decided(ep rollout.Endpoint, st rollout.State, events []rollout.Event) {
	for _, e := range events {
		switch e.Type {
		case rollout.EventStepApplied, rollout.EventRolloutBaking:
			m.stepTransitions.Inc()
		case rollout.EventRolloutComplete:
			m.outcomes.WithLabelValues(string(rollout.PhaseComplete)).Inc()
		case rollout.EventRolloutRolledBack, rollout.EventRolloutAborted, rollout.EventRolloutFailed:
			phase := e.Type[len("rollout."):]
			m.outcomes.WithLabelValues(phase).Inc()
			m.rollbacks.WithLabelValues(e.Details["cause"], phase).Inc()
		}
	}
	phase := ""
	if r := st.Production.Rollout; r != nil {
		phase = string(r.Phase)
	}
	if ep.Deleting {
		phase = ""
	}
	m.setPhase(ep.Name, phase)
	m.setConditions(ep.Name, st.Conditions)
}

// setConditions records an endpoint's conditions and keeps the gauge in step.
func (m *Metrics) setConditions(endpoint string, cs rollout.Conditions) {
	now := make(map[[2]string]bool, len(cs))
	for _, c := range cs {
		now[[2]string{string(c.Type), strconv.FormatBool(c.Blocking)}] = true
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.conditionsOf[endpoint] {
		if !now[k] {
			m.conditions.WithLabelValues(k[0], k[1]).Dec()
		}
	}
	for k := range now {
		if !m.conditionsOf[endpoint][k] {
			m.conditions.WithLabelValues(k[0], k[1]).Inc()
		}
	}
	if len(now) == 0 {
		delete(m.conditionsOf, endpoint)
	} else {
		m.conditionsOf[endpoint] = now
	}
}

// setPhase records an endpoint's rollout phase ("" forgets the endpoint) and
// keeps the per-state gauge in step.
func (m *Metrics) setPhase(endpoint, phase string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, had := m.phases[endpoint]
	if had && old == phase {
		return
	}
	if had {
		m.rollouts.WithLabelValues(old).Dec()
	}
	if phase == "" {
		delete(m.phases, endpoint)
		return
	}
	m.phases[endpoint] = phase
	m.rollouts.WithLabelValues(phase).Inc()
}

// Reconciled records one wake of an endpoint (reconcile.Config.Reconciled).
func (m *Metrics) Reconciled(_ string, took time.Duration, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.reconcile.WithLabelValues(outcome).Observe(took.Seconds())
}

// observeStore records one store operation.
func (m *Metrics) observeStore(op string, start time.Time) {
	m.store.WithLabelValues(op).Observe(time.Since(start).Seconds())
}

// AWSMiddleware counts and times every AWS call; add it to the SDK
// configuration's APIOptions.
func (m *Metrics) AWSMiddleware(stack *smithymiddleware.Stack) error {
	return stack.Initialize.Add(smithymiddleware.InitializeMiddlewareFunc("IonrollerMetrics",
		func(ctx context.Context, in smithymiddleware.InitializeInput, next smithymiddleware.InitializeHandler) (smithymiddleware.InitializeOutput, smithymiddleware.Metadata, error) {
			start := time.Now()
			out, md, err := next.HandleInitialize(ctx, in)
			service, op := middleware.GetServiceID(ctx), middleware.GetOperationName(ctx)
			m.awsLatency.WithLabelValues(service, op).Observe(time.Since(start).Seconds())
			m.awsCalls.WithLabelValues(service, op, outcome(err)).Inc()
			return out, md, err
		}), smithymiddleware.Before)
}

// Waited records how long a call waited for its budget (schedule.Observer).
func (m *Metrics) Waited(service string, lane schedule.Lane, d time.Duration) {
	m.awsWait.WithLabelValues(service, lane.String()).Observe(d.Seconds())
}

// Throttled records a call AWS throttled (schedule.Observer).
func (m *Metrics) Throttled(service, operation string) {
	m.awsThrottled.WithLabelValues(service, operation).Inc()
}

var _ schedule.Observer = (*Metrics)(nil)

// outcome is "ok" or the AWS error code of a failed call.
func outcome(err error) string {
	if err == nil {
		return "ok"
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return "error"
}
