// Package aws connects the shifter to AWS: SDK clients per endpoint placement
// (region, and a role to assume in another account). The backends that use
// the clients live in subpackages and declare the narrow interfaces they need.
package aws

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwschemas "github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"
	"github.com/hashicorp/go-hclog"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/budget"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/callrecord"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/schedule"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// RoleSessionName names the shifter's sessions in the accounts it assumes
// roles in, so CloudTrail shows who acted.
const RoleSessionName = "ionroller-shifter"

// Config is how the shifter reaches AWS. Credentials come from the SDK's
// default chain (environment, shared files, instance or task role).
type Config struct {
	// Region is used for endpoints whose placement names none.
	Region string
	// Endpoint overrides every service's base URL: moto's server in tests
	// and in the local demo. Empty means AWS.
	Endpoint string
	// RetryMaxAttempts overrides the SDK's attempts per call when > 0.
	RetryMaxAttempts int
	// APIOptions are added to every client's middleware stack.
	APIOptions []func(*middleware.Stack) error
}

// Load returns the shifter's base aws.Config: the SDK's defaults with cfg
// applied.
func Load(ctx context.Context, cfg Config) (awssdk.Config, error) {
	opts := []func(*config.LoadOptions) error{config.WithAPIOptions(cfg.APIOptions)}
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.Endpoint != "" {
		opts = append(opts, config.WithBaseEndpoint(cfg.Endpoint))
	}
	if cfg.RetryMaxAttempts > 0 {
		opts = append(opts, config.WithRetryMaxAttempts(cfg.RetryMaxAttempts))
	}
	c, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return awssdk.Config{}, fmt.Errorf("load aws config: %w", err)
	}
	return c, nil
}

// Set is the SDK clients of one placement.
type Set struct {
	EC2         *ec2.Client
	AutoScaling *autoscaling.Client
	ELBv2       *elb.Client
	CloudWatch  *cloudwatch.Client
	SNS         *sns.Client
	// ECR pins the placement's ECR images to digests.
	ECR *ecr.Client
	// Route53 writes the weighted records of traffic.route53.
	Route53 *route53.Client
	// ECS runs the environments of the ecs backend.
	ECS *ecs.Client
	// ACM and IAM read the certificates of TLS listeners (preflight).
	ACM *acm.Client
	IAM *iam.Client
}

// Clients builds the clients of each placement once and hands out the same
// Set afterwards, so credentials obtained by assuming a role are cached and
// refreshed by the SDK rather than fetched per call. It is safe for
// concurrent use.
//
// Every client's calls go through the call scheduler of its account and
// region (package schedule), which paces them within AWS's request budgets
// (package budget): clients of roles in the same account share it.
type Clients struct {
	base     awssdk.Config
	logger   hclog.Logger
	schedule schedule.Options

	mu         sync.Mutex
	sets       map[placementKey]*Set
	schedulers map[accountKey]*schedule.Scheduler
}

type placementKey struct{ region, roleARN, externalID string }

// accountKey names an account and region; account is "" for the shifter's
// own credentials.
type accountKey struct{ account, region string }

// NewClients returns a factory of clients derived from base, which carries
// the shifter's own credentials, default region, endpoint override and
// middlewares (a test's call counter and moto account header among them).
// opts tune the call schedulers (their observer: the shifter's metrics).
// Their calls are recorded for the IAM policy's check when the test run asks
// for it (package callrecord).
func NewClients(base awssdk.Config, logger hclog.Logger, opts schedule.Options) *Clients {
	base = base.Copy()
	callrecord.Add(&base)
	return &Clients{base: base, logger: logger, schedule: opts, sets: make(map[placementKey]*Set), schedulers: map[accountKey]*schedule.Scheduler{}}
}

// Budgets are AWS's published request budgets as the schedulers use them.
func Budgets(service, operation string) []schedule.Charge {
	var out []schedule.Charge
	for _, c := range budget.Charges(budget.Call{Service: budget.ServiceOf(service), Operation: operation}) {
		out = append(out, schedule.Charge{
			Bucket: string(c.Limit.Service) + "/" + c.Bucket,
			Budget: schedule.Budget{Burst: c.Limit.Capacity / c.Tokens, Refill: c.Limit.Refill / c.Tokens},
		})
	}
	return out
}

// scheduler returns the scheduler of an account and region; called with
// c.mu held.
func (c *Clients) scheduler(key accountKey) *schedule.Scheduler {
	s, ok := c.schedulers[key]
	if !ok {
		s = schedule.New(Budgets, c.schedule)
		c.schedulers[key] = s
	}
	return s
}

// For returns the clients of placement p: in p's region (the base region if
// p names none) and, when p has a role, acting as that role.
func (c *Clients) For(p rollout.Placement) (*Set, error) {
	key := placementKey{region: p.Region, roleARN: p.RoleARN, externalID: p.ExternalID}
	if key.region == "" {
		key.region = c.base.Region
	}
	if key.region == "" {
		return nil, errors.New("aws clients: the placement names no region and the shifter has no default region")
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.sets[key]; ok {
		return s, nil
	}

	cfg := c.base.Copy()
	cfg.Region = key.region
	cfg.APIOptions = append(cfg.APIOptions, c.scheduler(accountKey{accountOf(key.roleARN), key.region}).Middleware)
	if key.roleARN != "" {
		provider := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), key.roleARN, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = RoleSessionName
			if key.externalID != "" {
				o.ExternalID = awssdk.String(key.externalID)
			}
		})
		cfg.Credentials = awssdk.NewCredentialsCache(provider)
	}

	s := &Set{
		EC2:         ec2.NewFromConfig(cfg),
		AutoScaling: autoscaling.NewFromConfig(cfg),
		ELBv2:       elb.NewFromConfig(cfg),
		CloudWatch:  cloudwatch.NewFromConfig(cfg, UseQueryProtocol),
		SNS:         sns.NewFromConfig(cfg),
		ECR:         ecr.NewFromConfig(cfg),
		Route53:     route53.NewFromConfig(cfg),
		ECS:         ecs.NewFromConfig(cfg),
		ACM:         acm.NewFromConfig(cfg),
		IAM:         iam.NewFromConfig(cfg),
	}
	c.sets[key] = s
	c.logger.Debug("aws clients created", "region", key.region, "role_arn", key.roleARN)
	return s, nil
}

// UseQueryProtocol makes CloudWatch speak AWS Query, its original protocol,
// instead of the SDK's default since cloudwatch v1.75, Smithy RPC v2 CBOR,
// which moto's server rejects. moto also fails PutMetricData over AWS JSON
// 1.0, while it serves every CloudWatch call the shifter makes over Query.
// CloudWatch accepts Query as well, so one code path serves AWS and moto.
// It is an option of cloudwatch.NewFromConfig.
func UseQueryProtocol(o *cloudwatch.Options) {
	o.Protocol = awsquery.New(cwschemas.GraniteServiceVersion20100801)
}

// accountOf returns the account of a role ARN (arn:aws:iam::ACCOUNT:role/…),
// "" for none.
func accountOf(roleARN string) string {
	if parts := strings.SplitN(roleARN, ":", 6); len(parts) == 6 {
		return parts[4]
	}
	return ""
}
