package awstest

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	shifteraws "github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/watch"
)

// PutRequests records, as a test's own setup, that the target group of
// version (the one the shifter tagged with it) behind listenerARN took
// requests now: ALB's RequestCount, which moto never counts by itself.
func PutRequests(tb testing.TB, cfg aws.Config, listenerARN, version string, requests float64) {
	tb.Helper()
	ctx := tb.Context()
	lbs := elb.NewFromConfig(Exempt(cfg))
	groups, err := lbs.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{})
	if err != nil {
		tb.Fatal(err)
	}
	var arn string
	for _, g := range groups.TargetGroups {
		tags, err := lbs.DescribeTags(ctx, &elb.DescribeTagsInput{ResourceArns: []string{aws.ToString(g.TargetGroupArn)}})
		if err != nil {
			tb.Fatal(err)
		}
		for _, d := range tags.TagDescriptions {
			for _, t := range d.Tags {
				if aws.ToString(t.Key) == shifteraws.TagVersion && aws.ToString(t.Value) == version {
					arn = aws.ToString(g.TargetGroupArn)
				}
			}
		}
	}
	if arn == "" {
		tb.Fatalf("no target group of version %s", version)
	}
	lb, err := watch.LoadBalancerDimension(listenerARN)
	if err != nil {
		tb.Fatal(err)
	}
	tg, err := watch.TargetGroupDimension(arn)
	if err != nil {
		tb.Fatal(err)
	}
	now := time.Now()
	if _, err := cloudwatch.NewFromConfig(Exempt(cfg), shifteraws.UseQueryProtocol).PutMetricData(ctx, &cloudwatch.PutMetricDataInput{
		Namespace: aws.String(watch.Namespace),
		MetricData: []cwtypes.MetricDatum{{
			MetricName: aws.String(watch.MetricRequests), Timestamp: &now, Value: &requests,
			Dimensions: []cwtypes.Dimension{{Name: aws.String("LoadBalancer"), Value: &lb}, {Name: aws.String("TargetGroup"), Value: &tg}},
		}},
	}); err != nil {
		tb.Fatal(err)
	}
}
