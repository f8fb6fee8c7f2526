package rollout

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// The patterns and limits below are shared with the provider's plan-time
// validators, so Terraform and the API reject exactly the same values.
var (
	NamePattern        = regexp.MustCompile(`^[a-z][a-z0-9-]{0,38}[a-z0-9]$`)
	TeamPattern        = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	VersionPattern     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	RegionPattern      = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]$`)
	RoleARNPattern     = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$`)
	ListenerARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:[0-9]{12}:listener/app/[A-Za-z0-9-]{1,32}/[0-9a-f]+/[0-9a-f]+$`)
	// NLBARNPattern is a Network Load Balancer's ARN.
	NLBARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:[0-9]{12}:loadbalancer/net/[A-Za-z0-9-]{1,32}/[0-9a-f]+$`)
	// CertificateARNPattern is a TLS listener's certificate: an ACM
	// certificate's ARN, or an IAM server certificate's.
	CertificateARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:(acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]{36}|iam::[0-9]{12}:server-certificate/[A-Za-z0-9+=,.@_/-]{1,512})$`)
	// SSLPolicyPattern is a predefined ELB security policy's name (a
	// Network Load Balancer takes no custom policy).
	SSLPolicyPattern    = regexp.MustCompile(`^ELBSecurityPolicy-[A-Za-z0-9-]{1,100}$`)
	HostedZoneIDPattern = regexp.MustCompile(`^[A-Z0-9]{1,32}$`)
	// DNSNamePattern is a record name: labels of letters, digits and
	// hyphens, the final dot optional.
	DNSNamePattern        = regexp.MustCompile(`^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}\.?$`)
	TargetGroupARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:[0-9]{12}:targetgroup/[A-Za-z0-9-]{1,32}/[0-9a-f]+$`)
	HostPattern           = regexp.MustCompile(`^[A-Za-z0-9*?]([A-Za-z0-9*?.-]{0,126}[A-Za-z0-9*?])?$`)
	PathPattern           = regexp.MustCompile(`^/[A-Za-z0-9_\-.$/~"'@:+*?&=%]{0,127}$`)
	// ShifterIDPattern is a shifter's ID: part of the names and the
	// ionroller:shifter tag of everything it creates.
	ShifterIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,19}$`)
	// ImagePattern is a Docker image reference: [registry[:port]/]name[:tag][@digest].
	ImagePattern           = regexp.MustCompile(`^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$`)
	RepositoryPattern      = regexp.MustCompile(`^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*$`)
	EnvNamePattern         = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,254}$`)
	SecretARNPattern       = regexp.MustCompile(`^arn:aws[a-z-]*:(ssm:[a-z0-9-]+:[0-9]{12}:parameter/.+|secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+)$`)
	InstanceTypePattern    = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9]+$`)
	AMIPattern             = regexp.MustCompile(`^ami-[0-9a-f]{8,17}$`)
	SubnetPattern          = regexp.MustCompile(`^subnet-[0-9a-f]{8,17}$`)
	SecurityGroupPattern   = regexp.MustCompile(`^sg-[0-9a-f]{8,17}$`)
	InstanceProfilePattern = regexp.MustCompile(`^([A-Za-z0-9+=,.@_-]{1,128}|arn:aws[a-z-]*:iam::[0-9]{12}:instance-profile/[A-Za-z0-9+=,.@_/-]{1,128})$`)
	AlarmNamePattern       = regexp.MustCompile(`^[^\x00-\x1f]{1,255}$`)
	SNSTopicARNPattern     = regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$`)
	// WebhookURLPattern is an http(s) URL with a host.
	WebhookURLPattern = regexp.MustCompile(`^https?://[^/?#\s@]+(/[^\s]*)?$`)
)

// What a name and a team must be, in the words of every error about them.
const (
	NameRule = "2 to 40 lowercase letters, digits and hyphens, start with a letter and not end with a hyphen"
	TeamRule = "lowercase letters, digits, '_' and '-' (at most 63)"
)

// Limits on durations and sizes; outside them a value is a mistake.
const (
	MaxSteps            = 20
	MaxAlarms           = 50
	MaxConditionValues  = 5
	MaxWebhookURL       = 2048
	MaxExternalIDLength = 1224
	MaxPriority         = 50000
	MaxPort             = 65535
	MaxGroupSize        = 1000
	MinHealthThreshold  = 2
	MaxHealthThreshold  = 10
	MinRatioToStable    = 1
	// MaxTargetGroupsPerRule is how many target groups ALB allows in one
	// forward action.
	MaxTargetGroupsPerRule = 5
	// MaxHotVersions is how many hot versions a route can keep attached:
	// a route has two rules (its own and a standby rule that never matches
	// a request), so 10 target groups less the stable and the new version.
	MaxHotVersions = 2*MaxTargetGroupsPerRule - 2
	// MaxNLBHotVersions is how many hot versions an NLB route can keep
	// attached: a listener has one default action and no standby rule, so
	// 5 target groups less the stable and the new version.
	MaxNLBHotVersions = MaxTargetGroupsPerRule - 2
	// MinRoute53Listeners and MaxRoute53Listeners bound a Route 53 route's
	// slots: a stable and a new version at least; as many as AWS takes in
	// one batch of changes at most, well above what max_hot_versions
	// needs.
	MinRoute53Listeners = 2
	MaxRoute53Listeners = 10
	// DefaultMaxHotVersions keeps the last two versions ready to take
	// traffic back at once.
	DefaultMaxHotVersions = 2

	// MaxOverride bounds a break-glass override: longer is no emergency.
	MaxOverride = 24 * time.Hour
	// MaxWait bounds every pause: a step's, a bake, a command's.
	MaxWait                = 7 * 24 * time.Hour
	MaxRetainPrevious      = 30 * 24 * time.Hour
	MinHealthyTimeout      = time.Second
	MaxHealthyTimeout      = 24 * time.Hour
	MaxDeregistrationDelay = time.Hour
	MinHealthCheckInterval = 5 * time.Second
	MaxHealthCheckInterval = 300 * time.Second
	MinHealthCheckTimeout  = 2 * time.Second
	MaxHealthCheckTimeout  = 120 * time.Second
	MaxMetricLatency       = time.Minute
)

// Validate reports the first invalid field of the endpoint as an EINVALID
// error naming it, or nil.
func (ep *Endpoint) Validate() error {
	if !NamePattern.MatchString(ep.Name) {
		return Invalid("name", "must be %s; got %q", NameRule, ep.Name)
	}
	if ep.Team != "" && !TeamPattern.MatchString(ep.Team) {
		return Invalid("team", "must be %s; got %q", TeamRule, ep.Team)
	}
	for _, check := range []func() error{ep.Placement.validate, ep.Traffic.validate, ep.Template.validate, ep.Policy.validate, ep.Notifications.validate, ep.validateRouter} {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func (p Placement) validate() error {
	switch {
	case p.Region != "" && !RegionPattern.MatchString(p.Region):
		return Invalid("placement.region", "%q is not an AWS region such as \"us-east-1\"", p.Region)
	case p.RoleARN != "" && !RoleARNPattern.MatchString(p.RoleARN):
		return Invalid("placement.role_arn", "%q is not an IAM role ARN", p.RoleARN)
	case p.ExternalID != "" && p.RoleARN == "":
		return Invalid("placement.external_id", "is only used to assume placement.role_arn, which is not set")
	case len(p.ExternalID) > MaxExternalIDLength:
		return Invalid("placement.external_id", "is longer than %d characters", MaxExternalIDLength)
	}
	return nil
}

// HealthCheckProtocols are the target group protocols a template may name
// ("" is DefaultTargetProtocol, HTTP): HTTP for an ALB, TCP or TLS for an
// NLB.
var HealthCheckProtocols = []string{"", DefaultTargetProtocol, "TCP", "TLS"}

// DefaultTargetProtocol is the target groups' protocol when a template
// names none: an ALB rule's. A template stores it as "", so that templates
// written before the protocol existed keep their hash.
const DefaultTargetProtocol = "HTTP"

// nlbProtocols are the target group protocols an NLB forwards to.
var nlbProtocols = []string{"TCP", "TLS"}

// validateRouter checks what the kind of traffic asks of the rest of the
// endpoint: the target groups' protocol, the metric checks (ALB metrics),
// and how many hot versions its route can keep attached.
func (ep *Endpoint) validateRouter() error {
	hc := ep.Template.HealthCheck
	if ep.Traffic.Kind() == TrafficALB {
		if slices.Contains(nlbProtocols, hc.Protocol) {
			return Invalid("template.health_check.protocol", "%s target groups take a Network Load Balancer's traffic; an ALB rule forwards to HTTP ones", hc.Protocol)
		}
		return nil
	}
	if ep.Traffic.Kind() == TrafficRoute53 {
		return ep.validateRoute53()
	}
	nlb := ep.Traffic.NLB
	switch p := ep.Policy; {
	case !slices.Contains(nlb.TargetProtocols(), hc.Protocol):
		return Invalid("template.health_check.protocol", "must be %s: traffic.nlb.protocol is %s, and a %s listener forwards to %s target groups; got %q",
			strings.Join(nlb.TargetProtocols(), " or "), nlb.ListenerProtocol(), nlb.ListenerProtocol(), strings.Join(nlb.TargetProtocols(), " or "), hc.Protocol)
	case p.MetricChecks != nil:
		return Invalid("policy.metric_checks", "judge ALB metrics (5xx rate, latency), which a Network Load Balancer does not have")
	case p.ObservedTraffic != nil:
		return Invalid("policy.observed_traffic", "counts requests per target group (ALB's RequestCount), which a Network Load Balancer does not count: it balances connections")
	case p.HotVersions() > MaxNLBHotVersions:
		return Invalid("policy.max_hot_versions", "must be at most %d with NLB traffic: a listener forwards to at most %d target groups, the stable and the new version among them; got %d",
			MaxNLBHotVersions, MaxTargetGroupsPerRule, p.HotVersions())
	}
	return nil
}

// validateRoute53 checks what Route 53 traffic asks of the rest: HTTP
// target groups (its slots are ALB listeners), no ALB metric checks (the
// versions are behind several load balancers), and a slot for every version
// that may be on the route.
func (ep *Endpoint) validateRoute53() error {
	slots := len(ep.Traffic.Route53.Listeners)
	switch p := ep.Policy; {
	case slices.Contains(nlbProtocols, ep.Template.HealthCheck.Protocol):
		return Invalid("template.health_check.protocol", "must be HTTP: the slots of traffic.route53 are Application Load Balancer listeners; got %q", ep.Template.HealthCheck.Protocol)
	case p.MetricChecks != nil:
		return Invalid("policy.metric_checks", "judge the metrics of one load balancer, and a Route 53 route spreads the versions over several")
	case p.ObservedTraffic != nil:
		return Invalid("policy.observed_traffic", "compares the requests of one load balancer's target groups, and a Route 53 route spreads the versions over several, each behind its own")
	case p.HotVersions() > slots-2:
		return Invalid("policy.max_hot_versions", "must be at most %d: traffic.route53 has %d listeners, one for each version on the route, the stable and the new version among them; got %d",
			slots-2, slots, p.HotVersions())
	}
	return nil
}

func (t Traffic) validate() error {
	switch {
	case t.NLB != nil && t.Route53 != nil:
		return Invalid("traffic.route53", "is set with traffic.nlb: an endpoint's traffic is of exactly one kind")
	case t.NLB != nil:
		return t.validateNLB()
	case t.Route53 != nil:
		return t.validateRoute53()
	}
	if !ListenerARNPattern.MatchString(t.ListenerARN) {
		return Invalid("traffic.listener_arn", "%q is not an Application Load Balancer listener ARN", t.ListenerARN)
	}
	if err := validatePriority("traffic.priority", t.Priority); err != nil {
		return err
	}
	if len(t.Hosts)+len(t.Paths) > MaxConditionValues {
		return Invalid("traffic.hosts", "hosts and paths together may have at most %d values", MaxConditionValues)
	}
	for i, h := range t.Hosts {
		if !HostPattern.MatchString(h) {
			return Invalid(fmt.Sprintf("traffic.hosts[%d]", i), "%q is not a host name pattern", h)
		}
	}
	for i, p := range t.Paths {
		if !PathPattern.MatchString(p) {
			return Invalid(fmt.Sprintf("traffic.paths[%d]", i), "%q is not a path pattern starting with \"/\"", p)
		}
	}
	if !t.HasPreview() {
		if t.PreviewPriority != 0 {
			return Invalid("traffic.preview_priority", "is set but neither preview_host nor preview_listener_arn is")
		}
		return nil
	}
	if t.PreviewHost != "" && !HostPattern.MatchString(t.PreviewHost) {
		return Invalid("traffic.preview_host", "%q is not a host name pattern", t.PreviewHost)
	}
	if t.PreviewListenerARN != "" && !ListenerARNPattern.MatchString(t.PreviewListenerARN) {
		return Invalid("traffic.preview_listener_arn", "%q is not an Application Load Balancer listener ARN", t.PreviewListenerARN)
	}
	if err := validatePriority("traffic.preview_priority", t.PreviewPriority); err != nil {
		return err
	}
	if t.PreviewPriority == t.Priority && (t.PreviewListenerARN == "" || t.PreviewListenerARN == t.ListenerARN) {
		return Invalid("traffic.preview_priority", "must differ from traffic.priority on the same listener")
	}
	return nil
}

// validateNLB checks NLB traffic, and that it is the only kind.
func (t Traffic) validateNLB() error {
	if err := t.noALBRule("traffic.nlb"); err != nil {
		return err
	}
	if !NLBARNPattern.MatchString(t.NLB.LoadBalancerARN) {
		return Invalid("traffic.nlb.load_balancer_arn", "%q is not a Network Load Balancer ARN (arn:aws:elasticloadbalancing:REGION:ACCOUNT:loadbalancer/net/NAME/ID)", t.NLB.LoadBalancerARN)
	}
	if t.NLB.Port < 1 || t.NLB.Port > MaxPort {
		return Invalid("traffic.nlb.port", "must be between 1 and %d; got %d", MaxPort, t.NLB.Port)
	}
	return t.NLB.validateTLS()
}

// validateTLS checks the listener's protocol, and that a certificate and a
// security policy come with TLS and only with it.
func (n NLBTraffic) validateTLS() error {
	switch {
	case n.Protocol != "" && !slices.Contains(NLBProtocols, n.Protocol):
		return Invalid("traffic.nlb.protocol", "must be TCP or TLS; got %q", n.Protocol)
	case n.ListenerProtocol() != NLBProtocolTLS && n.CertificateARN != "":
		return Invalid("traffic.nlb.certificate_arn", "is set, but traffic.nlb.protocol is TCP: only a TLS listener has a certificate")
	case n.ListenerProtocol() != NLBProtocolTLS && n.SSLPolicy != "":
		return Invalid("traffic.nlb.ssl_policy", "is set, but traffic.nlb.protocol is TCP: only a TLS listener has a security policy")
	case n.ListenerProtocol() != NLBProtocolTLS:
		return nil
	case n.CertificateARN == "":
		return Invalid("traffic.nlb.certificate_arn", "is required with traffic.nlb.protocol TLS: the listener's certificate (an ACM or IAM server certificate ARN)")
	case !CertificateARNPattern.MatchString(n.CertificateARN):
		return Invalid("traffic.nlb.certificate_arn", "%q is not an ACM certificate ARN (arn:aws:acm:REGION:ACCOUNT:certificate/ID) or an IAM server certificate ARN", n.CertificateARN)
	case n.SSLPolicy != "" && !SSLPolicyPattern.MatchString(n.SSLPolicy):
		return Invalid("traffic.nlb.ssl_policy", "%q is not an ELB security policy such as %q", n.SSLPolicy, DefaultSSLPolicy)
	}
	return nil
}

// validateRoute53 checks Route 53 traffic, and that it is the only kind.
func (t Traffic) validateRoute53() error {
	if err := t.noALBRule("traffic.route53"); err != nil {
		return err
	}
	r := t.Route53
	switch {
	case !HostedZoneIDPattern.MatchString(r.HostedZoneID):
		return Invalid("traffic.route53.hosted_zone_id", "%q is not a Route 53 hosted zone ID such as \"Z0123456789ABCDEFGHIJ\"", r.HostedZoneID)
	case !DNSNamePattern.MatchString(r.Name) || len(r.Name) > 253:
		return Invalid("traffic.route53.name", "%q is not a DNS name such as \"api.example.com\"", r.Name)
	case len(r.Listeners) < MinRoute53Listeners || len(r.Listeners) > MaxRoute53Listeners:
		return Invalid("traffic.route53.listeners", "must name %d to %d listeners, one for each version on the route; got %d", MinRoute53Listeners, MaxRoute53Listeners, len(r.Listeners))
	}
	if h := r.HealthCheck; h != nil {
		switch {
		case !PathPattern.MatchString(h.Path):
			return Invalid("traffic.route53.health_check.path", "%q is not a path starting with \"/\"", h.Path)
		case !slices.Contains(Route53CheckIntervals, h.Interval.D()):
			return Invalid("traffic.route53.health_check.interval", "must be 10s or 30s (Route 53's fast and standard checks); got %s", h.Interval)
		case h.FailureThreshold < 1 || h.FailureThreshold > MaxRoute53FailureThreshold:
			return Invalid("traffic.route53.health_check.failure_threshold", "must be between 1 and %d; got %d", MaxRoute53FailureThreshold, h.FailureThreshold)
		}
	}
	balancers := map[string]bool{}
	for i, l := range r.Listeners {
		field := fmt.Sprintf("traffic.route53.listeners[%d]", i)
		if !ListenerARNPattern.MatchString(l) {
			return Invalid(field, "%q is not an Application Load Balancer listener ARN", l)
		}
		// listener/app/NAME/LB-ID/LISTENER-ID: a record aliases a load
		// balancer, so each slot must be a load balancer of its own.
		lb := l[:strings.LastIndexByte(l, '/')]
		if balancers[lb] {
			return Invalid(field, "is on the load balancer of another of the listeners: each version's record aliases a load balancer of its own")
		}
		balancers[lb] = true
	}
	return nil
}

// noALBRule refuses the fields of an ALB rule beside another kind of
// traffic, named by field.
func (t Traffic) noALBRule(field string) error {
	for _, alb := range []struct {
		field string
		set   bool
	}{
		{"traffic.listener_arn", t.ListenerARN != ""}, {"traffic.priority", t.Priority != 0},
		{"traffic.hosts", len(t.Hosts) > 0}, {"traffic.paths", len(t.Paths) > 0},
		{"traffic.preview_host", t.PreviewHost != ""}, {"traffic.preview_listener_arn", t.PreviewListenerARN != ""},
		{"traffic.preview_priority", t.PreviewPriority != 0},
	} {
		if alb.set {
			return Invalid(alb.field, "is an ALB rule's, and the endpoint routes through %s: an endpoint's traffic is of exactly one kind", field)
		}
	}
	return nil
}

func (n Notifications) validate() error {
	if n.WebhookURL != "" && (!WebhookURLPattern.MatchString(n.WebhookURL) || len(n.WebhookURL) > MaxWebhookURL) {
		return Invalid("notifications.webhook_url", "must be an http or https URL of at most %d characters", MaxWebhookURL)
	}
	if n.SNSTopicARN != "" && !SNSTopicARNPattern.MatchString(n.SNSTopicARN) {
		return Invalid("notifications.sns_topic_arn", "%q is not an SNS topic ARN", n.SNSTopicARN)
	}
	if n.WebhookFormat != "" && !slices.Contains(WebhookFormats, n.WebhookFormat) {
		return Invalid("notifications.webhook_format", "must be one of %s; got %q", strings.Join(WebhookFormats, ", "), n.WebhookFormat)
	}
	return nil
}

func validatePriority(field string, p int) error {
	if p < 1 || p > MaxPriority {
		return Invalid(field, "must be between 1 and %d; got %d", MaxPriority, p)
	}
	return nil
}

func (t Template) validate() error {
	if !slices.Contains(Backends, t.Backend) {
		return Invalid("template.backend", "must be %q or %q; got %q", BackendEC2, BackendECS, t.Backend)
	}
	if err := t.validateECSBackend(); err != nil {
		return err
	}
	if !RepositoryPattern.MatchString(t.Repository) {
		return Invalid("template.repository", "%q is not a Docker image repository such as \"registry.example.com/team/app\"", t.Repository)
	}
	if t.ContainerPort < 1 || t.ContainerPort > MaxPort {
		return Invalid("template.container_port", "must be between 1 and %d; got %d", MaxPort, t.ContainerPort)
	}
	if len(t.Command) > 0 && t.Command[0] == "" {
		return Invalid("template.command[0]", "must name the executable to run; got an empty string")
	}
	if err := validateEnv("template.env", t.Env); err != nil {
		return err
	}
	for _, name := range sortedKeys(t.Secrets) {
		field := fmt.Sprintf("template.secrets[%q]", name)
		if !EnvNamePattern.MatchString(name) {
			return Invalid(field, "%q is not an environment variable name", name)
		}
		if _, dup := t.Env[name]; dup {
			return Invalid(field, "%q is also set in template.env", name)
		}
		if !SecretARNPattern.MatchString(t.Secrets[name]) {
			return Invalid(field, "must be the ARN of an SSM parameter or a Secrets Manager secret")
		}
	}
	if len(t.Subnets) == 0 {
		return Invalid("template.subnets", "must name at least one subnet")
	}
	if err := validateEach("template.subnets", t.Subnets, SubnetPattern, "a subnet ID"); err != nil {
		return err
	}
	if err := validateEach("template.security_groups", t.SecurityGroups, SecurityGroupPattern, "a security group ID"); err != nil {
		return err
	}
	if err := t.HealthCheck.validate(); err != nil {
		return err
	}
	if err := validateDuration("template.deregistration_delay", t.DeregistrationDelay, 0, MaxDeregistrationDelay); err != nil {
		return err
	}
	if t.Backend == BackendECS {
		return t.validateECS()
	}
	return t.validateEC2()
}

// validateEC2 checks what only the ec2 backend uses.
func (t Template) validateEC2() error {
	switch {
	case !InstanceTypePattern.MatchString(t.InstanceType):
		return Invalid("template.instance_type", "%q is not an EC2 instance type such as \"t3.micro\"", t.InstanceType)
	case t.AMI == "":
		return noAMI()
	case !AMIPattern.MatchString(t.AMI):
		return Invalid("template.ami", "%q is not an AMI ID such as \"ami-0123456789abcdef0\"", t.AMI)
	case t.MinSize < 0:
		return Invalid("template.min_size", "must not be negative; got %d", t.MinSize)
	case t.MaxSize < 1 || t.MaxSize > MaxGroupSize:
		return Invalid("template.max_size", "must be between 1 and %d; got %d", MaxGroupSize, t.MaxSize)
	case t.MinSize > t.MaxSize:
		return Invalid("template.min_size", "must not exceed template.max_size (%d); got %d", t.MaxSize, t.MinSize)
	case t.DesiredCapacity < 1 || t.DesiredCapacity < t.MinSize || t.DesiredCapacity > t.MaxSize:
		return Invalid("template.desired_capacity", "must be at least 1 and between min_size (%d) and max_size (%d); got %d", t.MinSize, t.MaxSize, t.DesiredCapacity)
	case t.InstanceProfile != "" && !InstanceProfilePattern.MatchString(t.InstanceProfile):
		return Invalid("template.instance_profile", "%q is not an instance profile name or ARN", t.InstanceProfile)
	}
	return t.ValidateUserData()
}

func (h HealthCheck) validate() error {
	switch {
	case !slices.Contains(HealthCheckProtocols, h.Protocol):
		return Invalid("template.health_check.protocol", "must be HTTP, TCP or TLS; got %q", h.Protocol)
	case !PathPattern.MatchString(h.Path):
		return Invalid("template.health_check.path", "%q is not a path starting with \"/\"", h.Path)
	case h.HealthyThreshold < MinHealthThreshold || h.HealthyThreshold > MaxHealthThreshold:
		return Invalid("template.health_check.healthy_threshold", "must be between %d and %d; got %d", MinHealthThreshold, MaxHealthThreshold, h.HealthyThreshold)
	case h.UnhealthyThreshold < MinHealthThreshold || h.UnhealthyThreshold > MaxHealthThreshold:
		return Invalid("template.health_check.unhealthy_threshold", "must be between %d and %d; got %d", MinHealthThreshold, MaxHealthThreshold, h.UnhealthyThreshold)
	}
	return validateCheckTimes("template.health_check", h.Interval, h.Timeout,
		[2]time.Duration{MinHealthCheckInterval, MaxHealthCheckInterval}, [2]time.Duration{MinHealthCheckTimeout, MaxHealthCheckTimeout})
}

// validateCheckTimes checks the interval and timeout of the health check
// whose fields begin with prefix: each within its bounds, the timeout
// shorter than the interval.
func validateCheckTimes(prefix string, interval, timeout Duration, intervals, timeouts [2]time.Duration) error {
	if err := validateDuration(prefix+".interval", interval, intervals[0], intervals[1]); err != nil {
		return err
	}
	if err := validateDuration(prefix+".timeout", timeout, timeouts[0], timeouts[1]); err != nil {
		return err
	}
	if timeout >= interval {
		return Invalid(prefix+".timeout", "must be shorter than the interval (%s); got %s", interval, timeout)
	}
	return nil
}

func (p Policy) validate() error {
	if err := ValidateSteps(p.Steps); err != nil {
		return err
	}
	durations := []struct {
		field    string
		d        Duration
		min, max time.Duration
	}{
		{"policy.healthy_timeout", p.HealthyTimeout, MinHealthyTimeout, MaxHealthyTimeout},
		{"policy.bake_time", p.BakeTime, 0, MaxWait},
		{"policy.retain_previous", p.RetainPrevious, 0, MaxRetainPrevious},
	}
	for _, d := range durations {
		if err := validateDuration(d.field, d.d, d.min, d.max); err != nil {
			return err
		}
	}
	switch {
	case p.MinHealthyPercent < 1 || p.MinHealthyPercent > 100:
		return Invalid("policy.min_healthy_percent", "must be between 1 and 100; got %d", p.MinHealthyPercent)
	case p.RetainCapacityPercent < 0 || p.RetainCapacityPercent > 100:
		return Invalid("policy.retain_capacity_percent", "must be between 0 and 100; got %d", p.RetainCapacityPercent)
	case p.HotVersions() < 0 || p.HotVersions() > MaxHotVersions:
		return Invalid("policy.max_hot_versions", "must be between 0 and %d: every hot version stays attached to the load balancer, which forwards a route to at most %d target groups besides the stable and the new version; got %d",
			MaxHotVersions, MaxHotVersions, p.HotVersions())
	case len(p.Alarms) > MaxAlarms:
		return Invalid("policy.alarms", "may name at most %d alarms", MaxAlarms)
	}
	for i, a := range p.Alarms {
		field := fmt.Sprintf("policy.alarms[%d]", i)
		if !AlarmNamePattern.MatchString(a) {
			return Invalid(field, "%q is not a CloudWatch alarm name", a)
		}
		if slices.Index(p.Alarms, a) != i {
			return Invalid(field, "%q is listed twice", a)
		}
	}
	if p.MetricChecks != nil {
		if err := p.MetricChecks.validate(); err != nil {
			return err
		}
	}
	if p.ObservedTraffic != nil {
		return p.ObservedTraffic.validate()
	}
	return nil
}

// ValidateSteps checks a rollout's steps: 1 to MaxSteps, weights rising from
// 1 to exactly 100, pauses within a week.
func ValidateSteps(steps []Step) error {
	if len(steps) == 0 || len(steps) > MaxSteps {
		return Invalid("policy.steps", "must have between 1 and %d steps; got %d", MaxSteps, len(steps))
	}
	prev := 0
	for i, s := range steps {
		field := fmt.Sprintf("policy.steps[%d]", i)
		if s.Weight < 1 || s.Weight > 100 {
			return Invalid(field+".weight", "must be between 1 and 100; got %d", s.Weight)
		}
		if s.Weight <= prev {
			return Invalid(field+".weight", "must be greater than the previous step's weight (%d); got %d", prev, s.Weight)
		}
		if s.Pause != nil {
			if err := validateDuration(field+".pause", *s.Pause, 0, MaxWait); err != nil {
				return err
			}
		}
		prev = s.Weight
	}
	if prev != 100 {
		return Invalid(fmt.Sprintf("policy.steps[%d].weight", len(steps)-1), "the last step must send 100%% of traffic; got %d", prev)
	}
	return nil
}

func (m MetricChecks) validate() error {
	switch {
	case m.Max5xxPercent < 0 || m.Max5xxPercent > 100:
		return Invalid("policy.metric_checks.max_5xx_percent", "must be between 0 and 100; got %g", m.Max5xxPercent)
	case m.MaxRatioToStable != 0 && m.MaxRatioToStable < MinRatioToStable:
		return Invalid("policy.metric_checks.max_ratio_to_stable", "must be at least %d (or 0 to disable); got %g", MinRatioToStable, m.MaxRatioToStable)
	case m.MinRequests < 0:
		return Invalid("policy.metric_checks.min_requests", "must not be negative; got %d", m.MinRequests)
	}
	if err := validateDuration("policy.metric_checks.interval", m.Interval, 0, MaxWait); err != nil {
		return err
	}
	return validateDuration("policy.metric_checks.max_latency", m.MaxLatency, 0, MaxMetricLatency)
}

func (o ObservedTraffic) validate() error {
	switch {
	case o.TolerancePercent <= 0 || o.TolerancePercent > MaxTrafficTolerance:
		return Invalid("policy.observed_traffic.tolerance_percent", "must be more than 0 and at most %d percentage points; got %g", MaxTrafficTolerance, o.TolerancePercent)
	case o.MinRequests < 0:
		return Invalid("policy.observed_traffic.min_requests", "must not be negative; got %d", o.MinRequests)
	case o.OnTimeout != "" && !slices.Contains(OnTimeouts, o.OnTimeout):
		return Invalid("policy.observed_traffic.on_timeout", "must be one of %s; got %q", strings.Join(OnTimeouts, ", "), o.OnTimeout)
	}
	if err := validateDuration("policy.observed_traffic.interval", o.Interval, 0, TrafficWindow); err != nil {
		return err
	}
	return validateDuration("policy.observed_traffic.max_wait", o.MaxWait, MinTrafficWindow, MaxWait)
}

// Validate reports the first invalid field of the release, or nil.
func (r *Release) Validate() error {
	switch {
	case !NamePattern.MatchString(r.Endpoint):
		return Invalid("endpoint", "%q is not an endpoint name", r.Endpoint)
	case !r.Track.Valid():
		return Invalid("track", "must be %q or %q; got %q", Production, Preview, r.Track)
	case !VersionPattern.MatchString(r.Version):
		return Invalid("version", "must be 1 to 64 letters, digits, '.', '_' and '-', starting with a letter or digit; got %q", r.Version)
	case r.Retry < 0:
		return Invalid("retry", "must not be negative; got %d", r.Retry)
	case r.Retired && r.Track != Preview:
		return Invalid("retired", "only a preview release can be retired; production goes back by declaring the version to return to")
	}
	if r.Image != "" {
		if err := ValidateImage(r.Image); err != nil {
			return err
		}
	}
	return validateEnv("env", r.Env)
}

// ValidateImage checks the image a release declares. A release without one
// runs its endpoint's repository tagged with its version; an empty image
// declared as such is a mistake (a variable left empty), not that default.
func ValidateImage(image string) error {
	if _, d, byDigest := strings.Cut(image, "@"); byDigest && !ValidDigest(d) {
		return Invalid("image", "%q names the digest %q, which is not sha256: and 64 lowercase hex digits", image, d)
	}
	if !ImagePattern.MatchString(image) {
		return Invalid("image", "%q is not a Docker image reference such as \"registry.example.com/app:1.2.3\"", image)
	}
	return nil
}

// MaxReason is the longest reason a command may give.
const MaxReason = 1024

// Validate reports the first invalid field of the command, or nil.
func (c *Command) Validate() error {
	switch {
	case !c.Kind.Valid():
		return Invalid("kind", "must be one of promote, pause, resume, abort, rollback, override, lift; got %q", c.Kind)
	case c.For != 0 && c.Kind != CommandPause && c.Kind != CommandOverride:
		return Invalid("for", "only applies to pause and override")
	case c.To != "" && c.Kind != CommandRollback && c.Kind != CommandOverride:
		return Invalid("to", "only applies to rollback and override")
	case c.To != "" && !VersionPattern.MatchString(c.To):
		return Invalid("to", "%q is not a version", c.To)
	case len(c.Reason) > MaxReason:
		return Invalid("reason", "is longer than %d characters", MaxReason)
	case c.Kind == CommandOverride && c.To == "":
		return Invalid("to", "must name the version the override pins")
	case c.Kind == CommandOverride && c.For <= 0:
		return Invalid("for", "must say how long the override lasts, at most %s: it ends by itself", Duration(MaxOverride))
	case c.Kind == CommandOverride && strings.TrimSpace(c.Reason) == "":
		return Invalid("reason", "must say why: an override is break glass, and everyone is told")
	case c.Kind == CommandOverride:
		return validateDuration("for", c.For, 0, MaxOverride)
	}
	return validateDuration("for", c.For, 0, MaxWait)
}

func validateEnv(field string, env map[string]string) error {
	for _, name := range sortedKeys(env) {
		if !EnvNamePattern.MatchString(name) {
			return Invalid(fmt.Sprintf("%s[%q]", field, name), "%q is not an environment variable name", name)
		}
		if strings.ContainsRune(env[name], 0) {
			return Invalid(fmt.Sprintf("%s[%q]", field, name), "must not contain a NUL character")
		}
	}
	return nil
}

func validateEach(field string, values []string, pattern *regexp.Regexp, what string) error {
	for i, v := range values {
		if !pattern.MatchString(v) {
			return Invalid(fmt.Sprintf("%s[%d]", field, i), "%q is not %s", v, what)
		}
		if slices.Index(values, v) != i {
			return Invalid(fmt.Sprintf("%s[%d]", field, i), "%q is listed twice", v)
		}
	}
	return nil
}

func validateDuration(field string, d Duration, min, max time.Duration) error {
	if d.D() < min || d.D() > max {
		return Invalid(field, "must be between %s and %s; got %s", min, max, d)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
