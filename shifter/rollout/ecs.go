package rollout

import (
	"fmt"
	"regexp"
	"slices"
	"time"
)

// BackendECS runs each version as an ECS service of its own, with a task
// definition revision and a target group of its own (tasks in awsvpc
// network mode, registered by IP).
const BackendECS = "ecs"

// Backends are the backends an endpoint's template may name.
var Backends = []string{BackendEC2, BackendECS}

// ECS is how the ecs backend runs every version: in which cluster, on what
// capacity, with what task size, roles, network and logs. The template's
// image, port, command, args, env, secrets, desired capacity, subnets,
// security groups and health check apply as they do for ec2.
type ECS struct {
	// Cluster is the cluster's name or ARN.
	Cluster string `json:"cluster"`
	// LaunchType is FARGATE (the default) or EC2; empty when
	// CapacityProviders place the tasks.
	LaunchType        string             `json:"launch_type,omitempty"`
	CapacityProviders []CapacityProvider `json:"capacity_providers,omitempty"`
	// CPU in CPU units (1024 is one vCPU) and Memory in MiB, of the task.
	CPU              int    `json:"cpu"`
	Memory           int    `json:"memory"`
	TaskRoleARN      string `json:"task_role_arn,omitempty"`
	ExecutionRoleARN string `json:"execution_role_arn,omitempty"`
	AssignPublicIP   bool   `json:"assign_public_ip,omitempty"`
	// PlatformVersion of Fargate; empty is LATEST.
	PlatformVersion string `json:"platform_version,omitempty"`
	// Logs sends the container's output to CloudWatch Logs (awslogs).
	Logs *ECSLogs `json:"logs,omitempty"`
	// HealthCheck is the container's own health check, which ECS acts on
	// besides the load balancer's.
	HealthCheck *ContainerHealthCheck `json:"health_check,omitempty"`
}

// CapacityProvider is one entry of a capacity provider strategy.
type CapacityProvider struct {
	Name   string `json:"name"`
	Weight int    `json:"weight"`
	Base   int    `json:"base,omitempty"`
}

// ECSLogs is an awslogs log configuration; the region is the endpoint's.
type ECSLogs struct {
	Group        string `json:"group"`
	StreamPrefix string `json:"stream_prefix"`
}

// ContainerHealthCheck is a Docker health check ECS runs in the container.
type ContainerHealthCheck struct {
	Command     []string `json:"command"`
	Interval    Duration `json:"interval"`
	Timeout     Duration `json:"timeout"`
	Retries     int      `json:"retries"`
	StartPeriod Duration `json:"start_period,omitempty"`
}

// Launch types.
const (
	LaunchTypeFargate = "FARGATE"
	LaunchTypeEC2     = "EC2"
)

// ECS patterns and limits.
var (
	ClusterPattern          = regexp.MustCompile(`^([A-Za-z0-9_-]{1,255}|arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:cluster/[A-Za-z0-9_-]{1,255})$`)
	CapacityProviderPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)
	PlatformVersionPattern  = regexp.MustCompile(`^(LATEST|[0-9]+\.[0-9]+\.[0-9]+)$`)
	LogGroupPattern         = regexp.MustCompile(`^[A-Za-z0-9_./#-]{1,512}$`)
	StreamPrefixPattern     = regexp.MustCompile(`^[^:*]{1,255}$`)
)

const (
	// MaxCapacityProviders is how many entries a strategy takes.
	MaxCapacityProviders = 20
	MaxCapacityWeight    = 1000
	MaxCapacityBase      = 100000
	MinContainerCheck    = 5 * time.Second
	MaxContainerCheck    = 300 * time.Second
	MinContainerTimeout  = 2 * time.Second
	MaxContainerTimeout  = 60 * time.Second
	MaxContainerRetries  = 10
	MaxStartPeriod       = 300 * time.Second
)

// FargateSizes are the task sizes Fargate runs: memory (MiB) by CPU units,
// from the ECS developer guide ("Task CPU and memory").
var FargateSizes = map[int][]int{
	256:   {512, 1024, 2048},
	512:   steps(1024, 4096, 1024),
	1024:  steps(2048, 8192, 1024),
	2048:  steps(4096, 16384, 1024),
	4096:  steps(8192, 30720, 1024),
	8192:  steps(16384, 61440, 4096),
	16384: steps(32768, 122880, 8192),
}

func steps(from, to, by int) []int {
	var out []int
	for m := from; m <= to; m += by {
		out = append(out, m)
	}
	return out
}

// DefaultECS is an ecs template's defaults: the smallest Fargate task.
func DefaultECS() *ECS {
	return &ECS{LaunchType: LaunchTypeFargate, CPU: 256, Memory: 512}
}

// ValidateBackend checks which of the fields that only one backend uses the
// template sets: those of its own backend that it needs, and no other's. It
// reads only whether each is set, so a plan checks it while their values
// are still unknown; Validate checks it too.
func (t Template) ValidateBackend() error {
	if err := t.validateECSBackend(); err != nil {
		return err
	}
	if t.Backend == BackendECS {
		return t.validateECSFields()
	}
	if t.AMI == "" {
		return noAMI()
	}
	return nil
}

// noAMI refuses an ec2 template without an AMI.
func noAMI() error {
	return Invalid("template.ami", "must be set with backend %q: the instances boot it", BackendEC2)
}

// validateECSBackend refuses template.ecs with another backend.
func (t Template) validateECSBackend() error {
	if t.Backend != BackendECS && t.ECS != nil {
		return Invalid("template.ecs", "is for backend %q; template.backend is %q", BackendECS, t.Backend)
	}
	return nil
}

// validateECSFields checks that an ecs template sets template.ecs and
// nothing of the ec2 backend.
func (t Template) validateECSFields() error {
	ec2Only := []struct {
		field string
		set   bool
	}{
		{"template.ami", t.AMI != ""},
		{"template.instance_type", t.InstanceType != ""},
		{"template.instance_profile", t.InstanceProfile != ""},
		{"template.min_size", t.MinSize != 0},
		{"template.max_size", t.MaxSize != 0},
	}
	for _, f := range ec2Only {
		if f.set {
			return Invalid(f.field, "is for backend %q; an ecs environment's size is template.desired_capacity and template.ecs", BackendEC2)
		}
	}
	if t.ECS == nil {
		return Invalid("template.ecs", "must be set with backend %q: it names the cluster the services run in", BackendECS)
	}
	return nil
}

// validateECS checks what only the ecs backend uses, and that nothing of
// the ec2 backend is set.
func (t Template) validateECS() error {
	if err := t.validateECSFields(); err != nil {
		return err
	}
	if t.DesiredCapacity < 1 || t.DesiredCapacity > MaxGroupSize {
		return Invalid("template.desired_capacity", "must be between 1 and %d tasks; got %d", MaxGroupSize, t.DesiredCapacity)
	}
	if len(t.Secrets) > 0 && t.ECS.ExecutionRoleARN == "" {
		return Invalid("template.ecs.execution_role_arn", "must be set when template.secrets is: ECS reads the secrets with the task execution role")
	}
	return t.ECS.validate()
}

func (e ECS) validate() error {
	switch {
	case !ClusterPattern.MatchString(e.Cluster):
		return Invalid("template.ecs.cluster", "%q is not an ECS cluster name or ARN", e.Cluster)
	case e.LaunchType != "" && len(e.CapacityProviders) > 0:
		return Invalid("template.ecs.capacity_providers", "place tasks instead of template.ecs.launch_type: set one or the other")
	case e.LaunchType == "" && len(e.CapacityProviders) == 0:
		return Invalid("template.ecs.launch_type", "must be %s or %s when template.ecs.capacity_providers is empty", LaunchTypeFargate, LaunchTypeEC2)
	case e.LaunchType != "" && e.LaunchType != LaunchTypeFargate && e.LaunchType != LaunchTypeEC2:
		return Invalid("template.ecs.launch_type", "must be %s or %s; got %q", LaunchTypeFargate, LaunchTypeEC2, e.LaunchType)
	case len(e.CapacityProviders) > MaxCapacityProviders:
		return Invalid("template.ecs.capacity_providers", "may have at most %d entries; got %d", MaxCapacityProviders, len(e.CapacityProviders))
	case e.TaskRoleARN != "" && !RoleARNPattern.MatchString(e.TaskRoleARN):
		return Invalid("template.ecs.task_role_arn", "%q is not an IAM role ARN", e.TaskRoleARN)
	case e.ExecutionRoleARN != "" && !RoleARNPattern.MatchString(e.ExecutionRoleARN):
		return Invalid("template.ecs.execution_role_arn", "%q is not an IAM role ARN", e.ExecutionRoleARN)
	case e.PlatformVersion != "" && !PlatformVersionPattern.MatchString(e.PlatformVersion):
		return Invalid("template.ecs.platform_version", "must be LATEST or a version such as \"1.4.0\"; got %q", e.PlatformVersion)
	case e.PlatformVersion != "" && e.LaunchType == LaunchTypeEC2:
		return Invalid("template.ecs.platform_version", "is a Fargate platform version; the EC2 launch type has none")
	}
	seen := map[string]bool{}
	for i, p := range e.CapacityProviders {
		field := fmt.Sprintf("template.ecs.capacity_providers[%d]", i)
		switch {
		case !CapacityProviderPattern.MatchString(p.Name):
			return Invalid(field+".name", "%q is not a capacity provider name", p.Name)
		case seen[p.Name]:
			return Invalid(field+".name", "%q is already in the strategy", p.Name)
		case p.Weight < 0 || p.Weight > MaxCapacityWeight:
			return Invalid(field+".weight", "must be between 0 and %d; got %d", MaxCapacityWeight, p.Weight)
		case p.Base < 0 || p.Base > MaxCapacityBase:
			return Invalid(field+".base", "must be between 0 and %d; got %d", MaxCapacityBase, p.Base)
		}
		seen[p.Name] = true
	}
	if err := e.validateSize(); err != nil {
		return err
	}
	if l := e.Logs; l != nil {
		switch {
		case !LogGroupPattern.MatchString(l.Group):
			return Invalid("template.ecs.logs.group", "%q is not a CloudWatch Logs group name", l.Group)
		case !StreamPrefixPattern.MatchString(l.StreamPrefix):
			return Invalid("template.ecs.logs.stream_prefix", "must be 1 to 255 characters without ':' or '*'; got %q", l.StreamPrefix)
		case e.ExecutionRoleARN == "" && e.LaunchType == LaunchTypeFargate:
			return Invalid("template.ecs.execution_role_arn", "must be set when template.ecs.logs is on Fargate: the task execution role writes the logs")
		}
	}
	if h := e.HealthCheck; h != nil {
		return h.validate()
	}
	return nil
}

// validateSize checks the task's CPU and memory: one of Fargate's sizes on
// Fargate, and within what a container instance may offer otherwise.
func (e ECS) validateSize() error {
	if e.LaunchType != LaunchTypeFargate {
		switch {
		case e.CPU < 128 || e.CPU > 196608:
			return Invalid("template.ecs.cpu", "must be between 128 and 196608 CPU units; got %d", e.CPU)
		case e.Memory < 128 || e.Memory > 1048576:
			return Invalid("template.ecs.memory", "must be between 128 and 1048576 MiB; got %d", e.Memory)
		}
		return nil
	}
	memories, ok := FargateSizes[e.CPU]
	if !ok {
		return Invalid("template.ecs.cpu", "must be a Fargate task size (256, 512, 1024, 2048, 4096, 8192 or 16384 CPU units); got %d", e.CPU)
	}
	if !slices.Contains(memories, e.Memory) {
		return Invalid("template.ecs.memory", "must be between %d and %d MiB in steps Fargate allows with %d CPU units; got %d", memories[0], memories[len(memories)-1], e.CPU, e.Memory)
	}
	return nil
}

func (h ContainerHealthCheck) validate() error {
	switch {
	case len(h.Command) == 0 || (h.Command[0] != "CMD" && h.Command[0] != "CMD-SHELL"):
		return Invalid("template.ecs.health_check.command", "must start with \"CMD\" or \"CMD-SHELL\", as Docker's HEALTHCHECK does")
	case h.Retries < 1 || h.Retries > MaxContainerRetries:
		return Invalid("template.ecs.health_check.retries", "must be between 1 and %d; got %d", MaxContainerRetries, h.Retries)
	}
	if err := validateCheckTimes("template.ecs.health_check", h.Interval, h.Timeout,
		[2]time.Duration{MinContainerCheck, MaxContainerCheck}, [2]time.Duration{MinContainerTimeout, MaxContainerTimeout}); err != nil {
		return err
	}
	return validateDuration("template.ecs.health_check.start_period", h.StartPeriod, 0, MaxStartPeriod)
}
