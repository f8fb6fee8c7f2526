package awslike

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"
)

// ECS's service scheduler, the one part of ECS moto does not run: moto keeps
// services and their desired counts but never starts a task and never
// registers one in a load balancer's target group (TESTING.md). This is the
// only fake of ECS the tests have. For each service with a load balancer the
// layer runs desiredCount tasks as far as the shifter can see them: each is
// an IP address registered in the service's target groups when the service
// is created or scaled out and deregistered (so draining) when it is scaled
// in or deleted, as ECS does for awsvpc tasks ("Use load balancing to
// distribute Amazon ECS service traffic", ECS developer guide). A service's
// runningCount is the tasks the layer runs, and a deleted service is
// DRAINING until its tasks have drained, then INACTIVE, as
// DescribeServices shows it on AWS. Tasks never fail on their own;
// SetUnhealthy fails their target group's checks.
type ecsState struct {
	mu       sync.Mutex
	services map[string]*ecsService // by service ARN
}

type ecsService struct {
	groups     []ecsTarget
	tasks      []string  // the IP addresses of its running tasks
	drainUntil time.Time // set once deleted
}

// ecsTarget is a load balancer of a service: a target group and the port
// its tasks take traffic on.
type ecsTarget struct {
	TargetGroupArn string `json:"targetGroupArn"`
	ContainerPort  int    `json:"containerPort"`
}

// serviceJSON is as much of an ECS Service as the layer reads.
type serviceJSON struct {
	ServiceArn    string      `json:"serviceArn"`
	Status        string      `json:"status"`
	DesiredCount  int         `json:"desiredCount"`
	LoadBalancers []ecsTarget `json:"loadBalancers"`
}

// taskAddresses numbers task IP addresses across every account, so that no
// two tasks share one.
var taskAddresses struct {
	sync.Mutex
	next uint32
}

func nextTaskAddress() string {
	taskAddresses.Lock()
	defer taskAddresses.Unlock()
	taskAddresses.next++
	n := taskAddresses.next
	return fmt.Sprintf("10.%d.%d.%d", 128+(n>>16)&0x7f, (n>>8)&0xff, n&0xff)
}

func (l *Layer) ecsState(account, region string) *ecsState {
	l.mu.Lock()
	defer l.mu.Unlock()
	key := accountRegion{account, region}
	s := l.ecs[key]
	if s == nil {
		s = &ecsState{services: make(map[string]*ecsService)}
		l.ecs[key] = s
	}
	return s
}

// followsECS reports whether the layer follows a successful ECS call.
func followsECS(op string) bool {
	switch op {
	case "CreateService", "UpdateService", "DeleteService", "DescribeServices":
		return true
	}
	return false
}

// afterECS runs a service's tasks as a successful create, update or delete
// of it asks, and as a description of it shows it should run (as ECS's
// scheduler converges on a service's desired count: a change whose answer
// the layer never saw, its caller gone, is caught up with the next time
// the service is described), then rewrites DescribeServices as AWS would
// answer it.
func (l *Layer) afterECS(ctx context.Context, c *call, body []byte) ([]byte, error) {
	s := l.ecsState(c.account, c.region)
	s.mu.Lock()
	defer s.mu.Unlock()
	var out struct {
		Service  *serviceJSON  `json:"service"`
		Services []serviceJSON `json:"services"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("read the services: %w", err)
	}
	if out.Service != nil {
		out.Services = append(out.Services, *out.Service)
	}
	for _, svc := range out.Services {
		if c.operation == "DeleteService" {
			svc.Status = "INACTIVE"
		}
		if err := l.converge(ctx, c, s, svc); err != nil {
			return nil, err
		}
	}
	if c.operation == "DescribeServices" {
		return s.rewriteServices(l.now(), body)
	}
	return body, nil
}

// converge runs as many tasks of svc as moto says it wants: its desired
// count while it is active, none once it is not (they drain, and the
// service is DRAINING meanwhile).
func (l *Layer) converge(ctx context.Context, c *call, s *ecsState, svc serviceJSON) error {
	known := s.services[svc.ServiceArn]
	if svc.Status != "ACTIVE" {
		if known == nil || len(known.tasks) == 0 {
			return nil
		}
		drain, err := l.runTasks(ctx, c, known, 0)
		known.drainUntil = l.now().Add(drain)
		return err
	}
	if known == nil || !known.drainUntil.IsZero() {
		// New, or created again after a delete.
		known = &ecsService{groups: svc.LoadBalancers}
		s.services[svc.ServiceArn] = known
	}
	_, err := l.runTasks(ctx, c, known, svc.DesiredCount)
	return err
}

// runTasks starts or stops svc's tasks until desired run, registering and
// deregistering their addresses in its target groups, in moto and in the
// layer's health timeline. It returns how long the stopped ones drain.
func (l *Layer) runTasks(ctx context.Context, c *call, svc *ecsService, desired int) (time.Duration, error) {
	if desired == len(svc.tasks) || len(svc.groups) == 0 {
		svc.tasks = svc.tasks[:min(desired, len(svc.tasks))]
		return 0, nil
	}
	es := l.elbState(c.account, c.region)
	es.mu.Lock()
	defer es.mu.Unlock()
	now := l.now()
	var drain time.Duration
	if desired > len(svc.tasks) {
		started := make([]string, desired-len(svc.tasks))
		for i := range started {
			started[i] = nextTaskAddress()
		}
		for _, g := range svc.groups {
			targets := taskTargets(started, g.ContainerPort)
			_, err := es.client.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(g.TargetGroupArn), Targets: sdkTargets(targets)})
			if groupGone(err) {
				continue // ECS runs the tasks; nothing takes them in
			}
			if err != nil {
				return 0, fmt.Errorf("register the tasks of a service in %s: %w", g.TargetGroupArn, err)
			}
			es.register(g.TargetGroupArn, targets, now)
		}
		svc.tasks = append(svc.tasks, started...)
		return 0, nil
	}
	stopped := svc.tasks[desired:]
	for _, g := range svc.groups {
		targets := taskTargets(stopped, g.ContainerPort)
		_, err := es.client.DeregisterTargets(ctx, &elb.DeregisterTargetsInput{TargetGroupArn: aws.String(g.TargetGroupArn), Targets: sdkTargets(targets)})
		if groupGone(err) {
			continue // nothing drains from a deleted group
		}
		if err != nil {
			return 0, fmt.Errorf("deregister the tasks of a service from %s: %w", g.TargetGroupArn, err)
		}
		d, err := es.deregister(ctx, l, g.TargetGroupArn, targets, now)
		if err != nil {
			return 0, err
		}
		drain = max(drain, d)
	}
	svc.tasks = svc.tasks[:desired]
	return drain, nil
}

// groupGone reports whether err says a target group does not exist (deleted
// behind the service's back).
func groupGone(err error) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == "TargetGroupNotFound"
}

func taskTargets(addresses []string, port int) []targetXML {
	out := make([]targetXML, len(addresses))
	for i, a := range addresses {
		out[i] = targetXML{ID: a, Port: strconv.Itoa(port)}
	}
	return out
}

func sdkTargets(targets []targetXML) []elbtypes.TargetDescription {
	out := make([]elbtypes.TargetDescription, len(targets))
	for i, t := range targets {
		port, _ := strconv.Atoi(t.Port)
		out[i] = elbtypes.TargetDescription{Id: aws.String(t.ID), Port: aws.Int32(int32(port))}
	}
	return out
}

// rewriteServices gives each service the layer runs its running count, and
// a deleted one the status DRAINING while its tasks drain.
func (s *ecsState) rewriteServices(now time.Time, body []byte) ([]byte, error) {
	var out map[string]json.RawMessage
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("read the services: %w", err)
	}
	var services []map[string]any
	dec := json.NewDecoder(bytes.NewReader(out["services"]))
	dec.UseNumber()
	if err := dec.Decode(&services); err != nil {
		return nil, fmt.Errorf("read the services: %w", err)
	}
	for _, svc := range services {
		arn, _ := svc["serviceArn"].(string)
		known := s.services[arn]
		if known == nil {
			continue
		}
		svc["runningCount"], svc["pendingCount"] = len(known.tasks), 0
		if !known.drainUntil.IsZero() && now.Before(known.drainUntil) {
			svc["status"] = "DRAINING"
		}
	}
	var err error
	if out["services"], err = json.Marshal(services); err != nil {
		return nil, err
	}
	return json.Marshal(out)
}
