// Package targetgroup is the target group every environment has, whatever
// runs it: the ec2 backend registers instances in it, the ecs backend task
// IPs. It is created with the template's health check, found by a name
// derived from the environment, counted by target health and deleted the
// same way for every backend.
package targetgroup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// API is the part of ELBv2 that creates, observes and deletes target groups.
type API interface {
	CreateTargetGroup(context.Context, *elb.CreateTargetGroupInput, ...func(*elb.Options)) (*elb.CreateTargetGroupOutput, error)
	ModifyTargetGroupAttributes(context.Context, *elb.ModifyTargetGroupAttributesInput, ...func(*elb.Options)) (*elb.ModifyTargetGroupAttributesOutput, error)
	DescribeTargetGroups(context.Context, *elb.DescribeTargetGroupsInput, ...func(*elb.Options)) (*elb.DescribeTargetGroupsOutput, error)
	DescribeTargetHealth(context.Context, *elb.DescribeTargetHealthInput, ...func(*elb.Options)) (*elb.DescribeTargetHealthOutput, error)
	DeleteTargetGroup(context.Context, *elb.DeleteTargetGroupInput, ...func(*elb.Options)) (*elb.DeleteTargetGroupOutput, error)
}

// Subnets finds the VPC of a subnet, which a target group must name.
type Subnets interface {
	DescribeSubnets(context.Context, *ec2.DescribeSubnetsInput, ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error)
}

// Groups creates, reads and deletes environments' target groups in one
// account and region.
type Groups struct {
	api     API
	subnets Subnets
	vpcs    sync.Map // subnet ID → VPC ID
}

// New returns the target groups api reaches.
func New(api API, subnets Subnets) *Groups { return &Groups{api: api, subnets: subnets} }

// Prefix begins every environment's target group name.
const Prefix = "ir-"

// MaxNames is how many names DescribeTargetGroups takes in one call.
const MaxNames = 20

// Digest identifies an environment of a shifter's endpoint in names that
// must be short or safe: hex, 64 characters.
func Digest(shifterID, endpoint, envID string) string {
	sum := sha256.Sum256([]byte(shifterID + "\x00" + endpoint + "\x00" + envID))
	return hex.EncodeToString(sum[:])
}

// Name is the name of an environment's target group: target group names
// allow 32 characters, so it is a digest.
func Name(shifterID, endpoint, envID string) string {
	return Prefix + Digest(shifterID, endpoint, envID)[:29]
}

// Create creates the target group called name for environments built from
// t, whose targets are of targetType, or returns it if it exists.
func (g *Groups) Create(ctx context.Context, name string, t rollout.Template, targetType elbtypes.TargetTypeEnum, tags map[string]string) (*elbtypes.TargetGroup, error) {
	vpc, err := g.vpcOf(ctx, t.Subnets[0])
	if err != nil {
		return nil, err
	}
	hc := t.HealthCheck
	in := &elb.CreateTargetGroupInput{
		Name:               aws.String(name),
		Protocol:           elbtypes.ProtocolEnumHttp,
		Port:               aws.Int32(int32(t.ContainerPort)),
		VpcId:              aws.String(vpc),
		TargetType:         targetType,
		HealthCheckEnabled: aws.Bool(true),
		HealthCheckPath:    nonZero(hc.Path, aws.String),
		// Zero values leave ELB's defaults.
		HealthCheckIntervalSeconds: nonZero(int32(hc.Interval.D().Seconds()), aws.Int32),
		HealthCheckTimeoutSeconds:  nonZero(int32(hc.Timeout.D().Seconds()), aws.Int32),
		HealthyThresholdCount:      nonZero(int32(hc.HealthyThreshold), aws.Int32),
		UnhealthyThresholdCount:    nonZero(int32(hc.UnhealthyThreshold), aws.Int32),
	}
	if hc.Protocol == "TCP" || hc.Protocol == "TLS" {
		// An NLB's target group: its health check is a TCP connection,
		// which takes no path.
		in.Protocol, in.HealthCheckProtocol, in.HealthCheckPath = elbtypes.ProtocolEnum(hc.Protocol), elbtypes.ProtocolEnumTcp, nil
	}
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		in.Tags = append(in.Tags, elbtypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	out, err := g.api.CreateTargetGroup(ctx, in)
	if IsCode(err, "DuplicateTargetGroupName") {
		// AWS answers a create of an existing group with it; moto does not.
		tg, err := g.Get(ctx, name)
		if err == nil && tg == nil {
			err = fmt.Errorf("target group %s exists and cannot be found", name)
		}
		return tg, err
	}
	if err != nil {
		return nil, fmt.Errorf("create target group %s: %w", name, err)
	}
	if len(out.TargetGroups) == 0 {
		return nil, fmt.Errorf("create target group %s: no target group in the answer", name)
	}
	return &out.TargetGroups[0], nil
}

// vpcOf returns the VPC of a subnet, which never changes: read once.
func (g *Groups) vpcOf(ctx context.Context, subnet string) (string, error) {
	if vpc, ok := g.vpcs.Load(subnet); ok {
		return vpc.(string), nil
	}
	out, err := g.subnets.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{subnet}})
	if err != nil {
		return "", fmt.Errorf("describe subnet %s: %w", subnet, err)
	}
	if len(out.Subnets) == 0 {
		return "", fmt.Errorf("subnet %s not found", subnet)
	}
	vpc := aws.ToString(out.Subnets[0].VpcId)
	g.vpcs.Store(subnet, vpc)
	return vpc, nil
}

// SetAttributes sets what CreateTargetGroup cannot: the deregistration delay.
func (g *Groups) SetAttributes(ctx context.Context, name, arn string, t rollout.Template) error {
	_, err := g.api.ModifyTargetGroupAttributes(ctx, &elb.ModifyTargetGroupAttributesInput{
		TargetGroupArn: aws.String(arn),
		Attributes: []elbtypes.TargetGroupAttribute{{
			Key:   aws.String("deregistration_delay.timeout_seconds"),
			Value: aws.String(fmt.Sprint(int(t.DeregistrationDelay.D().Seconds()))),
		}},
	})
	if err != nil {
		return fmt.Errorf("set attributes of target group %s: %w", name, err)
	}
	return nil
}

// Get returns the target group called name, or nil if there is none.
func (g *Groups) Get(ctx context.Context, name string) (*elbtypes.TargetGroup, error) {
	out, err := g.api.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{Names: []string{name}})
	if IsCode(err, "TargetGroupNotFound") {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describe target group %s: %w", name, err)
	}
	if len(out.TargetGroups) == 0 {
		return nil, nil
	}
	return &out.TargetGroups[0], nil
}

// List lists the target groups named like environments', by name: 400 a
// page, which costs fewer calls than reading them by name (20 a call, and
// one missing name fails the call).
func (g *Groups) List(ctx context.Context) (map[string]elbtypes.TargetGroup, error) {
	out := map[string]elbtypes.TargetGroup{}
	p := elb.NewDescribeTargetGroupsPaginator(g.api, &elb.DescribeTargetGroupsInput{PageSize: aws.Int32(400)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list target groups: %w", err)
		}
		for _, tg := range page.TargetGroups {
			if name := aws.ToString(tg.TargetGroupName); strings.HasPrefix(name, Prefix) {
				out[name] = tg
			}
		}
	}
	return out, nil
}

// Health counts the targets of the target group arn by the state the load
// balancer gives them, those counts accepts (all if nil); nil if the target
// group is gone.
func (g *Groups) Health(ctx context.Context, name, arn string, counts func(id string) bool) (*rollout.TargetHealth, error) {
	out, err := g.api.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(arn)})
	switch {
	case IsCode(err, "TargetGroupNotFound"):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("describe target health of %s: %w", name, err)
	}
	var h rollout.TargetHealth
	for _, d := range out.TargetHealthDescriptions {
		if d.Target == nil || d.TargetHealth == nil || (counts != nil && !counts(aws.ToString(d.Target.Id))) {
			continue
		}
		h.Targets++
		switch d.TargetHealth.State {
		case elbtypes.TargetHealthStateEnumHealthy:
			h.Healthy++
		case elbtypes.TargetHealthStateEnumInitial:
			h.Initial++
		case elbtypes.TargetHealthStateEnumUnused:
			h.Unused++
		case elbtypes.TargetHealthStateEnumDraining, elbtypes.TargetHealthStateEnumUnhealthyDraining:
			h.Draining++
		default: // unhealthy, unavailable
			h.Unhealthy++
		}
	}
	return &h, nil
}

// Delete deletes the target group called name and reports whether it is
// gone: not while a listener still forwards to it (AWS refuses with
// ResourceInUse), which is for a later call, not an error.
func (g *Groups) Delete(ctx context.Context, name string) (gone bool, err error) {
	tg, err := g.Get(ctx, name)
	if err != nil || tg == nil {
		return err == nil, err
	}
	_, err = g.api.DeleteTargetGroup(ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: tg.TargetGroupArn})
	switch {
	case IsCode(err, "ResourceInUse"):
		return false, nil
	case err != nil && !IsCode(err, "TargetGroupNotFound"):
		return false, fmt.Errorf("delete target group %s: %w", name, err)
	}
	return true, nil
}

// IsCode reports whether err is an AWS API error with one of codes.
func IsCode(err error, codes ...string) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && slices.Contains(codes, apiErr.ErrorCode())
}

// nonZero returns nil for v's zero value and ptr(v) otherwise, to leave
// AWS's defaults where the template says nothing.
func nonZero[T comparable](v T, ptr func(T) *T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return ptr(v)
}
