// Package cloud puts the AWS adapters together into what the reconciler
// works with: for each placement (account and region), the ec2 and ecs backends, the
// routers (ALB rules, NLB listeners, Route 53 records), the CloudWatch watchers and the resolver that pins images,
// over clients shared by the placement.
package cloud

import (
	"context"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/alb"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/ec2env"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/ecsenv"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/images"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/nlb"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/route53"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/watch"
	"github.com/ionroller/terraform-provider-ionroller/shifter/reconcile"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// Connector returns a reconcile.Config.Connect that reaches each placement
// through clients. It keeps one Cloud per placement, so that every endpoint
// of an account and region shares its listings of resources, its reads of
// listeners, and one alarm watcher that reads their alarms at most once per
// poll.
func Connector(clients *aws.Clients, shifterID string, poll time.Duration, logger hclog.Logger, opts ...Option) func(context.Context, rollout.Placement) (reconcile.Cloud, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	var mu sync.Mutex
	clouds := map[rollout.Placement]reconcile.Cloud{}
	return func(_ context.Context, p rollout.Placement) (reconcile.Cloud, error) {
		mu.Lock()
		defer mu.Unlock()
		if c, ok := clouds[p]; ok {
			return c, nil
		}
		set, err := clients.For(p)
		if err != nil {
			return reconcile.Cloud{}, err
		}
		c := reconcile.Cloud{
			Backend: backends{
				rollout.BackendEC2: ec2env.New(ec2env.API{EC2: set.EC2, AutoScaling: set.AutoScaling, TargetGroups: set.ELBv2, Tags: set.ELBv2}, shifterID, logger),
				rollout.BackendECS: ecsenv.New(ecsenv.API{ECS: set.ECS, TargetGroups: set.ELBv2, EC2: set.EC2, Region: set.ECS.Options().Region}, shifterID, logger),
			},
			Router: routers{
				rollout.TrafficALB:     alb.New(set.ELBv2, shifterID, logger),
				rollout.TrafficNLB:     nlb.New(set.ELBv2, set.ELBv2, shifterID, logger),
				rollout.TrafficRoute53: route53.New(set.Route53, set.ELBv2, shifterID, logger),
			},
			Alarms:  watch.NewAlarms(set.CloudWatch, poll),
			Metrics: watch.NewMetrics(set.CloudWatch),
		}
		if !o.runTagged {
			c.Images = images.New(set.ECR)
		}
		clouds[p] = c
		return c, nil
	}
}

// Option changes what Connector puts together.
type Option func(*options)

type options struct{ runTagged bool }

// RunTagged runs every environment's image as tagged, without pinning it to
// a digest: for a shifter whose images no registry it can reach serves (the
// local demo, tests of other things). A tag pushed again then changes what a
// recreated environment runs.
func RunTagged() Option { return func(o *options) { o.runTagged = true } }
