package rollout

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// Endpoint is an HTTP service behind an ALB listener: where it runs, how its
// traffic is routed, how every version of it runs, and how a new version is
// rolled out. It is declared by Terraform and stored by the shifter.
type Endpoint struct {
	Name      string    `json:"name"`
	Team      string    `json:"team,omitempty"`
	Placement Placement `json:"placement"`
	Traffic   Traffic   `json:"traffic"`
	Template  Template  `json:"template"`
	Policy    Policy    `json:"policy"`
	// Notifications are told when a rollout starts, waits for a promote,
	// completes, or ends badly.
	Notifications      Notifications `json:"notifications"`
	DeletionProtection bool          `json:"deletion_protection"`
	// ObserveOnly runs the endpoint in observe-only mode: the shifter
	// decides and records what it would do, against environments and
	// routes it only imagines, and writes nothing to AWS; alarms are read
	// as for any endpoint. For adopting ionroller next to an existing
	// deploy and comparing. It cannot change once the endpoint is created.
	ObserveOnly bool `json:"observe_only,omitempty"`

	// Deleting is set by the shifter when a delete was accepted; the
	// endpoint disappears once its environments and rules are gone.
	Deleting  bool      `json:"deleting,omitempty"`
	Revision  int64     `json:"revision"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// UpdatedBy is who wrote this revision of the spec (the token's name):
	// set by the shifter, kept in the spec's history.
	UpdatedBy string `json:"updated_by,omitempty"`
}

// Placement says which AWS account and region the endpoint lives in. One
// shifter serves many accounts by assuming a role in each.
type Placement struct {
	Region  string `json:"region,omitempty"`
	RoleARN string `json:"role_arn,omitempty"`
	// ExternalID is write-only: the API answers only ExternalIDSet.
	ExternalID    string `json:"external_id,omitempty"`
	ExternalIDSet bool   `json:"external_id_set,omitempty"`
}

// Traffic is where the endpoint's requests arrive. It is of exactly one kind
// (Kind): a rule on an Application Load Balancer listener matching hosts and
// paths, optionally with a preview route for testing releases in production
// without production traffic (the fields at the top, the kind every endpoint
// had before the others existed, so stored endpoints read unchanged); the
// default action of a Network Load Balancer listener (NLB); or weighted
// records in a Route 53 hosted zone (Route53).
type Traffic struct {
	ListenerARN string   `json:"listener_arn,omitempty"`
	Priority    int      `json:"priority"`
	Hosts       []string `json:"hosts,omitempty"`
	Paths       []string `json:"paths,omitempty"`

	// The preview route is either a host on the same listener or the same
	// conditions on another listener, at PreviewPriority.
	PreviewHost        string `json:"preview_host,omitempty"`
	PreviewListenerARN string `json:"preview_listener_arn,omitempty"`
	PreviewPriority    int    `json:"preview_priority,omitempty"`

	// NLB routes the endpoint as a Network Load Balancer listener's
	// default action instead of an ALB rule.
	NLB *NLBTraffic `json:"nlb,omitempty"`
	// Route53 routes the endpoint as weighted DNS records, one per
	// version, each an alias of the load balancer the version has.
	Route53 *Route53Traffic `json:"route53,omitempty"`
}

// Route53Traffic is a record name in a hosted zone whose weighted A records
// the shifter owns: one per version (same name and type, set identifiers
// the shifter's), each an alias of the Application Load Balancer of one of
// Listeners, the endpoint's slots. A version takes a slot while it is on the
// route: the slot listener's default action, which the shifter owns,
// forwards to the version's target group, so the load balancer health-checks
// it whatever its record's weight. Traffic follows a weight change only as
// fast as resolvers let go of their cached answers (Route53AliasTTL).
type Route53Traffic struct {
	HostedZoneID string   `json:"hosted_zone_id"`
	Name         string   `json:"name"`
	Listeners    []string `json:"listeners"`
	// EvaluateTargetHealth makes Route 53 leave out a version's record
	// while its load balancer has no healthy target.
	EvaluateTargetHealth bool `json:"evaluate_target_health,omitempty"`
	// HealthCheck gives each version's record a Route 53 health check of
	// its own, of its slot's load balancer: Route 53 answers with the
	// records whose checks pass (from its checkers around the world, as
	// clients see the version, beside the load balancer's own checks).
	HealthCheck *Route53HealthCheck `json:"health_check,omitempty"`
}

// Route53HealthCheck is an HTTP health check Route 53 makes of each
// version's slot.
type Route53HealthCheck struct {
	// Path is requested of the slot's load balancer, on its listener's
	// port.
	Path string `json:"path"`
	// Interval is 10 or 30 seconds (Route 53's fast and standard checks).
	Interval Duration `json:"interval"`
	// FailureThreshold is how many checks in a row change the status.
	FailureThreshold int `json:"failure_threshold"`
}

// Route 53 health checks' limits.
const (
	MaxRoute53FailureThreshold = 10
)

// Route53CheckIntervals are the request intervals Route 53 offers.
var Route53CheckIntervals = []time.Duration{10 * time.Second, 30 * time.Second}

// Route53AliasTTL is how long resolvers may keep an answer of an alias
// record of a load balancer: Route 53 answers with the load balancer's own
// TTL, 60 seconds. Traffic follows a weight change that much later at the
// earliest, and later still with resolvers that keep answers longer.
const Route53AliasTTL = 60 * time.Second

// NLBTraffic is a port of a Network Load Balancer on which the shifter
// creates and owns a TCP or TLS listener: tagged as its own like everything
// it creates, found again by the load balancer and port (AWS allows one
// listener a port), its default action a weighted forward to the target
// groups of the endpoint's versions, deleted with the endpoint. A listener
// always forwards somewhere, so while no version has traffic (before the
// first release is healthy) it forwards to an idle target group of the
// shifter's own, with no targets, the versions waiting for traffic attached
// beside it at weight 0. The user's Terraform owns the load balancer (and,
// for TLS, the certificate) and declares no listener on the port.
type NLBTraffic struct {
	LoadBalancerARN string `json:"load_balancer_arn"`
	Port            int    `json:"port"`
	// Protocol is the listener's: "" or TCP (NLBProtocolTCP), or TLS
	// (NLBProtocolTLS), where the load balancer terminates TLS. It cannot
	// change on an existing endpoint.
	Protocol string `json:"protocol,omitempty"`
	// CertificateARN is a TLS listener's default certificate (an ACM or
	// IAM server certificate); SSLPolicy its security policy, ""
	// DefaultSSLPolicy. Both are set only with TLS, and both may change:
	// the router brings the listener to them.
	CertificateARN string `json:"certificate_arn,omitempty"`
	SSLPolicy      string `json:"ssl_policy,omitempty"`
}

// The protocols of the listeners the shifter creates on Network Load
// Balancers.
const (
	NLBProtocolTCP = "TCP"
	NLBProtocolTLS = "TLS"
)

// NLBProtocols are the listener protocols traffic.nlb.protocol may name.
var NLBProtocols = []string{NLBProtocolTCP, NLBProtocolTLS}

// DefaultSSLPolicy is a TLS listener's security policy when the endpoint
// names none: the one AWS recommends (TLS 1.3, and TLS 1.2 for older
// clients). AWS's own default for a listener created through its API,
// ELBSecurityPolicy-2016-08, still accepts TLS 1.0, so the shifter always
// names a policy.
const DefaultSSLPolicy = "ELBSecurityPolicy-TLS13-1-2-2021-06"

// ListenerProtocol is the protocol of the endpoint's listener: TCP unless
// it says TLS.
func (n NLBTraffic) ListenerProtocol() string {
	if n.Protocol == "" {
		return NLBProtocolTCP
	}
	return n.Protocol
}

// Policy is the TLS listener's security policy ("" for a TCP listener).
func (n NLBTraffic) Policy() string {
	switch {
	case n.ListenerProtocol() != NLBProtocolTLS:
		return ""
	case n.SSLPolicy == "":
		return DefaultSSLPolicy
	}
	return n.SSLPolicy
}

// TargetProtocols are the target group protocols the listener forwards to:
// a TCP listener to TCP groups, a TLS listener to TCP or TLS ones (the load
// balancer then opens a new TLS connection to the targets).
func (n NLBTraffic) TargetProtocols() []string {
	if n.ListenerProtocol() == NLBProtocolTLS {
		return []string{"TCP", "TLS"}
	}
	return []string{"TCP"}
}

// TrafficKind is the kind of router an endpoint's traffic goes through.
type TrafficKind string

// The kinds of traffic.
const (
	TrafficALB     TrafficKind = "alb"
	TrafficNLB     TrafficKind = "nlb"
	TrafficRoute53 TrafficKind = "route53"
)

// Kind returns the kind of the endpoint's traffic.
func (t Traffic) Kind() TrafficKind {
	switch {
	case t.NLB != nil:
		return TrafficNLB
	case t.Route53 != nil:
		return TrafficRoute53
	}
	return TrafficALB
}

// HasPreview reports whether the endpoint has a preview route.
func (t Traffic) HasPreview() bool { return t.PreviewHost != "" || t.PreviewListenerARN != "" }

// Template is how every version of the endpoint runs. Every environment is
// built from the template as it was when the environment was created; a
// change to it rolls out a new environment even for the same version.
type Template struct {
	Backend             string            `json:"backend"`
	Repository          string            `json:"repository"`
	ContainerPort       int               `json:"container_port"`
	Command             []string          `json:"command,omitempty"`
	Args                []string          `json:"args,omitempty"`
	Env                 map[string]string `json:"env,omitempty"`
	Secrets             map[string]string `json:"secrets,omitempty"`
	InstanceType        string            `json:"instance_type"`
	AMI                 string            `json:"ami"`
	MinSize             int               `json:"min_size"`
	MaxSize             int               `json:"max_size"`
	DesiredCapacity     int               `json:"desired_capacity"`
	Subnets             []string          `json:"subnets"`
	SecurityGroups      []string          `json:"security_groups,omitempty"`
	InstanceProfile     string            `json:"instance_profile,omitempty"`
	HealthCheck         HealthCheck       `json:"health_check"`
	DeregistrationDelay Duration          `json:"deregistration_delay"`
	// ECS is how the ecs backend runs the versions; nil with backend ec2.
	ECS *ECS `json:"ecs,omitempty"`
}

// HealthCheck configures the target group's health check.
type HealthCheck struct {
	// Protocol is the target group's protocol, which its health check
	// uses: "" (HTTP, what an ALB forwards to), or TCP or TLS (what an NLB
	// forwards to; the check is then a TCP connection, and Path unused).
	Protocol           string   `json:"protocol,omitempty"`
	Path               string   `json:"path"`
	Interval           Duration `json:"interval"`
	Timeout            Duration `json:"timeout"`
	HealthyThreshold   int      `json:"healthy_threshold"`
	UnhealthyThreshold int      `json:"unhealthy_threshold"`
}

// Policy is how a new version is rolled out and watched.
type Policy struct {
	Steps []Step `json:"steps"`
	// HealthyTimeout is how long a new environment may take to become
	// healthy before the rollout fails.
	HealthyTimeout Duration `json:"healthy_timeout"`
	// MinHealthyPercent of the desired capacity must be healthy targets
	// before an environment receives any traffic.
	MinHealthyPercent int `json:"min_healthy_percent"`
	// Alarms are CloudWatch alarm names; one entering ALARM during the
	// rollout or bake rolls it back.
	Alarms []string `json:"alarms,omitempty"`
	// BlockOnAlarm makes an alarm already in ALARM when a rollout starts
	// block it; by default it is reported so a fix can still be deployed.
	BlockOnAlarm bool `json:"block_on_alarm"`
	// ProceedWithoutAlarms lets a rollout go on while a policy alarm does
	// not exist; by default it holds before its next step, since an alarm
	// that is not there can roll nothing back.
	ProceedWithoutAlarms bool          `json:"proceed_without_alarms,omitempty"`
	MetricChecks         *MetricChecks `json:"metric_checks,omitempty"`
	// ObservedTraffic holds each step after its weight change until the
	// load balancer's request counts show the traffic followed (ALB
	// traffic only); nil lets a step's pause start when its weights are
	// read back from the rule.
	ObservedTraffic *ObservedTraffic `json:"observed_traffic,omitempty"`
	// BakeTime is how long the new version holds 100%, still watched,
	// before the rollout is complete.
	BakeTime Duration `json:"bake_time"`
	// RetainPrevious is the rollback window: how long the previous version
	// stays hot after a rollout completes.
	RetainPrevious Duration `json:"retain_previous"`
	// RetainCapacityPercent is the share of its capacity a hot environment
	// keeps; it is scaled back up before traffic returns to it.
	RetainCapacityPercent int `json:"retain_capacity_percent"`
	// MaxHotVersions bounds how many previous versions stay hot at once,
	// besides the stable one; the oldest expires first. nil means
	// DefaultMaxHotVersions (and reads well from endpoints stored before
	// the field existed).
	MaxHotVersions *int `json:"max_hot_versions,omitempty"`
	AutoRollback   bool `json:"auto_rollback"`
}

// HotVersions returns how many previous versions may stay hot at once.
func (p Policy) HotVersions() int {
	if p.MaxHotVersions == nil {
		return DefaultMaxHotVersions
	}
	return *p.MaxHotVersions
}

// Step is one traffic step. A step with no pause waits for a promote: that is
// the canary.
type Step struct {
	Weight int       `json:"weight"`
	Pause  *Duration `json:"pause,omitempty"`
}

// MetricChecks compare the new version's ALB metrics over a step with fixed
// thresholds and with the stable version. A zero value disables a check.
type MetricChecks struct {
	Max5xxPercent float64  `json:"max_5xx_percent,omitempty"`
	MaxLatency    Duration `json:"max_latency,omitempty"`
	// MaxRatioToStable fails a step whose 5xx rate or latency is more than
	// this many times the stable version's over the same window.
	MaxRatioToStable float64 `json:"max_ratio_to_stable,omitempty"`
	// MinRequests below which a window gives no verdict.
	MinRequests int `json:"min_requests,omitempty"`
	// Interval is how often the metrics are judged while traffic is on
	// the new version, between the ends of its steps: a failing verdict
	// rolls back then (0: DefaultJudgeInterval, ALB's metric period).
	Interval Duration `json:"interval,omitempty"`
}

// DefaultJudgeInterval is ALB's metric period: a shorter one sees no new data.
const DefaultJudgeInterval = time.Minute

// JudgeEvery returns how often the metrics are judged between steps.
func (m MetricChecks) JudgeEvery() time.Duration {
	if m.Interval == 0 {
		return DefaultJudgeInterval
	}
	return m.Interval.D()
}

// ObservedTraffic holds a step of a rollout after its weights changed until
// the share of requests each version took (ALB's RequestCount per target
// group) is within TolerancePercent of its weight, or MaxWait passed: a
// rule's weights are not the traffic, which follows them later. The step's
// pause (or its wait for a promote, or the bake) begins when the hold ends,
// so that it is spent on the traffic it intends.
type ObservedTraffic struct {
	// TolerancePercent is how far, in percentage points, a version's
	// observed share may be from its weight.
	TolerancePercent float64 `json:"tolerance_percent"`
	// MaxWait bounds the hold. Past it the step goes on (OnTimeout), with
	// a condition and an event saying the traffic did not follow, or that
	// no request was counted at all.
	MaxWait Duration `json:"max_wait"`
	// Interval is how often the request counts are read while a step
	// holds (0: DefaultTrafficInterval).
	Interval Duration `json:"interval,omitempty"`
	// MinRequests is how many requests a count needs to tell anything:
	// fewer are taken as none (shares of a few requests are noise). 0
	// takes any request.
	MinRequests int `json:"min_requests,omitempty"`
	// OnTimeout is what a step whose traffic was counted but did not
	// follow its weights does at MaxWait: OnTimeoutProceed (""), or
	// OnTimeoutPause, which pauses the rollout until a person resumes or
	// promotes it. A step with no request counted at all always goes on:
	// no traffic is no evidence against the new version, and a hold
	// that only traffic can end would block a quiet endpoint forever.
	OnTimeout string `json:"on_timeout,omitempty"`
}

// What a step whose traffic does not follow does at max_wait.
const (
	OnTimeoutProceed = "proceed"
	OnTimeoutPause   = "pause"
)

// OnTimeouts are the values of ObservedTraffic.OnTimeout.
var OnTimeouts = []string{OnTimeoutProceed, OnTimeoutPause}

// Defaults and bounds of observed traffic.
const (
	// DefaultTrafficInterval is how often a holding step reads its
	// request counts: ALB publishes a count a minute, some time after the
	// minute, so a read every 15 seconds sees each soon after it lands.
	DefaultTrafficInterval = 15 * time.Second
	// TrafficWindow is how far back a read of the observed shares looks:
	// one ALB metric period, never before the step's weights were read
	// back from the rule.
	TrafficWindow = time.Minute
	// MinTrafficWindow is the shortest window read: CloudWatch counts
	// time in whole seconds.
	MinTrafficWindow = time.Second
	// MaxTrafficTolerance bounds tolerance_percent: at 50 points any
	// share at all passes a step of 50%, so a wider one would say nothing.
	MaxTrafficTolerance = 50
)

// Enough reports whether a count of requests tells anything (MinRequests).
func (o ObservedTraffic) Enough(requests float64) bool {
	return requests > 0 && requests >= float64(o.MinRequests)
}

// ReadEvery returns how often a holding step reads its request counts.
func (o ObservedTraffic) ReadEvery() time.Duration {
	if o.Interval == 0 {
		return DefaultTrafficInterval
	}
	return o.Interval.D()
}

// Notifications are where rollout news goes: a webhook receiving a JSON POST
// with a Slack-compatible "text", and an SNS topic.
type Notifications struct {
	// WebhookURL is write-only (such URLs carry their own secret): the API
	// answers only WebhookURLSet.
	WebhookURL    string `json:"webhook_url,omitempty"`
	WebhookURLSet bool   `json:"webhook_url_set,omitempty"`
	// WebhookFormat is what the webhook is sent (WebhookFormats); empty
	// is WebhookSlack.
	WebhookFormat string `json:"webhook_format,omitempty"`
	SNSTopicARN   string `json:"sns_topic_arn,omitempty"`
}

// The formats of a webhook's messages.
const (
	// WebhookSlack is a JSON message whose "text" Slack's incoming
	// webhooks show as is, with the event's fields beside it.
	WebhookSlack = "slack"
	// WebhookTeams is an Adaptive Card, as Microsoft Teams' Workflows
	// ("Post to a channel when a webhook request is received") take it.
	WebhookTeams = "teams"
	// WebhookCloudEvents is a CloudEvent carrying a CDEvent: the
	// service.deployed, service.upgraded and service.rolledback of each
	// version, and nothing of the other events.
	WebhookCloudEvents = "cloudevents"
	// WebhookGrafana is an annotation, POSTed to Grafana's
	// /api/annotations (the URL carries the service account token as
	// api_key:TOKEN@).
	WebhookGrafana = "grafana"
)

// WebhookFormats are the formats a webhook may take.
var WebhookFormats = []string{WebhookSlack, WebhookTeams, WebhookCloudEvents, WebhookGrafana}

// Redacted returns ep as the API shows it: its secrets (the webhook URL and
// the external ID) replaced by whether they are set.
func (ep Endpoint) Redacted() Endpoint {
	ep.Placement.ExternalIDSet, ep.Placement.ExternalID = ep.Placement.ExternalID != "", ""
	ep.Notifications.WebhookURLSet, ep.Notifications.WebhookURL = ep.Notifications.WebhookURL != "", ""
	return ep
}

// KeepSecrets fills the secrets ep leaves out but says are set from old, so
// that a client may send back an endpoint it read; it clears the set flags,
// which only the shifter's answers carry.
func (ep *Endpoint) KeepSecrets(old Endpoint) {
	if ep.Placement.ExternalID == "" && ep.Placement.ExternalIDSet {
		ep.Placement.ExternalID = old.Placement.ExternalID
	}
	if ep.Notifications.WebhookURL == "" && ep.Notifications.WebhookURLSet {
		ep.Notifications.WebhookURL = old.Notifications.WebhookURL
	}
	ep.Placement.ExternalIDSet, ep.Notifications.WebhookURLSet = false, false
}

// NewEndpointFor returns an endpoint carrying every default of a template of
// backend: NewEndpoint's for ec2; for ecs, the same without the ec2
// backend's instance type and group size, and with DefaultECS.
func NewEndpointFor(backend string) Endpoint {
	ep := NewEndpoint()
	if backend == BackendECS {
		t := &ep.Template
		t.Backend, t.InstanceType, t.MinSize, t.MaxSize, t.ECS = BackendECS, "", 0, 0, DefaultECS()
	}
	return ep
}

// NewEndpoint returns an endpoint carrying every default. Decoding JSON into
// it leaves the defaults wherever the input is silent.
func NewEndpoint() Endpoint {
	return Endpoint{
		Template: Template{
			Backend:         BackendEC2,
			InstanceType:    "t3.micro",
			MinSize:         1,
			MaxSize:         2,
			DesiredCapacity: 1,
			HealthCheck: HealthCheck{
				Path:               "/",
				Interval:           Duration(15 * time.Second),
				Timeout:            Duration(5 * time.Second),
				HealthyThreshold:   3,
				UnhealthyThreshold: 3,
			},
			DeregistrationDelay: Duration(30 * time.Second),
		},
		Policy: Policy{
			Steps: []Step{
				{Weight: 10, Pause: DurationPtr(5 * time.Minute)},
				{Weight: 50, Pause: DurationPtr(5 * time.Minute)},
				{Weight: 100},
			},
			HealthyTimeout:        Duration(10 * time.Minute),
			MinHealthyPercent:     100,
			BakeTime:              Duration(5 * time.Minute),
			RetainPrevious:        Duration(time.Hour),
			RetainCapacityPercent: 100,
			MaxHotVersions:        new(DefaultMaxHotVersions),
			AutoRollback:          true,
		},
		DeletionProtection: true,
	}
}

// BackendEC2 runs each version as a launch template and an Auto Scaling group.
const BackendEC2 = "ec2"

// TemplateHash identifies what an environment runs: the template, the image
// and the release's extra environment. Two releases with the same version and
// hash share an environment.
func TemplateHash(t Template, image string, env map[string]string) string {
	// encoding/json sorts map keys, so the encoding is canonical.
	b, err := json.Marshal(struct {
		Template Template          `json:"template"`
		Image    string            `json:"image"`
		Env      map[string]string `json:"env,omitempty"`
	}{t, image, env})
	if err != nil {
		panic(err) // only plain data: cannot fail
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:6])
}
