// Package metrics exposes the shifter's Prometheus metrics: what rollouts
// are doing, what the shifter asks of AWS and how long it takes, how long the
// reconciler and the store take, and how many people watch live.
package metrics

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
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
	// Now is the clock rollback readiness is judged by (default time.Now).
	Now func() time.Time

	registry *prometheus.Registry
	// defined describes each metric as it was registered, for the metrics
	// guide (Reference).
	defined []Definition

	rollouts        byEndpoint
	readiness       byEndpoint
	traffic         byEndpoint
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

	mu sync.Mutex
	// conditionsOf are each endpoint's conditions, by type and blocking.
	conditionsOf map[string]map[[2]string]bool
}

// Definition describes one metric: its name, Prometheus type, help and
// label names.
type Definition struct {
	Name, Type, Help string
	Labels           []string
}

// New returns the shifter's metrics, with Go and process collectors.
func New() *Metrics {
	m := &Metrics{
		registry:     prometheus.NewRegistry(),
		conditionsOf: map[string]map[[2]string]bool{},
		Now:          time.Now,
	}
	m.rollouts.gauge = m.gaugeVec("ionroller_rollouts", "Endpoints by the phase of their production rollout, the last one for endpoints at rest (state: pending, provisioning, waiting_healthy, shifting, paused, baking, complete, aborted, rolled_back, failed).", "state")
	m.readiness.gauge = m.gaugeVec("ionroller_rollback_readiness", "Endpoints by whether a hot version can take all their traffic back in one write now (readiness: ready), "+
		"would first be scaled up or is not healthy enough (not_ready), or there is none (none).", "readiness")
	m.traffic.gauge = m.gaugeVec("ionroller_observed_traffic", "Endpoints whose production rollout counts the requests of its step (ALB RequestCount per target group), "+
		"by where the step's hold for its traffic is (hold: holding, followed, not_following, unobserved; counted for a step that does not hold, without policy.observed_traffic).", "hold")
	m.conditions = m.gaugeVec("ionroller_conditions", "Endpoints this replica acts on that have a condition, by type (aws_unreachable, throttled, traffic_missing, alarm_missing, action_failing, image_unresolved, traffic_not_following, traffic_unobserved) and whether it blocks their rollouts (blocking: true or false; see GET /v1/endpoints/{name}).", "type", "blocking")
	m.stepTransitions = m.counter("ionroller_step_transitions_total", "Traffic steps applied and verified, including the final 100%.")
	m.rollbacks = m.counterVec("ionroller_rollbacks_total", "Rollouts that ended badly, by cause (alarm, metric, operator, unhealthy, superseded) and final phase (aborted, rolled_back, failed).", "cause", "phase")
	m.outcomes = m.counterVec("ionroller_rollouts_ended_total", "Rollouts that ended, by final phase (complete, aborted, rolled_back, failed).", "phase")
	m.awsCalls = m.counterVec("ionroller_aws_calls_total", "AWS API calls by service (the SDK's service ID, such as Elastic Load Balancing v2), operation (such as ModifyRule) and outcome (ok, the AWS error code, or error when AWS gave none).", "service", "operation", "outcome")
	m.awsLatency = m.histogramVec("ionroller_aws_call_seconds", "AWS API call latency, retries included, by service and operation (as in ionroller_aws_calls_total).",
		prometheus.ExponentialBuckets(0.005, 2, 12), "service", "operation")
	m.awsWait = m.histogramVec("ionroller_aws_lane_wait_seconds", "How long AWS calls waited for their account's request budget, by service and lane (rollback, step, gate, build, routine).",
		prometheus.ExponentialBuckets(0.001, 2, 15), "service", "lane")
	m.awsThrottled = m.counterVec("ionroller_aws_throttled_total", "AWS calls AWS throttled (each is tried again in its lane), by service and operation.", "service", "operation")
	m.reconcile = m.histogramVec("ionroller_reconcile_seconds", "Time one wake of an endpoint's reconciler takes, by outcome (ok or error).",
		prometheus.ExponentialBuckets(0.001, 2, 15), "outcome")
	m.store = m.histogramVec("ionroller_store_seconds", "Store operation latency, by operation (such as get_endpoint, put_state, list_events).",
		prometheus.ExponentialBuckets(0.0001, 2, 15), "operation")
	m.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *Metrics) gaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	m.register(v, "gauge", name, help, labels...)
	return v
}

func (m *Metrics) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	m.register(c, "counter", name, help)
	return c
}

func (m *Metrics) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	m.register(v, "counter", name, help, labels...)
	return v
}

func (m *Metrics) histogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	v := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
	m.register(v, "histogram", name, help, labels...)
	return v
}

// register adds c to the registry and its description to the reference.
func (m *Metrics) register(c prometheus.Collector, typ, name, help string, labels ...string) {
	m.registry.MustRegister(c)
	m.defined = append(m.defined, Definition{Name: name, Type: typ, Help: help, Labels: labels})
}

// Reference describes every ionroller metric registered so far, by name;
// the Go and process collectors' go_* and process_* metrics are not in it.
func (m *Metrics) Reference() []Definition {
	defs := slices.Clone(m.defined)
	slices.SortFunc(defs, func(a, b Definition) int { return strings.Compare(a.Name, b.Name) })
	return defs
}

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// Gauge registers a gauge read from f at every scrape, such as the number of
// live event stream subscribers.
func (m *Metrics) Gauge(name, help string, f func() float64) {
	m.register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f), "gauge", name, help)
}

// Info registers a gauge that is always 1 and whose labels describe this
// process (the Prometheus "info" idiom), such as which replica it is.
func (m *Metrics) Info(name, help string, labels map[string]string) {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: labels})
	g.Set(1)
	m.register(g, "gauge", name, help, slices.Sorted(maps.Keys(labels))...)
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
	phase, readiness := "", ""
	if r := st.Production.Rollout; r != nil {
		phase = string(r.Phase)
	}
	if !ep.Deleting {
		readiness = rollbackReadiness(rollout.HotVersions(m.Now(), ep, st))
	} else {
		phase = ""
	}
	m.rollouts.set(&m.mu, ep.Name, phase)
	m.readiness.set(&m.mu, ep.Name, readiness)
	m.traffic.set(&m.mu, ep.Name, trafficHold(st))
	m.setConditions(ep.Name, st.Conditions)
}

// rollbackReadiness is the readiness label of an endpoint's hot versions.
func rollbackReadiness(hot []rollout.HotVersion) string {
	switch {
	case rollout.RollbackReady(hot):
		return "ready"
	case len(hot) > 0:
		return "not_ready"
	}
	return "none"
}

// trafficHold is the hold label of an endpoint whose production rollout
// counts its step's traffic, "" for any other.
func trafficHold(st rollout.State) string {
	r := st.Production.Rollout
	if !r.Active() || r.Traffic == nil || r.Traffic.Step != r.Step {
		return ""
	}
	if r.Traffic.Hold == "" {
		return "counted"
	}
	return r.Traffic.Hold
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

// byEndpoint is a gauge counting endpoints by one label (the phase of
// their rollout, their rollback readiness), each endpoint in one value.
type byEndpoint struct {
	gauge *prometheus.GaugeVec
	of    map[string]string
}

// set records endpoint's value ("" forgets the endpoint) and keeps the gauge
// in step; mu guards it.
func (b *byEndpoint) set(mu *sync.Mutex, endpoint, value string) {
	mu.Lock()
	defer mu.Unlock()
	old, had := b.of[endpoint]
	if had && old == value {
		return
	}
	if had {
		b.gauge.WithLabelValues(old).Dec()
	}
	if value == "" {
		delete(b.of, endpoint)
		return
	}
	if b.of == nil {
		b.of = map[string]string{}
	}
	b.of[endpoint] = value
	b.gauge.WithLabelValues(value).Inc()
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
