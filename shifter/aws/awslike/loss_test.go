package awslike_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	shifteraws "github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awslike"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/budget"
)

// TestBrownoutStalls: a stalling service holds calls until the client
// gives up, or until the brownout ends and the call goes on to moto.
func TestBrownoutStalls(t *testing.T) {
	e := newEnv(t)
	e.layer.Brownout("", budget.ELBv2, time.Hour, awslike.Stall)

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if err := describeLoadBalancers.call(ctx, e.cfg); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a stalled call the client gave up on: %v, want its deadline", err)
	}

	done := make(chan error, 1)
	go func() { done <- describeLoadBalancers.call(t.Context(), e.cfg) }()
	eventually(t, "a second stalled call", func() bool { return stats(e.layer, "DescribeLoadBalancers").Stalled == 2 })
	select {
	case err := <-done:
		t.Fatalf("the call returned during the brownout: %v", err)
	default:
	}
	e.layer.EndBrownouts()
	if err := <-done; err != nil {
		t.Errorf("the stalled call after the brownout: %v", err)
	}
	if err := describeAutoScalingGroups.call(t.Context(), e.cfg); err != nil {
		t.Errorf("another service during the brownout: %v", err)
	}
}

// TestWipe deletes what the shifter owns in an account behind its back,
// and the layer knows: a group that was in use is gone, and the listener's
// own default action stays.
func TestWipe(t *testing.T) {
	f := newFixture(t, 1)
	ctx := t.Context()
	f.forward(t, f.group)

	f.autoScalingGroup(t, "blue", f.group)
	cw := cloudwatch.NewFromConfig(f.setup, shifteraws.UseQueryProtocol)
	if _, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String("blue-5xx"), Namespace: aws.String("AWS/ApplicationELB"), MetricName: aws.String("HTTPCode_Target_5XX_Count"),
		Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold,
	}); err != nil {
		t.Fatal(err)
	}
	// The listener's default action forwards to a group of its own, which
	// the wipe leaves: AWS would refuse to delete it.
	kept := f.createGroup(t, "default")
	if _, err := f.elb.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: aws.String(f.net.ListenerARN), DefaultActions: []elbtypes.Action{forwardAction(kept)}}); err != nil {
		t.Fatal(err)
	}

	if err := f.layer.Wipe(ctx, f.acct.ID, awstest.Region); err != nil {
		t.Fatal(err)
	}

	rules, err := f.elb.DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: aws.String(f.net.ListenerARN)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rules.Rules) != 1 || !aws.ToBool(rules.Rules[0].IsDefault) {
		t.Errorf("rules after the wipe: %d, want the default one alone", len(rules.Rules))
	}
	groups, err := f.elb.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(groups.TargetGroups) != 1 || aws.ToString(groups.TargetGroups[0].TargetGroupArn) != kept {
		t.Errorf("target groups after the wipe: %d, want the default action's alone", len(groups.TargetGroups))
	}
	asgs, err := autoscaling.NewFromConfig(f.setup).DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	lts, err := ec2.NewFromConfig(f.setup).DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{})
	if err != nil {
		t.Fatal(err)
	}
	alarms, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(asgs.AutoScalingGroups) != 0 || len(lts.LaunchTemplates) != 0 || len(alarms.MetricAlarms) != 0 {
		t.Errorf("after the wipe: %d auto scaling groups, %d launch templates, %d alarms; want none",
			len(asgs.AutoScalingGroups), len(lts.LaunchTemplates), len(alarms.MetricAlarms))
	}
}
