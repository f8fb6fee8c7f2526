package awslike

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	shifteraws "github.com/ionroller/terraform-provider-ionroller/shifter/aws"
)

// Wipe deletes, behind the back of whoever uses the account, what the
// shifter creates and watches in it: every listener rule but the default
// ones, every target group (but those a listener's default action forwards
// to, which AWS refuses to delete too), every Auto Scaling group (forced,
// with its instances), every launch template, every ECS service (forced)
// and active task definition revision, and every CloudWatch alarm.
// It is AWS state lost, as when someone cleans an account by hand. The
// calls go straight to moto, unbudgeted.
func (l *Layer) Wipe(ctx context.Context, account, region string) error {
	cfg := l.motoConfig(account, region)
	s := l.elbState(account, region)
	s.mu.Lock()
	defer s.mu.Unlock()
	err := errors.Join(
		wipeAutoScalingGroups(ctx, autoscaling.NewFromConfig(cfg)),
		wipeECS(ctx, ecs.NewFromConfig(cfg)),
		s.wipeRulesAndGroups(ctx),
		wipeLaunchTemplates(ctx, ec2.NewFromConfig(cfg)),
		wipeAlarms(ctx, cloudwatch.NewFromConfig(cfg, shifteraws.UseQueryProtocol)),
	)
	// What the load balancers forward to has changed under the layer too.
	s.synced = false
	return errors.Join(err, s.sync(ctx, l.now()))
}

func wipeAutoScalingGroups(ctx context.Context, c *autoscaling.Client) error {
	var errs []error
	err := eachPage(ctx, autoscaling.NewDescribeAutoScalingGroupsPaginator(c, &autoscaling.DescribeAutoScalingGroupsInput{}),
		func(page *autoscaling.DescribeAutoScalingGroupsOutput) {
			for _, g := range page.AutoScalingGroups {
				_, err := c.DeleteAutoScalingGroup(ctx, &autoscaling.DeleteAutoScalingGroupInput{
					AutoScalingGroupName: g.AutoScalingGroupName, ForceDelete: aws.Bool(true),
				})
				errs = append(errs, describe(err, "delete auto scaling group", g.AutoScalingGroupName))
			}
		})
	return errors.Join(append(errs, describe(err, "list auto scaling groups", nil))...)
}

// wipeRulesAndGroups deletes the rules first: AWS refuses to delete a
// target group a rule forwards to.
func (s *elbState) wipeRulesAndGroups(ctx context.Context) error {
	var errs []error
	keep := make(map[string]bool) // groups of listeners' default actions
	err := s.eachListener(ctx, func(li elbtypes.Listener, rules []elbtypes.Rule) {
		for _, g := range forwardedGroups(li.DefaultActions) {
			keep[g] = true
		}
		for _, r := range rules {
			if !aws.ToBool(r.IsDefault) {
				_, err := s.client.DeleteRule(ctx, &elb.DeleteRuleInput{RuleArn: r.RuleArn})
				errs = append(errs, describe(err, "delete rule", r.RuleArn))
			}
		}
	})
	if err != nil {
		return errors.Join(append(errs, describe(err, "list rules", nil))...)
	}
	err = eachPage(ctx, elb.NewDescribeTargetGroupsPaginator(s.client, &elb.DescribeTargetGroupsInput{}),
		func(page *elb.DescribeTargetGroupsOutput) {
			for _, tg := range page.TargetGroups {
				arn := aws.ToString(tg.TargetGroupArn)
				if keep[arn] {
					continue
				}
				_, err := s.client.DeleteTargetGroup(ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: &arn})
				if errs = append(errs, describe(err, "delete target group", &arn)); err == nil {
					delete(s.groups, arn)
				}
			}
		})
	return errors.Join(append(errs, describe(err, "list target groups", nil))...)
}

// wipeECS deletes every service of every cluster, and deregisters every
// active task definition revision.
func wipeECS(ctx context.Context, c *ecs.Client) error {
	var errs []error
	err := eachPage(ctx, ecs.NewListClustersPaginator(c, &ecs.ListClustersInput{}), func(page *ecs.ListClustersOutput) {
		for _, cluster := range page.ClusterArns {
			err := eachPage(ctx, ecs.NewListServicesPaginator(c, &ecs.ListServicesInput{Cluster: aws.String(cluster)}), func(page *ecs.ListServicesOutput) {
				for _, svc := range page.ServiceArns {
					_, err := c.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String(cluster), Service: aws.String(svc), Force: aws.Bool(true)})
					errs = append(errs, describe(err, "delete service", aws.String(svc)))
				}
			})
			errs = append(errs, describe(err, "list services of", aws.String(cluster)))
		}
	})
	errs = append(errs, describe(err, "list clusters", nil))
	err = eachPage(ctx, ecs.NewListTaskDefinitionsPaginator(c, &ecs.ListTaskDefinitionsInput{Status: ecstypes.TaskDefinitionStatusActive}),
		func(page *ecs.ListTaskDefinitionsOutput) {
			for _, td := range page.TaskDefinitionArns {
				_, err := c.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(td)})
				errs = append(errs, describe(err, "deregister task definition", aws.String(td)))
			}
		})
	return errors.Join(append(errs, describe(err, "list task definitions", nil))...)
}

func wipeLaunchTemplates(ctx context.Context, c *ec2.Client) error {
	var errs []error
	err := eachPage(ctx, ec2.NewDescribeLaunchTemplatesPaginator(c, &ec2.DescribeLaunchTemplatesInput{}),
		func(page *ec2.DescribeLaunchTemplatesOutput) {
			for _, lt := range page.LaunchTemplates {
				_, err := c.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: lt.LaunchTemplateId})
				errs = append(errs, describe(err, "delete launch template", lt.LaunchTemplateId))
			}
		})
	return errors.Join(append(errs, describe(err, "list launch templates", nil))...)
}

func wipeAlarms(ctx context.Context, c *cloudwatch.Client) error {
	var names []string
	err := eachPage(ctx, cloudwatch.NewDescribeAlarmsPaginator(c, &cloudwatch.DescribeAlarmsInput{}),
		func(page *cloudwatch.DescribeAlarmsOutput) {
			for _, a := range page.MetricAlarms {
				names = append(names, aws.ToString(a.AlarmName))
			}
			for _, a := range page.CompositeAlarms {
				names = append(names, aws.ToString(a.AlarmName))
			}
		})
	if err != nil {
		return describe(err, "list alarms", nil)
	}
	// DeleteAlarms takes at most 100 names.
	for len(names) > 0 {
		n := min(len(names), 100)
		if _, err := c.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: names[:n]}); err != nil {
			return describe(err, "delete alarms", nil)
		}
		names = names[n:]
	}
	return nil
}

// pager is an SDK paginator.
type pager[Page, Options any] interface {
	HasMorePages() bool
	NextPage(context.Context, ...func(*Options)) (Page, error)
}

// eachPage calls fn with every page p reads.
func eachPage[Page, Options any](ctx context.Context, p pager[Page, Options], fn func(Page)) error {
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		fn(page)
	}
	return nil
}

// describe says what Wipe was doing when err happened; nil stays nil.
func describe(err error, what string, id *string) error {
	if err == nil {
		return nil
	}
	if id != nil {
		what += " " + *id
	}
	return fmt.Errorf("wipe: %s: %w", what, err)
}
