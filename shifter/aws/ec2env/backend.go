// Package ec2env is the ec2 backend: every environment of an endpoint is a
// launch template, an Auto Scaling group launching from it and a target group
// the group registers its instances in. Resources have deterministic names,
// so every operation can find what an earlier, interrupted one left and is
// safe to repeat.
package ec2env

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"
	"github.com/hashicorp/go-hclog"

	shifteraws "github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/targetgroup"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/userdata"
)

// EC2 is the part of EC2 the backend uses: launch templates, and subnets to
// find the VPC of a target group.
type EC2 interface {
	DescribeSubnets(context.Context, *ec2.DescribeSubnetsInput, ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error)
	CreateLaunchTemplate(context.Context, *ec2.CreateLaunchTemplateInput, ...func(*ec2.Options)) (*ec2.CreateLaunchTemplateOutput, error)
	DescribeLaunchTemplates(context.Context, *ec2.DescribeLaunchTemplatesInput, ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplatesOutput, error)
	DeleteLaunchTemplate(context.Context, *ec2.DeleteLaunchTemplateInput, ...func(*ec2.Options)) (*ec2.DeleteLaunchTemplateOutput, error)
}

// AutoScaling is the part of Auto Scaling the backend uses.
type AutoScaling interface {
	CreateAutoScalingGroup(context.Context, *autoscaling.CreateAutoScalingGroupInput, ...func(*autoscaling.Options)) (*autoscaling.CreateAutoScalingGroupOutput, error)
	DescribeAutoScalingGroups(context.Context, *autoscaling.DescribeAutoScalingGroupsInput, ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error)
	UpdateAutoScalingGroup(context.Context, *autoscaling.UpdateAutoScalingGroupInput, ...func(*autoscaling.Options)) (*autoscaling.UpdateAutoScalingGroupOutput, error)
	DeleteAutoScalingGroup(context.Context, *autoscaling.DeleteAutoScalingGroupInput, ...func(*autoscaling.Options)) (*autoscaling.DeleteAutoScalingGroupOutput, error)
}

// TargetGroups is the part of ELBv2 that creates, observes and deletes an
// environment's target group.
type TargetGroups = targetgroup.API

// TargetGroupTags reads target group tags, which DescribeTargetGroups does
// not return; only List needs them.
type TargetGroupTags interface {
	DescribeTags(context.Context, *elb.DescribeTagsInput, ...func(*elb.Options)) (*elb.DescribeTagsOutput, error)
}

// API is the AWS the backend works with. An *elb.Client serves as both
// TargetGroups and Tags.
type API struct {
	EC2          EC2
	AutoScaling  AutoScaling
	TargetGroups TargetGroups
	Tags         TargetGroupTags
}

// Backend creates, observes, scales and deletes environments of one
// placement (account and region).
type Backend struct {
	api       API
	shifterID string
	logger    hclog.Logger
	// inventory lists the shifter's resources in the whole account, for
	// endpoints at rest; moving reads those of moving endpoints by name.
	inventory shifteraws.Snapshot[inventory]
	moving    shifteraws.Snapshot[inventory]
	watched   watched
	tgs       *targetgroup.Groups
}

// New returns a backend acting in the account api reaches. shifterID is part
// of every resource's name and tags, so that shifters sharing an account
// never touch each other's environments.
func New(api API, shifterID string, logger hclog.Logger) *Backend {
	return &Backend{api: api, shifterID: shifterID, logger: logger, tgs: targetgroup.New(api.TargetGroups, api.EC2)}
}

// Ref names an environment's resources.
type Ref struct {
	LaunchTemplate   string
	AutoScalingGroup string
	TargetGroup      string
}

// healthCheckGracePeriod is how long a new instance may fail its target
// group health check before Auto Scaling replaces it: long enough to
// install docker and pull an image at boot.
const healthCheckGracePeriod = 300

// Names returns the names of the resources of environment envID of endpoint.
// Launch template and group names are readable; target group names allow 32
// characters, so they are a hash.
func (b *Backend) Names(endpoint, envID string) Ref {
	readable := "ionroller-" + b.shifterID + "-" + endpoint + "-" + envID
	digest := targetgroup.Digest(b.shifterID, endpoint, envID)
	// Launch template names allow [A-Za-z0-9().-/_], 3 to 128 of them;
	// the digest keeps names unique when the readable part had to change.
	if name := ltUnsafe.ReplaceAllString(readable, "-"); name != readable || len(name) > 128 {
		readable = name[:min(len(name), 128-17)] + "-" + digest[:16]
	}
	return Ref{
		LaunchTemplate:   readable,
		AutoScalingGroup: readable,
		TargetGroup:      targetgroup.Name(b.shifterID, endpoint, envID),
	}
}

var ltUnsafe = regexp.MustCompile(`[^A-Za-z0-9().\-/_]`)

// Create makes sure every resource of env exists, creating only what is
// missing, so that it completes an environment an interrupted Create left
// half built. Existing resources are not compared with env: an environment
// is immutable but for its capacity, which Scale sets.
//
// What is missing it takes from the backend's latest read of the account,
// which costs no call: the planner asks for a Create only when a read that
// began after its last one showed something missing. A read older than a
// resource only makes Create try to create it again, which AWS answers with
// "already exists", taken as done.
func (b *Backend) Create(ctx context.Context, endpoint string, env rollout.Environment) error {
	ref := b.Names(endpoint, env.ID)
	tags := b.tags(endpoint, env)
	userData, err := userdata.Render(rollout.ContainerOf(*env.Template, env.Runs(), env.Env))
	if err != nil {
		return fmt.Errorf("environment %s of %s: %w", env.ID, endpoint, err)
	}
	if env.Template.AMI == "" || len(env.Template.Subnets) == 0 {
		return fmt.Errorf("environment %s of %s: the template needs an AMI and subnets", env.ID, endpoint)
	}

	inv := b.known()
	tgFound, hasTG := inv.tgs[ref.TargetGroup]
	_, hasLT := inv.lts[ref.LaunchTemplate]
	_, hasGroup := inv.groups[ref.AutoScalingGroup]
	if hasTG && hasLT && hasGroup {
		return nil
	}

	tg := &tgFound
	if !hasTG {
		if tg, err = b.tgs.Create(ctx, ref.TargetGroup, *env.Template, elbtypes.TargetTypeEnumInstance, tags); err != nil {
			return err
		}
	}
	tgARN := aws.ToString(tg.TargetGroupArn)
	// The group is created last, so a missing group means attributes set
	// right after the target group was created may have been lost.
	if !hasGroup {
		if err := b.tgs.SetAttributes(ctx, ref.TargetGroup, tgARN, *env.Template); err != nil {
			return err
		}
	}
	if !hasLT {
		if err := b.createLaunchTemplate(ctx, ref, *env.Template, userData, tags); err != nil && !isCode(err, "InvalidLaunchTemplateName.AlreadyExistsException") {
			return err
		}
	}
	if !hasGroup {
		if err := b.createGroup(ctx, ref, tgARN, env, tags); err != nil && !isCode(err, "AlreadyExists") {
			return err
		}
	}
	b.logger.Info("environment created", "endpoint", endpoint, "environment", env.ID, "version", env.Version,
		"group", ref.AutoScalingGroup, "target_group", ref.TargetGroup,
		"completed", hasTG || hasLT) // an earlier Create was interrupted
	return nil
}

func (b *Backend) tags(endpoint string, env rollout.Environment) map[string]string {
	return map[string]string{
		shifteraws.TagEndpoint:    endpoint,
		shifteraws.TagVersion:     env.Version,
		shifteraws.TagEnvironment: env.ID,
		shifteraws.TagShifter:     b.shifterID,
	}
}

func (b *Backend) createLaunchTemplate(ctx context.Context, ref Ref, t rollout.Template, userData string, tags map[string]string) error {
	data := &ec2types.RequestLaunchTemplateData{
		ImageId:          aws.String(t.AMI),
		InstanceType:     ec2types.InstanceType(t.InstanceType),
		SecurityGroupIds: t.SecurityGroups,
		UserData:         aws.String(base64.StdEncoding.EncodeToString([]byte(userData))),
		MetadataOptions: &ec2types.LaunchTemplateInstanceMetadataOptionsRequest{
			HttpEndpoint: ec2types.LaunchTemplateInstanceMetadataEndpointStateEnabled,
			HttpTokens:   ec2types.LaunchTemplateHttpTokensStateRequired,
			// Two hops let the container reach the instance
			// profile's credentials through docker's bridge.
			HttpPutResponseHopLimit: aws.Int32(2),
		},
	}
	if p := t.InstanceProfile; p != "" {
		data.IamInstanceProfile = &ec2types.LaunchTemplateIamInstanceProfileSpecificationRequest{}
		if strings.HasPrefix(p, "arn:") {
			data.IamInstanceProfile.Arn = aws.String(p)
		} else {
			data.IamInstanceProfile.Name = aws.String(p)
		}
	}
	spec := ec2types.TagSpecification{ResourceType: ec2types.ResourceTypeLaunchTemplate}
	for _, k := range sortedKeys(tags) {
		spec.Tags = append(spec.Tags, ec2types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	_, err := b.api.EC2.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String(ref.LaunchTemplate),
		LaunchTemplateData: data,
		TagSpecifications:  []ec2types.TagSpecification{spec},
	})
	if err != nil {
		return fmt.Errorf("create launch template %s: %w", ref.LaunchTemplate, err)
	}
	return nil
}

func (b *Backend) createGroup(ctx context.Context, ref Ref, tgARN string, env rollout.Environment, tags map[string]string) error {
	lo, hi, desired := bounds(*env.Template, env.Capacity)
	in := &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(ref.AutoScalingGroup),
		LaunchTemplate: &asgtypes.LaunchTemplateSpecification{
			LaunchTemplateName: aws.String(ref.LaunchTemplate),
			Version:            aws.String("1"), // one immutable version per environment
		},
		MinSize:                aws.Int32(lo),
		MaxSize:                aws.Int32(hi),
		DesiredCapacity:        aws.Int32(desired),
		VPCZoneIdentifier:      aws.String(strings.Join(env.Template.Subnets, ",")),
		TargetGroupARNs:        []string{tgARN},
		HealthCheckType:        aws.String("ELB"),
		HealthCheckGracePeriod: aws.Int32(healthCheckGracePeriod),
	}
	for _, k := range sortedKeys(tags) {
		in.Tags = append(in.Tags, asgtypes.Tag{Key: aws.String(k), Value: aws.String(tags[k]), PropagateAtLaunch: aws.Bool(true)})
	}
	in.Tags = append(in.Tags, asgtypes.Tag{Key: aws.String("Name"), Value: aws.String(ref.AutoScalingGroup), PropagateAtLaunch: aws.Bool(true)})
	if _, err := b.api.AutoScaling.CreateAutoScalingGroup(ctx, in); err != nil {
		return fmt.Errorf("create auto scaling group %s: %w", ref.AutoScalingGroup, err)
	}
	return nil
}

// bounds returns the group's minimum, maximum and desired capacity: the
// template's limits, widened to include capacity, which may be below the
// minimum (a hot environment kept at a fraction) or zero.
func bounds(t rollout.Template, capacity int) (lo, hi, desired int32) {
	return int32(min(t.MinSize, capacity)), int32(max(t.MaxSize, capacity)), int32(capacity)
}

// Scale sets the environment's desired capacity.
func (b *Backend) Scale(ctx context.Context, endpoint string, env rollout.Environment, capacity int) error {
	if capacity < 0 {
		return fmt.Errorf("scale environment %s of %s to %d: capacity is negative", env.ID, endpoint, capacity)
	}
	ref := b.Names(endpoint, env.ID)
	lo, hi, desired := bounds(*env.Template, capacity)
	_, err := b.api.AutoScaling.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(ref.AutoScalingGroup),
		MinSize:              aws.Int32(lo),
		MaxSize:              aws.Int32(hi),
		DesiredCapacity:      aws.Int32(desired),
	})
	if err != nil {
		return fmt.Errorf("scale auto scaling group %s to %d: %w", ref.AutoScalingGroup, capacity, err)
	}
	b.logger.Info("environment scaled", "endpoint", endpoint, "environment", env.ID, "capacity", capacity)
	return nil
}

// Delete tears the environment down, one step further on every call: the
// group first, with its instances; once it is gone, the target group and the
// launch template. It reports gone when none of them remains. A target group
// still used by a listener rule is left for a later call, not an error.
func (b *Backend) Delete(ctx context.Context, endpoint string, env rollout.Environment) (gone bool, err error) {
	ref := b.Names(endpoint, env.ID)

	groupGone, err := b.deleteGroup(ctx, ref)
	if err != nil || !groupGone {
		return false, err
	}

	tgGone, err := b.tgs.Delete(ctx, ref.TargetGroup)
	if err != nil {
		return false, err
	}
	if !tgGone {
		b.logger.Info("target group still in use; deleting it later", "endpoint", endpoint, "environment", env.ID,
			"target_group", ref.TargetGroup)
	}

	// Looked up first rather than deleted by name: moto answers the
	// deletion of a missing name with MissingParameter, not NotFound.
	lts, err := b.launchTemplates(ctx, []string{ref.LaunchTemplate})
	if err != nil {
		return false, err
	}
	if lt, ok := lts[ref.LaunchTemplate]; ok {
		_, err := b.api.EC2.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: lt.LaunchTemplateId})
		if err != nil && !isCode(err, "InvalidLaunchTemplateId.NotFound") {
			return false, fmt.Errorf("delete launch template %s: %w", ref.LaunchTemplate, err)
		}
	}

	if tgGone {
		b.logger.Info("environment deleted", "endpoint", endpoint, "environment", env.ID)
	}
	return tgGone, nil
}

// deleteGroup deletes the group with its instances and reports whether it is
// gone. AWS deletes a group in the background; until it has, later calls
// find it "Delete in progress" and wait.
func (b *Backend) deleteGroup(ctx context.Context, ref Ref) (gone bool, err error) {
	groups, err := b.groups(ctx, []string{ref.AutoScalingGroup})
	if err != nil {
		return false, err
	}
	g, ok := groups[ref.AutoScalingGroup]
	if !ok {
		return true, nil
	}
	if aws.ToString(g.Status) == "Delete in progress" {
		return false, nil
	}
	_, err = b.api.AutoScaling.DeleteAutoScalingGroup(ctx, &autoscaling.DeleteAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(ref.AutoScalingGroup),
		ForceDelete:          aws.Bool(true),
	})
	if err != nil && !isGroupNotFound(err) {
		return false, fmt.Errorf("delete auto scaling group %s: %w", ref.AutoScalingGroup, err)
	}
	groups, err = b.groups(ctx, []string{ref.AutoScalingGroup})
	if err != nil {
		return false, err
	}
	_, ok = groups[ref.AutoScalingGroup]
	return !ok, nil
}

// isCode reports whether err is an AWS API error with one of codes.
var isCode = targetgroup.IsCode

// isGroupNotFound reports whether err says an Auto Scaling group does not
// exist, which Auto Scaling says with a generic ValidationError.
func isGroupNotFound(err error) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == "ValidationError" &&
		strings.Contains(apiErr.ErrorMessage(), "not found")
}
