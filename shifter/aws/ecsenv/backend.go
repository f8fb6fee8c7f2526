// Package ecsenv is the ecs backend: every environment of an endpoint is an
// ECS service of its own, running a task definition revision of its own (one
// family per endpoint) in awsvpc network mode, whose tasks ECS registers by
// IP in the environment's own target group. The shifter owns the rollout: a
// service's task definition never changes, so its deployment controller
// never deploys and never moves traffic; the shifter only sets its desired
// count. Names derive from the environment, so every operation can find what
// an earlier, interrupted one left and is safe to repeat.
package ecsenv

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/hashicorp/go-hclog"

	shifteraws "github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/targetgroup"
	"github.com/ionroller/terraform-provider-ionroller/shifter/reconcile"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

var _ reconcile.Backend = (*Backend)(nil)

// ECS is the part of ECS the backend uses.
type ECS interface {
	RegisterTaskDefinition(context.Context, *ecs.RegisterTaskDefinitionInput, ...func(*ecs.Options)) (*ecs.RegisterTaskDefinitionOutput, error)
	ListTaskDefinitions(context.Context, *ecs.ListTaskDefinitionsInput, ...func(*ecs.Options)) (*ecs.ListTaskDefinitionsOutput, error)
	DescribeTaskDefinition(context.Context, *ecs.DescribeTaskDefinitionInput, ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
	DeregisterTaskDefinition(context.Context, *ecs.DeregisterTaskDefinitionInput, ...func(*ecs.Options)) (*ecs.DeregisterTaskDefinitionOutput, error)
	CreateService(context.Context, *ecs.CreateServiceInput, ...func(*ecs.Options)) (*ecs.CreateServiceOutput, error)
	ListServices(context.Context, *ecs.ListServicesInput, ...func(*ecs.Options)) (*ecs.ListServicesOutput, error)
	DescribeServices(context.Context, *ecs.DescribeServicesInput, ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	UpdateService(context.Context, *ecs.UpdateServiceInput, ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error)
	DeleteService(context.Context, *ecs.DeleteServiceInput, ...func(*ecs.Options)) (*ecs.DeleteServiceOutput, error)
}

// API is the AWS the backend works with, in one account and region.
type API struct {
	ECS          ECS
	TargetGroups targetgroup.API
	EC2          targetgroup.Subnets
	// Region is where the tasks' logs go.
	Region string
}

// Backend creates, observes, scales and deletes the ecs environments of one
// placement (account and region).
type Backend struct {
	api       API
	shifterID string
	logger    hclog.Logger
	tgs       *targetgroup.Groups
	// listing is the account's environment target groups, shared by every
	// endpoint's observations.
	listing shifteraws.Snapshot[map[string]elbtypes.TargetGroup]

	mu sync.Mutex
	// clusters are listings of the shifter's services, per cluster, shared
	// by the settled environments of every endpoint in it.
	clusters map[string]*shifteraws.Snapshot[map[string]ecstypes.Service]
}

// New returns a backend acting in the account api reaches. shifterID is part
// of every resource's name and tags, so that shifters sharing an account
// never touch each other's environments.
func New(api API, shifterID string, logger hclog.Logger) *Backend {
	return &Backend{api: api, shifterID: shifterID, logger: logger, tgs: targetgroup.New(api.TargetGroups, api.EC2)}
}

// Ref names an environment's resources.
type Ref struct {
	Cluster string
	// Family is the endpoint's task definition family; the environment's
	// revision of it carries the environment's tags.
	Family      string
	Service     string
	TargetGroup string
}

// containerName is the one container of every task definition.
const containerName = "app"

// maxServiceName is the length ECS allows a service or family name.
const maxServiceName = 255

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// Names returns the names of the resources of environment envID of an
// endpoint that runs in cluster.
func (b *Backend) Names(cluster, endpoint, envID string) Ref {
	family := "ionroller-" + b.shifterID + "-" + endpoint
	service := family + "-" + envID
	if safe := unsafeName.ReplaceAllString(service, "-"); safe != service || len(safe) > maxServiceName {
		service = safe[:min(len(safe), maxServiceName-17)] + "-" + targetgroup.Digest(b.shifterID, endpoint, envID)[:16]
	}
	return Ref{
		Cluster:     cluster,
		Family:      family,
		Service:     service,
		TargetGroup: targetgroup.Name(b.shifterID, endpoint, envID),
	}
}

func (b *Backend) ref(endpoint string, env rollout.Environment) (Ref, error) {
	if env.Template == nil || env.Template.ECS == nil {
		return Ref{}, fmt.Errorf("environment %s of %s has no ecs template", env.ID, endpoint)
	}
	return b.Names(env.Template.ECS.Cluster, endpoint, env.ID), nil
}

// Create makes sure every resource of env exists, creating only what is
// missing: the target group, the task definition revision (found by its
// tags, so that a revision registered by an interrupted Create is reused
// rather than registered again) and the service.
func (b *Backend) Create(ctx context.Context, endpoint string, env rollout.Environment) error {
	ref, err := b.ref(endpoint, env)
	if err != nil {
		return err
	}
	svc, err := b.service(ctx, ref)
	if err != nil {
		return err
	}
	tg, err := b.tgs.Get(ctx, ref.TargetGroup)
	if err != nil {
		return err
	}
	if svc != nil && tg != nil {
		return nil
	}
	if svc != nil {
		// Its target group was deleted behind the shifter's back: the
		// service registers its tasks in a group that is gone. It is
		// deleted, and created again behind a new one once ECS has
		// drained it.
		if _, err := b.api.ECS.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String(ref.Cluster), Service: aws.String(ref.Service), Force: aws.Bool(true)}); err != nil {
			return fmt.Errorf("delete service %s, whose target group is gone: %w", ref.Service, err)
		}
		return fmt.Errorf("environment %s of %s: target group %s is gone; its service is being deleted to be created again behind a new one", env.ID, endpoint, ref.TargetGroup)
	}
	tags := b.tags(endpoint, env)
	if tg == nil {
		if tg, err = b.tgs.Create(ctx, ref.TargetGroup, *env.Template, elbtypes.TargetTypeEnumIp, tags); err != nil {
			return err
		}
		if err := b.tgs.SetAttributes(ctx, ref.TargetGroup, aws.ToString(tg.TargetGroupArn), *env.Template); err != nil {
			return err
		}
	}
	if svc == nil {
		taskDef, err := b.taskDefinition(ctx, ref, env, tags)
		if err != nil {
			return err
		}
		if err := b.createService(ctx, ref, env, taskDef, aws.ToString(tg.TargetGroupArn), tags); err != nil {
			return err
		}
	}
	b.logger.Info("environment created", "endpoint", endpoint, "environment", env.ID, "version", env.Version,
		"cluster", ref.Cluster, "service", ref.Service, "target_group", ref.TargetGroup)
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

func ecsTags(tags map[string]string) []ecstypes.Tag {
	var out []ecstypes.Tag
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		out = append(out, ecstypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	return out
}

// taskDefinition returns the ARN of the environment's revision of the
// endpoint's family, registering it if no active revision carries the
// environment's tag.
func (b *Backend) taskDefinition(ctx context.Context, ref Ref, env rollout.Environment, tags map[string]string) (string, error) {
	arn, err := b.findTaskDefinition(ctx, ref, env.ID)
	if err != nil || arn != "" {
		return arn, err
	}
	out, err := b.api.ECS.RegisterTaskDefinition(ctx, taskDefinitionInput(ref, env, b.api.Region, tags))
	if err != nil {
		return "", fmt.Errorf("register task definition of %s: %w", ref.Service, err)
	}
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn), nil
}

// findTaskDefinition returns the ARN of the active revision of ref's family
// tagged as environment envID, or "". An endpoint's family has an active
// revision per environment that exists, a handful, newest first.
func (b *Backend) findTaskDefinition(ctx context.Context, ref Ref, envID string) (string, error) {
	arns, err := b.revisions(ctx, ref.Family)
	if err != nil {
		return "", err
	}
	for _, arn := range arns {
		out, err := b.api.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{
			TaskDefinition: aws.String(arn), Include: []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags},
		})
		if err != nil {
			return "", fmt.Errorf("describe task definition %s: %w", arn, err)
		}
		for _, t := range out.Tags {
			if aws.ToString(t.Key) == shifteraws.TagEnvironment && aws.ToString(t.Value) == envID {
				return arn, nil
			}
		}
	}
	return "", nil
}

// revisions lists the active revisions of family, newest first. The
// prefix also matches longer families, which are left out.
func (b *Backend) revisions(ctx context.Context, family string) ([]string, error) {
	var arns []string
	p := ecs.NewListTaskDefinitionsPaginator(b.api.ECS, &ecs.ListTaskDefinitionsInput{
		FamilyPrefix: aws.String(family), Status: ecstypes.TaskDefinitionStatusActive, Sort: ecstypes.SortOrderDesc,
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list task definitions of %s: %w", family, err)
		}
		for _, arn := range page.TaskDefinitionArns {
			if familyOf(arn) == family {
				arns = append(arns, arn)
			}
		}
	}
	slices.SortStableFunc(arns, func(a, b string) int { return revisionOf(b) - revisionOf(a) })
	return arns, nil
}

// familyOf and revisionOf read arn:…:task-definition/FAMILY:REVISION.
func familyOf(arn string) string {
	name := arn[strings.LastIndexByte(arn, '/')+1:]
	family, _, _ := strings.Cut(name, ":")
	return family
}

func revisionOf(arn string) int {
	n, _ := strconv.Atoi(arn[strings.LastIndexByte(arn, ':')+1:])
	return n
}

// taskDefinitionInput is the environment's task definition: one container
// running the pinned image, with the template's port, command, variables,
// native ECS secrets, logs and health check.
func taskDefinitionInput(ref Ref, env rollout.Environment, region string, tags map[string]string) *ecs.RegisterTaskDefinitionInput {
	t, e := *env.Template, *env.Template.ECS
	c := rollout.ContainerOf(t, env.Runs(), env.Env)
	container := ecstypes.ContainerDefinition{
		Name:         aws.String(containerName),
		Image:        aws.String(c.Image),
		Essential:    aws.Bool(true),
		EntryPoint:   c.Command,
		Command:      c.Args,
		PortMappings: []ecstypes.PortMapping{{ContainerPort: aws.Int32(int32(t.ContainerPort)), Protocol: ecstypes.TransportProtocolTcp}},
	}
	for _, name := range slices.Sorted(maps.Keys(c.Env)) {
		container.Environment = append(container.Environment, ecstypes.KeyValuePair{Name: aws.String(name), Value: aws.String(c.Env[name])})
	}
	for _, name := range slices.Sorted(maps.Keys(c.Secrets)) {
		container.Secrets = append(container.Secrets, ecstypes.Secret{Name: aws.String(name), ValueFrom: aws.String(c.Secrets[name])})
	}
	if l := e.Logs; l != nil {
		container.LogConfiguration = &ecstypes.LogConfiguration{
			LogDriver: ecstypes.LogDriverAwslogs,
			Options:   map[string]string{"awslogs-group": l.Group, "awslogs-region": region, "awslogs-stream-prefix": l.StreamPrefix},
		}
	}
	if h := e.HealthCheck; h != nil {
		container.HealthCheck = &ecstypes.HealthCheck{
			Command:     h.Command,
			Interval:    aws.Int32(int32(h.Interval.D().Seconds())),
			Timeout:     aws.Int32(int32(h.Timeout.D().Seconds())),
			Retries:     aws.Int32(int32(h.Retries)),
			StartPeriod: aws.Int32(int32(h.StartPeriod.D().Seconds())),
		}
	}
	in := &ecs.RegisterTaskDefinitionInput{
		Family:               aws.String(ref.Family),
		ContainerDefinitions: []ecstypes.ContainerDefinition{container},
		NetworkMode:          ecstypes.NetworkModeAwsvpc,
		Cpu:                  aws.String(strconv.Itoa(e.CPU)),
		Memory:               aws.String(strconv.Itoa(e.Memory)),
		TaskRoleArn:          nonEmpty(e.TaskRoleARN),
		ExecutionRoleArn:     nonEmpty(e.ExecutionRoleARN),
		Tags:                 ecsTags(tags),
	}
	if e.LaunchType != "" {
		in.RequiresCompatibilities = []ecstypes.Compatibility{ecstypes.Compatibility(e.LaunchType)}
	}
	return in
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// createService creates the environment's service at its capacity. It
// carries no client token: Create looks for the service first, and a token
// would make AWS answer the recreation of a service deleted outside the
// shifter with the deleted one.
func (b *Backend) createService(ctx context.Context, ref Ref, env rollout.Environment, taskDef, tgARN string, tags map[string]string) error {
	t, e := *env.Template, *env.Template.ECS
	assign := ecstypes.AssignPublicIpDisabled
	if e.AssignPublicIP {
		assign = ecstypes.AssignPublicIpEnabled
	}
	in := &ecs.CreateServiceInput{
		Cluster:        aws.String(ref.Cluster),
		ServiceName:    aws.String(ref.Service),
		TaskDefinition: aws.String(taskDef),
		DesiredCount:   aws.Int32(int32(env.Capacity)),
		LoadBalancers: []ecstypes.LoadBalancer{{
			TargetGroupArn: aws.String(tgARN), ContainerName: aws.String(containerName), ContainerPort: aws.Int32(int32(t.ContainerPort)),
		}},
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
			Subnets: t.Subnets, SecurityGroups: t.SecurityGroups, AssignPublicIp: assign,
		}},
		// The deployment controller only ever starts tasks of the one
		// revision; the circuit breaker would roll back to nothing.
		DeploymentController:          &ecstypes.DeploymentController{Type: ecstypes.DeploymentControllerTypeEcs},
		HealthCheckGracePeriodSeconds: aws.Int32(int32(healthCheckGracePeriod.Seconds())),
		PlatformVersion:               nonEmpty(e.PlatformVersion),
		PropagateTags:                 ecstypes.PropagateTagsService,
		EnableECSManagedTags:          true,
		Tags:                          ecsTags(tags),
	}
	if e.LaunchType != "" {
		in.LaunchType = ecstypes.LaunchType(e.LaunchType)
	}
	for _, p := range e.CapacityProviders {
		in.CapacityProviderStrategy = append(in.CapacityProviderStrategy, ecstypes.CapacityProviderStrategyItem{
			CapacityProvider: aws.String(p.Name), Weight: int32(p.Weight), Base: int32(p.Base),
		})
	}
	if _, err := b.api.ECS.CreateService(ctx, in); err != nil {
		return fmt.Errorf("create service %s in %s: %w", ref.Service, ref.Cluster, err)
	}
	return nil
}

// healthCheckGracePeriod is how long ECS ignores a new task's failing load
// balancer checks before it replaces the task: long enough to pull an image
// and start.
const healthCheckGracePeriod = 120 * time.Second

// service returns the environment's service, nil if it does not exist or
// is no longer active (deleted: ECS keeps it described as INACTIVE).
func (b *Backend) service(ctx context.Context, ref Ref) (*ecstypes.Service, error) {
	found, err := b.services(ctx, ref.Cluster, []string{ref.Service})
	if err != nil {
		return nil, err
	}
	if s, ok := found[ref.Service]; ok && aws.ToString(s.Status) == statusActive {
		return &s, nil
	}
	return nil, nil
}

// Service statuses (DescribeServices).
const (
	statusActive   = "ACTIVE"
	statusDraining = "DRAINING"
)

// maxServices is how many services DescribeServices takes in one call.
const maxServices = 10

// services describes the services of cluster called names, by name: every
// one ECS still describes (ACTIVE, DRAINING or INACTIVE).
func (b *Backend) services(ctx context.Context, cluster string, names []string) (map[string]ecstypes.Service, error) {
	found := make(map[string]ecstypes.Service, len(names))
	for batch := range slices.Chunk(names, maxServices) {
		out, err := b.api.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: batch})
		if targetgroup.IsCode(err, "ClusterNotFoundException") {
			return found, nil
		}
		if err != nil {
			return nil, fmt.Errorf("describe services %s in %s: %w", strings.Join(batch, ", "), cluster, err)
		}
		for _, s := range out.Services {
			found[aws.ToString(s.ServiceName)] = s
		}
	}
	return found, nil
}

// Scale sets the service's desired count.
func (b *Backend) Scale(ctx context.Context, endpoint string, env rollout.Environment, capacity int) error {
	if capacity < 0 {
		return fmt.Errorf("scale environment %s of %s to %d: capacity is negative", env.ID, endpoint, capacity)
	}
	ref, err := b.ref(endpoint, env)
	if err != nil {
		return err
	}
	_, err = b.api.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{
		Cluster: aws.String(ref.Cluster), Service: aws.String(ref.Service), DesiredCount: aws.Int32(int32(capacity)),
	})
	if err != nil {
		return fmt.Errorf("scale service %s to %d: %w", ref.Service, capacity, err)
	}
	b.logger.Info("environment scaled", "endpoint", endpoint, "environment", env.ID, "capacity", capacity)
	return nil
}

// Delete tears the environment down, one step further on every call: the
// service first (ECS stops its tasks, which drain from the target group);
// once it is inactive, the task definition revision and the target group.
// It reports gone when none of them remains. A target group still used by a
// listener is left for a later call, not an error.
func (b *Backend) Delete(ctx context.Context, endpoint string, env rollout.Environment) (gone bool, err error) {
	ref, err := b.ref(endpoint, env)
	if err != nil {
		return false, err
	}
	found, err := b.services(ctx, ref.Cluster, []string{ref.Service})
	if err != nil {
		return false, err
	}
	switch s, ok := found[ref.Service]; {
	case ok && aws.ToString(s.Status) == statusDraining:
		return false, nil
	case ok && aws.ToString(s.Status) == statusActive:
		_, err := b.api.ECS.DeleteService(ctx, &ecs.DeleteServiceInput{
			Cluster: aws.String(ref.Cluster), Service: aws.String(ref.Service), Force: aws.Bool(true),
		})
		if err != nil && !targetgroup.IsCode(err, "ServiceNotFoundException", "ServiceNotActiveException") {
			return false, fmt.Errorf("delete service %s in %s: %w", ref.Service, ref.Cluster, err)
		}
		return false, nil // draining: its tasks stop
	}
	arn, err := b.findTaskDefinition(ctx, ref, env.ID)
	if err != nil {
		return false, err
	}
	if arn != "" {
		if _, err := b.api.ECS.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(arn)}); err != nil {
			return false, fmt.Errorf("deregister task definition %s: %w", arn, err)
		}
	}
	tgGone, err := b.tgs.Delete(ctx, ref.TargetGroup)
	if err != nil {
		return false, err
	}
	if !tgGone {
		b.logger.Info("target group still in use; deleting it later", "endpoint", endpoint, "environment", env.ID,
			"target_group", ref.TargetGroup)
		return false, nil
	}
	b.logger.Info("environment deleted", "endpoint", endpoint, "environment", env.ID)
	return true, nil
}
